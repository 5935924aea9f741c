"""Deep belief nets: greedy layer-wise pretraining of a stack of RBMs, then fine-tuning.

Like the feed-forward trainer this is a plain generator, Qt-free: the command line
iterates it, the window's RBM lab runs it in a worker thread, tests drive it
synchronously.  Between mini-batches it honours the shared ``TrainingControl``.

Pretraining trains the RBMs bottom-up, each on the hidden probabilities p(h | v) the
trained RBMs below give for the data (Hinton, Osindero and Teh 2006).  Then, as the file's
``pretraining.fine_tune`` says:

- ``classifier``: the stack and its softmax layer are an ordinary network; each RBM is a
  sigmoid Dense layer with the same weight and hidden bias (the weight layouts are the
  same), so the ``FeedForwardTrainer`` runs it on its fused fast path, and the tuned
  weights are copied back.
- ``autoencoder``: the stack is unrolled (Hinton and Salakhutdinov 2006): the encoder is
  the RBMs as sigmoid Dense layers, the decoder their mirror image, whose initial weights
  are the transposed RBM weights and whose biases are the visible biases; the whole is
  fine-tuned by backprop on reconstruction (cross-entropy), again by the ``FeedForwardTrainer``.

Events: ``PretrainChunk`` (per-batch reconstruction errors of the RBM training now),
``PretrainEpoch`` (the monitoring figures of one RBM after one epoch), then the
``FeedForwardTrainer``'s own ``StepChunk``/``EpochRecord`` while fine-tuning, and one ``Finished``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass

import numpy as np

from ..datasets import Dataset
from ..engine.layers import layer_class
from ..engine.layers.dropout import seed_kernel_random
from ..engine.layers.rbm import RBM
from ..engine.network import Network
from ..engine.parameters import LayerParameters
from ..engine.rbm_kernels import (
    CDRunner,
    free_energy,
    hidden_means,
    mean_pseudo_likelihood,
    reconstruct,
)
from ..model import NetworkFileError, NetworkSpec, Node, analyse, load_weights_into, with_overrides
from .control import TrainingControl
from .data import load_run_data
from .families import Family, PreparedRun, RunOptions, register_family
from .protocol import STOPPED, ChunkEvent, ChunkResult, ChunkSizer, EpochEvent, Finished, run_batches
from .trainer import DataMismatch, EpochRecord, FeedForwardTrainer, StepChunk, epoch_line

#: the chunks of mini-batches between two yields last about this long, so stop and pause stay prompt
CHUNK_SECONDS = 0.05


@dataclass
class PretrainChunk(ChunkEvent):
    """Consecutive mini-batches of one RBM: each one's reconstruction error (squared, per example)."""

    layer_id: str
    layer_index: int
    n_layers: int
    epoch: int
    first_step: int
    errors: np.ndarray

    @property
    def losses(self) -> np.ndarray:
        """The reconstruction errors are what a chunk's losses are for an RBM."""
        return self.errors


@dataclass
class PretrainEpoch(EpochEvent):
    """The monitoring figures of one RBM after one epoch.

    Reconstruction errors are per example, from one deterministic up-down pass.  The
    free energies are means over ``monitor_examples`` training and validation examples:
    while they stay level the RBM generalises; when the training figure drops below the
    validation one and the gap widens, the RBM is fitting its training set (Hinton's
    practical guide, section 6).
    """

    layer_id: str
    layer_index: int
    n_layers: int
    epoch: int
    step: int
    train_reconstruction_error: float
    reconstruction_error: float  # validation, squared
    reconstruction_cross_entropy: float  # validation; NaN for Gaussian visible units
    free_energy_train: float
    free_energy_validation: float
    pseudo_likelihood: float  # validation, per example; NaN for Gaussian visible units
    seconds: float
    samples_per_s: float

    @property
    def free_energy_gap(self) -> float:
        return self.free_energy_validation - self.free_energy_train

    def record(self) -> dict:
        return {"kind": "pretrain_epoch", **asdict(self)}


