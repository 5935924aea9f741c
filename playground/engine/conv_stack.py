"""The fast path for convolutional networks: convolutions (each optionally followed by a
non-overlapping max pool) and a dense head, trained many mini-batches per numba call.

    Input → [Reshape] → (Conv2D → [MaxPool2D, stride = size]) × k → [Flatten]
          → (Dense → [Dropout]) × m → Dense

Like ``dense_stack`` it composes the kernels the layers use one by one (``im2col``,
``col2im``, ``activation_forward``/``backward``, and for the head and the optimiser step
the very kernels of ``dense_stack``), and a test checks the two paths agree.  What it
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

Both cores for the convolutions.  Each convolution splits the batch into ``parts.PARTS`` parts
(fewer for a smaller batch) whose examples run side by side on numba's threads, each part
adding up its own share of ∂C/∂W and ∂C/∂b; the shares are added in part order afterwards,
so a seeded run repeats exactly on one core or two (tested).  The dense head takes the
batch whole, on one thread.  Measured on a quiet 2-core machine (the ``cnn`` workload, 784 →
conv 5×5×20 → pool 2 → 100 → 10, mini-batch 64): 22.5k samples/s on one thread, 28-31k with
the parts side by side; two whole copies of the step on half batches each, the most parts
could give, 38k.  Parts sharing a core with a busy process slow the batch down (0.7-0.8× of
one thread, measured under ``playground bench --under-load``), so the runner measures the
other processes' load while its chunks run and runs the parts in turn while a core is taken
(``parts.LoadWhileRunning``), as the kernel's Python twin always does (background.py).  An
older measurement, taken while other work kept the second core busy, had found no gain.

Differences from the layer-by-layer path: the winner of a window whose activations tie
but whose weighted inputs differ (ReLU's zeros, a saturated sigmoid) can differ, but its
gradient is 0 either way; and a convolution's saturation is measured on the units that
survive its pool.
"""

from __future__ import annotations

from collections import namedtuple

import numba
import numpy as np
from numba import njit, prange

from .activations import activation_backward, activation_forward, saturated_fraction
from .dense_stack import (
    FINISHED,
    LEARNING_RATE,
    NONFINITE,
    SATURATION,
    STOP,
    STOPPED,
    DenseHead,
    FusedRunner,
    Slots,
    check_and_update,
    dense_head,
    head_backward,
    head_cost,
    head_forward,
    head_saturation,
    load_batch,
)
from .layers.conv2d import Conv2D, add_filter_grads, col2im, im2col, zero_filter_grads
from .layers.dense import Dense
from .layers.dropout import Dropout
from .layers.flatten import Flatten
from .layers.input import Input
from .layers.maxpool2d import MaxPool2D
from .layers.reshape import Reshape
from .numeric import FAST_MATH, like
from .parts import LoadWhileRunning, part_bounds, row_parts, sum_over_parts

#: most values of unrolled windows kept per convolution between the forward and backward passes
COLS_KEPT_LIMIT = 16_000_000

#: columns of a stage's geometry row
(KERNEL, STRIDE, PAD_TOP, PAD_LEFT, CHANNELS, HEIGHT, WIDTH, FILTERS, OUT_H, OUT_W, POOL, CODE) = range(12)

#: The arrays of the convolutional stages for one batch size, per stage: its geometry row,
#: leaky slope, parameters and gradients (as (F, C·k·k) views), the pooled maps with the
#: winner of each pool and their gradient (B, F·Q), the unrolled windows (``cols``: every
#: example's, or one scratch row per part), and per part (leading axis P) the work buffers for
#: one example and its share of the gradients; ``saturation_codes`` are the activations, for
#: the metrics; ``padded`` is None where no stage pads its input (see ``im2col``), else True;
#: ``side_by_side[0]`` whether the next chunk runs its parts side by side.
ConvStages = namedtuple(
    "ConvStages",
    "geometries alphas weights biases weight_grads bias_grads pooled winners "
    "dpooled cols zs dcols deltas partials part_weight_grads part_bias_grads saturation_codes padded side_by_side",
)


@njit(nogil=True, cache=True, no_cfunc_wrapper=True, fastmath=FAST_MATH, error_model="numpy")
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


