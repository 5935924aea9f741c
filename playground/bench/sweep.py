"""The ``sweep`` workload: N variants in the time of one?  Eight variants of the 784-30-10 MLP
(η × mini-batch size), two epochs each on the 8k/2k split, trained one after another and then
side by side on every core, in the same run; the ratio of the two wall times against the ideal,
1 / cores.

Both ways go through ``experiments.Sweep``, so each run loads its data and builds its network
as a real sweep does.  One after another, a run may use every core itself (the engine's own
threads); side by side, each is held to its share.  Both must give the same figures: that is
checked too.  Each way is timed ``REPEATS`` times, taking turns, each after a pause that lets the
previous sweep's threads go idle, and the medians are compared.  The data is MNIST where
``--data-dir`` or the cache has it, else the synthetic digits (whose generation, in each run, then
costs more than the training does).
"""

from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path

import numpy as np

#: the ratio of wall times the issue asks for on 2 cores (the ideal is 0.5)
TARGET = "≤ 0.6 on 2 cores"
#: timed sweeps each way, taking turns (the medians are compared)
REPEATS = 3
#: idle seconds before each timed sweep: the BLAS threads of the one before spin for a while after
#: their last product, and a sweep side by side that started among them took 60 ms longer (S then P:
#: 330-360 ms, P then P: 270-290 ms); after a pause, each way starts from the same quiet machine
PAUSE_S = 1.0
LEARNING_RATES = (0.1, 0.5, 1.0, 3.0)
BATCH_SIZES = (10, 20)


def sweep_experiment(epochs: int):
    from ..datasets import is_cached
    from ..experiments import experiment_from_dict
    from ..model import sequential_spec, spec_to_dict

    spec = sequential_spec(
        [784, 30, 10], activation="sigmoid", output="sigmoid", cost="cross-entropy", initializer="normal-scaled"
    )
    spec = dataclasses.replace(spec, dataset=dataclasses.replace(spec.dataset, name="mnist"))
    data = {
        "format": "playground-experiment",
        "name": "bench-sweep",
        "network": spec_to_dict(spec),
        "fixed": {"epochs": epochs, "train_limit": 8000},
        "vary": {"learning_rate": list(LEARNING_RATES), "batch_size": list(BATCH_SIZES)},
        "metric": "val_accuracy",
    }
    return experiment_from_dict(data, "bench"), is_cached("mnist")


def measure_sweep(quick: bool, data_dir: Path | None = None) -> dict:
    from ..engine import background
    from ..experiments import MissingExtra, Sweep, require_extra

    try:
        require_extra()
    except MissingExtra as error:
        return {"workload": "sweep", "skipped": str(error)}
    experiment, cached = sweep_experiment(1 if quick else 2)
    cores = os.cpu_count() or 1
    # warm-up, both ways: the kernels compiled, the file caches filled, and the process's first runs
    # side by side made (100-130 ms against 55-70 ms for every later one), so that each measurement
    # is of a sweep and not of the process starting
    for workers in (1, cores):
        Sweep(experiment, workers=workers, data_dir=data_dir).run()
    background.settle()  # the fused kernel, compiled on a thread of its own (engine/background.py)

    def timed(workers: int):
        time.sleep(PAUSE_S)
        start = time.perf_counter()
        result = Sweep(experiment, workers=workers, data_dir=data_dir).run()
        return time.perf_counter() - start, {(row["trial"], row["final_val_accuracy"]) for row in result.rows}

    times: dict[int, list[float]] = {1: [], cores: []}
    figures = {}
    for _ in range(1 if quick else REPEATS):
        for workers in (1, cores):
            seconds, figures[workers] = timed(workers)
            times[workers].append(seconds)
    sequential, parallel = float(np.median(times[1])), float(np.median(times[cores]))
    one_by_one, side_by_side = figures[1], figures[cores]
    return {
        "workload": "sweep",
        "variants": experiment.trials,
        "epochs": experiment.base.training.epochs,
        "data": "MNIST 8k/2k" if data_dir or cached else "synthetic digits 8k/2k (MNIST not downloaded)",
        "cores": cores,
        "sequential_s": round(sequential, 2),
        "parallel_s": round(parallel, 2),
        "ratio": round(parallel / sequential, 3),
        "ideal": round(1 / cores, 3),
        "same_figures": one_by_one == side_by_side,
        "target": TARGET,
    }


def sweep_line(result: dict) -> str:
    """The table's line for the sweep workload."""
    if "skipped" in result:
        return f"{'sweep':<14}skipped: {result['skipped']}"
    return (
        f"{'sweep':<14}{result['variants']} variants × {result['epochs']} epochs on {result['data']}: "
        f"one after another {result['sequential_s']:.1f} s, side by side on {result['cores']} cores "
        f"{result['parallel_s']:.1f} s, ratio {result['ratio']:.2f} (ideal {result['ideal']:.2f}, target {TARGET})"
        f"{'' if result['same_figures'] else '  DIFFERENT FIGURES'}"
    )
