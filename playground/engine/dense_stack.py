"""The fast path for networks made only of Dense and Dropout layers.

Most lessons (vanishing gradients, overfitting, parity, the 2D toys) train multilayer
perceptrons on small mini-batches, where Python's overhead per call is larger than the
arithmetic: a 784-30-10 step on 10 examples is about 20 µs of matrix products.  This
module runs many mini-batches inside one numba call, composing the very kernels the
layers use one by one (``dense_forward``, ``activation_forward``, ``cost_and_delta``,
``dense_backward``, the optimiser updates), so the maths exists once and the two paths
are tested to agree.

The kernel reads a small ``control`` array between batches: another thread can set the
stop flag or change the learning rate while a chunk runs.
"""
from __future__ import annotations

import numpy as np
from numba import njit
from numba.typed import List

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


@njit(nogil=True, cache=True, fastmath=FAST_MATH, error_model="numpy")
def sum_of_squares(values):
    flat = values.reshape(-1)
    total = like(values, 0.0)
    for i in range(flat.size):
        total += flat[i] * flat[i]
    return total


@njit(nogil=True, cache=True, fastmath=FAST_MATH, error_model="numpy")
def _scale(values, factor):
    flat = values.reshape(-1)
    factor = like(values, factor)
    for i in range(flat.size):
        flat[i] *= factor


@njit(nogil=True, cache=True, fastmath=FAST_MATH, error_model="numpy")
def _multiply(values, factors):
    flat, other = values.reshape(-1), factors.reshape(-1)
    for i in range(flat.size):
        flat[i] *= other[i]


@njit(nogil=True, cache=True)
def _count_correct(outputs, targets):
    """Examples whose largest output is at the target's largest entry (its one-hot class)."""
    correct = 0
    for i in range(outputs.shape[0]):
        if np.argmax(outputs[i]) == np.argmax(targets[i]):
            correct += 1
    return correct


@njit(nogil=True, cache=True)
def train_dense_batches(data, targets, order, first_batch, n_batches, control,
                        weights, biases, weight_grads, bias_grads, codes, alphas, drop_rates,
                        zs, activations, outputs, deltas, masks, x_batch, y_batch,
                        cost, optimizer, hyper, moments1_w, moments1_b, moments2_w, moments2_b, step_count,
                        instrument, losses, correct, layer_metrics):
    """Train ``n_batches`` mini-batches of ``order`` starting at ``first_batch``.

    Writes per batch: ``losses`` (mean cost), ``correct`` (argmax hits) and, per layer,
    the gradient norms and the weight norm, and with ``instrument`` the saturation.  The figures describe the gradient before its update.
    Returns (batches done, how it ended).  A batch with a non-finite loss or gradient
    is not applied, so the weights stay those of the last good step.
    """
    batch = x_batch.shape[0]
    n_layers = len(weights)
    momentum, beta1, beta2, eps, l2, l1 = hyper[0], hyper[1], hyper[2], hyper[3], hyper[4], hyper[5]
    for b in range(n_batches):
        if control[STOP] != 0.0:
            return b, STOPPED
        start = (first_batch + b) * batch
        for i in range(batch):
            row = order[start + i]
            x_batch[i, :] = data[row]
            y_batch[i, :] = targets[row]
        # forward
        for layer in range(n_layers):
            source = x_batch if layer == 0 else outputs[layer - 1]
            dense_forward(source, weights[layer], biases[layer], zs[layer])
            activation_forward(codes[layer], zs[layer], activations[layer], alphas[layer])
            if drop_rates[layer] > 0.0:
                dropout_forward(activations[layer], masks[layer], outputs[layer], drop_rates[layer])
        last = n_layers - 1
        loss = cost_and_delta(cost, codes[last], zs[last], activations[last], y_batch, deltas[last], alphas[last])
        losses[b] = loss / batch
        correct[b] = _count_correct(activations[last], y_batch)
        _scale(deltas[last], 1.0 / batch)
        # backward: dense_backward writes ∂C/∂(output of the layer below) into its delta buffer
        for layer in range(last, -1, -1):
            source = x_batch if layer == 0 else outputs[layer - 1]
            below = deltas[layer - 1] if layer > 0 else deltas[layer]
            dense_backward(source, deltas[layer], weights[layer], weight_grads[layer], bias_grads[layer],
                           below, layer > 0)
            if layer > 0:
                if drop_rates[layer - 1] > 0.0:
                    _multiply(below, masks[layer - 1])
                activation_backward(codes[layer - 1], zs[layer - 1], activations[layer - 1], below, below,
                                    alphas[layer - 1])
        # NaN or inf in δ reaches every bias gradient (∂C/∂b = Σ δ), so the loss and the bias-gradient
        # norms are the finite check, made before any weight changes.  (A weight gradient can only
        # overflow alone when activations are near 1e19, long after the loss has become inf.)
        finite = np.isfinite(losses[b])
        for layer in range(n_layers):
            layer_metrics[b, layer, BIAS_GRAD] = np.sqrt(sum_of_squares(bias_grads[layer]))
            finite = finite and np.isfinite(layer_metrics[b, layer, BIAS_GRAD])
        if not finite:
            return b, NONFINITE
        # update; the optimiser's pass over each weight also measures ‖∂C/∂W‖ and ‖W‖ before the change
        step_count[0] += 1
        lr = control[LEARNING_RATE]
        for layer in range(n_layers):
            flat_w = weights[layer].reshape(-1)
            flat_gw = weight_grads[layer].reshape(-1)
            if optimizer == 0:
                grad_squares, weight_squares = sgd_update(flat_w, flat_gw, moments1_w[layer].reshape(-1), lr,
                                                          momentum, l2, l1)
                sgd_update(biases[layer], bias_grads[layer], moments1_b[layer], lr, momentum, 0.0, 0.0)
            else:
                grad_squares, weight_squares = adam_update(flat_w, flat_gw, moments1_w[layer].reshape(-1),
                                                           moments2_w[layer].reshape(-1), lr, beta1, beta2, eps,
                                                           step_count[0], l2, l1)
                adam_update(biases[layer], bias_grads[layer], moments1_b[layer], moments2_b[layer],
                            lr, beta1, beta2, eps, step_count[0], 0.0, 0.0)
            layer_metrics[b, layer, WEIGHT_GRAD] = np.sqrt(grad_squares)
            layer_metrics[b, layer, WEIGHT_NORM] = np.sqrt(weight_squares)
            if instrument:
                layer_metrics[b, layer, SATURATION] = saturated_fraction(codes[layer], activations[layer])
    return n_batches, FINISHED


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


