"""The comparison harness: every contender in a fresh process of its own, taking turns over rounds.

Contenders sharing one process slow each other: numba's OpenMP threads, OpenBLAS's and torch's
keep spinning after their own work, and three pools then fight over two cores (torch's LSTM ran at
19.6-20.4k samples/s alone in a fresh process and at 10.3-15.8k taking turns with the engine and
numpy in one).  So, in the manner of pyperf, each contender's run is a process of its own
(``python -m playground.bench.contender``): it builds its network, trains one untimed pass
(compilation, caches, the allocator's first touch), then times a few passes and reports each
pass's seconds, its pid, the threads it ran at, and how many cores other processes kept busy
during each pass.  The contenders take turns over several rounds, the order rotated each round,
so a slow spell of the shared machine hits each alike.  A process that saw the machine busy is
run once more; if it still does, its passes are flagged and left out of the median while quiet
ones exist.

The references (numpy, PyTorch) run at one thread and at every core, and the faster setting is the
one compared: a 2-thread BLAS collapses when the other core is busy, and the ratio must not flatter
the engine for that.  The engine runs at its own setting (numba's threads; its BLAS pinned to one).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..machine import is_busy

#: the folder holding the ``playground`` package this process runs, put first on the children's path
#: so they time the same code (a worktree's, not an installed copy's)
PACKAGE_PARENT = str(Path(__file__).resolve().parents[2])
REFERENCES = ("numpy", "torch")
#: how often a process that saw the machine busy is run again before its passes are flagged
REDO = 1


@dataclass(frozen=True)
class Benchmark:
    """A workload: ``contenders`` maps a name ("engine", "numpy", "torch", ...) to ``make(n)``, which
    builds the network and data in the contender's process and returns a closure training one pass
    over ``n`` samples.  ``flops_per_sample`` counts a forward and backward pass's floating-point
    operations (see each family's ``*_flops``); ``target`` is the engine's ratio to the best
    reference that ``playground bench`` asks for."""

    id: str
    description: str
    target: float
    samples: int
    quick_samples: int
    flops_per_sample: int
    contenders: Mapping[str, Callable[[int], Callable[[], None]]]

    def samples_for(self, quick: bool) -> int:
        return self.quick_samples if quick else self.samples


@dataclass(frozen=True)
class Entry:
    """One contender at one thread setting (None: as it sets itself up)."""

    contender: str
    threads: int | None = None

    @property
    def label(self) -> str:
        return self.contender if self.threads is None else f"{self.contender}@{self.threads}"

    def environment(self) -> dict[str, str]:
        """A fresh process's thread settings: set before start-up, when the pools are made."""
        if self.threads is None:
            return {}
        if self.contender in REFERENCES:
            return {name: str(self.threads) for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
        return {"NUMBA_NUM_THREADS": str(self.threads)}


def torch_available() -> bool:
    from importlib.util import find_spec

    return find_spec("torch") is not None


def comparison_entries(benchmark: Benchmark) -> list[Entry]:
    """The engine's contenders at their own setting; each reference at one thread and at every core."""
    counts = sorted({1, os.cpu_count() or 1})
    entries = []
    for name in benchmark.contenders:
        if name not in REFERENCES:
            entries.append(Entry(name))
        elif name != "torch" or torch_available():
            entries.extend(Entry(name, count) for count in counts)
    return entries


def run_child(arguments: list[str], environment: dict[str, str], module: str = "playground.bench.contender") -> dict:
    """Run ``python -m MODULE ARGUMENTS`` in a fresh process; its report (the last line it prints, JSON)."""
    env = dict(os.environ, **environment)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (PACKAGE_PARENT, env.get("PYTHONPATH"))))
    command = [sys.executable, "-m", module, *arguments]
    completed = subprocess.run(command, capture_output=True, text=True, env=env, timeout=1800)
    if completed.returncode != 0:
        last = (completed.stderr.strip().splitlines() or ["(no message)"])[-1]
        raise RuntimeError(f"the benchmark process {' '.join(arguments)} failed: {last}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def run_entry(benchmark: Benchmark, entry: Entry, samples: int, passes: int) -> dict:
    arguments = [benchmark.id, entry.contender, "--samples", str(samples), "--passes", str(passes)]
    if entry.threads is not None:
        arguments += ["--threads", str(entry.threads)]
    return run_child(arguments, entry.environment())


def take_turns(
    benchmark: Benchmark,
    entries: list[Entry],
    samples: int,
    rounds: int,
    passes: int,
    expected_other_cores: float = 0.0,
    run=run_entry,
) -> dict[Entry, list[dict]]:
    """Each entry once per round, in a fresh process, the order rotated by one each round; a
    process whose passes saw other processes busy beyond ``expected_other_cores`` (a load the
    caller started itself) is run again, up to ``REDO`` times.  The reports by entry."""
    reports: dict[Entry, list[dict]] = {entry: [] for entry in entries}
    for round_index in range(rounds):
        shift = round_index % len(entries)
        for entry in entries[shift:] + entries[:shift]:
            for _ in range(REDO + 1):
                report = run(benchmark, entry, samples, passes)
                if not any(is_busy(cores, expected_other_cores) for cores in report["other_cores"]):
                    break
            reports[entry].append(report)
    return reports


def summarise(entry: Entry, reports: list[dict], expected_other_cores: float = 0.0, flops: int = 0) -> dict:
    """One entry's passes over all its processes: median, quartiles and range of samples/s over
    the quiet passes (all of them when none was quiet), and how many passes were busy."""
    rates, busy, others = [], [], []
    for report in reports:
        for seconds, cores in zip(report["seconds"], report["other_cores"], strict=True):
            rates.append(report["samples"] / seconds)
            busy.append(is_busy(cores, expected_other_cores))
            others.append(cores)
    quiet = [rate for rate, flagged in zip(rates, busy) if not flagged]
    q1, median, q3 = np.percentile(quiet or rates, [25, 50, 75])
    known = [cores for cores in others if cores is not None]
    return {
        "contender": entry.contender,
        "label": entry.label,
        "threads": reports[-1]["threads"],
        "samples_per_s": round(float(median)),
        "q1": round(float(q1)),
        "q3": round(float(q3)),
        "min": round(min(rates)),
        "max": round(max(rates)),
        "gflops": round(float(median) * flops / 1e9, 2),
        "passes": len(rates),
        "busy_passes": sum(busy),
        "other_cores_max": round(max(known), 2) if known else None,
        "pids": [report["pid"] for report in reports],
        "process_medians": [
            round(float(np.median([report["samples"] / seconds for seconds in report["seconds"]])))
            for report in reports
        ],
    }


def _best(summaries: list[dict], contender: str) -> dict | None:
    of_contender = [summary for summary in summaries if summary["contender"] == contender]
    return max(of_contender, key=lambda summary: summary["samples_per_s"]) if of_contender else None


def comparison_result(benchmark: Benchmark, summaries: list[dict], peak: dict) -> dict:
    """The workload's line: the fields ``playground bench --json`` has always had (the engine's
    samples/s, each reference's at its better thread count, the ratios) and the new ones (the
    best reference and the ratio to it, GFLOP/s and the fraction of peak, every contender's spread)."""
    engine = _best(summaries, "engine")
    references = {name: _best(summaries, name) for name in REFERENCES}
    present = {name: summary for name, summary in references.items() if summary is not None}
    best_name, best = max(present.items(), key=lambda item: item[1]["samples_per_s"])
    rate = engine["samples_per_s"]
    torch_rate = present["torch"]["samples_per_s"] if "torch" in present else None
    result = {
        "workload": benchmark.id,
        "description": benchmark.description,
        "engine_samples_per_s": rate,
        "numpy_samples_per_s": present["numpy"]["samples_per_s"],
        "torch_samples_per_s": torch_rate,
        "ratio_vs_numpy": round(rate / present["numpy"]["samples_per_s"], 2),
        "ratio_vs_torch": None if torch_rate is None else round(rate / torch_rate, 2),
        "target": f"≥ {benchmark.target:g}× the best reference",
        "reference_threads": {name: summary["threads"] for name, summary in present.items()},
        "engine_threads": engine["threads"],
        "best_reference": best["label"],
        "ratio_vs_best": round(rate / best["samples_per_s"], 2),
        "target_ratio": benchmark.target,
        "meets_target": rate / best["samples_per_s"] >= benchmark.target,
        "flops_per_sample": benchmark.flops_per_sample,
        "engine_gflops": engine["gflops"],
        "peak_gflops": peak["gflops"],
        "peak_source": peak["source"],
        "engine_peak_fraction": round(engine["gflops"] / peak["gflops"], 3) if peak["gflops"] else None,
        "busy": any(summary["busy_passes"] for summary in summaries),
        "contenders": summaries,
    }
    bare = _best(summaries, "engine-uninstrumented")
    if bare is not None:
        result["instrumentation_cost"] = round(max(0.0, bare["samples_per_s"] / rate - 1.0), 3)
    return result


def measure_comparison(benchmark: Benchmark, quick: bool, peak: dict, rounds: int, passes: int) -> dict:
    """The engine against the references, each contender in its own processes, taking turns."""
    entries = comparison_entries(benchmark)
    reports = take_turns(benchmark, entries, benchmark.samples_for(quick), rounds, passes)
    summaries = [summarise(entry, reports[entry], flops=benchmark.flops_per_sample) for entry in entries]
    return comparison_result(benchmark, summaries, peak)


def measure_peak() -> dict:
    """The machine's fp32 GEMM peak as measured: a 1024² float32 matmul at every core, in numpy (its
    OpenBLAS, with the kernels the machine's description names) and in torch (its own BLAS), each in
    a fresh process.  The fraction of peak is taken against the higher, which is what the machine
    can do.  A process that saw other processes busy is run again (``REDO``), the better figure
    kept, and the peak flagged if every try was busy."""
    cores = os.cpu_count() or 1
    measured, busy = {}, False
    for library in REFERENCES:
        if library == "torch" and not torch_available():
            continue
        for _ in range(REDO + 1):
            report = run_child(["--peak", library, "--threads", str(cores)], Entry(library, cores).environment())
            measured[library] = max(measured.get(library, 0.0), report["gflops"])
            if not is_busy(report["other_cores"]):
                break
        else:
            busy = True
    source = max(measured, key=measured.get)
    return {
        "gflops": measured[source],
        "source": f"{source} 1024² float32 matmul, {cores} threads",
        "measured": measured,
        "busy": busy,
    }


def measure_under_load(benchmark: Benchmark, quick: bool, rounds: int, passes: int, pinned: bool) -> dict:
    """The engine at its own thread count and at one thread (``NUMBA_NUM_THREADS=1``), in fresh
    processes taking turns, while a busy loop this function starts keeps one core busy (pinned to
    core 0 when ``pinned``).  Its core is expected, so a pass counts as busy only beyond it."""
    loader = start_busy_loop(pinned)
    try:
        entries = [Entry("engine"), Entry("engine", 1)]
        reports = take_turns(benchmark, entries, benchmark.samples_for(quick), rounds, passes, expected_other_cores=1)
    finally:
        loader.kill()
        loader.wait()
    own, one = (summarise(entry, reports[entry], 1.0, benchmark.flops_per_sample) for entry in entries)
    return under_load_result(benchmark, own, one, pinned)


def falls_below(own: dict, one: dict) -> bool:
    """Whether the engine at its own thread count is slower than at one thread, significantly: every
    process at its own count slower than every process at one thread (a one-sided exact permutation
    test on the processes' medians; ``separation_chance`` is how often that happens by chance alone).
    Processes, not passes: on the dense, conv and RBM paths both settings run the very same one-core
    code under load, yet two fresh processes of it differ by up to 4% from each other (where their
    arrays land, which core they start on), while the passes within one process agree to about 1%;
    so a bare ratio below 1, or passes apart, can be two processes' luck.  A collapse (parts waiting
    on the core the load holds: the LSTM's ran at 0.3× before the parts followed the load) or a
    steady few percent is slower in every process."""
    return max(own["process_medians"]) < min(one["process_medians"])


def separation_chance(own: dict, one: dict) -> float:
    """The chance that every one of ``own``'s processes is slower than every one of ``one``'s when
    both settings run the same code: one ordering of the processes in C(m + n, m)."""
    return 1 / math.comb(len(own["process_medians"]) + len(one["process_medians"]), len(own["process_medians"]))


def under_load_result(benchmark: Benchmark, own: dict, one: dict, pinned: bool) -> dict:
    """The ``--under-load`` line of one workload from the summaries of its two settings."""
    return {
        "workload": benchmark.id,
        "mode": "under-load",
        "load_pinned": pinned,
        "engine_samples_per_s": own["samples_per_s"],
        "engine_threads": own["threads"],
        "engine_one_thread_samples_per_s": one["samples_per_s"],
        "ratio_vs_one_thread": round(own["samples_per_s"] / one["samples_per_s"], 2),
        "target": "≥ its one-thread figure (not slower in every process)",
        "meets_target": not falls_below(own, one),
        "separation_chance": separation_chance(own, one),
        "busy": bool(own["busy_passes"] or one["busy_passes"]),
        "contenders": [own, one],
    }


BUSY_LOOP = "import os, sys\nif len(sys.argv) > 1: os.sched_setaffinity(0, {int(sys.argv[1])})\nwhile True: pass\n"


def start_busy_loop(pinned: bool) -> subprocess.Popen:
    """A process that keeps one core busy until killed: the competing load of ``--under-load``."""
    return subprocess.Popen([sys.executable, "-c", BUSY_LOOP, *(["0"] if pinned else [])])
