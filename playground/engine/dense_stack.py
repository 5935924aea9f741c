"""The fast path for networks made only of Dense and Dropout layers.

Most lessons (vanishing gradients, overfitting, parity, the 2D toys) train multilayer
perceptrons on small mini-batches, where Python's overhead per call is larger than the
arithmetic: a 784-30-10 step on 10 examples is about 20 µs of matrix products.  This
module runs many mini-batches inside one numba call, composing the very kernels the
layers use one by one (``dense_forward``, ``activation_forward``, ``cost_and_delta``,
``dense_backward``, the optimiser updates), so the maths exists once and the two paths
are tested to agree.

The pieces of a step that do not depend on what precedes the dense layers (loading a
batch, the dense head forward and back, the finite check and the optimiser step) are
kernels of their own here, which ``conv_stack`` composes as well: its networks end in
such a head.

The kernel reads a small ``control`` array between batches: another thread can set the
stop flag or change the learning rate while a chunk runs.

One core.  Splitting a step's products over the two cores was measured twice and did not pay
at the sizes the lessons and the benchmark use: the batch in two halves (each half's weight
gradient summed, as the recurrent layers do) gained 7% on a 784-100-10 step of 64 examples;
each layer's units in two halves, with no sum (the first layer's product by examples, ∂C/∂W by
units), 0% on a quiet machine (307 against 308 µs) and 20% slower on one thread, since each
half still packs the whole shared operand for BLAS.  What paid instead was the element-wise
work: a vectorised float32 σ and softmax (``numeric.sigmoid``) and an element-loop gather.
"""

from __future__ import annotations

from collections import namedtuple
from contextlib import nullcontext
from itertools import chain

import numpy as np
from numba import njit
from numba.typed import List

from . import background
from .activations import activation_backward, activation_forward, saturated_fraction
from .costs import cost_and_delta
from .layers.dense import Dense, dense_backward, dense_forward
from .layers.dropout import Dropout, dropout_forward
from .layers.input import Input
from .numeric import FAST_MATH, like
from .optimizers import adam_update, sgd_update

#: indices into the control array shared with the caller
STOP, LEARNING_RATE = 0, 1
#: columns of the per-layer metric arrays
WEIGHT_GRAD, BIAS_GRAD, WEIGHT_NORM, SATURATION = range(4)
#: how a chunk ended
FINISHED, STOPPED, NONFINITE = range(3)

#: The arrays of a run of Dense layers (each optionally followed by Dropout) for one batch
#: size: per layer its parameters and gradients, activation code and leaky slope, dropout
#: rate (0: none; ``drop_rates`` is None where no layer drops), and work buffers; ``outputs``
#: is the dropped-out activation where there is dropout and the activation itself otherwise.
#: A named tuple, so the kernels take one argument for it and read its fields by name.
DenseHead = namedtuple(
    "DenseHead", "weights biases weight_grads bias_grads codes alphas drop_rates zs activations outputs deltas masks"
)

#: Every parameter of the network in its slot order (flat views), with its gradient, the
#: optimiser's state for it (``moments2``: Adam's second moments, None for SGD), whether
#: regularisation shrinks it, the metric row (trainable layer) it belongs to and whether it is
#: a weight (else a bias).
Slots = namedtuple("Slots", "params grads moments1 moments2 decays layer is_weight")


@njit(nogil=True, cache=True, no_cfunc_wrapper=True, fastmath=FAST_MATH, error_model="numpy")
def sum_of_squares(values):
    flat = values.reshape(-1)
    total = like(values, 0.0)
    for i in range(flat.size):
        total += flat[i] * flat[i]
    return total


@njit(nogil=True, cache=True, no_cfunc_wrapper=True, fastmath=FAST_MATH, error_model="numpy")
def _scale(values, factor):
    flat = values.reshape(-1)
    factor = like(values, factor)
    for i in range(flat.size):
        flat[i] *= factor


@njit(nogil=True, cache=True, no_cfunc_wrapper=True, fastmath=FAST_MATH, error_model="numpy")
def _multiply(values, factors):
    flat, other = values.reshape(-1), factors.reshape(-1)
    for i in range(flat.size):
        flat[i] *= other[i]


