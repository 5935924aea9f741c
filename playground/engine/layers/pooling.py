"""What max and average pooling share: the window options, the shape rule and the layer plumbing.

Both slide a size×size window over every feature map, ``stride`` apart, and reduce each
window to one number; they differ only in the reduction (and so in where the gradient
goes), which each layer's own file implements.  Neither has parameters.
"""

from __future__ import annotations

import numpy as np

from ..config import option
from .base import Layer
from .buffers import BatchBuffers
from .geometry import pool_output_shape


def size_option(summary: str):
    """The ``size`` field: the side of the window, with the help text saying what each output is."""
    return option(2, help=f"Side of the square window each output {summary}.", minimum=1, maximum=64)


def stride_option():
    """The ``stride`` field, where 0 means "the window size", the usual non-overlapping pool."""
    return option(
        0, help="Step between windows (0: the window size, so windows do not overlap).", minimum=0, maximum=64
    )


def pool_stride(config) -> int:
    """The step between windows that ``config`` asks for (its stride, or the window size for 0)."""
    return config.stride or config.size


class Pool2D(Layer):
    """Base of the pooling layers (not registered itself): an image (C, H, W) in, (C, OH, OW) out.

    It does the layer protocol's plumbing (shapes, contiguous arrays, buffers kept per batch
    size); a subclass supplies the arithmetic: ``reduce_windows``, which fills the output,
    and ``route_gradient``, which sends each output's gradient back to its window.
    """

    category = "Convolutional"
    example_input_shape = (2, 6, 6)

    @classmethod
    def infer_output_shape(cls, config, input_shape):
        return pool_output_shape(config.size, pool_stride(config), input_shape)

    def __init__(self, layer_id, config, input_shape, dtype=np.float32):
        super().__init__(layer_id, config, input_shape, dtype)
        self.size, self.stride = config.size, pool_stride(config)
        self._buffers = BatchBuffers()

    def output(self, batch: int, name: str = "out", dtype=None) -> np.ndarray:
        """An output-shaped work array for this batch size (``out``, or another such as argmax)."""
        return self._buffers.get(batch, name, self.output_shape, dtype or self.dtype)

    def forward(self, x, training):
        batch = x.shape[0]
        x = np.ascontiguousarray(x.reshape((batch,) + self.input_shape), dtype=self.dtype)
        self.out = self.output(batch)
        self.reduce_windows(x, self.out, training)
        return self.out

    def backward(self, dy):
        dy = np.ascontiguousarray(dy.reshape(self.out.shape), dtype=self.dtype)
        dx = self._buffers.get(self.out.shape[0], "dx", self.input_shape, self.dtype)
        self.route_gradient(dy, dx)
        return dx

    def reduce_windows(self, x: np.ndarray, out: np.ndarray, training: bool) -> None:
        """Fill ``out`` (B, C, OH, OW) with one number per window of ``x`` (B, C, H, W)."""
        raise NotImplementedError

    def route_gradient(self, dy: np.ndarray, dx: np.ndarray) -> None:
        """Fill ``dx`` (B, C, H, W) with ∂C/∂x from ``dy`` = ∂C/∂out of the last forward pass."""
        raise NotImplementedError
