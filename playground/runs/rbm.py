"""One RBM run on the lab's worker thread, and the runner that trains the real stack.

``RBMJob`` is the generic ``RunnerJob`` with the RBM lab's stream; ``track`` keeps the
figures the status line and the "which layer is pretraining" label read.  ``StackRunner``
is the lab's default runner: it loads the data and builds the stack on the worker, and it
keeps the stack between runs, so Fine-tune continues from what Pretrain learned (and
Fine-tune on a fresh stack is the "from random weights" comparison the DBN lesson asks for).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from ..engine.initializers import initial_weight
from ..training import EpochRecord, StepChunk
from ..training.collaborative import RatingsEpoch
from ..training.rbm_trainer import PretrainChunk, PretrainEpoch, RBMStack, RBMTrainer
from .data import DataStore
from .jobs import SNAPSHOT_SECONDS, JobProgress, RunnerJob
from .rbm_stream import ExamplesReady, RBMSnapshot, RBMStream, clone_rbm

#: validation examples sent to the views (the reconstructions, completions and the code scatter)
EXAMPLES = 1000


@dataclass
class RBMProgress(JobProgress):
    phase: str = "starting"  # "pretraining", "fine-tuning" or "ratings"
    layer_index: int = 0
    n_layers: int = 0
    epochs: int = 0  # of the current phase


@dataclass
class RBMJob(RunnerJob):
    stream: RBMStream = field(default_factory=RBMStream)
    progress: RBMProgress = field(default_factory=RBMProgress)

    def track(self, event) -> None:
        progress = self.progress
        if isinstance(event, PretrainChunk):
            progress.phase, progress.layer_index, progress.n_layers = "pretraining", event.layer_index, event.n_layers
            progress.steps, progress.epoch = event.first_step + event.steps, event.epoch
            progress.epochs = getattr(getattr(self.spec, "pretraining", None), "epochs", 0)
        elif isinstance(event, PretrainEpoch):
            progress.epoch = event.epoch
        elif isinstance(event, StepChunk):
            if progress.phase != "fine-tuning":
                progress.phase, progress.steps = "fine-tuning", 0
                progress.epochs = getattr(getattr(self.spec, "training", None), "epochs", 0)
            progress.steps, progress.epoch = event.first_step + event.steps, event.epoch
        elif isinstance(event, EpochRecord):
            progress.epoch = event.epoch
        elif isinstance(event, RatingsEpoch):
            progress.phase, progress.epoch, progress.epochs = "ratings", event.epoch, event.epochs


def image_shape_of(n_visible: int) -> tuple[int, int] | None:
    """(side, side) when the visible units are a square picture (MNIST's 784), else None."""
    side = round(np.sqrt(n_visible))
    return (side, side) if side * side == n_visible and side >= 4 else None


class StackRunner:
    """``runner(spec, control)`` for the RBM lab: ``phases`` says which of pretraining and
    fine-tuning the next run does; the stack and the data stay for the next run."""

    def __init__(self, data: DataStore | None = None):
        self.data = data or DataStore()
        self.stack: RBMStack | None = None
        self.pretrain, self.fine_tune = True, True
        #: the next fresh stack's RBMs take the file's initialiser (Xavier, …) instead of the
        #: RBMs' tiny N(0, 0.01²): the fair "from random weights" network to compare with
        self.network_init = False

    def from_random_weights(self) -> None:
        """The next run fine-tunes a fresh stack initialised as a feed-forward network would be."""
        self.stack, self.network_init = None, True

    def phases(self, pretrain: bool, fine_tune: bool) -> None:
        self.pretrain, self.fine_tune = pretrain, fine_tune

    def adopt(self, spec, weights) -> RBMStack | None:
        """The stack the next Fine-tune continues from: ``spec``'s with ``weights`` (an opened
        project's), or none with None.  Only while no run goes on: the worker owns the stack then."""
        self.stack = None
        if weights is not None:
            self.stack = RBMStack(spec)
            self.stack.initialize(spec.training.initializer, spec.training.seed)
            self.stack.load_state(weights)
        return self.stack

    def __call__(self, spec, control):
        training = spec.training
        dataset, note = self.data.get(spec.dataset, training.seed, training.train_limit)
        if self.pretrain or self.stack is None or self.stack.spec is not spec:
            self.stack = RBMStack(spec)
            self.stack.initialize(training.initializer, training.seed)
            if self.network_init and not self.pretrain:
                rng = np.random.default_rng(training.seed)
                for rbm in self.stack.rbms:
                    n_in, units = rbm.n_visible, rbm.config.units
                    weight = initial_weight(training.initializer, (units, n_in), n_in, units, rng, rbm.dtype)
                    rbm.params["weight"][...] = weight
        self.network_init = False
        stack = self.stack
        trainer = RBMTrainer(stack, dataset, control=control, pretrain=self.pretrain, fine_tune=self.fine_tune)
        labels = dataset.y_val[:EXAMPLES] if dataset.task == "classification" else None
        yield ExamplesReady(
            trainer.x_val[:EXAMPLES].copy(),
            labels,
            trainer.x_train.mean(axis=0),
            image_shape_of(stack.n_visible),
            dataset.source,
            note,
        )
        yield self._snapshot(trainer, 0)
        last = time.perf_counter()
        fine_tune_steps = 0
        for event in trainer.run():
            now = time.perf_counter()
            if now - last >= SNAPSHOT_SECONDS or isinstance(event, (PretrainEpoch, EpochRecord)):
                # between events the trainer's generator is suspended: the weights are at rest
                yield self._snapshot(trainer, fine_tune_steps)
                last = now
            if isinstance(event, StepChunk):
                fine_tune_steps = event.first_step + event.steps
            yield event
        yield self._snapshot(trainer, fine_tune_steps)

    def _snapshot(self, trainer: RBMTrainer, fine_tune_steps: int) -> RBMSnapshot:
        """Copies of the weights now, after the pretraining steps and ``fine_tune_steps`` done."""
        step = trainer.steps_done + fine_tune_steps - 1
        network = trainer.fine_tune_network
        if network is None:
            return stack_snapshot(trainer.stack, step)
        state = network.copy_state()
        return RBMSnapshot(
            [clone_rbm(rbm, state) for rbm in trainer.stack.rbms],
            state,
            [layer.id for layer in network.layers if layer.params],
            trainer.pretraining.fine_tune,
            step,
        )


def stack_snapshot(stack: RBMStack, step: int = -1) -> RBMSnapshot:
    """Copies of the stack's RBMs (after ``step``), for the pixel views to compute with on the GUI thread."""
    return RBMSnapshot([clone_rbm(rbm) for rbm in stack.rbms], step=step)
