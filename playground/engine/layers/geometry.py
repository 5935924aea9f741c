"""Shape arithmetic shared by the image layers (convolution and pooling).

Kept apart from the kernels so shape inference (which runs on every edit in the window)
needs no arrays, and so every image layer words its refusals the same way.
"""

from __future__ import annotations

from .base import ShapeError


def image_shape_of(input_shape, what: str) -> tuple[int, int, int]:
    """The (channels, height, width) of an image input, or a ShapeError saying what arrived."""
    if len(input_shape) != 3:
        raise ShapeError(f"{what} expects an image input [channels, height, width] but gets {list(input_shape)}")
    return tuple(int(v) for v in input_shape)


def output_size(size: int, kernel: int, stride: int, padding: str) -> tuple[int, int, int]:
    """(output size, padding before, padding after) along one axis.

    "valid" uses only windows that lie inside the input: (size − kernel) // stride + 1.
    "same" pads with zeros so the output has ceil(size / stride) positions (with stride 1,
    the input's own size); an odd total pad puts the extra zero after, as PyTorch and
    TensorFlow do.
    """
    if padding == "same":
        out = -(-size // stride)
        total = max((out - 1) * stride + kernel - size, 0)
        return out, total // 2, total - total // 2
    return (size - kernel) // stride + 1, 0, 0


def pool_output_shape(size: int, stride: int, input_shape) -> tuple[int, int, int]:
    """(C, OH, OW) of a size×size pool moved by ``stride``; refuses a pool that does not fit
    or does not divide its input (the last rows or columns would be silently dropped)."""
    channels, height, width = image_shape_of(input_shape, "a pool")
    if size > height or size > width:
        raise ShapeError(f"a {size}×{size} pool is larger than its {height}×{width} input")
    if (height - size) % stride or (width - size) % stride:
        raise ShapeError(f"a {size}×{size} pool with stride {stride} does not divide a {height}×{width} input")
    return channels, (height - size) // stride + 1, (width - size) // stride + 1