@njit(nogil=True, cache=True, no_cfunc_wrapper=True, fastmath=FAST_MATH, error_model="numpy")
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


@njit(nogil=True, cache=True, no_cfunc_wrapper=True)
def product(a, b, out):
    """out = a·b through the BLAS numba calls: a kernel of its own, so that the driver's Python
    twin (background.py) multiplies with that BLAS too, not numpy's."""
    np.dot(a, b, out)


@njit(nogil=True, cache=True, inline="always")
def _read_geometry(geometry):
    """A stage's geometry row as named numbers:
    (kernel, stride, pad_top, pad_left, channels, height, width, filters, out_h, out_w, pool, code)."""
    return (
        geometry[KERNEL],
        geometry[STRIDE],
        geometry[PAD_TOP],
        geometry[PAD_LEFT],
        geometry[CHANNELS],
        geometry[HEIGHT],
        geometry[WIDTH],
        geometry[FILTERS],
        geometry[OUT_H],
        geometry[OUT_W],
        geometry[POOL],
        geometry[CODE],
    )


# inlined: its callers pass ``fill`` as a constant and as a flag, two signatures if it were compiled alone
@njit(nogil=True, cache=True, inline="always")
def _windows(source, b, geometry, cols_store, fill, padded):
    """Example b's unrolled windows (C·k·k, OH·OW), in pool order: its own row of
    ``cols_store`` when every example's are kept, else the single scratch row; unrolled from
    ``source`` (B, C·H·W) into it if ``fill`` (``padded`` as ``im2col`` takes it)."""
    k, stride, top, left, channels, height, width, _, oh, ow, pool, _ = _read_geometry(geometry)
    cols = cols_store[b if cols_store.shape[0] > 1 else 0].reshape(channels * k * k, oh * ow)
    if fill:
        im2col(source[b].reshape(channels, height, width), cols, k, k, stride, top, left, oh, ow, pool, padded)
    return cols


# _add_back_windows and the two stages are inlined into the driver: as libraries of their own,
# numba would optimise and emit their callees (im2col, col2im, the pool) once more in each
# (1.9 s of the CNN lesson's cold start).  They do no floating-point arithmetic of their own,
# so the driver's default fastmath and error model change nothing.
@njit(nogil=True, cache=True, inline="always")
def _add_back_windows(dcols, dsource, b, geometry):
    """The adjoint of ``_windows``: ∂C/∂(example b of the source) from ∂C/∂(its unrolled windows)."""
    k, stride, top, left, channels, height, width, _, oh, ow, pool, _ = _read_geometry(geometry)
    col2im(dcols, dsource[b].reshape(channels, height, width), k, k, stride, top, left, oh, ow, pool)


