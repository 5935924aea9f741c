"""The trainer of single-chain recurrent networks: input → SimpleRNN/LSTM → Dense or TimeDense head.

A plain generator, like the ``FeedForwardTrainer``: the command line iterates it, the
window runs it in a worker thread, and between mini-batches it honours the shared
``TrainingControl`` (stop, pause, single steps, a new learning rate).  It yields the
sequence events of ``sequence_events.py``: a ``SequenceChunk`` every few steps with, for
each training step, ‖∂C/∂h_t‖ at every time step t (the time-axis twin of the per-layer
gradient norm) and, for an LSTM, the mean forget and input gates per step; a
``SequenceEpoch`` after each pass with the validation figures; one final ``Finished``.

Two settings exist only for recurrent nets (``TrainingSettings``):
- ``bptt_steps`` = k > 0 truncates backpropagation through time to blocks of k steps
  (see ``playground/engine/recurrent.py`` for the exact semantics and the torch twin);
- ``clip_norm`` = c > 0 rescales the whole gradient to norm c when it is longer, the cure
  for the *exploding* side of the same product that makes gradients vanish (Pascanu et
  al. 2013).  Every clip is counted, because a run that clips at every step is a run
  whose learning rate is really set by c.

The ``rnn-vs-lstm`` lesson's ``compare`` entry adds the same network with the recurrent layer
swapped (``model.variants``); ``Family.start`` trains the pair, so the command line and the
window compare exactly the same two runs.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial

import numpy as np

from ..datasets.adding import adding_problem
from ..engine.layers import layer_class
from ..engine.layers.dropout import seed_kernel_random
from ..engine.layers.recurrent_base import RecurrentLayer
from ..engine.network import Network
from ..engine.optimizers import Optimizer, OptimizerSettings, clip_by_norm
from ..model import NetworkSpec, build_network, initialise, load_weights_into, with_overrides
from ..model.settings import DatasetSettings, TrainingSettings
from .control import TrainingControl
from .families import Family, PreparedRun, RunOptions, register_family
from .protocol import STOPPED, ChunkResult, ChunkSizer, Finished, run_batches
from .sequence_events import SequenceChunk, SequenceEpoch, gate_means_of
from .trainer import DataMismatch, evaluate

#: examples the adding problem generates when the file says 0; a fifth is held out
ADDING_DEFAULT_SAMPLES = 10_000
#: share of the generated examples held out for validation
VALIDATION_SHARE = 0.2
#: training steps reported together in one SequenceChunk
CHUNK_STEPS = 10


@dataclass
class SequenceData:
    """Sequences (n, T, features) and targets: (n, outputs) floats for one value per sequence,
    or (n, T) integer classes for a per-step softmax head."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray


def load_sequence_data(settings: DatasetSettings, seed: int) -> SequenceData:
    """The generated sequence sets a recurrent network file can name (today: the adding problem)."""
    if settings.name != "adding":
        raise DataMismatch(
            f'the dataset "{settings.name}" holds no sequences; a recurrent network trains on '
            f'"adding" (the adding problem)'
        )
    n = settings.n_samples or ADDING_DEFAULT_SAMPLES
    n_val = max(1, int(n * VALIDATION_SHARE))
    # training and validation sets come from generators of their own, so changing n keeps the other set
    x_train, y_train = adding_problem(n - n_val, settings.sequence_length, seed)
    x_val, y_val = adding_problem(n_val, settings.sequence_length, seed + 1_000_003)
    return SequenceData("adding", x_train, y_train, x_val, y_val)


def recurrent_layer(network: Network) -> RecurrentLayer:
    """The recurrent layer a chain's figures describe (its first), or DataMismatch if there is none."""
    for layer in network.layers:
        if isinstance(layer, RecurrentLayer):
            return layer
    raise DataMismatch("the network has no recurrent layer (simple_rnn or lstm) to train through time")


def _targets(network: Network, y: np.ndarray) -> np.ndarray:
    """Targets as the output layer's rows: regression values as they are, per-step classes one-hot."""
    if np.issubdtype(y.dtype, np.integer):
        units = network.layers[-1].output_shape[-1]
        out = np.zeros(y.shape + (units,), network.dtype)
        np.put_along_axis(out, y[..., None].astype(np.int64), 1.0, axis=-1)
        return out
    return np.ascontiguousarray(y, dtype=network.dtype)