class RBMStack(LayerParameters):
    """The engine layers of a network file that holds RBMs, built from its validated spec.

    An RBM stack with no output layer cannot be an engine ``Network`` (nothing to compute
    a cost on), so this holds the layers itself; the parameters are keyed
    ``"<layer_id>.<param>"`` like any network's, so the same weights files serve.
    """

    def __init__(self, spec: NetworkSpec, dtype=np.float32):
        analysis = analyse(spec)
        if analysis.problems:
            raise NetworkFileError(analysis.problems[0].message)
        self.spec = spec
        self.layers = [
            layer_class(node.type)(node.id, node.config, analysis.input_shapes[node.id], dtype)
            for node in (spec.node(node_id) for node_id in analysis.order)
        ]
        self.rbms: list[RBM] = [layer for layer in self.layers if isinstance(layer, RBM)]
        if not self.rbms:
            raise NetworkFileError("the network has no RBM layer to pretrain")
        self.dtype = np.dtype(dtype)
        self.n_visible = self.rbms[0].n_visible
        self.head = self.layers[self.layers.index(self.rbms[-1]) + 1 :]

    def encode(self, x: np.ndarray, depth: int | None = None, chunk: int = 2000) -> np.ndarray:
        """p(h | v) through the first ``depth`` RBMs (all by default): what the next RBM learns from."""
        rbms = self.rbms[: len(self.rbms) if depth is None else depth]
        if not rbms:
            return flat_rows(x, self.n_visible, self.dtype)
        out = np.empty((len(x), rbms[-1].config.units), self.dtype)
        for start in range(0, len(x), chunk):
            h = flat_rows(x[start : start + chunk], self.n_visible, self.dtype)
            for rbm in rbms:
                h = hidden_means(rbm, h)
            out[start : start + chunk] = h
        return out

    # --- the feed-forward networks fine-tuning trains -------------------------------------
    def classifier(self, cost: str) -> Network:
        """Input → the RBMs as sigmoid Dense layers → the head, with the current weights."""
        specs = [(self.layers[0].id, "input", self.layers[0].config)]
        specs += [(rbm.id, "dense", _encoder_dense(rbm)) for rbm in self.rbms]
        specs += [(layer.id, layer.type_id, layer.config) for layer in self.head]
        network = Network.from_specs(specs, self.layers[0].output_shape, cost, self.dtype)
        network.load_state({key: value for key, value in self.state().items() if key in network.state()})
        return network

    def autoencoder(self) -> Network:
        """The unrolled stack: encoder = the RBMs, decoder = their mirror image with tied initial
        weights (Wᵀ) and the visible biases; sigmoid everywhere, trained with cross-entropy."""
        specs = [(self.layers[0].id, "input", self.layers[0].config)]
        specs += [(rbm.id, "dense", _encoder_dense(rbm)) for rbm in self.rbms]
        specs += [(decoder_id(rbm), "dense", _sigmoid_dense(rbm.n_visible)) for rbm in reversed(self.rbms)]
        network = Network.from_specs(specs, self.layers[0].output_shape, "cross-entropy", self.dtype)
        for rbm in self.rbms:
            encoder = network.layers[[layer.id for layer in network.layers].index(rbm.id)]
            decoder = network.layers[[layer.id for layer in network.layers].index(decoder_id(rbm))]
            encoder.params["weight"][...] = rbm.params["weight"]
            encoder.params["bias"][...] = rbm.params["bias"]
            decoder.params["weight"][...] = rbm.params["weight"].T
            decoder.params["bias"][...] = rbm.params["visible_bias"]
        return network


def decoder_id(rbm: RBM) -> str:
    return f"{rbm.id}_decoder"


def _sigmoid_dense(units: int):
    return layer_class("dense").Config(units=units, activation="sigmoid")


def _encoder_dense(rbm: RBM):
    """The Dense layer an RBM becomes: sigmoid, or linear for linear hidden units (a code layer)."""
    return layer_class("dense").Config(units=rbm.config.units, activation="linear" if rbm.linear_hidden else "sigmoid")


def flat_rows(x: np.ndarray, n_visible: int, dtype) -> np.ndarray:
    """Examples as contiguous rows of ``n_visible`` values, checked against the stack's input."""
    if int(np.prod(x.shape[1:])) != n_visible:
        raise DataMismatch(
            f"the stack's first RBM has {n_visible} visible units but the examples have "
            f"{int(np.prod(x.shape[1:]))} values"
        )
    return np.ascontiguousarray(x.reshape(len(x), n_visible), dtype=dtype)


def reconstruction_dataset(dataset: Dataset, n_visible: int, dtype) -> Dataset:
    """The dataset an autoencoder is fine-tuned on: every example is its own target."""
    x_train, x_val = flat_rows(dataset.x_train, n_visible, dtype), flat_rows(dataset.x_val, n_visible, dtype)
    return Dataset(
        f"{dataset.name} (reconstruction)",
        x_train,
        x_train,
        x_val,
        x_val,
        (n_visible,),
        n_visible,
        "regression",
        dataset.source,
    )