@njit(nogil=True, cache=True, no_cfunc_wrapper=True)
def _count_correct(outputs, targets):
    """Examples whose largest output is at the target's largest entry (its one-hot class); with a
    single output (one sigmoid unit for two classes, its output the probability of class 1), the
    examples on the target's side of 0.5.  The first largest, as ``np.argmax`` takes it, found by
    a loop: numba's ``np.argmax`` took 0.3 s to compile on an empty cache."""
    correct = 0
    for i in range(outputs.shape[0]):
        if outputs.shape[1] == 1:
            if (outputs[i, 0] > 0.5) == (targets[i, 0] > 0.5):
                correct += 1
            continue
        guess, label = 0, 0
        for j in range(1, outputs.shape[1]):
            if outputs[i, j] > outputs[i, guess]:
                guess = j
            if targets[i, j] > targets[i, label]:
                label = j
        if guess == label:
            correct += 1
    return correct


@njit(nogil=True, cache=True, no_cfunc_wrapper=True)
def load_batch(data, targets, order, start, x_batch, y_batch):
    """Copy the examples ``order[start:start + batch]`` into the batch buffers (a gather:
    the order is a fresh permutation every epoch).  A kernel of its own, not inlined, so that the
    drivers' Python twins (background.py) call it compiled.  Element loops, not row assignments: numba
    compiles ``x_batch[i, :] = data[row]`` as a general broadcast, one scalar at a time (35 µs of
    a 300 µs 64×784 step, against 4 µs), with a shape check whose error message took 1.5 s to
    compile on a cold cache."""
    for i in range(x_batch.shape[0]):
        row = order[start + i]
        for k in range(x_batch.shape[1]):
            x_batch[i, k] = data[row, k]
        for k in range(y_batch.shape[1]):
            y_batch[i, k] = targets[row, k]


# --- the steps both fused paths share --------------------------------------------------------
# Inlined into the kernels (numba's inline="always"), and each unpacks its tuple once: reading
# a field of the tuple on every access adds two atomic reference-count updates, and as calls
# or with per-access fields a 5-layer step took 2-3 µs of its 50 longer than written out.
# They only compose kernels, so the drivers' Python twins run them as Python (background.py).
@njit(nogil=True, cache=True, inline="always")
def head_forward(head, source, drop_rates):
    """Forward through the dense head from ``source`` (batch, inputs), drawing fresh dropout masks.

    ``drop_rates`` is the head's, passed on its own: where it is None (no layer drops) numba
    leaves the dropout out before typing, and a run without dropout compiles none (0.4 s on an
    empty cache); it can see that None only in a kernel's own argument, not in a tuple's field."""
    weights, biases, _, _, codes, alphas, _, zs, activations, outputs, _, masks = head
    for layer in range(len(weights)):
        below = source if layer == 0 else outputs[layer - 1]
        dense_forward(below, weights[layer], biases[layer], zs[layer])
        activation_forward(codes[layer], zs[layer], activations[layer], alphas[layer])
        if drop_rates is not None and drop_rates[layer] > 0.0:
            dropout_forward(activations[layer], masks[layer], outputs[layer], drop_rates[layer])


@njit(nogil=True, cache=True, inline="always")
def head_cost(head, cost, y_batch):
    """(mean cost, examples classified right) of the batch, leaving δ = ∂C/∂z of the *mean*
    cost in the last layer's ``deltas``: the gradients that follow are then those of the mean."""
    batch = y_batch.shape[0]
    last = len(head.weights) - 1
    z, a, delta = head.zs[last], head.activations[last], head.deltas[last]
    loss = cost_and_delta(cost, head.codes[last], z, a, y_batch, delta, head.alphas[last])
    correct = _count_correct(a, y_batch)
    _scale(delta, 1.0 / batch)
    return loss / batch, correct


@njit(nogil=True, cache=True, inline="always")
def head_backward(head, source, dsource, want_dsource, drop_rates):
    """Gradients of the dense head from the δ ``head_cost`` left, and (if wanted) ∂C/∂source
    into ``dsource``.  ``dense_backward`` writes ∂C/∂(output of the layer below) into that
    layer's delta buffer, which dropout's mask and the activation's derivative turn into its δ.
    ``drop_rates`` as in ``head_forward``."""
    weights, _, weight_grads, bias_grads, codes, alphas, _, zs, activations, outputs, deltas, masks = head
    for layer in range(len(weights) - 1, -1, -1):
        below = source if layer == 0 else outputs[layer - 1]
        dbelow = deltas[layer - 1] if layer > 0 else dsource
        dense_backward(
            below,
            deltas[layer],
            weights[layer],
            weight_grads[layer],
            bias_grads[layer],
            dbelow,
            layer > 0 or want_dsource,
        )
        if layer > 0:
            if drop_rates is not None and drop_rates[layer - 1] > 0.0:
                _multiply(dbelow, masks[layer - 1])
            activation_backward(
                codes[layer - 1], zs[layer - 1], activations[layer - 1], dbelow, dbelow, alphas[layer - 1]
            )


