"""Inverted dropout: during training each unit is kept with probability 1 − p and scaled by
1/(1 − p); at evaluation the layer passes its input through unchanged.

Scaling at training time (rather than shrinking weights at test time, as in the original
paper) keeps evaluation free of any dropout arithmetic, so a trained network can be
evaluated or exported as it is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from ..config import option
from .base import Layer, ShapeError, register_layer


@njit(nogil=True, cache=True, no_cfunc_wrapper=True)
def seed_kernel_random(seed):
    """Seed numba's generator, which is per thread: call it on the thread that trains."""
    np.random.seed(seed)


@njit(nogil=True, cache=True, no_cfunc_wrapper=True)
def dropout_forward(x, mask, out, rate):
    """Draw a fresh mask of kept units, each scaled by 1/(1 − rate), and apply it."""
    keep = 1.0 - rate
    scale = 1.0 / keep
    flat_x = x.reshape(-1)
    flat_mask = mask.reshape(-1)
    flat_out = out.reshape(-1)
    for i in range(flat_x.size):
        flat_mask[i] = scale if np.random.random() < keep else 0.0
        flat_out[i] = flat_x[i] * flat_mask[i]


@dataclass(frozen=True)
class DropoutConfig:
    rate: float = option(0.5, help="Probability of dropping each unit during training.", minimum=0.0, maximum=0.95)


@register_layer
class Dropout(Layer):
    type_id = "dropout"
    category = "Regularisation"
    Config = DropoutConfig
    formula = "a = x ⊙ m / (1 − p),  m ~ Bernoulli(1 − p)"
    when_to_use = "Against overfitting: units cannot rely on each other when any may vanish."

    @classmethod
    def infer_output_shape(cls, config, input_shape):
        if not input_shape:
            raise ShapeError("needs an input")
        return input_shape

    def forward(self, x, training):
        if not training or self.config.rate == 0.0:
            self.mask = None
            return x
        x = np.ascontiguousarray(x)
        self.mask = np.empty_like(x)
        out = np.empty_like(x)
        dropout_forward(x, self.mask, out, self.config.rate)
        return out

    def backward(self, dy):
        return dy if self.mask is None else dy * self.mask
