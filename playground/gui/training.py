"""The bridge between the window and the headless trainer.

One ``TrainingThread`` (a QThread owned by the main window) runs one ``TrainingJob`` at a
time.  The job drives the foundation's ``FeedForwardTrainer.run()`` generator: it loads the data,
builds the trainer and appends every event to a metric stream.  Nothing crosses threads
per mini-batch: the stream is a ring buffer the window reads on its own timer, the
current weights go into a latest-wins slot at most every ``SNAPSHOT_SECONDS``, and the
only signal is QThread's own ``finished`` at the end of a run.

While a job runs, the network belongs to the worker: the window never calls it, it
reads the weights from the slot.  Stop, pause, single steps and the learning rate go
through the shared ``TrainingControl``.
"""
from __future__ import annotations

import math
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PySide6.QtCore import QThread

from ..datasets import Dataset, DatasetError, is_cached
from ..model import NetworkFileError, build_network
from ..model.settings import DatasetSettings, TrainingSettings
from ..training import DataMismatch, EpochRecord, Finished, StepChunk, FeedForwardTrainer, TrainingControl
from ..training.data import IMAGE_SETS, load_training_data
from ..training.metrics import MetricStream

SNAPSHOT_SECONDS = 0.1


class LatestSlot:
    """Holds the newest value only: a writer never waits for a reader, a reader never sees a queue."""

    def __init__(self):
        self._lock = threading.Lock()
        self._value = None
        self._version = 0

    def put(self, value) -> None:
        with self._lock:
            self._value = value
            self._version += 1

    def get(self):
        """(value, version); the version grows with every put."""
        with self._lock:
            return self._value, self._version


class DataStore:
    """Loads a lesson's dataset once and hands the same arrays to later runs.

    Used from the worker (a run's first moments) and from the window (the small 2D sets
    its plots draw), so it locks.
    """

    def __init__(self, data_dir: str | Path | None = None):
        self.data_dir = data_dir
        self._lock = threading.Lock()
        self._key = None
        self._value: tuple[Dataset, str | None] | None = None

    def get(self, settings: DatasetSettings, seed: int, train_limit: int = 0, *,
            chosen_by_user: bool = False) -> tuple[Dataset, str | None]:
        # a set downloaded since the last load replaces the synthetic stand-in
        cached = is_cached(settings.name) if settings.name in IMAGE_SETS else None
        key = (settings, seed, train_limit, str(self.data_dir), chosen_by_user, cached)
        with self._lock:
            if self._key == key and self._value is not None:
                return self._value
            dataset, note = load_training_data(settings, seed=seed, data_dir=self.data_dir,
                                               chosen_by_user=chosen_by_user)
            if train_limit:
                dataset = dataset.limit_train(train_limit)
            self._key, self._value = key, (dataset, note)
            return self._value

    def cached(self, settings: DatasetSettings, seed: int, train_limit: int = 0):
        with self._lock:
            if self._value is not None and self._key[:3] == (settings, seed, train_limit):
                return self._value
        return None


@dataclass
class Progress:
    """Figures the worker updates between chunks and the window reads (plain attributes: one
    writer, readers tolerate a value one chunk old)."""
    steps: int = 0
    samples: int = 0
    epoch: int = 0
    steps_per_epoch: int = 0
    epochs: int = 0
    started: float = 0.0      # perf_counter when the first chunk began
    last: float = 0.0         # perf_counter after the latest chunk
    train_seconds: float = 0.0


@dataclass
class TrainingJob:
    """One run of the trainer on a network the job owns until it finishes."""
    network: object
    settings: TrainingSettings
    dataset_settings: DatasetSettings
    data: DataStore
    control: TrainingControl = None
    stream: MetricStream = field(default_factory=MetricStream)
    weights: LatestSlot = field(default_factory=LatestSlot)
    progress: Progress = field(default_factory=Progress)
    step_offset: int = 0
    epoch_offset: int = 0
    dataset: Dataset | None = None
    note: str | None = None
    finished: Finished | None = None
    error: str | None = None
    uses_fast_path: bool = False
    augmentation: object = None    # the spec's AugmentationSettings (None: none)

    def __post_init__(self):
        if self.control is None:
            self.control = TrainingControl(self.settings.learning_rate)

    def execute(self) -> None:
        """The thread's body: never raises; a problem ends up in ``error``."""
        try:
            self._train()
        except (DataMismatch, DatasetError, NetworkFileError, ValueError) as problem:
            self.error = str(problem)
        except Exception as problem:  # a bug: say so in one line, keep the details on stderr
            traceback.print_exc(file=sys.stderr)
            self.error = f"internal error: {problem.__class__.__name__}: {problem}"
        finally:
            if self.error is None and self.finished is None:
                self.finished = Finished("stopped", "training stopped")

    def _train(self) -> None:
        settings = self.settings
        self.dataset, self.note = self.data.get(self.dataset_settings, settings.seed, settings.train_limit)
        if self.control.stopped:
            return
        extra = {} if self.augmentation is None else {"augmentation": self.augmentation}
        trainer = FeedForwardTrainer(self.network, self.dataset, settings, control=self.control, **extra)
        self.uses_fast_path = trainer.uses_fast_path
        progress = self.progress
        progress.steps_per_epoch = math.ceil(len(trainer.x_train) / trainer.batch_size)
        progress.epochs = settings.epochs
        last_snapshot = 0.0
        progress.started = progress.last = time.perf_counter()
        for event in trainer.run():
            self.stream.append(event)
            if isinstance(event, StepChunk):
                progress.steps += event.steps
                progress.samples += event.steps * trainer.batch_size
                progress.epoch = event.epoch
            elif isinstance(event, EpochRecord):
                progress.epoch = event.epoch
            elif isinstance(event, Finished):
                self.finished = event
            now = time.perf_counter()
            progress.last = now
            progress.train_seconds = now - progress.started
            if now - last_snapshot >= SNAPSHOT_SECONDS or self.control.paused:
                # between chunks the generator is suspended, so the weights are at rest
                self.weights.put(self.network.copy_state())
                last_snapshot = now
        self.weights.put(self.network.copy_state())


class TrainingThread(QThread):
    """The one worker thread; ``launch`` a job, ``stop_and_join`` before the window goes."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.job: TrainingJob | None = None

    def launch(self, job: TrainingJob) -> None:
        if self.isRunning():
            raise RuntimeError("a training run is already in progress")
        self.job = job
        self.start()

    def run(self) -> None:  # runs on the worker thread
        job = self.job
        if job is not None:
            job.execute()

    def stop_and_join(self, timeout_ms: int | None = None) -> bool:
        """Ask the trainer to stop (waking it if paused) and wait for the thread to end."""
        if self.job is not None:
            self.job.control.stop()
        if timeout_ms is None:
            return self.wait()
        return self.wait(timeout_ms)


def fresh_network(spec, dtype=np.float32):
    """Build and initialise the engine network for ``spec`` (raises NetworkFileError)."""
    network = build_network(spec, dtype)
    network.initialize(spec.training.initializer, spec.training.seed)
    return network