@njit(nogil=True, cache=True, inline="always")
def head_saturation(head, b, first_row, layer_metrics):
    """The saturated fraction of every dense layer's units, into rows ``first_row`` on of ``layer_metrics[b]``."""
    codes, activations = head.codes, head.activations
    for layer in range(len(codes)):
        layer_metrics[b, first_row + layer, SATURATION] = saturated_fraction(codes[layer], activations[layer])


@njit(nogil=True, cache=True, inline="always")
def check_and_update(slots, moments2, hyper, lr, step_count, loss, metrics):
    """The finite check, then one optimiser step over every parameter; False (and nothing
    changed) if the loss or a gradient is NaN or inf, so the weights stay those of the last
    good step.

    NaN or inf in δ reaches every bias gradient (∂C/∂b = Σ δ), so the loss and the bias-gradient
    norms are the finite check, made before any weight changes.  (A weight gradient can only
    overflow alone when activations are near 1e19, long after the loss has become inf.)
    The optimiser's pass over each weight also measures ‖∂C/∂W‖ and ‖W‖ before the change;
    ``metrics`` is this batch's (layers, 4) row of the metric array.

    The norms are square roots taken in float64, as the interpreter takes them: the driver's
    Python twin (background.py) then reports the same figures.

    The update is Adam's where there are second moments, else SGD's.  ``moments2`` (the slots')
    is passed on its own for the reason ``head_forward`` gives: a run then compiles only its
    optimiser's update.
    """
    params, grads, moments1, _, decays, slot_layer, is_weight = slots
    momentum, beta1, beta2, eps, l2, l1 = hyper[0], hyper[1], hyper[2], hyper[3], hyper[4], hyper[5]
    finite = np.isfinite(loss)
    for k in range(len(params)):
        if not is_weight[k]:
            norm = np.sqrt(np.float64(sum_of_squares(grads[k])))
            metrics[slot_layer[k], BIAS_GRAD] = norm
            finite = finite and np.isfinite(norm)
    if not finite:
        return False
    step_count[0] += 1
    for k in range(len(params)):
        l2_here = l2 if decays[k] else 0.0
        l1_here = l1 if decays[k] else 0.0
        if moments2 is None:
            grad_squares, weight_squares = sgd_update(params[k], grads[k], moments1[k], lr, momentum, l2_here, l1_here)
        else:
            grad_squares, weight_squares = adam_update(
                params[k], grads[k], moments1[k], moments2[k], lr, beta1, beta2, eps, step_count[0], l2_here, l1_here
            )
        if is_weight[k]:
            metrics[slot_layer[k], WEIGHT_GRAD] = np.sqrt(np.float64(grad_squares))
            metrics[slot_layer[k], WEIGHT_NORM] = np.sqrt(np.float64(weight_squares))
    return True


