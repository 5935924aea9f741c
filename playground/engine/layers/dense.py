"""Dense (fully connected) layer: a = f(W·x + b), with the activation f chosen per layer.

Weights follow PyTorch's layout, ``weight`` (out, in) and ``bias`` (out), so a weights file
can be read by either program.  Any input shape is accepted and flattened, which is how
Nielsen's networks take a 28×28 image as 784 inputs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

from ..activations import ACTIVATIONS, activation_backward, activation_forward
from ..config import option
from ..initializers import initial_bias, initial_weight
from ..numeric import FAST_MATH
from .activated import ActivatedLayer, alpha_option
from .base import ShapeError, register_layer


@njit(nogil=True, cache=True, no_cfunc_wrapper=True, fastmath=FAST_MATH, error_model="numpy")
def dense_forward(x, weight, bias, z):
    """z = x·Wᵀ + b for a (batch, in) input; the product runs in BLAS."""
    np.dot(x, weight.T, z)
    for i in range(z.shape[0]):
        for j in range(z.shape[1]):
            z[i, j] += bias[j]


@njit(nogil=True, cache=True, no_cfunc_wrapper=True, fastmath=FAST_MATH, error_model="numpy")
def dense_backward(x, delta, weight, weight_grad, bias_grad, dx, want_dx):
    """From δ = ∂C/∂z: ∂C/∂W = δᵀ·x, ∂C/∂b = Σ δ, and (if wanted) ∂C/∂x = δ·W.

    The first layer does not need ∂C/∂x, and skipping it saves a third of its work.
    """
    np.dot(delta.T, x, weight_grad)
    for j in range(bias_grad.shape[0]):
        bias_grad[j] = 0.0
    for i in range(delta.shape[0]):
        for j in range(delta.shape[1]):
            bias_grad[j] += delta[i, j]
    if want_dx:
        np.dot(delta, weight, dx)


@dataclass(frozen=True)
class DenseConfig:
    units: int = option(30, help="Number of neurons in the layer.", minimum=1, maximum=100_000)
    activation: str = option(
        "sigmoid", help="The function each neuron applies to its weighted input z.", choices=tuple(ACTIVATIONS)
    )
    alpha: float = alpha_option()


@register_layer
class Dense(ActivatedLayer):
    type_id = "dense"
    category = "Core"
    Config = DenseConfig
    produces_output = True
    formula = "a = f(W·x + b)"
    when_to_use = "Every neuron sees every input: the building block of multilayer perceptrons and classifier heads."

    @classmethod
    def infer_output_shape(cls, config, input_shape):
        return (config.units,)

    @classmethod
    def parameter_shapes(cls, config, input_shape):
        n_in = math.prod(input_shape)
        if n_in < 1:
            raise ShapeError("has no inputs")
        return {"weight": (config.units, n_in), "bias": (config.units,)}

    def __init__(self, layer_id, config, input_shape, dtype=np.float32):
        super().__init__(layer_id, config, input_shape, dtype)
        self.n_in = int(np.prod(self.input_shape))
        self._batch = -1

    def initialize(self, initializer, rng):
        units = self.config.units
        self.params["weight"][...] = initial_weight(initializer, (units, self.n_in), self.n_in, units, rng, self.dtype)
        self.params["bias"][...] = initial_bias(initializer, (units,), rng, self.dtype)

    def _buffers(self, batch: int) -> None:
        """Work arrays are allocated once per batch size: allocation per step costs more than the maths."""
        if batch != self._batch:
            self._batch = batch
            self.z = np.empty((batch, self.config.units), self.dtype)
            self.a = np.empty_like(self.z)
            self.dz = np.empty_like(self.z)
            self.dx = np.empty((batch, self.n_in), self.dtype)

    def forward(self, x, training):
        batch = x.shape[0]
        self._buffers(batch)
        self.x = np.ascontiguousarray(x.reshape(batch, self.n_in), dtype=self.dtype)
        dense_forward(self.x, self.params["weight"], self.params["bias"], self.z)
        activation_forward(self.activation_code, self.z, self.a, self.config.alpha)
        return self.a

    def backward(self, dy):
        activation_backward(self.activation_code, self.z, self.a, np.ascontiguousarray(dy), self.dz, self.config.alpha)
        return self.backward_from_delta(self.dz)

    def backward_from_delta(self, delta, want_dx: bool = True):
        """Backward pass starting from δ = ∂C/∂z, which the cost computes for the output layer."""
        dense_backward(self.x, delta, self.params["weight"], self.grads["weight"], self.grads["bias"], self.dx, want_dx)
        return self.dx.reshape((self.x.shape[0],) + self.input_shape)
