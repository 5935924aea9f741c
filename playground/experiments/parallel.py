"""The lecture's last slide, measured on this machine: what parallel work buys. No Qt.

Two measurements, each of the playground's own training, on the cores this machine has:

1. **One training step on one core and on all of them.**  The engine's recurrent layers split a
   mini-batch into parts, one per thread numba runs (``engine.parts``), each part running its
   sequences' whole time loop on its own core.  The same LSTM (the ``rnn-vs-lstm`` lesson's
   network, on its adding-problem data) trains for a few seconds with numba held to one thread,
   then with every thread; samples per second, and their ratio, is the speed-up *within* a step.
   (The dense layers' fused step for mini-batches of ten is too small to split: it runs on one
   core, which is why the next measurement matters.)
2. **N variants in the time of one.**  N runs of the lesson's own network (N = the cores), one
   epoch each, through the experiments package's ``Sweep``: first on one worker, one after the
   other, then on N workers side by side (each engine held to one core, so N runs use N cores).
   The ratio of the two times against the ideal 1/N is the speed-up *across* runs.

``measure`` yields a ``ParallelFigures`` after each figure arrives, so the window shows them as
they are measured.  The figures are noisy on a shared machine: the load average at the start is
recorded, and ``sentences`` says when other programs kept the cores busy.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

#: the workload whose batch the engine splits into parts
STEP_LESSON = "rnn-vs-lstm"

GPU_SENTENCE = (
    "A GPU runs thousands of multiply-adds at once: it splits each step far finer than these cores, "
    "so large batches and convolutions train tens of times faster."
)
CLUSTER_SENTENCE = (
    "A cluster runs an experiment's variants on many machines at once (the playground's sweeps run on a "
    "Dask cluster): the same seeds give the same figures, only sooner."
)


@dataclass
class ParallelFigures:
    """What has been measured so far (None: not yet)."""

    cores: int
    load: float | None = None
    step_one_core: float | None = None  # samples a second with one thread
    step_all_cores: float | None = None  # with every thread
    variants: int = 0
    one_after_another: float | None = None  # seconds for the variants on one worker
    side_by_side: float | None = None  # seconds for them on ``variants`` workers
    done: bool = False

    @property
    def step_speedup(self) -> float | None:
        if self.step_one_core and self.step_all_cores:
            return self.step_all_cores / self.step_one_core
        return None

    @property
    def variants_ratio(self) -> float | None:
        """Time side by side over time one after another (ideal: 1 / variants)."""
        if self.one_after_another and self.side_by_side:
            return self.side_by_side / self.one_after_another
        return None

    def sentences(self) -> list[str]:
        """The figures in words, as far as they go."""
        out = []
        if self.step_speedup is not None:
            out.append(
                f"One LSTM training step, its batch split into {self.cores} parts: {self.step_one_core:,.0f} "
                f"samples/s on one core, {self.step_all_cores:,.0f} on {self.cores}: {self.step_speedup:.2f}× "
                f"(ideal {self.cores}×)."
            )
        if self.variants_ratio is not None:
            out.append(
                f"{self.variants} variants of this network, one epoch each: {self.one_after_another:.1f} s one "
                f"after another, {self.side_by_side:.1f} s side by side on {self.variants} cores: "
                f"{self.variants_ratio:.2f} of the time (ideal {1 / self.variants:.2f})."
            )
        if self.load is not None and self.load > 0.5 * self.cores and out:
            out.append(
                f"Other programs kept the cores busy (load average {self.load:.1f} on {self.cores} cores): "
                "the speed-ups are smaller than on an idle machine."
            )
        return out


def _step_spec():
    from ..training.lessons import load_lesson

    spec = load_lesson(STEP_LESSON)
    spec.lesson = None  # its network alone, not its comparison
    return spec


def step_rate(spec, threads: int, seconds: float) -> float:
    """Samples a second of ``spec``'s own trainer with numba held to ``threads`` threads, timed
    over ``seconds`` after the first mini-batch chunk (which may compile or load kernels)."""
    from ..training import ChunkEvent
    from ..training.families import RunOptions, family_of
    from .trial import engine_threads

    with engine_threads(threads):
        run = family_of(spec).start(spec, RunOptions(epochs=1000, compare=False))
        batch = spec.training.batch_size
        first = last = None
        samples = 0
        for event in run.trainer.run():
            if not isinstance(event, ChunkEvent):
                continue
            now = time.perf_counter()
            if first is None:
                first = now
                continue
            samples += event.steps * batch
            last = now
            if now - first >= seconds:
                run.trainer.control.stop()
    return samples / (last - first) if last and last > first else 0.0


def variants_seconds(spec, variants: int, workers: int, data_dir: Path | None) -> float:
    """Seconds for ``variants`` one-epoch runs of ``spec`` (seeds 0 … variants−1) on ``workers``."""
    from ..model import spec_to_dict
    from .experiment_file import FORMAT, FORMAT_VERSION, experiment_from_dict
    from .sweep import Sweep

    network = spec_to_dict(dataclasses.replace(spec, lesson=None))
    experiment = experiment_from_dict(
        {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "name": "parallel",
            "network": network,
            "fixed": {"epochs": 1},
            "vary": {"learning_rate": [spec.training.learning_rate]},
            "seeds": list(range(variants)),
        },
        "the parallelisation measurement",
    )
    started = time.perf_counter()
    Sweep(experiment, workers=workers, data_dir=data_dir).run()
    return time.perf_counter() - started


def measure(spec, data_dir: Path | None = None, step_seconds: float = 1.5) -> Iterator[ParallelFigures]:
    """Measure both figures for the lesson's network ``spec``, yielding the figures after each."""
    import numba

    cores = numba.config.NUMBA_NUM_THREADS
    figures = ParallelFigures(cores=cores, load=os.getloadavg()[0] if hasattr(os, "getloadavg") else None)
    yield figures
    step = _step_spec()
    step_rate(step, 1, 0.2)  # warm up: the kernels compile (or load from the cache) here, not in the timing
    figures.step_one_core = step_rate(step, 1, step_seconds)
    yield figures
    figures.step_all_cores = step_rate(step, cores, step_seconds)
    yield figures
    figures.variants = cores
    variants_seconds(spec, 1, 1, data_dir)  # warm up the network's own kernels and its data
    figures.one_after_another = variants_seconds(spec, cores, 1, data_dir)
    yield figures
    figures.side_by_side = variants_seconds(spec, cores, cores, data_dir)
    figures.done = True
    yield figures


__all__ = [
    "CLUSTER_SENTENCE",
    "GPU_SENTENCE",
    "ParallelFigures",
    "measure",
    "step_rate",
    "variants_seconds",
]
