"""One contender of one workload in a process of its own: ``python -m playground.bench.contender``.

The harness starts this once per contender and round (``harness.take_turns``), so no contender's
thread pools, caches or allocator state reach another's.  It builds the contender's network and
data, trains two untimed passes (the second sets how many epochs a timed pass repeats, so it
lasts about ``PASS_SECONDS``), times ``--passes`` passes, and prints one JSON line: each pass's
seconds, the cores other processes kept busy during it, its pid and the threads it ran at.
``--peak numpy|torch`` times a 1024² float32 matmul instead, for the machine's GEMM peak.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time

import numpy as np

from ..machine import OtherLoad

PEAK_SIZE = 1024
PEAK_REPEATS = 30
#: a timed pass repeats the contender's epoch until it lasts about this long: /proc/stat counts in
#: 10 ms ticks, so a shorter pass could not tell whether other processes were busy during it
PASS_SECONDS = 0.3


def hold_threads(contender: str, threads: int | None) -> None:
    """A reference at ``threads`` (the environment set it at start-up too; this makes sure)."""
    if threads is None:
        return
    if contender == "torch":
        import torch

        torch.set_num_threads(threads)
    elif contender == "numpy":
        from threadpoolctl import threadpool_limits

        threadpool_limits(threads, user_api="blas")


def threads_in_use(contender: str) -> int | None:
    """The thread count the contender's own pool ran at: torch's intra-op threads, numpy's BLAS
    threads, or numba's threads for the engine."""
    if contender == "torch":
        import torch

        return torch.get_num_threads()
    if contender == "numpy":
        from threadpoolctl import threadpool_info

        counts = [info["num_threads"] for info in threadpool_info() if "numpy" in info["filepath"]]
        return counts[0] if counts else None
    import numba

    return numba.get_num_threads()


def time_contender(benchmark_id: str, contender: str, samples: int, passes: int, threads: int | None) -> dict:
    from .workloads import BENCHMARKS

    hold_threads(contender, threads)
    run = BENCHMARKS[benchmark_id].contenders[contender](samples)
    run()  # warm-up: compilation, caches, allocator
    if contender == "engine":
        from ..engine import background

        background.settle()  # the big kernels compile on a thread of their own (background.py)
    start = time.perf_counter()
    run()  # a second untimed pass calibrates the repeats, as pyperf's loops
    repeats = max(1, math.ceil(PASS_SECONDS / (time.perf_counter() - start)))
    seconds, other_cores = [], []
    for _ in range(passes):
        load = OtherLoad()
        start = time.perf_counter()
        for _ in range(repeats):
            run()
        seconds.append(time.perf_counter() - start)
        other_cores.append(load.cores())
    return {
        "pid": os.getpid(),
        "contender": contender,
        "threads": threads_in_use(contender),
        "samples": samples * repeats,
        "repeats": repeats,
        "seconds": seconds,
        "other_cores": other_cores,
    }


def time_peak(library: str, threads: int) -> dict:
    """GFLOP/s of the median of ``PEAK_REPEATS`` 1024² float32 matmuls (2·n³ operations each)."""
    hold_threads(library, threads)
    rng = np.random.default_rng(0)
    a, b = (rng.random((PEAK_SIZE, PEAK_SIZE), dtype=np.float32) for _ in range(2))
    if library == "torch":
        import torch

        ta, tb = torch.from_numpy(a), torch.from_numpy(b)

        def product():
            return ta @ tb
    else:

        def product():
            return a @ b

    for _ in range(3):
        product()
    times = []
    load = OtherLoad()
    for _ in range(PEAK_REPEATS):
        start = time.perf_counter()
        product()
        times.append(time.perf_counter() - start)
    return {
        "pid": os.getpid(),
        "library": library,
        "gflops": round(2 * PEAK_SIZE**3 / float(np.median(times)) / 1e9, 1),
        "other_cores": load.cores(),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m playground.bench.contender")
    parser.add_argument("benchmark", nargs="?")
    parser.add_argument("contender", nargs="?")
    parser.add_argument("--samples", type=int, default=0)
    parser.add_argument("--passes", type=int, default=1)
    parser.add_argument("--threads", type=int)
    parser.add_argument("--peak", choices=("numpy", "torch"))
    args = parser.parse_args(argv)
    if args.peak:
        report = time_peak(args.peak, args.threads or os.cpu_count() or 1)
    else:
        report = time_contender(args.benchmark, args.contender, args.samples, args.passes, args.threads)
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
