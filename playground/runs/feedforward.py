"""A dashboard run: the window's network trained by the ``FeedForwardTrainer`` on its worker.

The job is the generic ``RunnerJob``: its runner loads the data (once, through the
``DataStore``), builds the trainer around the network the window handed over and yields
the trainer's events, which go into a ring-buffer ``MetricStream`` the window reads on
its own timer.  The current weights go into a latest-wins slot at most every
``SNAPSHOT_SECONDS``.  Nothing crosses threads per mini-batch.

While a job runs, the network belongs to the worker: the window never calls it, it
reads the weights from the slot.  Stop, pause, single steps and the learning rate go
through the shared ``TrainingControl``.

A lesson that compares variants (``model.variants``) runs as one job too: ``for_comparison``
trains them in turn through the family's own ``Family.start`` and ``ComparisonTrainer``, on the
data the window's store holds, and each ``RunStarted`` in the stream tells the lab that the next
variant's curves begin; ``networks`` holds every variant's network by label, built before the
first one trains.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

from ..datasets import Dataset
from ..model import build_network, initialise
from ..model.settings import AugmentationSettings, DatasetSettings, TrainingSettings
from ..training import EpochRecord, FeedForwardTrainer, StepChunk, TrainingControl
from ..training.families import RunOptions, family_of
from ..training.metrics import MetricStream
from ..training.protocol import RunStarted
from .data import DataStore
from .jobs import SNAPSHOT_SECONDS, JobProgress, LatestSlot, RunnerJob
from .snapshots import WeightsAt


@dataclass
class Progress(JobProgress):
    """Figures the worker updates between chunks and the window reads (plain attributes: one
    writer, readers tolerate a value one chunk old)."""

    samples: int = 0
    steps_per_epoch: int = 0
    epochs: int = 0
    train_seconds: float = 0.0


@dataclass
class TrainingJob(RunnerJob):
    """One run of the ``FeedForwardTrainer`` on ``network``, which the job owns until it finishes.

    ``step_offset`` and ``epoch_offset`` number a run that continues an earlier one."""

    network: object = None
    settings: TrainingSettings = None
    dataset_settings: DatasetSettings = None
    data: DataStore = None
    augmentation: AugmentationSettings | None = None
    stream: MetricStream = field(default_factory=MetricStream)
    weights: LatestSlot = field(default_factory=LatestSlot)
    progress: Progress = field(default_factory=Progress)
    step_offset: int = 0
    epoch_offset: int = 0
    dataset: Dataset | None = None
    note: str | None = None
    uses_fast_path: bool = False
    #: a comparison's variants' networks by label (filled on the worker before the first trains)
    networks: dict = field(default_factory=dict)

    @classmethod
    def for_network(
        cls, network, settings: TrainingSettings, dataset_settings: DatasetSettings, data: DataStore, **options
    ) -> TrainingJob:
        job = cls(
            None,
            None,
            TrainingControl(settings.learning_rate),
            network=network,
            settings=settings,
            dataset_settings=dataset_settings,
            data=data,
            **options,
        )
        job.runner = job._events
        return job

    @classmethod
    def for_comparison(cls, spec, data: DataStore) -> TrainingJob:
        """A job that trains every variant ``spec``'s lesson compares, one after the other, each
        from its own fresh weights (``spec`` is the lesson's own network)."""
        job = cls(spec, None, TrainingControl(spec.training.learning_rate), data=data)
        job.runner = job._comparison_events
        return job

    def _follow(self, trainer: FeedForwardTrainer) -> None:
        """The job's figures now describe ``trainer``'s run (its data, its network, its epochs)."""
        self.network, self.dataset, self.settings = trainer.network, trainer.dataset, trainer.settings
        self.uses_fast_path = trainer.uses_fast_path
        self.progress.steps_per_epoch = math.ceil(len(trainer.x_train) / trainer.batch_size)
        self.progress.epochs = trainer.settings.epochs
        self._batch_size = trainer.batch_size

    def _events(self, _spec, control: TrainingControl):
        settings = self.settings
        self.dataset, self.note = self.data.get(self.dataset_settings, settings.seed, settings.train_limit)
        if control.stopped:
            return
        extra = {} if self.augmentation is None else {"augmentation": self.augmentation}
        trainer = FeedForwardTrainer(self.network, self.dataset, settings, control=control, **extra)
        self._follow(trainer)
        yield from self._with_snapshots(trainer.run(), control)

    def _comparison_events(self, spec, control: TrainingControl):
        run = family_of(spec).start(spec, RunOptions(load_data=self.data.run_data), control)
        self.note = run.notes[0] if run.notes else None
        self.dataset_settings = spec.dataset
        self.networks = {label: part.model for label, part in run.parts.items()}
        trainers = {label: part.trainer for label, part in run.parts.items()}
        yield from self._with_snapshots(run.trainer.run(), control, trainers)

    def _with_snapshots(self, events, control: TrainingControl, trainers: dict | None = None):
        """``events``, with the network's weights put in the slot now and then; a comparison's
        ``RunStarted`` switches the job to that variant's trainer (``trainers`` by label)."""
        last_snapshot, step, run = 0.0, -1, None
        for event in events:
            if isinstance(event, RunStarted):
                self._follow(trainers[event.label])
                last_snapshot, step, run = 0.0, -1, event.label
            yield event
            if isinstance(event, StepChunk):
                step = event.first_step + event.steps - 1
            now = time.perf_counter()
            # in slow motion the views show every step, the weights included
            if now - last_snapshot >= SNAPSHOT_SECONDS or control.paused or control.steps_per_second is not None:
                # between chunks the generator is suspended, so the weights are at rest
                self.weights.put(WeightsAt(self.network.copy_state(), step, run))
                last_snapshot = now
        self.weights.put(WeightsAt(self.network.copy_state(), step, run))

    def track(self, event) -> None:
        progress = self.progress
        if isinstance(event, RunStarted):  # a comparison's next variant counts its own steps
            progress.steps = progress.samples = progress.epoch = 0
        elif isinstance(event, StepChunk):
            progress.steps += event.steps
            progress.samples += event.steps * self._batch_size
            progress.epoch = event.epoch
        elif isinstance(event, EpochRecord):
            progress.epoch = event.epoch
        progress.train_seconds = time.perf_counter() - progress.started


def fresh_network(spec, dtype=None):
    """Build and initialise the engine network for ``spec`` (raises NetworkFileError)."""
    network = build_network(spec) if dtype is None else build_network(spec, dtype)
    initialise(network, spec)
    return network