@njit(nogil=True, cache=True, inline="always")
def conv_stage_forward(source, geometry, weight2, bias, pooled, winners, cols_store, z, alpha, padded):
    """One convolution (+ pool) for a batch: source (B, C·H·W) → pooled (B, F·Q).

    ``cols_store`` (B, C·k·k·OH·OW) keeps every example's unrolled windows for the backward
    pass; with a single row it is scratch, and the backward pass unrolls again.
    """
    filters, oh, ow, pool, code = geometry[FILTERS], geometry[OUT_H], geometry[OUT_W], geometry[POOL], geometry[CODE]
    per_block = (oh // pool) * (ow // pool)
    for b in range(source.shape[0]):
        product(weight2, _windows(source, b, geometry, cols_store, True, padded), z)
        pool_activate(
            z,
            bias,
            pooled[b].reshape(filters, per_block),
            winners[b].reshape(filters, per_block),
            pool * pool,
            code,
            alpha,
        )


@njit(nogil=True, cache=True, inline="always")
def conv_stage_backward(
    source,
    geometry,
    weight2,
    pooled,
    winners,
    dpooled,
    weight_grad2,
    bias_grad,
    dsource,
    want_dsource,
    cols_store,
    z,
    dcols,
    delta,
    partial,
    alpha,
    padded,
):
    """Gradients of one convolution (+ pool) from ∂C/∂(pooled maps) ``dpooled`` (B, F·Q):
    ∂C/∂W, ∂C/∂b and, if wanted, ∂C/∂source into ``dsource`` (B, C·H·W)."""
    filters, oh, ow, pool, code = geometry[FILTERS], geometry[OUT_H], geometry[OUT_W], geometry[POOL], geometry[CODE]
    per_block = (oh // pool) * (ow // pool)
    unroll_again = cols_store.shape[0] == 1
    zero_filter_grads(weight_grad2, bias_grad)
    for b in range(source.shape[0]):
        a = pooled[b].reshape(filters, per_block)
        # δ at the pooled units: the activation's derivative there (from a alone: ReLU's a > 0 ⇔ z > 0)
        activation_backward(code, a, a, dpooled[b].reshape(filters, per_block), delta, alpha)
        unpool(delta, winners[b].reshape(filters, per_block), pool * pool, z)
        product(z, _windows(source, b, geometry, cols_store, unroll_again, padded).T, partial)
        add_filter_grads(delta, partial, weight_grad2, bias_grad)
        if want_dsource:
            product(weight2.T, z, dcols)
            _add_back_windows(dcols, dsource, b, geometry)


@njit(nogil=True, cache=True, inline="always")
def _part_cols(cols_store, batch, first, last, p):
    """Part p's unrolled windows: its examples' rows when every example's are kept, else its scratch row."""
    return cols_store[first:last] if cols_store.shape[0] == batch else cols_store[p : p + 1]


@njit(nogil=True, cache=True, inline="always")
def conv_forward_part(p, source, geometry, weight2, bias, pooled, winners, cols_store, zs, alpha, padded):
    """One convolution (+ pool) for part p of the batch (``zs``: (P, F, OH·OW), one per part)."""
    first, last = part_bounds(source.shape[0], zs.shape[0], p)
    conv_stage_forward(
        source[first:last],
        geometry,
        weight2,
        bias,
        pooled[first:last],
        winners[first:last],
        _part_cols(cols_store, source.shape[0], first, last, p),
        zs[p],
        alpha,
        padded,
    )


@njit(nogil=True, cache=True, no_cfunc_wrapper=True, parallel=True)
def conv_forward_parts(source, geometry, weight2, bias, pooled, winners, cols_store, zs, alpha, padded):
    """``conv_forward_part`` for every part, each on its own thread."""
    for p in prange(zs.shape[0]):
        conv_forward_part(np.int64(p), source, geometry, weight2, bias, pooled, winners, cols_store, zs, alpha, padded)


# fmt: off
@njit(nogil=True, cache=True, inline="always")
def conv_backward_part(
    p, source, geometry, weight2, pooled, winners, dpooled, weight_grads, bias_grads, dsource, want_dsource,
    cols_store, zs, dcols, deltas, partials, alpha, padded,
):
    """The gradients of one convolution (+ pool) from part p of the batch: its share of ∂C/∂W and
    ∂C/∂b into ``weight_grads[p]`` and ``bias_grads[p]``, and its rows of ∂C/∂source."""
    first, last = part_bounds(source.shape[0], zs.shape[0], p)
    conv_stage_backward(
        source[first:last],
        geometry,
        weight2,
        pooled[first:last],
        winners[first:last],
        dpooled[first:last],
        weight_grads[p],
        bias_grads[p],
        dsource[first:last],
        want_dsource,
        _part_cols(cols_store, source.shape[0], first, last, p),
        zs[p],
        dcols[p],
        deltas[p],
        partials[p],
        alpha,
        padded,
    )


@njit(nogil=True, cache=True, no_cfunc_wrapper=True, parallel=True)
def conv_backward_parts(
    source, geometry, weight2, pooled, winners, dpooled, weight_grads, bias_grads, dsource, want_dsource,
    cols_store, zs, dcols, deltas, partials, alpha, padded,
):
    """``conv_backward_part`` for every part, each on its own thread."""
    for p in prange(zs.shape[0]):
        conv_backward_part(
            np.int64(p), source, geometry, weight2, pooled, winners, dpooled, weight_grads, bias_grads, dsource,
            want_dsource, cols_store, zs, dcols, deltas, partials, alpha, padded,
        )
# fmt: on


@njit(nogil=True, cache=True, no_cfunc_wrapper=True)
def train_conv_batches(
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
    geometries,
    conv_alphas,
    conv_weights,
    conv_biases,
    conv_weight_grads,
    conv_bias_grads,
    pooled,
    winners,
    dpooled,
    cols,
    conv_zs,
    dcols,
    conv_deltas,
    partials,
    part_weight_grads,
    part_bias_grads,
    saturation_codes,
    padded,
    side_by_side,
):
    """Train ``n_batches`` mini-batches of ``order`` from ``first_batch``; see ``train_dense_batches``,
    whose arguments come first, then the fields of the ``ConvStages``.

    The convolutions split the batch into parts (the dense head takes it whole): side by side on
    the cores through the ``parallel=True`` drivers when ``side_by_side[0]``, else in turn; the
    parts' gradients are added in part order either way, so the numbers are the same.

    The metric rows are the convolutions', then the dense head's.
    """
    head = DenseHead(
        weights, biases, weight_grads, bias_grads, codes, alphas, drop_rates, zs, activations, outputs, deltas, masks
    )
    slots = Slots(params, grads, moments1, moments2, decays, slot_layer, slot_is_weight)
    batch = x_batch.shape[0]
    n_conv = len(conv_weights)
    parts = conv_zs[0].shape[0]
    for b in range(n_batches):
        if control[STOP] != 0.0:
            return b, STOPPED
        load_batch(data, targets, order, (first_batch + b) * batch, x_batch, y_batch)
        # forward: the convolutions, then the dense head on the last pooled maps
        for s in range(n_conv):
            source = x_batch if s == 0 else pooled[s - 1]
            weight2, bias, zs, alpha = conv_weights[s], conv_biases[s], conv_zs[s], conv_alphas[s]
            if side_by_side[0]:
                conv_forward_parts(
                    source, geometries[s], weight2, bias, pooled[s], winners[s], cols[s], zs, alpha, padded
                )
            else:
                for p in range(parts):
                    conv_forward_part(
                        p, source, geometries[s], weight2, bias, pooled[s], winners[s], cols[s], zs, alpha, padded
                    )
        head_forward(head, pooled[n_conv - 1], drop_rates)
        losses[b], correct[b] = head_cost(head, cost, y_batch)
        # backward through the head; its first layer writes ∂C/∂(pooled maps) for the last convolution
        head_backward(head, pooled[n_conv - 1], dpooled[n_conv - 1], True, drop_rates)
        for s in range(n_conv - 1, -1, -1):
            source = x_batch if s == 0 else pooled[s - 1]
            below = dpooled[s - 1] if s > 0 else dpooled[s]
            if side_by_side[0]:
                conv_backward_parts(
                    source, geometries[s], conv_weights[s], pooled[s], winners[s], dpooled[s],
                    part_weight_grads[s], part_bias_grads[s], below, s > 0, cols[s],
                    conv_zs[s], dcols[s], conv_deltas[s], partials[s], conv_alphas[s], padded,
                )  # fmt: skip
            else:
                for p in range(parts):
                    conv_backward_part(
                        p, source, geometries[s], conv_weights[s], pooled[s], winners[s], dpooled[s],
                        part_weight_grads[s], part_bias_grads[s], below, s > 0, cols[s],
                        conv_zs[s], dcols[s], conv_deltas[s], partials[s], conv_alphas[s], padded,
                    )  # fmt: skip
            sum_over_parts(part_weight_grads[s], conv_weight_grads[s])
            sum_over_parts(part_bias_grads[s], conv_bias_grads[s])
        if not check_and_update(
            slots, moments2, hyper, control[LEARNING_RATE], step_count, losses[b], layer_metrics[b]
        ):
            return b, NONFINITE
        if instrument:
            for s in range(n_conv):
                layer_metrics[b, s, SATURATION] = saturated_fraction(saturation_codes[s], pooled[s])
            head_saturation(head, b, n_conv, layer_metrics)
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
        elif isinstance(layer, MaxPool2D) and stages and stages[-1][1] == 1 and not head and layer.stride == layer.size:
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


def conv_stages(stages, batch_size: int, dtype, parts: int) -> ConvStages:
    """The ``ConvStages`` of [(Conv2D layer, pool size)]: the layers' own parameters and
    gradients as (F, C·k·k) views, and fresh work buffers for ``batch_size`` in ``parts`` parts,
    in Python lists (see ``dense_stack.typed_lists``)."""
    geometries, pooled_shapes, per_sample = [], [], []
    for conv, pool in stages:
        c = conv.config
        channels, height, width = conv.input_shape
        geometries.append(
            [
                c.kernel_size,
                c.stride,
                conv.pad_top,
                conv.pad_left,
                channels,
                height,
                width,
                c.filters,
                conv.oh,
                conv.ow,
                pool,
                conv.activation_code,
            ]
        )
        pooled_shapes.append((batch_size, c.filters * (conv.oh // pool) * (conv.ow // pool)))
        per_sample.append((conv.taps, conv.oh * conv.ow, c.filters))
    convs = [conv for conv, _ in stages]
    return ConvStages(
        # one row per stage: an array, not a typed list of rows, spares a list type to compile
        geometries=np.array(geometries, dtype=np.int64),
        alphas=np.array([conv.config.alpha for conv in convs], dtype=np.float64),
        weights=[conv.params["weight"].reshape(conv.config.filters, conv.taps) for conv in convs],
        biases=[conv.params["bias"] for conv in convs],
        weight_grads=[conv.grads["weight"].reshape(conv.config.filters, conv.taps) for conv in convs],
        bias_grads=[conv.grads["bias"] for conv in convs],
        pooled=[np.zeros(shape, dtype) for shape in pooled_shapes],
        winners=[np.zeros(shape, np.int32) for shape in pooled_shapes],
        dpooled=[np.zeros(shape, dtype) for shape in pooled_shapes],
        # every example's unrolled windows, kept from the forward pass for the backward one
        # (measured: re-unrolling made a 3.2 ms step 4.1 ms); a scratch row per part if too large
        cols=[
            np.zeros(
                (batch_size if batch_size * taps * positions <= COLS_KEPT_LIMIT else parts, taps * positions), dtype
            )
            for taps, positions, _ in per_sample
        ],
        zs=[np.zeros((parts, filters, positions), dtype) for _, positions, filters in per_sample],
        dcols=[np.zeros((parts, taps, positions), dtype) for taps, positions, _ in per_sample],
        deltas=[
            np.zeros((parts, filters, shape[1] // filters), dtype)
            for (_, _, filters), shape in zip(per_sample, pooled_shapes)
        ],
        partials=[np.zeros((parts, filters, taps), dtype) for taps, _, filters in per_sample],
        part_weight_grads=[np.zeros((parts, filters, taps), dtype) for taps, _, filters in per_sample],
        part_bias_grads=[np.zeros((parts, filters), dtype) for _, _, filters in per_sample],
        saturation_codes=np.array([conv.activation_code for conv in convs], dtype=np.int64),
        padded=True if any(conv.config.padding != "valid" for conv in convs) else None,
        side_by_side=np.zeros(1, np.bool_),
    )


class ConvStackRunner(FusedRunner):
    """Holds the arrays and work buffers ``train_conv_batches`` needs for one batch size, and
    chooses before each chunk whether its parts run side by side.  ``parts`` (the tests' choice;
    ``parts.PARTS`` or the batch size if smaller) is part of the arithmetic, not the threads."""

    def __init__(self, network, optimizer, batch_size: int, parts: int | None = None):
        plan = conv_stack_plan(network)
        if plan is None:
            raise ValueError("not a convolutional stack the fast path can run")
        stages, head = plan
        convs = [conv for conv, _ in stages]
        super().__init__(
            train_conv_batches,
            network,
            optimizer,
            batch_size,
            convs + [layer for layer, _ in head],
            int(np.prod(network.input_shape)),
        )
        self.stages = conv_stages(stages, batch_size, network.dtype, parts or row_parts(batch_size))
        self.head = dense_head(head, batch_size, network.dtype)
        self._load = LoadWhileRunning()

    def _threads_for_chunk(self, kernel_ready: bool):
        """Side by side on a quiet machine once the kernel is ready; in turn on one numba thread, and
        while other processes keep a core busy (see ``parts.run_parts``: a part sharing a core with
        a busy process holds up the batch; the CNN ran at 0.7-0.8× its one-thread speed that way)."""
        most = numba.get_num_threads()
        split = self.stages.zs[0].shape[0] > 1 and most > 1
        self.stages.side_by_side[0] = kernel_ready and split and not self._load.crowded
        return self._load.measured(most)

    @property
    def fields(self) -> tuple:
        return self.head, self.slots, self.stages
