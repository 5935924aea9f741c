"""``playground bench``: every workload in turn, printed as a table or as JSON Lines, then the sweep
(variants side by side against one after another) and the start-up time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from .sweep import measure_sweep, sweep_line
from .workloads import MEASURES

STARTUP_SCRIPT = """
import time; start = time.perf_counter()
import numpy as np
from playground.bench.dense import WORKLOADS, engine_epoch
from playground.bench.feedforward import random_images
w = WORKLOADS[0]; x, y = random_images(w.batch, w.sizes[-1])
engine_epoch(w, x, y)()
print(time.perf_counter() - start)
"""


def startup_seconds() -> float:
    """Seconds from a fresh interpreter to the end of its first training step, numba cache warm."""
    command = [sys.executable, "-c", STARTUP_SCRIPT]
    subprocess.run(command, check=True, capture_output=True)  # fills the cache if it was cold
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - start


def machine_description() -> str:
    from threadpoolctl import threadpool_info

    blas = {info.get("architecture") for info in threadpool_info() if info.get("user_api") == "blas"}
    coretype = os.environ.get("OPENBLAS_CORETYPE", "auto")
    return (
        f"{os.cpu_count()} cores, numpy {np.__version__}, OpenBLAS kernels {'/'.join(sorted(map(str, blas)))} "
        f"(OPENBLAS_CORETYPE={coretype})"
    )


def run_sweep_benchmark(json_output: bool, quick: bool, data_dir: Path | None) -> None:
    """The sweep workload (``sweep.py``): wall times, not samples a second, so a line of its own."""
    result = measure_sweep(quick, data_dir)
    print(json.dumps(result) if json_output else sweep_line(result), flush=True)


def run_benchmarks(
    json_output: bool = False, quick: bool = False, data_dir: Path | None = None, sweep_only: bool = False
) -> int:
    if sweep_only:
        run_sweep_benchmark(json_output, quick, data_dir)
        return 0
    if not json_output:
        print(f"machine: {machine_description()}")
        print(f"{'workload':<14}{'engine/s':>11}{'numpy/s':>11}{'torch/s':>11}{'×numpy':>8}{'×torch':>8}  target")
    for measure_one in MEASURES:
        result = measure_one(quick)
        if json_output:
            print(json.dumps(result), flush=True)
            continue
        torch_text = "—" if result["torch_samples_per_s"] is None else f"{result['torch_samples_per_s']:,}"
        ratio_torch = "—" if result["ratio_vs_torch"] is None else f"{result['ratio_vs_torch']:.2f}"
        extra = (
            f"  (instrumentation costs {100 * result['instrumentation_cost']:.1f}% of a step)"
            if "instrumentation_cost" in result
            else ""
        )
        if "reference_threads" in result:
            settings = [
                f"{library} {count} thread{'s' if count > 1 else ''}"
                for library, count in result["reference_threads"].items()
            ]
            extra += "  (references at their faster setting: " + ", ".join(settings) + ")"
        print(
            f"{result['workload']:<14}{result['engine_samples_per_s']:>11,}{result['numpy_samples_per_s']:>11,}"
            f"{torch_text:>11}{result['ratio_vs_numpy']:>8.2f}{ratio_torch:>8}  {result['target']}{extra}",
            flush=True,
        )
    run_sweep_benchmark(json_output, quick, data_dir)
    startup = startup_seconds()
    if json_output:
        print(json.dumps({"workload": "startup", "seconds_to_first_step": round(startup, 2)}))
    else:
        print(f"start-up: a fresh process reaches its first training step in {startup:.2f} s (target ≤ 3 s)")
    return 0
