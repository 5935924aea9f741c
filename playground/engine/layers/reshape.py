"""Reshape: give the examples a new shape with the same number of values, e.g. restore a
784-vector to the [1, 28, 28] image a convolution expects.  Values keep their order
(row-major, as NCHW stores them); nothing is computed."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..config import option
from .base import Layer, ShapeError, register_layer


@dataclass(frozen=True)
class ReshapeConfig:
    shape: tuple[int, ...] = option(
        (1, 28, 28),
        help="The new shape of one example, e.g. [1, 28, 28] "
        "(channels, height, width); it must hold as many values as the input.",
    )


@register_layer
class Reshape(Layer):
    type_id = "reshape"
    category = "Convolutional"
    Config = ReshapeConfig
    formula = "a = x with shape [...]"
    when_to_use = "Where flat data must become an image again, e.g. 784 inputs into a [1, 28, 28] convolution."
    example_input_shape = (784,)

    @classmethod
    def infer_output_shape(cls, config, input_shape):
        target = tuple(int(v) for v in config.shape)
        have, want = math.prod(input_shape), math.prod(target)
        if have != want:
            raise ShapeError(
                f"cannot reshape {list(input_shape)} ({have:,} values) into {list(target)} "
                f"({want:,} values): the sizes must match"
            )
        return target

    def forward(self, x, training):
        return x.reshape((x.shape[0],) + self.output_shape)

    def backward(self, dy):
        return dy.reshape((dy.shape[0],) + self.input_shape)