@njit(nogil=True, cache=True, no_cfunc_wrapper=True)
def train_dense_batches(
    data,
    targets,
    order,
    first_batch,
    n_batches,
    control,
    x_batch,
    y_batch,
    cost,
    hyper,
    step_count,
    instrument,
    losses,
    correct,
    layer_metrics,
    weights,
    biases,
    weight_grads,
    bias_grads,
    codes,
    alphas,
    drop_rates,
    zs,
    activations,
    outputs,
    deltas,
    masks,
    params,
    grads,
    moments1,
    moments2,
    decays,
    slot_layer,
    slot_is_weight,
):
    """Train ``n_batches`` mini-batches of ``order`` starting at ``first_batch``.

    Writes per batch: ``losses`` (mean cost), ``correct`` (argmax hits) and, per layer,
    the gradient norms and the weight norm, and with ``instrument`` the saturation.  The
    figures describe the gradient before its update.
    Returns (batches done, how it ended).  A batch with a non-finite loss or gradient
    is not applied, so the weights stay those of the last good step.

    The fields of the ``DenseHead`` and the ``Slots`` arrive one by one and are packed here:
    numba types a tuple of typed lists in Python, which cost 0.1 ms a call, and lone
    arguments in C.
    """
    head = DenseHead(
        weights, biases, weight_grads, bias_grads, codes, alphas, drop_rates, zs, activations, outputs, deltas, masks
    )
    slots = Slots(params, grads, moments1, moments2, decays, slot_layer, slot_is_weight)
    batch = x_batch.shape[0]
    for b in range(n_batches):
        if control[STOP] != 0.0:
            return b, STOPPED
        load_batch(data, targets, order, (first_batch + b) * batch, x_batch, y_batch)
        head_forward(head, x_batch, drop_rates)
        losses[b], correct[b] = head_cost(head, cost, y_batch)
        # the first layer's input is the data: no ∂C/∂x (its buffer is passed, and left alone)
        head_backward(head, x_batch, deltas[0], False, drop_rates)
        if not check_and_update(
            slots, moments2, hyper, control[LEARNING_RATE], step_count, losses[b], layer_metrics[b]
        ):
            return b, NONFINITE
        if instrument:
            head_saturation(head, b, 0, layer_metrics)
    return n_batches, FINISHED


@njit(nogil=True, cache=True, no_cfunc_wrapper=True)
def dense_pass_kernel(
    x,
    y,
    cost,
    backward,
    weights,
    biases,
    weight_grads,
    bias_grads,
    codes,
    alphas,
    drop_rates,
    zs,
    activations,
    outputs,
    deltas,
    masks,
):
    """One forward pass of ``x`` through the dense head, its mean cost against ``y``, and (with
    ``backward``) the backward pass: the very steps ``train_dense_batches`` takes for a batch,
    without the update.  The head's buffers keep every layer's z, a and δ, its gradients
    ∂C/∂W and ∂C/∂b."""
    head = DenseHead(
        weights, biases, weight_grads, bias_grads, codes, alphas, drop_rates, zs, activations, outputs, deltas, masks
    )
    head_forward(head, x, drop_rates)
    loss, _ = head_cost(head, cost, y)
    if backward:
        head_backward(head, x, deltas[0], False, drop_rates)
    return loss


class DenseStackPass:
    """A plain dense stack's forward and backward pass on a few examples, with every quantity
    backpropagation computes kept for reading: per layer z, a = f(z), δ = ∂C/∂z, ∂C/∂W and ∂C/∂b.

    It runs the fused training kernel's own steps (``head_forward``, ``head_cost``,
    ``head_backward``) on the network's own parameter and gradient arrays, so what an explainer
    shows is what training computes, not a second implementation.  A parameter changed in place
    (a finite-difference probe) is seen by the next ``run``.  Dropout would make the pass
    random: only stacks of Dense layers are taken.
    """

    def __init__(self, network, examples: int = 1):
        stack = dense_stack_layers(network)
        if stack is None or any(rate > 0 for _, rate in stack):
            raise ValueError("not a plain dense stack (Dense layers only)")
        self.network = network
        self.layers = [layer for layer, _ in stack]
        self.head = dense_head(stack, examples, network.dtype)
        self._kernel_head = typed_lists(self.head)
        self.cost = float("nan")

    def run(self, x: np.ndarray, targets: np.ndarray, backward: bool = True) -> float:
        """The mean cost of the examples ``x`` (rows) against ``targets``; with ``backward`` the
        gradients too (into the layers' ``grads``).  Returns the cost."""
        dtype = self.network.dtype
        x = np.ascontiguousarray(np.reshape(x, (len(self.head.zs[0]), -1)), dtype=dtype)
        y = np.ascontiguousarray(np.reshape(targets, self.head.zs[-1].shape), dtype=dtype)
        self.cost = float(dense_pass_kernel(x, y, self.network.cost_code, backward, *self._kernel_head))
        return self.cost

    @property
    def zs(self) -> list[np.ndarray]:
        return list(self.head.zs)

    @property
    def activations(self) -> list[np.ndarray]:
        return list(self.head.activations)

    @property
    def deltas(self) -> list[np.ndarray]:
        """δˡ = ∂C/∂zˡ of the mean cost, per layer (after a ``run`` with ``backward``)."""
        return list(self.head.deltas)

    @property
    def weight_grads(self) -> list[np.ndarray]:
        return list(self.head.weight_grads)

    @property
    def bias_grads(self) -> list[np.ndarray]:
        return list(self.head.bias_grads)