def initial_visible_biases(rbm: RBM, v: np.ndarray) -> None:
    """b_i = log(p_i / (1 − p_i)) for Bernoulli units (p_i the fraction of examples with the unit
    on), b = mean for Gaussian ones: Hinton's guide; otherwise the first epochs are spent learning
    the average image."""
    mean = v.mean(axis=0, dtype=np.float64)
    if rbm.gaussian:
        rbm.params["visible_bias"][...] = mean
    else:
        p = np.clip(mean, 1e-3, 1 - 1e-3)
        rbm.params["visible_bias"][...] = np.log(p / (1 - p))


class RBMTrainer:
    """Pretrains ``stack`` on ``dataset`` layer by layer, then fine-tunes as its spec says.

    ``pretrain`` and ``fine_tune`` choose the phases to run (the lab's two buttons); the
    command line runs both.
    """

    def __init__(
        self,
        stack: RBMStack,
        dataset: Dataset,
        *,
        control: TrainingControl | None = None,
        pretrain: bool = True,
        fine_tune: bool = True,
    ):
        self.stack = stack
        self.spec = stack.spec
        self.settings = stack.spec.training
        self.pretraining = stack.spec.pretraining
        self.dataset = dataset
        self.x_train = flat_rows(dataset.x_train, stack.n_visible, stack.dtype)
        self.x_val = flat_rows(dataset.x_val, stack.n_visible, stack.dtype)
        if len(self.x_train) == 0:
            raise DataMismatch(f'the dataset "{dataset.name}" has no training examples')
        self.control = control or TrainingControl(self.settings.learning_rate)
        self.do_pretrain = pretrain
        self.do_fine_tune = fine_tune and self.pretraining.fine_tune != "none"
        self.history: list[PretrainEpoch] = []
        #: the feed-forward network being fine-tuned, once fine-tuning has begun (for the views)
        self.fine_tune_network: Network | None = None
        self.steps_done = 0

    # --- pretraining -----------------------------------------------------------------------
    def _monitor(
        self, rbm: RBM, index: int, epoch: int, train: np.ndarray, val: np.ndarray, seconds: float, samples: int
    ) -> PretrainEpoch:
        n = self.pretraining.monitor_examples
        train, val = train[:n], val[:n] if len(val) else train[:n]
        _, train_error, _ = reconstruct(rbm, train)
        _, val_error, val_cross_entropy = reconstruct(rbm, val)
        return PretrainEpoch(
            rbm.id,
            index,
            len(self.stack.rbms),
            epoch,
            self.steps_done,
            train_error,
            val_error,
            val_cross_entropy,
            float(free_energy(rbm, train).mean()),
            float(free_energy(rbm, val).mean()),
            mean_pseudo_likelihood(rbm, val),
            seconds,
            samples / seconds if seconds > 0 else 0.0,
        )

    def _pretrain_layer(self, index: int, rng: np.random.Generator) -> Iterator:
        rbm = self.stack.rbms[index]
        train = self.stack.encode(self.x_train, index)
        val = self.stack.encode(self.x_val, index) if len(self.x_val) else train[:0]
        initial_visible_biases(rbm, train)
        batch = min(self.pretraining.batch_size, len(train))
        runner = CDRunner(rbm, batch)
        if runner.persistent:
            runner.start_chains(train[rng.permutation(len(train))[:batch]])
        n_batches = len(train) // batch
        sizer = ChunkSizer(seconds=CHUNK_SECONDS)
        for epoch in range(1, self.pretraining.epochs + 1):
            config = rbm.config
            momentum = config.initial_momentum if epoch < config.momentum_switch_epoch else config.final_momentum
            order = rng.permutation(len(train)).astype(np.int64)
            started = time.perf_counter()

            def train_chunk(first: int, count: int, epoch=epoch, order=order, momentum=momentum) -> ChunkResult:
                errors = runner.run(train, order, first, count, self.control.array, momentum)
                chunk = PretrainChunk(rbm.id, index, len(self.stack.rbms), epoch, self.steps_done, errors)
                self.steps_done += len(errors)
                return ChunkResult(len(errors), chunk if len(errors) else None)

            if (yield from run_batches(self.control, n_batches, train_chunk, sizer)) is STOPPED:
                return
            record = self._monitor(rbm, index, epoch, train, val, time.perf_counter() - started, n_batches * batch)
            self.history.append(record)
            yield record

    def pretrain(self) -> Iterator[PretrainChunk | PretrainEpoch]:
        """Train each RBM in turn on the features of the ones below; stops early when asked."""
        rng = np.random.default_rng(self.settings.seed)
        seed_kernel_random(self.settings.seed)  # numba's generator is per thread: seed it on the training thread
        for index in range(len(self.stack.rbms)):
            yield from self._pretrain_layer(index, rng)
            if self.control.stopped:
                return

    # --- fine-tuning ------------------------------------------------------------------------
    def fine_tune(self) -> Iterator[StepChunk | EpochRecord | Finished]:
        """Backprop through the unrolled or topped stack with the FeedForwardTrainer; the tuned
        encoder weights are copied back into the RBMs (the decoder's stay with the network)."""
        if self.pretraining.fine_tune == "autoencoder":
            network = self.stack.autoencoder()
            dataset = reconstruction_dataset(self.dataset, self.stack.n_visible, self.stack.dtype)
        else:
            network = self.stack.classifier(self.settings.cost)
            dataset = self.dataset
        self.fine_tune_network = network
        trainer = FeedForwardTrainer(network, dataset, self.settings, control=self.control)
        for event in trainer.run():
            if isinstance(event, Finished):
                self.stack.load_state(
                    {key: value for key, value in network.state().items() if key in self.stack.state()}
                )
            yield event

    def run(self) -> Iterator:
        if self.do_pretrain:
            yield from self.pretrain()
            if self.control.stopped:
                yield Finished.stopped(0, self.steps_done, list(self.history), what="pretraining")
                return
        if self.do_fine_tune:
            yield from self.fine_tune()  # ends with the FeedForwardTrainer's own Finished
            return
        yield Finished.completed(
            f"pretrained {len(self.stack.rbms)} RBM(s) for {self.pretraining.epochs} epochs each",
            self.pretraining.epochs,
            self.steps_done,
            list(self.history),
        )


