"""The fast path for convolutional networks: convolutions (each optionally followed by a
non-overlapping max pool) and a dense head, trained many mini-batches per numba call.

    Input → [Reshape] → (Conv2D → [MaxPool2D, stride = size]) × k → [Flatten]
          → (Dense → [Dropout]) × m → Dense

Like ``dense_stack`` it composes the kernels the layers use one by one (``im2col``,
``col2im``, ``activation_forward``/``backward``, ``dense_forward``/``backward``,
``cost_and_delta``, the optimiser updates), and a test checks the two paths agree.  What it
adds is the order of the work, which is where the time goes on these machines:

- **Pool first, then activate.**  Every activation here is monotonic, so the max of
  f(z + b) over a window is f(max z + b): the pool runs on the raw products and the bias
  and activation touch a quarter of the values (2×2 pool).
- **One example at a time through a convolution.**  Its unrolled windows (25×576 floats
  for MNIST) and its maps (20×576) stay in the cache between the product and the pool;
  nothing of batch size is written but the pooled maps and the unrolled windows, which
  the backward pass reuses.  Measured on 64 MNIST images (20 filters 5×5, ReLU, 2×2 pool):
  forward 3.6 ms through the layers, 1.5 ms here; backward 2.5 ms and 0.95 ms.
- **Pool windows in contiguous blocks.**  ``im2col`` orders the columns so the P² members
  of each window are P² contiguous blocks; the pool is an element-wise max over blocks and
  the backward scatter an element-wise select, both vectorised.
- **No ∂C/∂x for the first convolution**, whose input is the data.
- The gradient norms come out of the optimiser's pass over the weights, as in ``dense_stack``.

One thread.  Splitting the batch between two ``prange`` threads was measured and did not
pay on these shared 2-core machines: the BLAS numba calls serialises concurrent products
(two 32×2880×100 products on two threads took 0.59 ms, one after the other 0.55 ms), so
only the convolutions' own loops can run side by side; with the other core busy (as it
usually is, with other developers' work or the window's GUI thread) the whole step was
no faster (2.96 ms on one thread, 3.05–3.64 ms on two, best of 40), and numba's default
OpenMP layer spin-waits and made a parallel stage 3.4× slower.

Differences from the layer-by-layer path: the winner of a window whose activations tie
but whose weighted inputs differ (ReLU's zeros, a saturated sigmoid) can differ, but its
gradient is 0 either way; and a convolution's saturation is measured on the units that
survive its pool.
"""
from __future__ import annotations

import numpy as np
from numba import njit
from numba.typed import List

from .activations import activation_backward, activation_forward, saturated_fraction
from .costs import cost_and_delta
from .dense_stack import (BIAS_GRAD, FINISHED, LEARNING_RATE, NONFINITE, SATURATION, STOP, STOPPED, WEIGHT_GRAD,
                          WEIGHT_NORM, _count_correct, _multiply, _scale, sum_of_squares)
from .layers.conv2d import Conv2D, col2im, im2col
from .layers.dense import Dense, dense_backward, dense_forward
from .layers.dropout import Dropout, dropout_forward
from .layers.flatten import Flatten
from .layers.input import Input
from .layers.maxpool2d import MaxPool2D
from .layers.reshape import Reshape
from .numeric import FAST_MATH, like
from .optimizers import adam_update, sgd_update

#: most values of unrolled windows kept per convolution between the forward and backward passes
COLS_KEPT_LIMIT = 16_000_000

#: columns of a stage's geometry row
(KERNEL, STRIDE, PAD_TOP, PAD_LEFT, CHANNELS, HEIGHT, WIDTH, FILTERS, OUT_H, OUT_W, POOL, CODE) = range(12)


@njit(nogil=True, cache=True, fastmath=FAST_MATH, error_model="numpy")
def pool_activate(z, bias, out, winner, blocks, code, alpha):
    """out = f(max over the ``blocks`` column blocks of z + bias), per map; ``winner`` keeps
    which block won (the first on ties, NaN over numbers, as ``maxpool_forward``).

    z (F, blocks·Q) comes from ``im2col(..., pool)`` order; out and winner are (F, Q).
    """
    filters, per_block = out.shape
    width = np.uint64(per_block)
    for f in range(filters):
        zf = z[f]
        of = out[f]
        wf = winner[f]
        for q in range(width):
            of[q] = zf[q]
            wf[q] = 0
        for t in range(1, blocks):
            base = np.uint64(t) * width
            tag = np.int32(t)
            for q in range(width):
                v = zf[base + q]
                take = (v > of[q]) | (v != v)
                of[q] = v if take else of[q]
                wf[q] = tag if take else wf[q]
        shift = bias[f]
        for q in range(width):
            of[q] += shift
    activation_forward(code, out, out, alpha)


