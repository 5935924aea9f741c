"""Flatten: lay an image's feature maps out as one vector, (C, H, W) → C·H·W.

A Dense layer flattens whatever it receives anyway, so the network computes the same
with or without this layer; it is there to make the step visible on the canvas (and the
order is NCHW's: channel by channel, row by row).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .base import Layer, ShapeError, register_layer


@dataclass(frozen=True)
class FlattenConfig:
    pass


@register_layer
class Flatten(Layer):
    type_id = "flatten"
    category = "Convolutional"
    Config = FlattenConfig
    formula = "a = x reshaped to [C·H·W]"
    when_to_use = "Between the convolutional part and the dense head, to show where images become vectors."
    example_input_shape = (2, 3, 3)

    @classmethod
    def infer_output_shape(cls, config, input_shape):
        if not input_shape:
            raise ShapeError("needs an input")
        return (math.prod(input_shape),)

    def forward(self, x, training):
        return x.reshape(x.shape[0], -1)

    def backward(self, dy):
        return dy.reshape((dy.shape[0],) + self.input_shape)
