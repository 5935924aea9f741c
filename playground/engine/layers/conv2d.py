"""2D convolution: every unit looks at a small window of its input (a *local receptive
field*) through the same kernel as every other unit of its feature map (*shared weights*).

    a[b, f, y, x] = act( bias[f] + Σ_c Σ_ky Σ_kx  w[f, c, ky, kx] · x[b, c, y·s + ky − p, x·s + kx − p] )

Images are NCHW and the weights follow PyTorch's layout, ``weight`` (out_ch, in_ch, kh, kw)
and ``bias`` (out_ch), so a weights file can be read by either program.

How it is computed (measured on the 2-core machines, 64 MNIST images, 20 filters of 5×5):
each example is unrolled into a (C·kh·kw, OH·OW) matrix of its windows ("im2col") that
stays in the cache, and one matrix product with the (F, C·kh·kw) weights gives the
example's F feature maps directly in NCHW order: 0.68 ms for the batch.  Direct loops
over the output took 3.3 ms (a 24-wide row is too short for the vectoriser), and one
im2col of the whole batch followed by a single big product took 8.8 ms: the unrolled
batch (3.7 MB) no longer fits in the cache.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

from ..activations import ACTIVATIONS, activation_backward, activation_forward
from ..config import option
from ..initializers import initial_bias, initial_weight
from ..numeric import FAST_MATH, like
from .activated import ActivatedLayer, alpha_option
from .base import ShapeError, register_layer
from .buffers import BatchBuffers
from .geometry import image_shape_of, output_size

PADDINGS = ("valid", "same")


@njit(nogil=True, cache=True, inline="always")
def _valid_range(out, kernel_offset, pad, stride, size):
    """Output positions o whose input position o·stride + kernel_offset − pad lies in [0, size)."""
    shift = kernel_offset - pad
    lo = 0 if shift >= 0 else min(out, (-shift + stride - 1) // stride)
    if size - 1 - shift < 0:
        return lo, lo
    hi = min(out, (size - 1 - shift) // stride + 1)
    return lo, max(lo, hi)


@njit(nogil=True, cache=True, inline="always")
def _copy_row(target, d0, source, s0, count, step):
    """target[d0 + t] = source[s0 + t·step] for t < count: one row of unrolled windows.

    Steps 1 and 2 get their own loops because a step known at compile time vectorises
    (a 2×2 pool or stride 2: 0.79 → 0.43 ms for 64 MNIST images).  Inlined, so each
    caller keeps its loops as if written out.
    """
    if step == 1:
        for t in range(count):
            target[d0 + t] = source[s0 + t]
    elif step == 2:
        for t in range(count):
            target[d0 + t] = source[s0 + np.uint64(2) * t]
    else:
        stride_u = np.uint64(step)
        for t in range(count):
            target[d0 + t] = source[s0 + t * stride_u]


# --- kernels -------------------------------------------------------------------------------
@njit(nogil=True, cache=True, no_cfunc_wrapper=True, fastmath=FAST_MATH, error_model="numpy")
def im2col(x, cols, kh, kw, stride, pad_top, pad_left, oh, ow, pool, padded):
    """Unroll one example ``x`` (C, H, W) into ``cols`` (C·kh·kw, oh·ow): row (c, ky, kx)
    holds, for every output position, the input pixel that tap of the kernel sees (0 in the padding).

    With ``pool`` = 1 the columns are the output positions in row-major order, so one
    product with the weights gives NCHW maps.  With ``pool`` = P > 1 (a P×P pool follows,
    and divides the maps) they are ordered (dy, dx, py, px), position (py·P + dy, px·P + dx):
    the P² members of every pooling window then lie in P² contiguous blocks, and pooling
    becomes an element-wise max over blocks, which vectorises (see ``conv_stack``).

    Indices are unsigned in the copy loops: numba wraps negative indices around, and the test
    for that on every access kept LLVM from vectorising the copies (0.97 ms against 0.23 ms
    for 64 MNIST images).

    ``padded`` None says every window lies inside the image ("valid" padding): numba then
    compiles the plain copy alone (the padded one took 0.9 s of the CNN lesson's cold start).
    """
    if padded is None:
        _im2col_inside(x, cols, kh, kw, stride, oh, ow, pool)
        return
    channels, height, width = x.shape
    if pad_top == 0 and pad_left == 0 and (oh - 1) * stride + kh <= height and (ow - 1) * stride + kw <= width:
        _im2col_inside(x, cols, kh, kw, stride, oh, ow, pool)
    else:
        _im2col_padded(x, cols, kh, kw, stride, pad_top, pad_left, oh, ow, pool)


@njit(nogil=True, cache=True, no_cfunc_wrapper=True, fastmath=FAST_MATH, error_model="numpy")
def _im2col_inside(x, cols, kh, kw, stride, oh, ow, pool):
    """``im2col`` where every window lies inside the image ("valid" padding): no bounds to
    test, so the copies are bare loops (0.37 ms against 0.67 ms for 64 MNIST images, pool 2)."""
    channels, height, width = x.shape
    source = x.reshape(-1)
    target = cols.reshape(-1)
    ph, pw = oh // pool, ow // pool
    step = pool * stride
    count = np.uint64(pw)
    for block in range(pool * pool):
        first_y, first_x = (block // pool) * stride, (block % pool) * stride
        for c in range(channels):
            for ky in range(kh):
                for kx in range(kw):
                    row0 = ((c * kh + ky) * kw + kx) * oh * ow + block * ph * pw
                    for py in range(ph):
                        d0 = np.uint64(row0 + py * pw)
                        s0 = np.uint64((c * height + py * step + first_y + ky) * width + first_x + kx)
                        _copy_row(target, d0, source, s0, count, step)


@njit(nogil=True, cache=True, no_cfunc_wrapper=True, fastmath=FAST_MATH, error_model="numpy")
def _im2col_padded(x, cols, kh, kw, stride, pad_top, pad_left, oh, ow, pool):
    """``im2col`` with zero padding around the image."""
    channels, height, width = x.shape
    zero = like(cols, 0.0)
    source = x.reshape(-1)
    target = cols.reshape(-1)
    ph, pw = oh // pool, ow // pool
    step = pool * stride
    for block in range(pool * pool):
        first_y, first_x = (block // pool) * stride, (block % pool) * stride
        column0 = block * ph * pw
        for c in range(channels):
            for ky in range(kh):
                y_lo, y_hi = _valid_range(ph, first_y + ky, pad_top, step, height)
                for kx in range(kw):
                    r = (c * kh + ky) * kw + kx
                    row0 = r * oh * ow + column0
                    # rows (py) outside the image and columns (px) outside it read the zero padding
                    for i in range(np.uint64(row0), np.uint64(row0 + y_lo * pw)):
                        target[i] = zero
                    for i in range(np.uint64(row0 + y_hi * pw), np.uint64(row0 + ph * pw)):
                        target[i] = zero
                    lo, hi = _valid_range(pw, first_x + kx, pad_left, step, width)
                    count = np.uint64(hi - lo)
                    for py in range(y_lo, y_hi):
                        dst = np.uint64(row0 + py * pw)
                        for px in range(lo):
                            target[dst + np.uint64(px)] = zero
                        for px in range(hi, pw):
                            target[dst + np.uint64(px)] = zero
                        # from column lo on, the pixels read are s0, s0 + step, ...: all ≥ 0
                        iy = py * step + first_y + ky - pad_top
                        d0 = dst + np.uint64(lo)
                        s0 = np.uint64((c * height + iy) * width + first_x + kx - pad_left + lo * step)
                        _copy_row(target, d0, source, s0, count, step)


@njit(nogil=True, cache=True, no_cfunc_wrapper=True, fastmath=FAST_MATH, error_model="numpy")
def col2im(cols, dx, kh, kw, stride, pad_top, pad_left, oh, ow, pool):
    """The adjoint of ``im2col`` (same column order): add each row of ``cols`` back onto the
    pixels it was read from (a pixel seen by several windows collects from each); ``dx``
    (C, H, W) is zeroed first."""
    channels, height, width = dx.shape
    target = dx.reshape(-1)
    source = cols.reshape(-1)
    zero = like(dx, 0.0)
    for i in range(target.size):
        target[i] = zero
    ph, pw = oh // pool, ow // pool
    step = pool * stride
    for block in range(pool * pool):
        first_y, first_x = (block // pool) * stride, (block % pool) * stride
        column0 = block * ph * pw
        for c in range(channels):
            for ky in range(kh):
                for kx in range(kw):
                    r = (c * kh + ky) * kw + kx
                    lo, hi = _valid_range(pw, first_x + kx, pad_left, step, width)
                    for py in range(ph):
                        iy = py * step + first_y + ky - pad_top
                        if iy < 0 or iy >= height:
                            continue
                        d0 = np.uint64((c * height + iy) * width + first_x + kx - pad_left + lo * step)
                        s0 = np.uint64(r * oh * ow + column0 + py * pw + lo)
                        if step == 1:
                            for t in range(np.uint64(hi - lo)):
                                target[d0 + t] += source[s0 + t]
                        else:
                            stride_u = np.uint64(step)
                            for t in range(np.uint64(hi - lo)):
                                target[d0 + t * stride_u] += source[s0 + t]


@njit(nogil=True, cache=True, no_cfunc_wrapper=True, fastmath=FAST_MATH, error_model="numpy")
def zero_filter_grads(weight_grad2, bias_grad):
    """Clear ∂C/∂W (F, C·kh·kw) and ∂C/∂b (F) before the examples of a batch add their shares."""
    zero = like(weight_grad2, 0.0)
    for f in range(weight_grad2.shape[0]):
        bias_grad[f] = zero
        for k in range(weight_grad2.shape[1]):
            weight_grad2[f, k] = zero


@njit(nogil=True, cache=True, no_cfunc_wrapper=True, fastmath=FAST_MATH, error_model="numpy")
def add_filter_grads(delta, partial, weight_grad2, bias_grad):
    """Add one example's share: ∂C/∂b_f += Σ_p δ[f, p] and ∂C/∂W += ``partial`` (= δ · colsᵀ).

    A filter's bias is shared by all its positions, so its gradient sums δ over them, as
    its weights' gradient sums the products over them.
    """
    zero = like(weight_grad2, 0.0)
    for f in range(weight_grad2.shape[0]):
        total = zero
        for p in range(delta.shape[1]):
            total += delta[f, p]
        bias_grad[f] += total
        for k in range(weight_grad2.shape[1]):
            weight_grad2[f, k] += partial[f, k]


@njit(nogil=True, cache=True, no_cfunc_wrapper=True, fastmath=FAST_MATH, error_model="numpy")
def conv_forward(x, weight2, bias, a, cols, kh, kw, stride, pad_top, pad_left, code, alpha):
    """a = act(W ⋆ x + b) for a batch: x (B, C, H, W), weight2 (F, C·kh·kw), a (B, F, OH, OW).

    The activation is applied in place: backward needs only ``a`` (for ReLU, a > 0 exactly
    where z > 0), which saves a second batch-sized array and a pass over it.
    """
    batch = x.shape[0]
    filters = weight2.shape[0]
    oh, ow = a.shape[2], a.shape[3]
    for b in range(batch):
        im2col(x[b], cols, kh, kw, stride, pad_top, pad_left, oh, ow, 1, True)
        z = a[b].reshape(filters, oh * ow)
        np.dot(weight2, cols, z)
        for f in range(filters):
            shift = bias[f]
            for p in range(oh * ow):
                z[f, p] += shift
        activation_forward(code, z, z, alpha)


@njit(nogil=True, cache=True, no_cfunc_wrapper=True, fastmath=FAST_MATH, error_model="numpy")
def conv_backward(
    x,
    weight2,
    a,
    da,
    dz,
    weight_grad2,
    bias_grad,
    dx,
    cols,
    dcols,
    partial,
    kh,
    kw,
    stride,
    pad_top,
    pad_left,
    code,
    alpha,
    want_dx,
):
    """From ∂C/∂a (B, F, OH, OW): ∂C/∂W = Σ_b δ_b · cols_bᵀ, ∂C/∂b = Σ δ, and (if wanted)
    ∂C/∂x = col2im(Wᵀ · δ_b).  δ = ∂C/∂z is written into ``dz``."""
    batch = x.shape[0]
    filters = weight2.shape[0]
    oh, ow = a.shape[2], a.shape[3]
    zero_filter_grads(weight_grad2, bias_grad)
    for b in range(batch):
        ab = a[b].reshape(filters, oh * ow)
        delta = dz[b].reshape(filters, oh * ow)
        activation_backward(code, ab, ab, da[b].reshape(filters, oh * ow), delta, alpha)
        im2col(x[b], cols, kh, kw, stride, pad_top, pad_left, oh, ow, 1, True)
        np.dot(delta, cols.T, partial)
        add_filter_grads(delta, partial, weight_grad2, bias_grad)
        if want_dx:
            np.dot(weight2.T, delta, dcols)
            col2im(dcols, dx[b], kh, kw, stride, pad_top, pad_left, oh, ow, 1)


# --- the layer -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Conv2DConfig:
    filters: int = option(
        20, help="Number of feature maps: each has its own kernel, shared by all its units.", minimum=1, maximum=1024
    )
    kernel_size: int = option(5, help="Side of the square local receptive field, in pixels.", minimum=1, maximum=64)
    stride: int = option(1, help="Step between neighbouring receptive fields, in pixels.", minimum=1, maximum=64)
    padding: str = option(
        "valid",
        help='"valid": only windows inside the image (the maps shrink); '
        '"same": zeros around the border keep the maps the size of the input (stride 1).',
        choices=PADDINGS,
    )
    activation: str = option(
        "relu",
        help="The function each unit applies to its weighted input z.",
        choices=tuple(name for name in ACTIVATIONS if name != "softmax"),
    )
    alpha: float = alpha_option()


@register_layer
class Conv2D(ActivatedLayer):
    type_id = "conv2d"
    display_name = "Conv2D"
    category = "Convolutional"
    Config = Conv2DConfig
    formula = "a[f,y,x] = f(b_f + Σ w_f ⋆ x[window at y,x])"
    when_to_use = (
        "Images: each feature map detects one local pattern anywhere in the image, with few weights "
        "because every position shares them."
    )
    example_input_shape = (2, 6, 6)

    @classmethod
    def geometry(cls, config, input_shape):
        """((C, H, W), (F, OH, OW), (pad_top, pad_left)) or a ShapeError with the reason."""
        channels, height, width = image_shape_of(input_shape, "a convolution")
        k, s = config.kernel_size, config.stride
        if k > height or k > width:
            raise ShapeError(f"a {k}×{k} kernel is larger than its {height}×{width} input")
        oh, top, _ = output_size(height, k, s, config.padding)
        ow, left, _ = output_size(width, k, s, config.padding)
        if oh < 1 or ow < 1:
            raise ShapeError(f"a {k}×{k} kernel with stride {s} gives no output on a {height}×{width} input")
        return (channels, height, width), (config.filters, oh, ow), (top, left)

    @classmethod
    def infer_output_shape(cls, config, input_shape):
        return cls.geometry(config, input_shape)[1]

    @classmethod
    def parameter_shapes(cls, config, input_shape):
        channels = cls.geometry(config, input_shape)[0][0]
        k = config.kernel_size
        return {"weight": (config.filters, channels, k, k), "bias": (config.filters,)}

    @classmethod
    def dense_equivalent_count(cls, config, input_shape) -> int:
        """Parameters a Dense layer would need to map the same input to the same number of
        outputs: without shared weights each output unit has its own weight per input."""
        n_in = math.prod(input_shape)
        n_out = math.prod(cls.infer_output_shape(config, input_shape))
        return n_in * n_out + n_out

    def __init__(self, layer_id, config, input_shape, dtype=np.float32):
        super().__init__(layer_id, config, input_shape, dtype)
        (self.channels, _, _), (_, self.oh, self.ow), (self.pad_top, self.pad_left) = self.geometry(
            config, self.input_shape
        )
        k = config.kernel_size
        self.taps = self.channels * k * k
        self.cols = np.empty((self.taps, self.oh * self.ow), self.dtype)
        self.dcols = np.empty_like(self.cols)
        self.partial = np.empty((config.filters, self.taps), self.dtype)
        self._buffers = BatchBuffers()

    def initialize(self, initializer, rng):
        k = self.config.kernel_size
        fan_in, fan_out = self.taps, self.config.filters * k * k
        self.params["weight"][...] = initial_weight(
            initializer, self.params["weight"].shape, fan_in, fan_out, rng, self.dtype
        )
        self.params["bias"][...] = initial_bias(initializer, (self.config.filters,), rng, self.dtype)

    def _arguments(self):
        c = self.config
        return c.kernel_size, c.kernel_size, c.stride, self.pad_top, self.pad_left

    def forward(self, x, training):
        batch = x.shape[0]
        self.x = np.ascontiguousarray(x.reshape((batch,) + self.input_shape), dtype=self.dtype)
        self.a = self._buffers.get(batch, "a", self.output_shape, self.dtype)
        weight2 = self.params["weight"].reshape(self.config.filters, self.taps)
        conv_forward(
            self.x,
            weight2,
            self.params["bias"],
            self.a,
            self.cols,
            *self._arguments(),
            self.activation_code,
            self.config.alpha,
        )
        return self.a

    def backward(self, dy):
        # dz and dx only once a backward pass asks: evaluation on large batches allocates only a
        batch = self.a.shape[0]
        self.dz = self._buffers.get(batch, "dz", self.output_shape, self.dtype)
        self.dx = self._buffers.get(batch, "dx", self.input_shape, self.dtype)
        weight2 = self.params["weight"].reshape(self.config.filters, self.taps)
        da = np.ascontiguousarray(dy.reshape(self.a.shape), dtype=self.dtype)
        conv_backward(
            self.x,
            weight2,
            self.a,
            da,
            self.dz,
            self.grads["weight"].reshape(weight2.shape),
            self.grads["bias"],
            self.dx,
            self.cols,
            self.dcols,
            self.partial,
            *self._arguments(),
            self.activation_code,
            self.config.alpha,
            True,
        )
        return self.dx