class SequenceTrainer:
    """Trains ``network`` (already initialised) on ``data`` according to ``settings``."""

    def __init__(
        self,
        network: Network,
        data: SequenceData,
        settings: TrainingSettings,
        *,
        control: TrainingControl | None = None,
        chunk_steps: int = CHUNK_STEPS,
    ):
        self.network = network
        self.settings = settings
        self.data = data
        self.recurrent = recurrent_layer(network)
        self.recurrent.truncate = settings.bptt_steps
        self.recurrent.needs_input_gradient = network.layers.index(self.recurrent) > 1
        expected = tuple(network.input_shape)
        if tuple(data.x_train.shape[1:]) != expected:
            raise DataMismatch(
                f'layer "{network.layers[0].id}": expects sequences of shape {list(expected)} but the '
                f'dataset "{data.name}" gives {list(data.x_train.shape[1:])}'
            )
        self.x_train = np.ascontiguousarray(data.x_train, dtype=network.dtype)
        self.x_val = np.ascontiguousarray(data.x_val, dtype=network.dtype)
        self.t_train, self.t_val = _targets(network, data.y_train), _targets(network, data.y_val)
        self.classify = np.issubdtype(data.y_train.dtype, np.integer)
        self.control = control or TrainingControl(settings.learning_rate)
        self.chunk_steps = chunk_steps
        self.optimizer = Optimizer(OptimizerSettings(settings.optimizer, settings.momentum), network.slots())
        self.batch_size = min(settings.batch_size, len(self.x_train))
        self.grads = [grad for _, grad, _ in network.slots()]
        self.steps_done = 0
        self.clips_total = 0
        self.history: list[SequenceEpoch] = []
        #: ‖∂C/∂h_t‖ of every step trained, chunk by chunk (the summary's decay ratio is their median)
        self.time_grad_norms_seen: list[np.ndarray] = []

    # --- one step -------------------------------------------------------------------------
    def _clip(self) -> bool:
        """Clip the whole gradient to norm ``clip_norm`` (off at 0); whether it did."""
        return clip_by_norm(self.grads, self.settings.clip_norm)[1]

    def evaluate(self, x: np.ndarray, targets: np.ndarray, chunk: int = 1000) -> tuple[float, float | None]:
        """Mean cost over a set and, for per-step classes, the fraction of steps right."""
        return evaluate(self.network, x, targets, self.classify, chunk)

    def train_chunk(self, epoch: int, order: np.ndarray, first: int, count: int):
        """Run ``count`` mini-batches from batch index ``first``; returns (chunk, diverged_at or None)."""
        steps_in_time = self.x_train.shape[1]
        losses = np.zeros(count)
        norms = np.zeros((count, steps_in_time))
        clips = 0
        l2 = self.settings.l2 / len(self.x_train)
        l1 = self.settings.l1 / len(self.x_train)
        for k in range(count):
            rows = order[(first + k) * self.batch_size : (first + k + 1) * self.batch_size]
            loss, _ = self.network.loss_and_gradients(self.x_train[rows], self.t_train[rows])
            losses[k] = loss
            norms[k] = self.recurrent.time_grad_norms
            if not math.isfinite(loss) or not math.isfinite(norms[k].sum()):  # NaN and inf reach the sum
                return self._make_chunk(epoch, losses[: k + 1], norms[: k + 1], clips), rows
            clips += self._clip()
            self.optimizer.step(self.control.learning_rate, l2, l1)
        return self._make_chunk(epoch, losses, norms, clips), None

    def _make_chunk(self, epoch, losses, norms, clips) -> SequenceChunk:
        return SequenceChunk(
            epoch, self.steps_done, losses, norms, clips, *gate_means_of(self.recurrent), self.recurrent.id
        )

    def _chunk(self, epoch: int, order: np.ndarray, first: int, count: int) -> ChunkResult:
        chunk, bad_rows = self.train_chunk(epoch, order, first, count)
        self.clips_total += chunk.clips
        self.time_grad_norms_seen.append(chunk.time_grad_norms)
        if bad_rows is None:
            self.steps_done += count
        # a divergence: the rows of the bad mini-batch and its step
        return ChunkResult(count, chunk, None if bad_rows is None else (bad_rows, self.steps_done + chunk.steps - 1))

    # --- the run ----------------------------------------------------------------------------
    def run(self) -> Iterator[SequenceChunk | SequenceEpoch | Finished]:
        settings = self.settings
        rng = np.random.default_rng(settings.seed)
        seed_kernel_random(settings.seed)
        batches = len(self.x_train) // self.batch_size  # a short last batch is left for the next epoch's shuffle
        sizer = ChunkSizer(steps=self.chunk_steps)
        for epoch in range(1, settings.epochs + 1):
            started = time.perf_counter()
            order = rng.permutation(len(self.x_train)).astype(np.int64)
            outcome = yield from run_batches(self.control, batches, partial(self._chunk, epoch, order), sizer)
            if outcome is STOPPED:
                yield Finished.stopped(epoch - 1, self.steps_done, self.history)
                return
            if outcome is not None:
                bad_rows, step = outcome
                layer = self.network.first_nonfinite_layer(self.x_train[bad_rows], self.t_train[bad_rows])
                yield Finished.diverged(
                    layer,
                    step,
                    epoch,
                    self.steps_done,
                    self.history,
                    "Try a smaller learning rate or gradient clipping (clip_norm).",
                )
                return
            seconds = time.perf_counter() - started
            loss, _ = self.evaluate(self.x_train[: len(self.x_val)], self.t_train[: len(self.x_val)])
            val_loss, accuracy = self.evaluate(self.x_val, self.t_val)
            record = SequenceEpoch(
                epoch,
                self.steps_done,
                loss,
                val_loss,
                seconds,
                batches * self.batch_size / seconds if seconds > 0 else 0.0,
                self.clips_total,
                val_mse=None if self.classify else self.validation_mse(),
                token_accuracy=accuracy,
            )
            self.history.append(record)
            yield record
        yield Finished.completed(f"trained {settings.epochs} epochs", settings.epochs, self.steps_done, self.history)

    def validation_mse(self) -> float:
        """Mean squared error per output on the validation set (what the adding problem's bar is stated in)."""
        predictions = self.network.predict(self.x_val)
        return float(np.mean((predictions - self.t_val.reshape(len(self.t_val), -1)) ** 2))