def dense_stack_layers(network):
    """The network's Dense layers with the dropout rate after each, or None if the fast path cannot run it.

    It runs ``Input, Dense, [Dropout], Dense, [Dropout], ..., Dense``.
    """
    layers = network.layers
    if not layers or not isinstance(layers[0], Input):
        return None
    stack = []
    for layer in layers[1:]:
        if isinstance(layer, Dense):
            stack.append([layer, 0.0])
        elif isinstance(layer, Dropout) and stack and stack[-1][1] == 0.0:
            stack[-1][1] = layer.config.rate
        else:
            return None
    return stack or None


# --- what the runners share ------------------------------------------------------------------
@njit(nogil=True, cache=True, no_cfunc_wrapper=True)
def _typed_list_of(first):
    out = List()
    out.append(first)
    return out


@njit(nogil=True, cache=True, no_cfunc_wrapper=True)
def _typed_list_append(out, item):
    out.append(item)


def typed_list(arrays):
    """A numba typed list of ``arrays`` (which must share dtype, dimensions and layout).

    Built by the two kernels above, whose machine code is cached: ``numba.typed.List``'s own
    Python methods (``append``, indexing) call helpers numba compiles afresh in every process,
    about 0.1 s per method and item type, on a warm cache too.  So the runners keep their arrays
    in Python lists, which the drivers' Python twins index, and give the kernels typed lists."""
    out = None
    for array in arrays:
        if out is None:
            out = _typed_list_of(array)
        else:
            _typed_list_append(out, array)
    return List() if out is None else out


def typed_lists(fields):
    """``fields`` (a ``DenseHead``, ``Slots`` or ``ConvStages``) with every Python list of arrays
    made a typed list of the same arrays, as the kernels take them."""
    return type(fields)(*(typed_list(value) if isinstance(value, list) else value for value in fields))


def dense_head(stack, batch_size: int, dtype) -> DenseHead:
    """The ``DenseHead`` of [(Dense layer, dropout rate after it)]: the layers' own parameter
    and gradient arrays, and fresh work buffers for ``batch_size``, in Python lists (see
    ``typed_lists``)."""
    dense = [layer for layer, _ in stack]
    shapes = [(batch_size, layer.config.units) for layer in dense]
    activations = [np.zeros(s, dtype) for s in shapes]
    return DenseHead(
        weights=[layer.params["weight"] for layer in dense],
        biases=[layer.params["bias"] for layer in dense],
        weight_grads=[layer.grads["weight"] for layer in dense],
        bias_grads=[layer.grads["bias"] for layer in dense],
        codes=np.array([layer.activation_code for layer in dense], dtype=np.int64),
        alphas=np.array([layer.config.alpha for layer in dense], dtype=np.float64),
        drop_rates=np.array([rate for _, rate in stack], dtype=np.float64)
        if any(rate > 0 for _, rate in stack)
        else None,
        zs=[np.zeros(s, dtype) for s in shapes],
        activations=activations,
        outputs=[
            np.zeros(s, dtype) if rate > 0 else activations[i] for i, (s, (_, rate)) in enumerate(zip(shapes, stack))
        ],
        deltas=[np.zeros(s, dtype) for s in shapes],
        masks=[np.zeros(s, dtype) for s in shapes],
    )


def optimizer_slots(network, optimizer, layers) -> Slots:
    """The ``Slots`` of ``network``: its parameters and the optimiser's state for them (the
    same arrays the Optimizer object updates on the generic path, as flat views, in Python lists:
    see ``typed_lists``), with each parameter's metric row, its index in ``layers`` (the trainable
    layers in metric order)."""
    row = {id(layer): i for i, layer in enumerate(layers)}
    owners = [(layer, name) for layer in network.trainable for name in layer.params]
    slots = network.slots()
    return Slots(
        params=[param.reshape(-1) for param, _, _ in slots],
        grads=[grad.reshape(-1) for _, grad, _ in slots],
        moments1=[state.reshape(-1) for state in optimizer.first],
        moments2=[state.reshape(-1) for state in optimizer.second] if optimizer.second else None,
        decays=np.array([decays for _, _, decays in slots], dtype=np.bool_),
        layer=np.array([row[id(layer)] for layer, _ in owners], dtype=np.int64),
        is_weight=np.array([name == "weight" for _, name in owners], dtype=np.bool_),
    )


