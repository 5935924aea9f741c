"""Average pooling: each output unit is the mean of a size×size window.

A smoother summary than max pooling: every input of the window gets an equal share,
1/size², of the gradient.  (LeNet-5 pooled this way, with a trainable scale.)
"""

from __future__ import annotations

from dataclasses import dataclass

from numba import njit

from ..numeric import FAST_MATH, like
from .base import register_layer
from .pooling import Pool2D, size_option, stride_option


@njit(nogil=True, cache=True, no_cfunc_wrapper=True, fastmath=FAST_MATH, error_model="numpy")
def avgpool_forward(x, out, size, stride):
    batch, channels = x.shape[0], x.shape[1]
    oh, ow = out.shape[2], out.shape[3]
    scale = like(x, 1.0 / (size * size))
    zero = like(x, 0.0)
    for b in range(batch):
        for c in range(channels):
            plane = x[b, c]
            for oy in range(oh):
                for ox in range(ow):
                    y0, x0 = oy * stride, ox * stride
                    total = zero
                    for dy in range(size):
                        for dx in range(size):
                            total += plane[y0 + dy, x0 + dx]
                    out[b, c, oy, ox] = total * scale


@njit(nogil=True, cache=True, no_cfunc_wrapper=True, fastmath=FAST_MATH, error_model="numpy")
def avgpool_backward(dy, dx, size, stride):
    """Each input receives 1/size² of the gradient of every window it belongs to."""
    batch, channels, oh, ow = dy.shape
    scale = like(dx, 1.0 / (size * size))
    zero = like(dx, 0.0)
    for b in range(batch):
        for c in range(channels):
            plane = dx[b, c]
            for y in range(plane.shape[0]):
                for x in range(plane.shape[1]):
                    plane[y, x] = zero
            for oy in range(oh):
                for ox in range(ow):
                    share = dy[b, c, oy, ox] * scale
                    y0, x0 = oy * stride, ox * stride
                    for ddy in range(size):
                        for ddx in range(size):
                            plane[y0 + ddy, x0 + ddx] += share


@dataclass(frozen=True)
class AvgPool2DConfig:
    size: int = size_option("averages")
    stride: int = stride_option()


@register_layer
class AvgPool2D(Pool2D):
    type_id = "avgpool2d"
    display_name = "AvgPool2D"
    Config = AvgPool2DConfig
    formula = "a[c,y,x] = mean over the window at (y,x) of x[c]"
    when_to_use = "Shrinks feature maps by averaging: smoother than max pooling, every input shares the gradient."

    def reduce_windows(self, x, out, training):
        avgpool_forward(x, out, self.size, self.stride)

    def route_gradient(self, dy, dx):
        avgpool_backward(dy, dx, self.size, self.stride)
