"""The trainer: a plain generator that trains a network and yields what happened.

It knows nothing of threads or windows.  The command line iterates it directly; the
window runs the same generator in a worker thread and reads the metric stream.  Between
mini-batches it honours the shared ``TrainingControl`` (stop, pause, single steps, a new
learning rate).

Events, in order: ``StepChunk`` (figures of one or more consecutive mini-batches),
``EpochRecord`` after each pass with its validation figures, and one final ``Finished``.
Step k describes the gradient computed at the weights after k updates, so step 0 is
the network as initialised.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial

import numpy as np

from ..engine.conv_stack import ConvStackRunner, conv_stack_plan
from ..engine.costs import cost_and_delta
from ..engine.dense_stack import (
    BIAS_GRAD,
    NONFINITE,
    SATURATION,
    STOP,
    WEIGHT_GRAD,
    WEIGHT_NORM,
    DenseStackRunner,
    dense_stack_layers,
)
from ..engine.layers.dropout import seed_kernel_random
from ..engine.network import Network
from ..engine.optimizers import Optimizer, OptimizerSettings, clip_by_norm
from ..model import build_network, initialise, load_weights_into, with_overrides
from ..model.settings import AugmentationSettings, TrainingSettings
from .augment import Augmenter
from .control import TrainingControl
from .data import load_run_data
from .families import Family, PreparedRun, RunOptions, register_family
from .protocol import STOPPED, ChunkEvent, ChunkResult, ChunkSizer, EpochEvent, Finished, run_batches

#: the epoch's train figures are measured on at most this many training examples, so that a
#: 50,000-image epoch does not spend a third of its time re-reading the training set
TRAIN_EVALUATION_LIMIT = 10_000


#: what a run whose loss exploded should try, in the words of the training settings (file and inspector)
DIVERGED_ADVICE = (
    "Try a smaller learning rate, gradient clipping (the clip norm setting) or a smaller initialisation "
    "(normal-scaled, xavier or he)."
)


class DataMismatch(ValueError):
    """The data does not fit the network; the message names the layer and both shapes."""


@dataclass
class StepChunk(ChunkEvent):
    epoch: int
    first_step: int
    losses: np.ndarray  # mean cost of each mini-batch
    accuracies: np.ndarray | None  # fraction right in each mini-batch (classification only)
    layer_ids: list[str]
    layer_metrics: np.ndarray  # (steps, layers, 4): weight-grad norm, bias-grad norm, weight norm, saturation
    samples: int

    def records(self) -> Iterator[dict]:
        """One JSON-ready dict per step, as written to a JSON Lines metrics file."""
        for k in range(self.steps):
            metrics = self.layer_metrics[k]
            record = {
                "kind": "step",
                "epoch": self.epoch,
                "step": self.first_step + k,
                "loss": float(self.losses[k]),
                "grad_norms": {
                    lid: {"weight": float(metrics[i, WEIGHT_GRAD]), "bias": float(metrics[i, BIAS_GRAD])}
                    for i, lid in enumerate(self.layer_ids)
                },
                "weight_norms": {
                    lid: float(metrics[i, WEIGHT_NORM])
                    for i, lid in enumerate(self.layer_ids)
                    if np.isfinite(metrics[i, WEIGHT_NORM])
                },
                "saturation": {
                    lid: float(metrics[i, SATURATION])
                    for i, lid in enumerate(self.layer_ids)
                    if np.isfinite(metrics[i, SATURATION])
                },
            }
            if self.accuracies is not None:
                record["train_accuracy"] = float(self.accuracies[k])
            yield record


@dataclass
class EpochRecord(EpochEvent):
    epoch: int
    step: int
    loss: float
    val_loss: float
    train_accuracy: float | None
    val_accuracy: float | None
    seconds: float
    samples_per_s: float
    #: examples trained on since the run began, and the seconds spent computing their mini-batches
    #: (pauses, slow motion and the epochs' evaluations left out): the axes on which batch sizes
    #: compare fairly, by data used and by computing time
    examples: int = 0
    compute_seconds: float = 0.0

    def record(self) -> dict:
        out = {
            "kind": "epoch",
            "epoch": self.epoch,
            "step": self.step,
            "loss": self.loss,
            "val_loss": self.val_loss,
            "seconds": self.seconds,
            "samples_per_s": self.samples_per_s,
            "examples": self.examples,
            "compute_seconds": self.compute_seconds,
        }
        if self.train_accuracy is not None:
            out.update(train_accuracy=self.train_accuracy, val_accuracy=self.val_accuracy)
        return out


def predicted_classes(outputs: np.ndarray) -> np.ndarray:
    """The class each row of outputs (or one-hot targets) stands for: the largest output, or, for a
    single output (one sigmoid unit for two classes), class 1 where it is above 0.5."""
    if outputs.shape[1] == 1:
        return (outputs[:, 0] > 0.5).astype(np.int64)
    return outputs.argmax(axis=1)


def prepare_data(network: Network, x: np.ndarray, y: np.ndarray, task: str, n_outputs: int, dataset_name: str):
    """Flatten examples to what the input layer takes and turn labels into target rows.

    Two classes may also be learnt by one output unit, the probability of class 1 (Nielsen's
    single sigmoid neuron): its target is the label itself.  Raises DataMismatch naming the layer
    when the data does not fit the network.
    """
    first, last = network.layers[0], network.layers[-1]
    example_shape = tuple(x.shape[1:])
    if int(np.prod(example_shape)) != int(np.prod(network.input_shape)):
        raise DataMismatch(
            f'layer "{first.id}": expects examples of shape {list(network.input_shape)} but the '
            f'dataset "{dataset_name}" gives {list(example_shape)}'
        )
    one_unit_for_two_classes = task == "classification" and n_outputs == 2 and network.output_size == 1
    if n_outputs != network.output_size and not one_unit_for_two_classes:
        what = "classes" if task == "classification" else "outputs"
        raise DataMismatch(
            f'layer "{last.id}": has {network.output_size} outputs but the dataset '
            f'"{dataset_name}" has {n_outputs} {what}'
        )
    inputs = np.ascontiguousarray(x.reshape(len(x), -1), dtype=network.dtype)
    if one_unit_for_two_classes:
        targets = y.reshape(len(y), 1).astype(network.dtype)
    elif task == "classification":
        targets = np.zeros((len(y), n_outputs), dtype=network.dtype)
        targets[np.arange(len(y)), y.astype(np.int64)] = 1.0
    else:
        targets = np.ascontiguousarray(y.reshape(len(y), -1), dtype=network.dtype)
    if not (np.isfinite(inputs).all() and np.isfinite(targets).all()):
        raise DataMismatch(f'the dataset "{dataset_name}" holds NaN or infinite values')
    return inputs, targets


def evaluate(
    network: Network, inputs: np.ndarray, targets: np.ndarray, classify: bool, chunk: int = 2000
) -> tuple[float, float | None]:
    """Mean cost per example and (for classifiers) the fraction of predictions right, over a whole
    set, without training.  A per-step head (a recurrent network's) predicts at every time step:
    its rows are the (example, step) pairs, and the accuracy counts steps."""
    if len(inputs) == 0:
        return float("nan"), None
    out_layer = network.layers[-1]
    total = 0.0
    correct = rows_seen = 0
    for start in range(0, len(inputs), chunk):
        output = network.forward(inputs[start : start + chunk], training=False)
        rows = out_layer.z.shape
        output, t = output.reshape(rows), targets[start : start + chunk].reshape(rows)
        delta = np.empty(rows, network.dtype)
        total += cost_and_delta(
            network.cost_code, out_layer.activation_code, out_layer.z, output, t, delta, out_layer.config.alpha
        )
        if classify:
            correct += int((predicted_classes(output) == predicted_classes(t)).sum())
            rows_seen += rows[0]
    return total / len(inputs), (correct / rows_seen if classify else None)


class FeedForwardTrainer:
    """Trains ``network`` on arrays from a Dataset according to ``settings``.

    With ``augmentation`` switched on, every epoch trains on freshly augmented copies of the
    training images (drawn at the start of the epoch into one reused buffer, so the fused
    kernels and the generic path see the same thing).  The epoch's train figures and all
    validation figures use the original images.
    """

    def __init__(
        self,
        network: Network,
        dataset,
        settings: TrainingSettings,
        *,
        control: TrainingControl | None = None,
        instrument: bool = True,
        chunk_seconds: float = 0.02,
        augmentation: AugmentationSettings | None = None,
    ):
        self.network = network
        self.settings = settings
        self.dataset = dataset
        self.classify = dataset.task == "classification"
        self.x_train, self.t_train = prepare_data(
            network, dataset.x_train, dataset.y_train, dataset.task, dataset.n_outputs, dataset.name
        )
        self.x_val, self.t_val = prepare_data(
            network, dataset.x_val, dataset.y_val, dataset.task, dataset.n_outputs, dataset.name
        )
        if len(self.x_train) == 0:
            raise DataMismatch(f'the dataset "{dataset.name}" has no training examples')
        self.control = control or TrainingControl(settings.learning_rate)
        self.instrument = instrument
        self.chunk_seconds = chunk_seconds
        self.optimizer = Optimizer(OptimizerSettings(settings.optimizer, settings.momentum), network.slots())
        self.batch_size = min(settings.batch_size, len(self.x_train))
        self.layer_ids = [layer.id for layer in network.trainable]
        self._runner = None
        self._gradients = [grad for _, grad, _ in network.slots()]
        # the fused kernels take every step as computed: a run that clips its gradient (clip_norm)
        # takes the generic path
        fusable = settings.clip_norm <= 0
        if fusable and dense_stack_layers(network) is not None:
            self._runner = DenseStackRunner(network, self.optimizer, self.batch_size)
        elif fusable and conv_stack_plan(network) is not None:
            self._runner = ConvStackRunner(network, self.optimizer, self.batch_size)
        self.steps_done = 0
        self.examples = 0
        self.compute_seconds = 0.0
        self.history: list[EpochRecord] = []
        self.augmenter = None
        if augmentation is not None and augmentation.enabled:
            if len(dataset.input_shape) not in (2, 3):
                raise DataMismatch(
                    f'augmentation needs images, but the dataset "{dataset.name}" gives examples of '
                    f"shape {list(dataset.input_shape)}"
                )
            self.augmenter = Augmenter(augmentation, dataset.input_shape)
            self._augmented = np.empty_like(self.x_train)
        self._inputs = self.x_train  # what this epoch trains on

    @property
    def uses_fast_path(self) -> bool:
        return self._runner is not None

    def _regularisation(self) -> tuple[float, float]:
        """λ/n for L2 and L1: the terms scale with the training set, as in Nielsen's (λ/2n)‖w‖²."""
        n = len(self.x_train)
        return self.settings.l2 / n, self.settings.l1 / n

    def _generic_steps(self, order, first_batch, n_batches, batch_size):
        """Train batches one by one through the layers' own forward/backward (any layer type)."""
        l2, l1 = self._regularisation()
        losses = np.zeros(n_batches)
        correct = np.zeros(n_batches)
        metrics = np.full((n_batches, len(self.layer_ids), 4), np.nan)
        for b in range(n_batches):
            if self.control.array[STOP] != 0.0:
                return b, False, losses[:b], correct[:b], metrics[:b]
            rows = order[(first_batch + b) * batch_size : (first_batch + b + 1) * batch_size]
            x, t = self._inputs[rows], self.t_train[rows]
            loss, output = self.network.loss_and_gradients(x, t)
            losses[b] = loss
            correct[b] = (predicted_classes(output) == predicted_classes(t)).sum()
            for i, report in enumerate(self.network.reports().values()):
                saturation = np.nan if report.saturation is None or not self.instrument else report.saturation
                metrics[b, i] = (report.weight_grad_norm, report.bias_grad_norm, report.weight_norm, saturation)
            if not (np.isfinite(loss) and np.isfinite(metrics[b, :, :2]).all()):
                return b, True, losses[: b + 1], correct[: b + 1], metrics[: b + 1]
            # the figures above are the gradient as computed; clipping shortens only the step taken
            clip_by_norm(self._gradients, self.settings.clip_norm)
            self.optimizer.step(self.control.learning_rate, l2, l1)
        return n_batches, False, losses, correct, metrics

    def _chunk(self, epoch, order, first_batch, n_batches, batch_size) -> ChunkResult:
        """Run up to ``n_batches`` from batch ``first_batch``; the divergence is the index of the
        batch whose loss or gradients were not finite."""
        tick = time.perf_counter()
        if self._runner is not None and batch_size == self.batch_size:
            l2, l1 = self._regularisation()
            done, ended, losses, correct, metrics = self._runner.run(
                self._inputs, self.t_train, order, first_batch, n_batches, self.control.array, l2, l1, self.instrument
            )
            diverged = ended == NONFINITE
            metrics = metrics[: len(losses)]
            correct = correct[: len(losses)]
            # saturation means nothing for layers without a saturating activation
            for i, layer in enumerate(self.network.trainable):
                if not layer.can_saturate:
                    metrics[:, i, SATURATION] = np.nan
        else:
            done, diverged, losses, correct, metrics = self._generic_steps(order, first_batch, n_batches, batch_size)
        self.compute_seconds += time.perf_counter() - tick
        self.examples += done * batch_size
        chunk = StepChunk(
            epoch,
            self.steps_done,
            losses,
            correct / batch_size if self.classify else None,
            self.layer_ids,
            metrics,
            done * batch_size,
        )
        divergence = first_batch + done if diverged else None
        if divergence is None:
            self.steps_done += done
        return ChunkResult(done, chunk if chunk.steps else None, divergence)

    def _diverged(self, order, batch_index, batch_size, epoch) -> Finished:
        rows = order[batch_index * batch_size : (batch_index + 1) * batch_size]
        layer = self.network.first_nonfinite_layer(self._inputs[rows], self.t_train[rows])
        return Finished.diverged(layer, self.steps_done, epoch, self.steps_done, self.history, DIVERGED_ADVICE)

    def measure(self, epoch: int = 0, seconds: float = 0.0) -> EpochRecord:
        """The figures of an epoch that took ``seconds``, for the weights as they are now; epoch 0,
        before training, is where a lesson's report starts (the cost a neuron starts from)."""
        # train figures are evaluated afresh (no dropout, weights fixed), so train and
        # validation compare like with like: the gap between them is the overfitting lesson
        train_loss, train_accuracy = evaluate(
            self.network,
            self.x_train[:TRAIN_EVALUATION_LIMIT],
            self.t_train[:TRAIN_EVALUATION_LIMIT],
            self.classify,
        )
        val_loss, val_accuracy = evaluate(self.network, self.x_val, self.t_val, self.classify)
        rate = len(self.x_train) / seconds if seconds > 0 else 0.0
        return EpochRecord(
            epoch,
            self.steps_done,
            train_loss,
            val_loss,
            train_accuracy,
            val_accuracy,
            seconds,
            rate,
            self.examples,
            self.compute_seconds,
        )

    def run(self) -> Iterator[StepChunk | EpochRecord | Finished]:
        settings = self.settings
        rng = np.random.default_rng(settings.seed)
        seed_kernel_random(settings.seed)  # numba's generator is per thread: seed it on the training thread
        n = len(self.x_train)
        full_batches, tail = divmod(n, self.batch_size)
        sizer = ChunkSizer(seconds=self.chunk_seconds)
        for epoch in range(1, settings.epochs + 1):
            started = time.perf_counter()
            order = rng.permutation(n).astype(np.int64)
            if self.augmenter is not None:
                self._inputs = self.augmenter.apply(self.x_train, out=self._augmented)
            # the full mini-batches, then the short last batch (if the set does not divide) on its own
            segments = [(order, full_batches, self.batch_size)]
            if tail:
                segments.append((order[full_batches * self.batch_size :], 1, tail))
            for source, count, batch_size in segments:
                chunk = partial(self._chunk, epoch, source, batch_size=batch_size)
                outcome = yield from run_batches(self.control, count, chunk, sizer)
                if outcome is STOPPED:
                    yield Finished.stopped(epoch - 1, self.steps_done, self.history)
                    return
                if outcome is not None:
                    yield self._diverged(source, outcome, batch_size, epoch)
                    return
            record = self.measure(epoch, time.perf_counter() - started)
            self.history.append(record)
            yield record
        yield Finished.completed(f"trained {settings.epochs} epochs", settings.epochs, self.steps_done, self.history)


# --- the feed-forward family ----------------------------------------------------------------------
def prepare_feedforward(spec, options: RunOptions, control: TrainingControl | None = None) -> PreparedRun:
    """Apply the chosen options, load the data, build and initialise (or load) the network."""
    spec.training = with_overrides(spec.training, **options.training_changes(), train_limit=options.train_limit)
    spec.dataset = with_overrides(spec.dataset, name=options.dataset, label_column=options.label_column)
    network = build_network(spec)
    dataset, notes = (options.load_data or load_run_data)(spec, options)
    initialise(network, spec)
    if options.load_weights:
        load_weights_into(network, options.load_weights)
    trainer = FeedForwardTrainer(network, dataset, spec.training, control=control, augmentation=spec.augmentation)
    return PreparedRun(
        trainer,
        network,
        f"{dataset.source}; {len(trainer.x_train)} training examples, {network.parameter_count():,} parameters",
        spec.training.epochs,
        math.ceil(len(trainer.x_train) / trainer.batch_size),
        notes,
    )


def epoch_line(record: EpochRecord, epochs: int, network: Network | None = None) -> str:
    """One line per epoch: the losses, the accuracies of a classifier, the time and the rate, and the
    parameters themselves of a network small enough to read (``parameters_text``)."""
    parts = [f"epoch {record.epoch:>3}/{epochs}", f"loss {record.loss:.4f}", f"val loss {record.val_loss:.4f}"]
    if record.train_accuracy is not None:
        parts += [f"train {100 * record.train_accuracy:.2f}%", f"val {100 * record.val_accuracy:.2f}%"]
    parts += [f"{record.seconds:.1f} s", f"{record.samples_per_s:,.0f} samples/s"]  # not "0k" for a slow one
    readable = parameters_text(network) if network is not None else None
    if readable:
        parts.append(readable)
    return "  ".join(parts)


#: a network with at most this many parameters shows them all, every epoch (one sigmoid neuron
#: has three): watching w and b move is the lesson there, and a handful of numbers stays readable
READABLE_PARAMETERS = 8


def parameters_text(network: Network) -> str | None:
    """ "neuron: w = [-1.74, -1.34] b = [-1.36]" for every layer of a network small enough to read
    (at most ``READABLE_PARAMETERS`` parameters), else None."""
    if network.parameter_count() > READABLE_PARAMETERS:
        return None
    layers = []
    for layer in network.trainable:
        values = [
            f"{'w' if name == 'weight' else 'b' if name == 'bias' else name} = "
            f"[{', '.join(f'{v:.2f}' for v in np.ravel(array))}]"
            for name, array in layer.params.items()
        ]
        layers.append(f"{layer.id}: {' '.join(values)}")
    return "; ".join(layers)


FEEDFORWARD = register_family(
    Family(
        "feedforward",
        lab="dashboard",
        precedence=100,
        matches=lambda spec: True,
        prepare=prepare_feedforward,
        event_line=lambda event, run: (
            epoch_line(event, run.epochs, run.model) if isinstance(event, EpochRecord) else None
        ),
    )
)