def stack_of(spec: NetworkSpec) -> bool:
    """Whether a network file holds RBMs, so that it trains by pretraining rather than backprop alone."""
    return any(node.type == "rbm" for node in spec.nodes)


# --- the RBM-stack family ---------------------------------------------------------------------------
def prepare_rbm_stack(spec: NetworkSpec, options: RunOptions, control: TrainingControl | None = None) -> PreparedRun:
    """The chosen epochs and batch size are each RBM's pretraining; fine-tuning keeps the file's
    (the learning rate and the seed apply to both)."""
    spec.pretraining = with_overrides(spec.pretraining, epochs=options.epochs, batch_size=options.batch_size)
    spec.training = with_overrides(
        spec.training,
        learning_rate=options.learning_rate,
        l2=options.l2,
        seed=options.seed,
        train_limit=options.train_limit,
    )
    if options.learning_rate is not None:
        spec.nodes = [
            node
            if node.type != "rbm"
            else Node(node.id, node.type, with_overrides(node.config, learning_rate=options.learning_rate))
            for node in spec.nodes
        ]
    spec.dataset = with_overrides(spec.dataset, name=options.dataset, label_column=options.label_column)
    stack = RBMStack(spec)
    dataset, notes = load_run_data(spec, options)
    stack.initialize(spec.training.initializer, spec.training.seed)
    if options.load_weights:
        load_weights_into(stack, options.load_weights)
    trainer = RBMTrainer(stack, dataset, control=control)
    sizes = "-".join(str(n) for n in [stack.n_visible] + [rbm.config.units for rbm in stack.rbms])
    return PreparedRun(
        trainer,
        stack,
        f"{dataset.source}; {len(trainer.x_train)} training examples, RBMs {sizes}, "
        f"fine-tuning: {spec.pretraining.fine_tune}",
        spec.pretraining.epochs,
        notes=notes,
    )


def pretrain_line(record: PretrainEpoch, epochs: int) -> str:
    parts = [
        f"RBM {record.layer_index + 1}/{record.n_layers} ({record.layer_id})",
        f"epoch {record.epoch:>3}/{epochs}",
        f"recon error {record.train_reconstruction_error:.3f}",
        f"val {record.reconstruction_error:.3f}",
        f"free energy {record.free_energy_train:.1f} / val {record.free_energy_validation:.1f}",
    ]
    if math.isfinite(record.pseudo_likelihood):
        parts.append(f"pseudo-LL {record.pseudo_likelihood:.1f}")
    parts.append(f"{record.seconds:.1f} s")
    return "  ".join(parts)


def _rbm_stack_line(event, run: PreparedRun) -> str | None:
    if isinstance(event, PretrainEpoch):
        return pretrain_line(event, run.epochs)
    if isinstance(event, EpochRecord):
        return "fine-tune " + epoch_line(event, run.trainer.settings.epochs)
    return None


RBM_STACK = register_family(
    Family("rbm", lab="rbm", precedence=20, matches=stack_of, prepare=prepare_rbm_stack, event_line=_rbm_stack_line)
)
