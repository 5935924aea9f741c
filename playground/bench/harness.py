"""The comparison harness: the engine and its references timed in turns, in one process.

Machines here are shared and noisy, so only ratios measured in one run mean anything;
each figure is the median of several runs after a warm-up.  Every workload module hands
its three runs (the engine's, numpy's, PyTorch's) to ``compare_with_references`` and gets
back the result ``playground bench`` prints.
"""

from __future__ import annotations

import statistics
import time
from contextlib import contextmanager


def samples_per_second(run, n: int, repeats: int) -> float:
    run()  # warm-up: compilation, caches, allocator
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return n / statistics.median(times)


@contextmanager
def _threads(library: str, count: int | None):
    """Run a reference at ``count`` threads (None: as its run set itself up)."""
    if count is None:
        yield
    elif library == "torch":
        import torch

        before = torch.get_num_threads()
        torch.set_num_threads(count)
        try:
            yield
        finally:
            torch.set_num_threads(before)
    else:
        from threadpoolctl import threadpool_limits

        with threadpool_limits(count, user_api="blas"):
            yield


def _better_thread_count(run, n: int, library: str) -> int:
    """1 or 2: the thread count at which a reference runs faster, from two timed passes at each."""
    rates = {}
    for count in (1, 2):
        with _threads(library, count):
            rates[count] = samples_per_second(run, n, 2)
    return max(rates, key=rates.get)


def _torch_available() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def compare_with_references(
    workload: str,
    target: str,
    n: int,
    repeats: int,
    engine_run,
    make_numpy_run,
    make_torch_run,
    best_threads: bool = True,
) -> dict:
    """The engine's samples/s and its ratios to the references, all measured in this process.

    With ``best_threads`` each reference runs at its better setting, 1 or 2 threads, picked
    first: a 2-thread BLAS or torch intra-op pool collapses when the other core is busy
    (measured: torch 6.7k samples/s on 1 thread, 0.5k on 2), and the ratio must not flatter
    the engine for that.  Then the engine and the references take turns, one timed pass each
    per round over ``repeats`` rounds, and each figure is its median: the shared machine has
    slow spells (the same engine pass ran at 9k and at 13k samples/s a minute apart), and
    taking turns makes a spell hit every contender alike rather than whichever was running.
    """
    contenders = {"engine": (engine_run, "", None), "numpy": (make_numpy_run(), "numpy", None)}
    if _torch_available():
        contenders["torch"] = (make_torch_run(), "torch", None)
    threads = {}
    if best_threads:
        for name in ("numpy", "torch"):
            if name in contenders:
                run, library, _ = contenders[name]
                threads[name] = _better_thread_count(run, n, library)
                contenders[name] = (run, library, threads[name])
    seconds = {name: [] for name in contenders}
    for round_index in range(repeats + 1):  # round 0 warms up: compilation, caches, allocator
        for name, (run, library, count) in contenders.items():
            with _threads(library, count):
                start = time.perf_counter()
                run()
                if round_index:
                    seconds[name].append(time.perf_counter() - start)
    rates = {name: n / statistics.median(times) for name, times in seconds.items()}
    engine, reference, torch_rate = rates["engine"], rates["numpy"], rates.get("torch")
    result = {
        "workload": workload,
        "engine_samples_per_s": round(engine),
        "numpy_samples_per_s": round(reference),
        "torch_samples_per_s": None if torch_rate is None else round(torch_rate),
        "ratio_vs_numpy": round(engine / reference, 2),
        "ratio_vs_torch": None if torch_rate is None else round(engine / torch_rate, 2),
        "target": target,
    }
    if threads:
        result["reference_threads"] = threads
    return result