@njit(nogil=True, cache=True, fastmath=FAST_MATH, error_model="numpy")
def unpool(delta, winner, blocks, dz):
    """The pool's backward: dz (F, blocks·Q) is δ in the winner's block, 0 in the others."""
    filters, per_block = delta.shape
    width = np.uint64(per_block)
    zero = like(dz, 0.0)
    for f in range(filters):
        df = delta[f]
        wf = winner[f]
        zf = dz[f]
        for t in range(blocks):
            base = np.uint64(t) * width
            tag = np.int32(t)
            for q in range(width):
                zf[base + q] = df[q] if wf[q] == tag else zero


@njit(nogil=True, cache=True, fastmath=FAST_MATH, error_model="numpy")
def conv_stage_forward(source, geometry, weight2, bias, pooled, winners, cols_store, z, alpha):
    """One convolution (+ pool) for a batch: source (B, C·H·W) → pooled (B, F·Q).

    ``cols_store`` (B, C·k·k·OH·OW) keeps every example's unrolled windows for the backward
    pass; with a single row it is scratch, and the backward pass unrolls again.
    """
    k, stride, top, left = geometry[KERNEL], geometry[STRIDE], geometry[PAD_TOP], geometry[PAD_LEFT]
    channels, height, width = geometry[CHANNELS], geometry[HEIGHT], geometry[WIDTH]
    filters, oh, ow, pool, code = geometry[FILTERS], geometry[OUT_H], geometry[OUT_W], geometry[POOL], geometry[CODE]
    per_block = (oh // pool) * (ow // pool)
    taps = channels * k * k
    kept = cols_store.shape[0] > 1
    for b in range(source.shape[0]):
        cols = cols_store[b if kept else 0].reshape(taps, oh * ow)
        im2col(source[b].reshape(channels, height, width), cols, k, k, stride, top, left, oh, ow, pool)
        np.dot(weight2, cols, z)
        pool_activate(z, bias, pooled[b].reshape(filters, per_block), winners[b].reshape(filters, per_block),
                      pool * pool, code, alpha)


@njit(nogil=True, cache=True, fastmath=FAST_MATH, error_model="numpy")
def conv_stage_backward(source, geometry, weight2, pooled, winners, dpooled, weight_grad2, bias_grad,
                        dsource, want_dsource, cols_store, z, dcols, delta, partial, alpha):
    """Gradients of one convolution (+ pool) from ∂C/∂(pooled maps) ``dpooled`` (B, F·Q):
    ∂C/∂W, ∂C/∂b and, if wanted, ∂C/∂source into ``dsource`` (B, C·H·W)."""
    k, stride, top, left = geometry[KERNEL], geometry[STRIDE], geometry[PAD_TOP], geometry[PAD_LEFT]
    channels, height, width = geometry[CHANNELS], geometry[HEIGHT], geometry[WIDTH]
    filters, oh, ow, pool, code = geometry[FILTERS], geometry[OUT_H], geometry[OUT_W], geometry[POOL], geometry[CODE]
    per_block = (oh // pool) * (ow // pool)
    taps = channels * k * k
    kept = cols_store.shape[0] > 1
    zero = like(weight_grad2, 0.0)
    for f in range(filters):
        bias_grad[f] = zero
        for j in range(weight_grad2.shape[1]):
            weight_grad2[f, j] = zero
    for b in range(source.shape[0]):
        a = pooled[b].reshape(filters, per_block)
        # δ at the pooled units: the activation's derivative there (from a alone: ReLU's a > 0 ⇔ z > 0)
        activation_backward(code, a, a, dpooled[b].reshape(filters, per_block), delta, alpha)
        unpool(delta, winners[b].reshape(filters, per_block), pool * pool, z)
        cols = cols_store[b if kept else 0].reshape(taps, oh * ow)
        if not kept:
            im2col(source[b].reshape(channels, height, width), cols, k, k, stride, top, left, oh, ow, pool)
        np.dot(z, cols.T, partial)
        for f in range(filters):
            total = zero
            for q in range(per_block):
                total += delta[f, q]
            bias_grad[f] += total
            for j in range(weight_grad2.shape[1]):
                weight_grad2[f, j] += partial[f, j]
        if want_dsource:
            np.dot(weight2.T, z, dcols)
            col2im(dcols, dsource[b].reshape(channels, height, width), k, k, stride, top, left, oh, ow, pool)


@njit(nogil=True, cache=True)
def train_conv_batches(data, targets, order, first_batch, n_batches, control,
                        geometries, conv_alphas, conv_weights, conv_biases, conv_weight_grads, conv_bias_grads,
                        pooled, winners, dpooled, cols, zs, dcols, deltas, partials,
                        weights, biases, weight_grads, bias_grads, codes, alphas, drop_rates,
                        dense_zs, activations, outputs, dense_deltas, masks, x_batch, y_batch,
                        cost, optimizer, hyper, params, grads, moments1, moments2, decays, slot_layer, slot_is_weight,
                        step_count, instrument, saturation_codes, losses, correct, layer_metrics):
    """Train ``n_batches`` mini-batches of ``order`` from ``first_batch``; see ``train_dense_batches``.

    ``params``/``grads``/``moments*`` list every parameter (flat views) in the network's slot
    order; ``slot_layer`` says which trainable layer each belongs to.

    """
    batch = x_batch.shape[0]
    n_conv = len(conv_weights)
    n_dense = len(weights)
    momentum, beta1, beta2, eps, l2, l1 = hyper[0], hyper[1], hyper[2], hyper[3], hyper[4], hyper[5]
    for b in range(n_batches):
        if control[STOP] != 0.0:
            return b, STOPPED
        start = (first_batch + b) * batch
        for i in range(batch):
            row = order[start + i]
            x_batch[i, :] = data[row]
            y_batch[i, :] = targets[row]
        # forward: the convolutions, then the dense head on the last pooled maps
        for s in range(n_conv):
            source = x_batch if s == 0 else pooled[s - 1]
            conv_stage_forward(source, geometries[s], conv_weights[s], conv_biases[s], pooled[s], winners[s],
                               cols[s], zs[s], conv_alphas[s])
        for layer in range(n_dense):
            source = pooled[n_conv - 1] if layer == 0 else outputs[layer - 1]
            dense_forward(source, weights[layer], biases[layer], dense_zs[layer])
            activation_forward(codes[layer], dense_zs[layer], activations[layer], alphas[layer])
            if drop_rates[layer] > 0.0:
                dropout_forward(activations[layer], masks[layer], outputs[layer], drop_rates[layer])
        last = n_dense - 1
        loss = cost_and_delta(cost, codes[last], dense_zs[last], activations[last], y_batch, dense_deltas[last],
                              alphas[last])
        losses[b] = loss / batch
        correct[b] = _count_correct(activations[last], y_batch)
        _scale(dense_deltas[last], 1.0 / batch)
        # backward through the head; its first layer writes ∂C/∂(pooled maps) for the last convolution
        for layer in range(last, -1, -1):
            source = pooled[n_conv - 1] if layer == 0 else outputs[layer - 1]
            below = dense_deltas[layer - 1] if layer > 0 else dpooled[n_conv - 1]
            dense_backward(source, dense_deltas[layer], weights[layer], weight_grads[layer], bias_grads[layer],
                           below, True)
            if layer > 0:
                if drop_rates[layer - 1] > 0.0:
                    _multiply(below, masks[layer - 1])
                activation_backward(codes[layer - 1], dense_zs[layer - 1], activations[layer - 1], below, below,
                                    alphas[layer - 1])
        for s in range(n_conv - 1, -1, -1):
            source = x_batch if s == 0 else pooled[s - 1]
            below = dpooled[s - 1] if s > 0 else dpooled[s]
            conv_stage_backward(source, geometries[s], conv_weights[s], pooled[s], winners[s], dpooled[s],
                                conv_weight_grads[s], conv_bias_grads[s], below, s > 0, cols[s], zs[s], dcols[s],
                                deltas[s], partials[s], conv_alphas[s])
        # the finite check before any change (see train_dense_batches): loss and bias-gradient norms
        finite = np.isfinite(losses[b])
        for k in range(len(params)):
            if not slot_is_weight[k]:
                norm = np.sqrt(sum_of_squares(grads[k]))
                layer_metrics[b, slot_layer[k], BIAS_GRAD] = norm
                finite = finite and np.isfinite(norm)
        if not finite:
            return b, NONFINITE
        step_count[0] += 1
        lr = control[LEARNING_RATE]
        for k in range(len(params)):
            l2_here = l2 if decays[k] else 0.0
            l1_here = l1 if decays[k] else 0.0
            if optimizer == 0:
                grad_squares, weight_squares = sgd_update(params[k], grads[k], moments1[k], lr, momentum,
                                                          l2_here, l1_here)
            else:
                grad_squares, weight_squares = adam_update(params[k], grads[k], moments1[k], moments2[k], lr,
                                                           beta1, beta2, eps, step_count[0], l2_here, l1_here)
            if slot_is_weight[k]:
                layer_metrics[b, slot_layer[k], WEIGHT_GRAD] = np.sqrt(grad_squares)
                layer_metrics[b, slot_layer[k], WEIGHT_NORM] = np.sqrt(weight_squares)
        if instrument:
            for s in range(n_conv):
                layer_metrics[b, s, SATURATION] = saturated_fraction(saturation_codes[s], pooled[s])
            for layer in range(n_dense):
                layer_metrics[b, n_conv + layer, SATURATION] = saturated_fraction(codes[layer], activations[layer])
    return n_batches, FINISHED


def conv_stack_plan(network):
    """[(conv layer, pool size)], [(dense layer, dropout rate)] if the fast path can run the
    network, else None."""
    layers = network.layers
    if not layers or not isinstance(layers[0], Input):
        return None
    rest = list(layers[1:])
    if rest and isinstance(rest[0], Reshape):
        rest.pop(0)
    stages: list[list] = []
    head: list[list] = []
    for layer in rest:
        if isinstance(layer, Conv2D) and not head:
            stages.append([layer, 1])
        elif (isinstance(layer, MaxPool2D) and stages and stages[-1][1] == 1 and not head
              and (layer.config.stride or layer.config.size) == layer.config.size):
            stages[-1][1] = layer.config.size
        elif isinstance(layer, Flatten) and stages and not head:
            continue
        elif isinstance(layer, Dense) and stages:
            head.append([layer, 0.0])
        elif isinstance(layer, Dropout) and head and head[-1][1] == 0.0:
            head[-1][1] = layer.config.rate
        else:
            return None
    if not stages or not head:
        return None
    return stages, head


def _typed(arrays):
    out = List()
    for array in arrays:
        out.append(array)
    return out


class ConvStackRunner:
    """Holds the typed lists and work buffers ``train_conv_batches`` needs for one batch size.

    The parameters and the optimiser state in the lists are the network's and the
    optimiser's own arrays (views), so this path and the generic one can interleave.
    """

    def __init__(self, network, optimizer, batch_size: int):
        plan = conv_stack_plan(network)
        if plan is None:
            raise ValueError("not a convolutional stack the fast path can run")
        stages, head = plan
        dtype = network.dtype
        self.batch_size = batch_size
        self.n_layers = len(stages) + len(head)
        geometries, pooled_shapes, per_sample = [], [], []
        for conv, pool in stages:
            c = conv.config
            channels, height, width = conv.input_shape
            geometries.append([c.kernel_size, c.stride, conv.pad_top, conv.pad_left, channels, height, width,
                               c.filters, conv.oh, conv.ow, pool, conv.activation_code])
            pooled_shapes.append((batch_size, c.filters * (conv.oh // pool) * (conv.ow // pool)))
            per_sample.append((conv.taps, conv.oh * conv.ow, c.filters))
        self.geometries = _typed(np.array(g, dtype=np.int64) for g in geometries)
        self.conv_alphas = np.array([conv.config.alpha for conv, _ in stages], dtype=np.float64)
        self.conv_weights = _typed(conv.params["weight"].reshape(conv.config.filters, conv.taps) for conv, _ in stages)
        self.conv_biases = _typed(conv.params["bias"] for conv, _ in stages)
        self.conv_weight_grads = _typed(conv.grads["weight"].reshape(conv.config.filters, conv.taps)
                                        for conv, _ in stages)
        self.conv_bias_grads = _typed(conv.grads["bias"] for conv, _ in stages)
        self.pooled = _typed(np.zeros(shape, dtype) for shape in pooled_shapes)
        self.winners = _typed(np.zeros(shape, np.int32) for shape in pooled_shapes)
        self.dpooled = _typed(np.zeros(shape, dtype) for shape in pooled_shapes)
        # every example's unrolled windows, kept from the forward pass for the backward one
        # (measured: re-unrolling made a 3.2 ms step 4.1 ms); a single scratch row if too large
        self.cols = _typed(np.zeros((batch_size if batch_size * taps * positions <= COLS_KEPT_LIMIT else 1,
                                     taps * positions), dtype) for taps, positions, _ in per_sample)
        self.zs = _typed(np.zeros((filters, positions), dtype) for _, positions, filters in per_sample)
        self.dcols = _typed(np.zeros((taps, positions), dtype) for taps, positions, _ in per_sample)
        self.deltas = _typed(np.zeros((filters, shape[1] // filters), dtype)
                             for (_, _, filters), shape in zip(per_sample, pooled_shapes))
        self.partials = _typed(np.zeros((filters, taps), dtype) for taps, _, filters in per_sample)
        self.saturation_codes = np.array([conv.activation_code for conv, _ in stages], dtype=np.int64)

        dense = [layer for layer, _ in head]
        self.weights = _typed(layer.params["weight"] for layer in dense)
        self.biases = _typed(layer.params["bias"] for layer in dense)
        self.weight_grads = _typed(layer.grads["weight"] for layer in dense)
        self.bias_grads = _typed(layer.grads["bias"] for layer in dense)
        self.codes = np.array([layer.activation_code for layer in dense], dtype=np.int64)
        self.alphas = np.array([layer.config.alpha for layer in dense], dtype=np.float64)
        self.drop_rates = np.array([rate for _, rate in head], dtype=np.float64)
        shapes = [(batch_size, layer.config.units) for layer in dense]
        self.dense_zs = _typed(np.zeros(s, dtype) for s in shapes)
        self.activations = _typed(np.zeros(s, dtype) for s in shapes)
        self.masks = _typed(np.zeros(s, dtype) for s in shapes)
        self.outputs = _typed(np.zeros(s, dtype) if rate > 0 else self.activations[i]
                              for i, (s, (_, rate)) in enumerate(zip(shapes, head)))
        self.dense_deltas = _typed(np.zeros(s, dtype) for s in shapes)
        self.x_batch = np.zeros((batch_size, int(np.prod(network.input_shape))), dtype)
        self.y_batch = np.zeros((batch_size, network.output_size), dtype)

        # every parameter in the network's slot order, with the optimiser's state for it
        trainable = [layer for layer, _ in stages] + dense
        layer_index = {id(layer): i for i, layer in enumerate(trainable)}
        slots = [(layer, name) for layer in network.trainable for name in layer.params]
        optimizer_slots = network.slots()
        first = optimizer.first
        second = optimizer.second or optimizer.first
        self.params = _typed(param.reshape(-1) for param, _, _ in optimizer_slots)
        self.grads = _typed(grad.reshape(-1) for _, grad, _ in optimizer_slots)
        self.moments1 = _typed(state.reshape(-1) for state in first)
        self.moments2 = _typed(state.reshape(-1) for state in second)
        self.decays = np.array([decays for _, _, decays in optimizer_slots], dtype=np.bool_)
        self.slot_layer = np.array([layer_index[id(layer)] for layer, _ in slots], dtype=np.int64)
        self.slot_is_weight = np.array([name == "weight" for _, name in slots], dtype=np.bool_)
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
        arguments = (
            data, targets, order, first_batch, n_batches, control,
            self.geometries, self.conv_alphas, self.conv_weights, self.conv_biases, self.conv_weight_grads,
            self.conv_bias_grads,
            self.pooled, self.winners, self.dpooled, self.cols, self.zs, self.dcols, self.deltas, self.partials,
            self.weights, self.biases, self.weight_grads, self.bias_grads, self.codes, self.alphas,
            self.drop_rates, self.dense_zs, self.activations, self.outputs, self.dense_deltas, self.masks,
            self.x_batch, self.y_batch, self.cost, 0 if s.name == "sgd" else 1, hyper,
            self.params, self.grads, self.moments1, self.moments2, self.decays, self.slot_layer,
            self.slot_is_weight, step_count, instrument, self.saturation_codes, losses, correct, metrics)
        done, ended = train_conv_batches(*arguments)
        self.optimizer.steps = int(step_count[0])
        return done, ended, losses[:done + (ended == NONFINITE)], correct, metrics
