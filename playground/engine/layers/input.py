"""The network's entry point: declares the shape of one example, e.g. [784] or [1, 28, 28]."""

from __future__ import annotations

from dataclasses import dataclass

from ..config import option
from .base import Layer, register_layer


@dataclass(frozen=True)
class InputConfig:
    shape: tuple[int, ...] = option((784,), help="Shape of one example: [features] or [channels, height, width].")


@register_layer
class Input(Layer):
    type_id = "input"
    category = "Core"
    Config = InputConfig
    formula = "a⁰ = x"
    when_to_use = "Every network starts with one: it states what one example looks like."

    @classmethod
    def infer_output_shape(cls, config, input_shape):
        return tuple(config.shape)

    def forward(self, x, training):
        return x

    def backward(self, dy):
        return dy
