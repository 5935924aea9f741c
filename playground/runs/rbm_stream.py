"""What an RBM run hands from the worker thread to the lab's timer.

The per-batch figures go into the foundation's ``MetricStream`` ring buffers (one for the
pretraining reconstruction errors, one for fine-tuning), the per-epoch monitoring records
into a list, and what is big and only interesting in its newest form into latest-wins
slots: copies of the RBMs' weights (the views compute reconstructions, samples and
completions from them on the GUI thread), the fine-tuned network's weights, and the
validation examples the views show.  Nothing per batch is queued between the threads.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from ..engine.layers.rbm import RBM
from ..training import EpochRecord, StepChunk
from ..training.collaborative import RatingsEpoch
from ..training.metrics import MetricStream
from ..training.rbm_trainer import PretrainChunk, PretrainEpoch
from .jobs import LatestSlot


@dataclass
class RBMSnapshot:
    """The weights at one moment: copies of every RBM (what the pixel views sample from) and,
    while fine-tuning, the feed-forward network's parameters and its layers in order."""

    rbms: list[RBM]
    network_state: dict[str, np.ndarray] | None = None
    network_order: list[str] | None = None
    fine_tune: str = "none"
    #: the step it was taken after, counted on across the run's phases (pretraining's steps,
    #: then fine-tuning's) as the lab's timeline counts them; -1: before the first step
    step: int = -1

    @property
    def nbytes(self) -> int:
        arrays = [value for rbm in self.rbms for value in rbm.params.values()]
        return sum(array.nbytes for array in arrays + list((self.network_state or {}).values()))


@dataclass
class ExamplesReady:
    """The validation examples the views draw, once the run has loaded its data."""

    images: np.ndarray  # (n, visible) rows, as the first RBM sees them
    labels: np.ndarray | None  # (n,) class of each, when the data has classes
    mean_image: np.ndarray  # the training mean: the baseline an RBM's completion must beat
    image_shape: tuple[int, int] | None
    source: str
    note: str | None = None


def clone_rbm(rbm: RBM, overrides: dict[str, np.ndarray] | None = None) -> RBM:
    """A copy of ``rbm`` with its own parameters, for another thread to compute with; the
    ``"<id>.<param>"`` entries of ``overrides`` (a fine-tuned network's) replace its own."""
    twin = RBM(rbm.id, rbm.config, rbm.input_shape, rbm.dtype)
    for name, value in rbm.params.items():
        twin.params[name][...] = (overrides or {}).get(f"{rbm.id}.{name}", value)
    return twin


class RBMStream:
    """Pretraining steps and epochs, fine-tuning steps and epochs, the newest weights, and the
    epochs of the ratings example (which runs on the same worker)."""

    def __init__(self, capacity: int = 50_000):
        self._lock = threading.Lock()
        self.pretrain = MetricStream(capacity)
        self.fine_tune = MetricStream(capacity)
        self.snapshot = LatestSlot()
        self.examples = LatestSlot()
        self._pretrain_epochs: list[PretrainEpoch] = []
        self._ratings: list[RatingsEpoch] = []
        self._layer_starts: list[tuple[int, int, str]] = []  # (first step, RBM index, id) where each RBM began

    def append(self, event) -> None:
        if isinstance(event, PretrainChunk):
            with self._lock:
                if not self._layer_starts or self._layer_starts[-1][1] != event.layer_index:
                    self._layer_starts.append((event.first_step, event.layer_index, event.layer_id))
            # one name for every RBM: the ring's layer columns (unused here) stay the same all run
            self.pretrain.append(
                StepChunk(
                    event.epoch,
                    event.first_step,
                    event.errors,
                    None,
                    ["rbm"],
                    np.zeros((event.steps, 1, 4), np.float32),
                    event.steps,
                )
            )
        elif isinstance(event, PretrainEpoch):
            with self._lock:
                self._pretrain_epochs.append(event)
        elif isinstance(event, (StepChunk, EpochRecord)):
            self.fine_tune.append(event)
        elif isinstance(event, RBMSnapshot):
            self.snapshot.put(event)
        elif isinstance(event, ExamplesReady):
            self.examples.put(event)
        elif isinstance(event, RatingsEpoch):
            with self._lock:
                self._ratings.append(event)

    def pretrain_records(self, seen: int = 0) -> tuple[list[PretrainEpoch], list[tuple[int, int, str]]]:
        """The epoch records after the first ``seen``, and where each RBM's steps begin."""
        with self._lock:
            return list(self._pretrain_epochs[seen:]), list(self._layer_starts)

    def ratings_since(self, seen: int = 0) -> list[RatingsEpoch]:
        """The ratings example's epoch records after the first ``seen``."""
        with self._lock:
            return list(self._ratings[seen:])