def sequence_trainer_for(spec: NetworkSpec, control: TrainingControl | None = None, **options) -> SequenceTrainer:
    """Build, initialise (seeded) and load the data of a recurrent network file: everything a run needs."""
    network = build_network(spec)
    initialise(network, spec)
    data = load_sequence_data(spec.dataset, spec.training.seed)
    return SequenceTrainer(network, data, spec.training, control=control, **options)


def time_decay_ratio(time_grad_norms: np.ndarray) -> float:
    """‖∂C/∂h_0‖ / ‖∂C/∂h_{T−1}‖: how much of the error reaching the last step survives to the first.

    Far below 1: the gradient vanishes along time (the SimpleRNN); near 1: it is carried
    (the LSTM's cell).  For a (steps, T) array, the median over the training steps.
    """
    norms = np.atleast_2d(time_grad_norms)
    return float(np.median(norms[:, 0] / np.maximum(norms[:, -1], 1e-300)))


def prepare_recurrent(spec: NetworkSpec, options: RunOptions, control: TrainingControl | None = None) -> PreparedRun:
    """The file's network on its sequences (a lesson's comparison is ``Family.start``'s)."""
    spec.training = with_overrides(spec.training, **options.training_changes())
    trainer = sequence_trainer_for(spec, control or TrainingControl(spec.training.learning_rate))
    if options.load_weights:
        load_weights_into(trainer.network, options.load_weights)
    description = (
        f"the adding problem, T = {trainer.x_train.shape[1]}; {len(trainer.x_train)} "
        f"training sequences, {trainer.network.parameter_count():,} parameters"
    )
    return PreparedRun(trainer, trainer.network, description, spec.training.epochs)


def _recurrent_line(event, run: PreparedRun) -> str | None:
    if not isinstance(event, SequenceEpoch):
        return None
    return (
        f"epoch {event.epoch:>3}/{run.epochs}  loss {event.loss:.4f}  "
        f"val MSE {event.val_mse:.4f}  clips {event.clips_total}  {event.seconds:.1f} s"
    )


def _recurrent_summary(run: PreparedRun) -> list[str]:
    trainer = run.trainer
    if not trainer.history:
        return []
    return [
        f"validation MSE {trainer.history[-1].val_mse:.4f}; ‖∂C/∂h_0‖ / ‖∂C/∂h_T-1‖ = "
        f"{time_decay_ratio(np.concatenate(trainer.time_grad_norms_seen)):.2e} (median over the steps)"
    ]


RECURRENT = register_family(
    Family(
        "recurrent",
        lab="sequence",
        precedence=30,
        matches=lambda spec: any(issubclass(layer_class(node.type), RecurrentLayer) for node in spec.nodes),
        prepare=prepare_recurrent,
        event_line=_recurrent_line,
        summary=_recurrent_summary,
    )
)