class FusedRunner:
    """What the fused paths' runners share: the batch buffers, the optimiser slots and ``run``.

    A subclass passes its ``kernel`` and builds ``fields``: the named tuples of arrays the kernel
    takes after the arguments ``run`` passes (those of ``train_dense_batches``), the ``DenseHead``
    and the ``Slots`` first.  The arrays the kernels receive are the network's own parameters and
    the optimiser's own state, so training here and on the generic path can interleave freely.

    Until the kernel is compiled, its Python twin trains (background.py): the same numbers.
    """

    def __init__(self, kernel, network, optimizer, batch_size: int, layers, input_size: int):
        #: the fused training kernel
        self.kernel = kernel
        self.batch_size = batch_size
        self.n_layers = len(layers)
        self.x_batch = np.zeros((batch_size, input_size), network.dtype)
        self.y_batch = np.zeros((batch_size, network.output_size), network.dtype)
        self.slots = optimizer_slots(network, optimizer, layers)
        self.optimizer = optimizer
        self.cost = network.cost_code
        #: the ``fields`` with typed lists, once the kernel can run
        self._kernel_fields = None

    @property
    def fields(self) -> tuple:
        raise NotImplementedError

    def run(self, data, targets, order, first_batch, n_batches, control, l2, l1, instrument):
        """Train a chunk; returns (batches done, end code, losses, correct counts, layer metrics)."""
        s = self.optimizer.settings
        hyper = np.array([s.momentum, s.beta1, s.beta2, s.eps, l2, l1], dtype=np.float64)
        step_count = np.array([self.optimizer.steps], dtype=np.int64)
        losses = np.zeros(n_batches)
        correct = np.zeros(n_batches, dtype=np.int64)
        metrics = np.full((n_batches, self.n_layers, 4), np.nan)
        done, ended = self._train(
            data,
            targets,
            order,
            first_batch,
            n_batches,
            control,
            self.x_batch,
            self.y_batch,
            self.cost,
            hyper,
            step_count,
            instrument,
            losses,
            correct,
            metrics,
        )
        self.optimizer.steps = int(step_count[0])
        return done, ended, losses[: done + (ended == NONFINITE)], correct, metrics

    def _train(self, *arguments):
        """The kernel on ``arguments`` and the fields, once it is compiled; its Python twin until then."""
        if self._kernel_fields is None and background.compiles.ready(self.kernel, lambda: self._compile_job(arguments)):
            self._kernel_fields = [typed_lists(fields) for fields in self.fields]
        ready = self._kernel_fields is not None
        with self._threads_for_chunk(ready):
            if not ready:
                return background.python_twin(self.kernel)(*arguments, *chain(*self.fields))
            return self.kernel(*arguments, *chain(*self._kernel_fields))

    def _threads_for_chunk(self, kernel_ready: bool):
        """Around each chunk: a runner whose kernel splits work into parts decides here whether they
        run side by side (never in the twin, whose call of a ``parallel=True`` driver would compile
        it on the spot)."""
        return nullcontext()

    def _compile_job(self, arguments):
        """The job that compiles the kernel for the types of ``arguments`` and the fields (building
        the typed lists compiles their builders on the way).  It keeps the arguments' types, not
        the arguments: the data set is among them."""
        kernel, fields = self.kernel, self.fields
        argument_types = tuple(map(kernel.typeof_pyval, arguments))

        def job():
            typed = chain(*(typed_lists(each) for each in fields))
            kernel.compile((*argument_types, *map(kernel.typeof_pyval, typed)))

        return job


class DenseStackRunner(FusedRunner):
    """Holds the arrays and work buffers ``train_dense_batches`` needs for one batch size."""

    def __init__(self, network, optimizer, batch_size: int):
        stack = dense_stack_layers(network)
        if stack is None:
            raise ValueError("not a dense stack")
        dense = [layer for layer, _ in stack]
        super().__init__(train_dense_batches, network, optimizer, batch_size, dense, dense[0].n_in)
        self.head = dense_head(stack, batch_size, network.dtype)

    @property
    def fields(self) -> tuple:
        return self.head, self.slots
