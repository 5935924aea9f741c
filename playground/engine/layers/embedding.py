"""Embedding: a learned table, one row of D numbers per token id, as ``torch.nn.Embedding``.

Looking a row up equals multiplying a one-hot vector by the table, but costs D copies
instead of V·D multiply-adds; backward adds each step's error to the row it read, so
only the tokens of the batch change.  Reads token ids, see token_ids.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from ..config import option
from ..numeric import FAST_MATH
from .base import register_layer
from .token_ids import TokenLayer


@njit(nogil=True, cache=True, no_cfunc_wrapper=True, fastmath=FAST_MATH, error_model="numpy")
def embedding_forward(ids, weight, out):
    for b in range(ids.shape[0]):
        for t in range(ids.shape[1]):
            row = ids[b, t]
            for k in range(weight.shape[1]):
                out[b, t, k] = weight[row, k]


@njit(nogil=True, cache=True, no_cfunc_wrapper=True, fastmath=FAST_MATH, error_model="numpy")
def embedding_backward(ids, dy, weight_grad):
    """∂C/∂weight[v] = Σ of dy over the (b, t) that read row v."""
    weight_grad[:] = 0.0
    for b in range(ids.shape[0]):
        for t in range(ids.shape[1]):
            row = ids[b, t]
            for k in range(weight_grad.shape[1]):
                weight_grad[row, k] += dy[b, t, k]


@dataclass(frozen=True)
class EmbeddingConfig:
    vocabulary: int = option(
        16, help="Number of distinct token ids V (the vocabulary's size).", minimum=1, maximum=1_000_000
    )
    dimension: int = option(8, help="Length D of each token's learned vector.", minimum=1, maximum=4096)


@register_layer
class Embedding(TokenLayer):
    type_id = "embedding"
    Config = EmbeddingConfig
    formula = "e_t = E[id_t]"
    when_to_use = "Words or characters as inputs: each token gets a learned vector, similar tokens end up close."

    @classmethod
    def width(cls, config):
        return config.dimension

    @classmethod
    def parameter_shapes(cls, config, input_shape):
        return {"weight": (config.vocabulary, config.dimension)}

    def initialize(self, initializer, rng):
        """N(0, 1) rows, as torch.nn.Embedding: the next layer's initialiser scales by its fan-in."""
        self.params["weight"][...] = rng.standard_normal(self.params["weight"].shape).astype(self.dtype)

    def forward(self, x, training):
        self._ids = self.ids(x)
        out = self.buffer("out", self._ids.shape + (self.config.dimension,))
        embedding_forward(self._ids, self.params["weight"], out)
        return out

    def backward(self, dy):
        embedding_backward(self._ids, np.ascontiguousarray(dy, dtype=self.dtype), self.grads["weight"])
        return super().backward(dy)
