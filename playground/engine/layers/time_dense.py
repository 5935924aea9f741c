"""TimeDense: the same Dense layer applied at every time step, (batch, T, H) → (batch, T, units).

a_t = f(W·h_t + b) with one W for all steps, like Keras' ``TimeDistributed(Dense)`` or a
``torch.nn.Linear`` applied to a (batch, T, H) tensor.  The T steps of a batch are simply
B·T rows of one matrix product, so the layer reuses Dense's kernels on those rows.  With
softmax it is the per-step classifier head of a sequence tagger or a decoder: the cost is
then summed over the steps and averaged over the batch.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..activations import ACTIVATIONS, activation_backward, activation_forward
from ..config import option
from ..initializers import initial_bias, initial_weight
from .activated import ActivatedLayer, alpha_option
from .base import ShapeError, register_layer
from .buffers import BatchBuffers
from .dense import dense_backward, dense_forward


@dataclass(frozen=True)
class TimeDenseConfig:
    units: int = option(10, help="Outputs per time step (the vocabulary size for a per-step softmax).",
                        minimum=1, maximum=100_000)
    activation: str = option("softmax", help="The function applied to each step's weighted input z_t.",
                             choices=tuple(ACTIVATIONS))
    alpha: float = alpha_option()


@register_layer
class TimeDense(ActivatedLayer):
    type_id = "time_dense"
    display_name = "TimeDense"
    category = "Sequence"
    Config = TimeDenseConfig
    produces_output = True
    formula = "a_t = f(W·h_t + b) for every t"
    when_to_use = "A prediction at every time step: tagging, language models, the decoder's word choice."
    example_input_shape = (3, 4)

    @classmethod
    def infer_output_shape(cls, config, input_shape):
        if len(input_shape) != 2:
            shown = "×".join(str(s) for s in input_shape)
            raise ShapeError(f"needs a sequence input [time steps, features], not [{shown}]")
        return (input_shape[0], config.units)

    @classmethod
    def parameter_shapes(cls, config, input_shape):
        return {"weight": (config.units, input_shape[-1]), "bias": (config.units,)}

    def __init__(self, layer_id, config, input_shape, dtype=np.float32):
        super().__init__(layer_id, config, input_shape, dtype)
        self.n_in = self.input_shape[-1]
        self._buffers = BatchBuffers()

    def initialize(self, initializer, rng):
        units = self.config.units
        self.params["weight"][...] = initial_weight(initializer, (units, self.n_in), self.n_in, units, rng, self.dtype)
        self.params["bias"][...] = initial_bias(initializer, (units,), rng, self.dtype)

    def forward(self, x, training):
        """Every step's rows at once; ``z`` and ``a`` are kept as (B·T, units), the rows the cost reads."""
        batch, steps = x.shape[0], x.shape[1]
        rows, units = batch * steps, self.config.units
        self.steps = steps
        self.x = np.ascontiguousarray(x, dtype=self.dtype).reshape(rows, self.n_in)
        self.z = self._buffers.get(rows, "z", (units,), self.dtype)
        self.a = self._buffers.get(rows, "a", (units,), self.dtype)
        dense_forward(self.x, self.params["weight"], self.params["bias"], self.z)
        activation_forward(self.activation_code, self.z, self.a, self.config.alpha)
        return self.a.reshape(batch, steps, units)

    def backward(self, dy):
        rows = self.x.shape[0]
        dz = self._buffers.get(rows, "dz", (self.config.units,), self.dtype)
        dy = np.ascontiguousarray(dy, dtype=self.dtype).reshape(rows, self.config.units)
        activation_backward(self.activation_code, self.z, self.a, dy, dz, self.config.alpha)
        return self.backward_from_delta(dz)

    def backward_from_delta(self, delta, want_dx: bool = True):
        """From δ = ∂C/∂z of every step's row (B·T, units): the weights' gradient sums over all steps."""
        rows = self.x.shape[0]
        dx = self._buffers.get(rows, "dx", (self.n_in,), self.dtype)
        delta = np.ascontiguousarray(delta, dtype=self.dtype).reshape(rows, self.config.units)
        dense_backward(self.x, delta, self.params["weight"], self.grads["weight"], self.grads["bias"], dx, want_dx)
        return dx.reshape(rows // self.steps, self.steps, self.n_in)
