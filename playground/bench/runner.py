"""``playground bench``: the machine described, its GEMM peak, then every workload (or the one named)
measured by the harness, printed as a table or as JSON Lines; then the sweep (variants side by side
against one after another) and the start-up time.  ``--under-load`` and ``--scale`` are modes of
their own."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from ..machine import describe, description_line
from .harness import measure_comparison, measure_peak, measure_under_load
from .sweep import measure_sweep, sweep_line
from .workloads import BENCHMARKS

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


def run_sweep_benchmark(json_output: bool, quick: bool, data_dir: Path | None) -> None:
    """The sweep workload (``sweep.py``): wall times, not samples a second, so a line of its own."""
    result = measure_sweep(quick, data_dir)
    print(json.dumps(result) if json_output else sweep_line(result), flush=True)


#: ``--under-load``'s rounds unless told: its verdict compares processes, and with 5 of each setting
#: "every one slower" happens by chance 1 time in 252 (with 2, 1 in 6)
UNDER_LOAD_ROUNDS = 5


def rounds_and_passes(quick: bool, rounds: int | None, under_load: bool = False) -> tuple[int, int]:
    """Rounds of turns, and timed passes per process: 2 and 2 with ``--quick``, else 3 and 3;
    ``UNDER_LOAD_ROUNDS`` rounds under load."""
    default = UNDER_LOAD_ROUNDS if under_load else 2 if quick else 3
    return (rounds or default), (2 if quick else 3)


def _spread(summary: dict) -> str:
    return (
        f"{summary['label']:<22}{summary['threads']!s:>4} thr {summary['samples_per_s']:>10,}/s  "
        f"IQR {summary['q1']:,}–{summary['q3']:,}  range {summary['min']:,}–{summary['max']:,}  "
        f"{summary['gflops']:>6.2f} GFLOP/s  busy passes {summary['busy_passes']}/{summary['passes']}"
    )


def comparison_lines(result: dict) -> list[str]:
    verdict = "meets" if result["meets_target"] else "MISSES"
    fraction = result["engine_peak_fraction"]
    lines = [
        f"{result['workload']} ({result['description']})",
        f"    engine {result['engine_samples_per_s']:,}/s = {result['ratio_vs_best']:.2f}× the best "
        f"reference ({result['best_reference']}); {verdict} its target {result['target']}; "
        f"{result['engine_gflops']:.2f} GFLOP/s, {100 * fraction:.1f}% of peak"
        + ("  [BUSY: some passes saw other processes' load]" if result["busy"] else ""),
    ]
    lines += ["    " + _spread(summary) for summary in result["contenders"]]
    if "instrumentation_cost" in result:
        lines.append(f"    instrumentation costs {100 * result['instrumentation_cost']:.1f}% of a step")
    return lines


def under_load_lines(result: dict) -> list[str]:
    pinned = "pinned to core 0" if result["load_pinned"] else "not pinned"
    verdict = "meets" if result["meets_target"] else "MISSES"
    return [
        f"{result['workload']} under load (a busy loop, {pinned}): engine at {result['engine_threads']} threads "
        f"{result['engine_samples_per_s']:,}/s, at 1 thread {result['engine_one_thread_samples_per_s']:,}/s: "
        f"{result['ratio_vs_one_thread']:.2f}×; {verdict} its target {result['target']}; slower in every "
        f"process by chance alone: 1 in {round(1 / result['separation_chance']):,}"
        + ("  [BUSY beyond the load started]" if result["busy"] else ""),
        *(
            "    " + _spread(summary) + "  processes " + ", ".join(f"{rate:,}" for rate in summary["process_medians"])
            for summary in result["contenders"]
        ),
    ]


def run_benchmarks(
    json_output: bool = False,
    quick: bool = False,
    data_dir: Path | None = None,
    sweep_only: bool = False,
    workload: str | None = None,
    rounds: int | None = None,
    under_load: bool = False,
    pin_load: bool = False,
    scale: bool = False,
) -> int:
    if sweep_only:
        run_sweep_benchmark(json_output, quick, data_dir)
        return 0
    machine = describe()
    if scale:
        from .scale import run_scale

        return run_scale(machine, json_output, quick)
    rounds, passes = rounds_and_passes(quick, rounds, under_load)
    chosen = [BENCHMARKS[workload]] if workload else list(BENCHMARKS.values())
    if under_load:
        if not json_output:
            print(f"machine: {description_line(machine)}", flush=True)
        for benchmark in chosen:
            result = measure_under_load(benchmark, quick, rounds, passes, pin_load)
            print(json.dumps(result) if json_output else "\n".join(under_load_lines(result)), flush=True)
        return 0
    peak = measure_peak()
    if json_output:
        print(json.dumps({"workload": "machine", **machine, "peak": peak}), flush=True)
    else:
        measured = ", ".join(f"{library} {gflops:g}" for library, gflops in peak["measured"].items())
        print(f"machine: {description_line(machine)}")
        print(
            f"fp32 GEMM peak (GFLOP/s, 1024² matmul): {measured}; fractions of peak are of the {peak['source']}"
            + (
                "  [BUSY: other processes' load while measuring it; measured again before each workload]"
                if peak["busy"]
                else ""
            )
        )
        print(
            f"each contender in fresh processes, {rounds} round{'s' * (rounds > 1)} taking turns, "
            f"{passes} timed passes each; samples/s are medians of the quiet passes",
            flush=True,
        )
    for benchmark in chosen:
        if peak["busy"]:  # measured while other processes were busy: it would flatter every fraction
            peak = max(peak, measure_peak(), key=lambda measured: measured["gflops"])
        result = measure_comparison(benchmark, quick, peak, rounds, passes)
        print(json.dumps(result) if json_output else "\n".join(comparison_lines(result)), flush=True)
    if workload:
        return 0
    run_sweep_benchmark(json_output, quick, data_dir)
    startup = startup_seconds()
    if json_output:
        print(json.dumps({"workload": "startup", "seconds_to_first_step": round(startup, 2)}))
    else:
        print(f"start-up: a fresh process reaches its first training step in {startup:.2f} s (target ≤ 3 s)")
    return 0
