"""Average pooling: each output unit is the mean of a size×size window.

A smoother summary than max pooling: every input of the window gets an equal share,
1/size², of the gradient.  (LeNet-5 pooled this way, with a trainable scale.)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from ..config import option
from ..numeric import FAST_MATH, like
from .base import Layer, register_layer
from .geometry import pool_output_shape


@njit(nogil=True, cache=True, fastmath=FAST_MATH, error_model="numpy")
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


@njit(nogil=True, cache=True, fastmath=FAST_MATH, error_model="numpy")
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
    size: int = option(2, help="Side of the square window each output averages.", minimum=1, maximum=64)
    stride: int = option(0, help="Step between windows (0: the window size, so windows do not overlap).",
                         minimum=0, maximum=64)


def pool_stride(config) -> int:
    return config.stride or config.size


@register_layer
class AvgPool2D(Layer):
    type_id = "avgpool2d"
    category = "Convolutional"
    Config = AvgPool2DConfig
    formula = "a[c,y,x] = mean over the window at (y,x) of x[c]"
    when_to_use = "Shrinks feature maps by averaging: smoother than max pooling, every input shares the gradient."
    example_input_shape = (2, 6, 6)

    @classmethod
    def infer_output_shape(cls, config, input_shape):
        return pool_output_shape(config.size, pool_stride(config), input_shape)

    def __init__(self, layer_id, config, input_shape, dtype=np.float32):
        super().__init__(layer_id, config, input_shape, dtype)
        self._buffers: dict[int, dict[str, np.ndarray]] = {}

    def buffers(self, batch: int) -> dict[str, np.ndarray]:
        """out for this batch size, allocated once (dx on the first backward pass)."""
        if batch not in self._buffers:
            if len(self._buffers) >= 3:
                self._buffers.pop(next(iter(self._buffers)))
            self._buffers[batch] = {"out": np.empty((batch,) + self.output_shape, self.dtype)}
        return self._buffers[batch]

    def _dx(self, batch: int) -> np.ndarray:
        found = self.buffers(batch)
        if "dx" not in found:
            found["dx"] = np.empty((batch,) + self.input_shape, self.dtype)
        return found["dx"]

    def forward(self, x, training):
        batch = x.shape[0]
        x = np.ascontiguousarray(x.reshape((batch,) + self.input_shape), dtype=self.dtype)
        self.out = self.buffers(batch)["out"]
        avgpool_forward(x, self.out, self.config.size, pool_stride(self.config))
        return self.out

    def backward(self, dy):
        dy = np.ascontiguousarray(dy.reshape(self.out.shape), dtype=self.dtype)
        dx = self._dx(self.out.shape[0])
        avgpool_backward(dy, dx, self.config.size, pool_stride(self.config))
        return dx