class DenseStackRunner:
    """Holds the typed lists and work buffers the kernel needs for one batch size.

    The arrays in the lists are the network's own parameters and the optimiser's own
    state, so training here and on the generic path can interleave freely.
    """

    def __init__(self, network, optimizer, batch_size: int):
        stack = dense_stack_layers(network)
        if stack is None:
            raise ValueError("not a dense stack")
        dtype = network.dtype
        dense = [layer for layer, _ in stack]
        self.batch_size = batch_size
        self.n_layers = len(dense)

        def typed(arrays):
            out = List()
            for array in arrays:
                out.append(array)
            return out

        self.weights = typed(layer.params["weight"] for layer in dense)
        self.biases = typed(layer.params["bias"] for layer in dense)
        self.weight_grads = typed(layer.grads["weight"] for layer in dense)
        self.bias_grads = typed(layer.grads["bias"] for layer in dense)
        self.codes = np.array([layer.activation_code for layer in dense], dtype=np.int64)
        self.alphas = np.array([layer.config.alpha for layer in dense], dtype=np.float64)
        self.drop_rates = np.array([rate for _, rate in stack], dtype=np.float64)
        shapes = [(batch_size, layer.config.units) for layer in dense]
        self.zs = typed(np.zeros(s, dtype) for s in shapes)
        self.activations = typed(np.zeros(s, dtype) for s in shapes)
        self.masks = typed(np.zeros(s, dtype) for s in shapes)
        self.outputs = typed(np.zeros(s, dtype) if rate > 0 else self.activations[i]
                             for i, (s, (_, rate)) in enumerate(zip(shapes, stack)))
        self.deltas = typed(np.zeros(s, dtype) for s in shapes)
        self.x_batch = np.zeros((batch_size, dense[0].n_in), dtype)
        self.y_batch = np.zeros((batch_size, network.output_size), dtype)
        # optimiser state: the same arrays the Optimizer object updates on the generic path
        slot_index = {id(param): k for k, (param, _, _) in enumerate(network.slots())}
        first = optimizer.first
        second = optimizer.second or optimizer.first  # SGD has no second moments: pass a placeholder
        self.moments1_w = typed(first[slot_index[id(layer.params["weight"])]] for layer in dense)
        self.moments1_b = typed(first[slot_index[id(layer.params["bias"])]] for layer in dense)
        self.moments2_w = typed(second[slot_index[id(layer.params["weight"])]] for layer in dense)
        self.moments2_b = typed(second[slot_index[id(layer.params["bias"])]] for layer in dense)
        self.optimizer = optimizer
        self.cost = network.cost_code

    def run(self, data, targets, order, first_batch, n_batches, control, l2, l1, instrument):
        """Train a chunk; returns (batches done, end code, losses, correct counts, layer metrics)."""
        s = self.optimizer.settings
        hyper = np.array([s.momentum, s.beta1, s.beta2, s.eps, l2, l1], dtype=np.float64)
        step_count = np.array([self.optimizer.steps], dtype=np.int64)
        losses = np.zeros(n_batches)
        correct = np.zeros(n_batches, dtype=np.int64)
        metrics = np.full((n_batches, self.n_layers, 4), np.nan)
        done, ended = train_dense_batches(
            data, targets, order, first_batch, n_batches, control,
            self.weights, self.biases, self.weight_grads, self.bias_grads, self.codes, self.alphas,
            self.drop_rates, self.zs, self.activations, self.outputs, self.deltas, self.masks,
            self.x_batch, self.y_batch, self.cost, 0 if s.name == "sgd" else 1, hyper,
            self.moments1_w, self.moments1_b, self.moments2_w, self.moments2_b, step_count,
            instrument, losses, correct, metrics)
        self.optimizer.steps = int(step_count[0])
        return done, ended, losses[:done + (ended == NONFINITE)], correct, metrics
