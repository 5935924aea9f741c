"""The trainer of single-chain recurrent networks: input → SimpleRNN/LSTM → Dense or TimeDense head.

A plain generator, like the feed-forward ``Trainer``: the command line iterates it, the
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

The ``rnn-vs-lstm`` lesson trains its network and, through its ``compare`` entry, the
same network with the recurrent layer swapped; ``comparison_specs`` builds that pair, so
the command line and the window compare exactly the same two runs.
"""
from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from ..datasets.adding import adding_problem
from ..engine.costs import cost_and_delta
from ..engine.layers import layer_class
from ..engine.layers.dropout import seed_kernel_random
from ..engine.layers.recurrent_base import RecurrentLayer
from ..engine.network import Network
from ..engine.optimizers import Optimizer, OptimizerSettings
from ..model.settings import DatasetSettings, TrainingSettings
from ..model import NetworkSpec, build_network
from .control import TrainingControl
from .sequence_events import SequenceChunk, SequenceEpoch
from .trainer import DataMismatch, Finished

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
        raise DataMismatch(f'the dataset "{settings.name}" holds no sequences; a recurrent network trains on '
                           f'"adding" (the adding problem)')
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


def comparison_specs(spec: NetworkSpec) -> list[tuple[str, NetworkSpec]]:
    """The file's network and, if its lesson has ``"compare": {"layer": ID, "type": TYPE}``, a copy
    with that layer's type swapped (same hidden size and outputs), labelled by recurrent type."""
    compare = (spec.lesson or {}).get("compare")
    runs = []
    for node in spec.nodes:
        if compare and node.id == compare.get("layer"):
            runs.append((node.type, spec))
            twin_type = compare.get("type")
            config = layer_class(twin_type).Config(hidden=node.config.hidden,
                                                   return_sequences=node.config.return_sequences)
            nodes = [dataclasses.replace(n, type=twin_type, config=config) if n.id == node.id else n
                     for n in spec.nodes]
            runs.append((twin_type, dataclasses.replace(spec, nodes=nodes)))
    return runs or [(next((n.type for n in spec.nodes if n.type in ("lstm", "simple_rnn")), "network"), spec)]


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

    def __init__(self, network: Network, data: SequenceData, settings: TrainingSettings, *,
                 control: TrainingControl | None = None, chunk_steps: int = CHUNK_STEPS):
        self.network = network
        self.settings = settings
        self.data = data
        self.recurrent = recurrent_layer(network)
        self.recurrent.truncate = settings.bptt_steps
        self.recurrent.needs_input_gradient = network.layers.index(self.recurrent) > 1
        expected = tuple(network.input_shape)
        if tuple(data.x_train.shape[1:]) != expected:
            raise DataMismatch(f'layer "{network.layers[0].id}": expects sequences of shape {list(expected)} but the '
                               f'dataset "{data.name}" gives {list(data.x_train.shape[1:])}')
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

    # --- one step -------------------------------------------------------------------------
    def _clip(self) -> bool:
        """Rescale every gradient by c/‖g‖ when the whole gradient's norm ‖g‖ exceeds c = clip_norm."""
        limit = self.settings.clip_norm
        if limit <= 0:
            return False
        norm = np.sqrt(sum(float(np.dot(g.ravel(), g.ravel())) for g in self.grads))
        if norm <= limit:
            return False
        for grad in self.grads:
            grad *= grad.dtype.type(limit / norm)
        return True

    def evaluate(self, x: np.ndarray, targets: np.ndarray, chunk: int = 1000) -> tuple[float, float | None]:
        """Mean cost over a set and, for per-step classes, the fraction of steps right."""
        out_layer = self.network.layers[-1]
        total, correct = 0.0, 0
        for start in range(0, len(x), chunk):
            output = self.network.forward(x[start:start + chunk], training=False)
            rows = out_layer.z.shape
            t = targets[start:start + chunk].reshape(rows)
            delta = np.empty(rows, self.network.dtype)
            total += cost_and_delta(self.network.cost_code, out_layer.activation_code, out_layer.z,
                                    output.reshape(rows), t, delta, out_layer.config.alpha)
            if self.classify:
                correct += int((output.reshape(rows).argmax(axis=1) == t.argmax(axis=1)).sum())
        steps = targets.shape[1] if self.classify else 1
        return total / len(x), (correct / (len(x) * steps) if self.classify else None)

    def train_chunk(self, epoch: int, order: np.ndarray, first: int, count: int):
        """Run ``count`` mini-batches from batch index ``first``; returns (chunk, diverged_at or None)."""
        steps_in_time = self.x_train.shape[1]
        losses = np.zeros(count)
        norms = np.zeros((count, steps_in_time))
        clips = 0
        l2 = self.settings.l2 / len(self.x_train)
        l1 = self.settings.l1 / len(self.x_train)
        for k in range(count):
            rows = order[(first + k) * self.batch_size:(first + k + 1) * self.batch_size]
            loss, _ = self.network.loss_and_gradients(self.x_train[rows], self.t_train[rows])
            losses[k] = loss
            norms[k] = self.recurrent.time_grad_norms
            if not np.isfinite(loss) or not np.isfinite(norms[k]).all():
                return self._make_chunk(epoch, losses[:k + 1], norms[:k + 1], clips), rows
            clips += self._clip()
            self.optimizer.step(self.control.learning_rate, l2, l1)
        return self._make_chunk(epoch, losses, norms, clips), None

    def _make_chunk(self, epoch, losses, norms, clips) -> SequenceChunk:
        gates = getattr(self.recurrent, "gate_means", None)
        return SequenceChunk(epoch, self.steps_done, losses, norms, clips,
                             None if gates is None else gates["forget"].copy(),
                             None if gates is None else gates["input"].copy(), self.recurrent.id)

    # --- the run ----------------------------------------------------------------------------
    def run(self) -> Iterator[SequenceChunk | SequenceEpoch | Finished]:
        settings = self.settings
        rng = np.random.default_rng(settings.seed)
        seed_kernel_random(settings.seed)
        batches = len(self.x_train) // self.batch_size  # a short last batch is left for the next epoch's shuffle
        for epoch in range(1, settings.epochs + 1):
            started = time.perf_counter()
            order = rng.permutation(len(self.x_train)).astype(np.int64)
            batch_index = 0
            while batch_index < batches:
                self.control.wait_while_paused()
                if self.control.stopped:
                    yield Finished("stopped", "training stopped", None, epoch - 1, self.steps_done, self.history)
                    return
                count = self.control.take_budget(min(self.chunk_steps, batches - batch_index))
                chunk, bad_rows = self.train_chunk(epoch, order, batch_index, count)
                self.clips_total += chunk.clips
                yield chunk
                if bad_rows is not None:
                    layer = self.network.first_nonfinite_layer(self.x_train[bad_rows], self.t_train[bad_rows])
                    yield Finished("diverged", f'the loss exploded: NaN or infinity first appeared in layer "{layer}" '
                                   f'at step {self.steps_done + chunk.steps - 1} (epoch {epoch}). Try a smaller '
                                   f'learning rate or gradient clipping (clip_norm).', layer, epoch - 1,
                                   self.steps_done, self.history)
                    return
                self.steps_done += count
                batch_index += count
            seconds = time.perf_counter() - started
            loss, _ = self.evaluate(self.x_train[:len(self.x_val)], self.t_train[:len(self.x_val)])
            val_loss, accuracy = self.evaluate(self.x_val, self.t_val)
            record = SequenceEpoch(epoch, self.steps_done, loss, val_loss, seconds,
                                   batches * self.batch_size / seconds if seconds > 0 else 0.0, self.clips_total,
                                   val_mse=None if self.classify else self.validation_mse(),
                                   token_accuracy=accuracy)
            self.history.append(record)
            yield record
        yield Finished("completed", f"trained {settings.epochs} epochs", None, settings.epochs, self.steps_done,
                       self.history)

    def validation_mse(self) -> float:
        """Mean squared error per output on the validation set (what the adding problem's bar is stated in)."""
        predictions = self.network.predict(self.x_val)
        return float(np.mean((predictions - self.t_val.reshape(len(self.t_val), -1)) ** 2))


def sequence_trainer_for(spec: NetworkSpec, control: TrainingControl | None = None, **options) -> SequenceTrainer:
    """Build, initialise (seeded) and load the data of a recurrent network file: everything a run needs."""
    network = build_network(spec)
    network.initialize(spec.training.initializer, spec.training.seed)
    data = load_sequence_data(spec.dataset, spec.training.seed)
    return SequenceTrainer(network, data, spec.training, control=control, **options)


def time_decay_ratio(time_grad_norms: np.ndarray) -> float:
    """‖∂C/∂h_0‖ / ‖∂C/∂h_{T−1}‖: how much of the error reaching the last step survives to the first.

    Far below 1: the gradient vanishes along time (the SimpleRNN); near 1: it is carried
    (the LSTM's cell).  For a (steps, T) array, the median over the training steps.
    """
    norms = np.atleast_2d(time_grad_norms)
    return float(np.median(norms[:, 0] / np.maximum(norms[:, -1], 1e-300)))
