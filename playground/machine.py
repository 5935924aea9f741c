"""The machine a measurement ran on: what it is, and how busy other processes kept it meanwhile.

Both benchmarks need this (``playground bench`` and the window's ``bench --gui``), and neither may
import the other, so it lives here, below both.  Speed figures from a shared machine mean little
without the machine's description beside them (its CPU, the BLAS kernels numpy's OpenBLAS runs,
the library versions) and without a word on whether another process took a core meanwhile.
"""

from __future__ import annotations

import os
import platform
import time
from importlib import metadata

#: other processes' load, in cores, above which a measurement counts as taken on a busy machine
BUSY_CORES = 0.3


class OtherLoad:
    """How many cores processes other than this one kept busy meanwhile (Linux /proc; None elsewhere).

    The whole machine's busy CPU time from /proc/stat less this process's own (all its threads),
    over the wall time since the object was made.
    """

    def __init__(self):
        self._started = time.perf_counter()
        self.start = self._read()

    @staticmethod
    def _read():
        try:
            with open("/proc/stat") as stream:
                values = [int(v) for v in stream.readline().split()[1:]]
            with open(f"/proc/{os.getpid()}/stat") as stream:
                own = stream.read().rsplit(")", 1)[1].split()
            return time.perf_counter(), sum(values) - values[3] - values[4], int(own[11]) + int(own[12])
        except (OSError, ValueError, IndexError):
            return None

    @property
    def start_time(self) -> float:
        """When the measurement began (``time.perf_counter``)."""
        return self._started

    def cores(self) -> float | None:
        end = self._read()
        if self.start is None or end is None:
            return None
        seconds = end[0] - self.start[0]
        ticks = (end[1] - self.start[1]) - (end[2] - self.start[2])
        return max(0.0, ticks / os.sysconf("SC_CLK_TCK") / seconds) if seconds > 0 else None


def is_busy(other_cores: float | None, expected: float = 0.0) -> bool:
    """Whether other processes took more than ``expected`` cores (a load the caller started itself)
    by more than ``BUSY_CORES``; unknown load (no /proc) counts as quiet."""
    return other_cores is not None and other_cores > expected + BUSY_CORES


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as stream:
            for line in stream:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def describe() -> dict:
    """The machine as a benchmark reports it: CPU model, cores, numpy's BLAS (its kernel family,
    threadpoolctl's ``architecture``, and version) and the versions of numpy, numba and torch."""
    import numpy  # noqa: F401  (loads numpy's BLAS, so threadpoolctl can see it)
    from threadpoolctl import threadpool_info

    blas = [info for info in threadpool_info() if info.get("user_api") == "blas" and "numpy" in info["filepath"]]
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "blas": blas[0].get("internal_api") if blas else None,
        "blas_version": blas[0].get("version") if blas else None,
        "blas_architecture": blas[0].get("architecture") if blas else None,
        "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE", "auto"),
        "python": platform.python_version(),
        "numpy": _version("numpy"),
        "numba": _version("numba"),
        "torch": _version("torch"),
    }


def description_line(machine: dict) -> str:
    return (
        f"{machine['cpu']}, {machine['cores']} cores; numpy {machine['numpy']} with {machine['blas']} "
        f"{machine['blas_version']} ({machine['blas_architecture']} kernels, "
        f"OPENBLAS_CORETYPE={machine['openblas_coretype']}); numba {machine['numba']}; "
        f"torch {machine['torch'] or 'not installed'}; Python {machine['python']}"
    )
