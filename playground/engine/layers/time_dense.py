"""TimeDense: the same Dense layer applied at every time step, (batch, T, H) → (batch, T, units).

a_t = f(W·h_t + b) with one W for all steps, like Keras' ``TimeDistributed(Dense)`` or a
``torch.nn.Linear`` applied to a (batch, T, H) tensor.  The T steps of a batch are simply
B·T rows of one matrix product, so the layer reuses Dense's kernels on those rows, split
into parts that run on a thread each (parts.py), as the recurrent layer before it does.
With softmax it is the per-step classifier head of a sequence tagger or a decoder: the
cost is then summed over the steps and averaged over the batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit, prange

from ..activations import ACTIVATIONS, activation_backward, activation_forward
from ..config import option
from ..initializers import initial_bias, initial_weight
from ..numeric import FAST_MATH
from ..parts import part_bounds, row_parts, run_parts, sum_over_parts
from .activated import ActivatedLayer, alpha_option
from .base import ShapeError, register_layer
from .buffers import BatchBuffers
from .dense import dense_backward, dense_forward


@njit(nogil=True, cache=True, no_cfunc_wrapper=True, fastmath=FAST_MATH, error_model="numpy")
def time_dense_forward_part(p, x, weight, bias, code, alpha, parts, z, a):
    """z = x·Wᵀ + b and a = f(z) for part p of the B·T rows (``parts`` blocks of rows)."""
    start, stop = part_bounds(x.shape[0], parts, p)
    dense_forward(x[start:stop], weight, bias, z[start:stop])
    activation_forward(code, z[start:stop], a[start:stop], alpha)


@njit(nogil=True, cache=True, no_cfunc_wrapper=True, parallel=True, fastmath=FAST_MATH, error_model="numpy")
def time_dense_forward_parts(x, weight, bias, code, alpha, parts, z, a):
    """The parts of ``time_dense_forward_part`` on a thread each."""
    for p in prange(parts):
        time_dense_forward_part(np.int64(p), x, weight, bias, code, alpha, parts, z, a)


@njit(nogil=True, cache=True, no_cfunc_wrapper=True, fastmath=FAST_MATH, error_model="numpy")
def time_dense_backward_part(p, x, delta, weight, want_dx, weight_parts, bias_parts, dx):
    """Dense's backward for part p of the rows (one per ``weight_parts``): its share of ∂C/∂W and
    ∂C/∂b, which ``sum_over_parts`` then adds up."""
    start, stop = part_bounds(x.shape[0], weight_parts.shape[0], p)
    dense_backward(x[start:stop], delta[start:stop], weight, weight_parts[p], bias_parts[p], dx[start:stop], want_dx)


@njit(nogil=True, cache=True, no_cfunc_wrapper=True, parallel=True, fastmath=FAST_MATH, error_model="numpy")
def time_dense_backward_parts(x, delta, weight, want_dx, weight_parts, bias_parts, dx):
    """The parts of ``time_dense_backward_part`` on a thread each."""
    for p in prange(weight_parts.shape[0]):
        time_dense_backward_part(np.int64(p), x, delta, weight, want_dx, weight_parts, bias_parts, dx)


@dataclass(frozen=True)
class TimeDenseConfig:
    units: int = option(
        10, help="Outputs per time step (the vocabulary size for a per-step softmax).", minimum=1, maximum=100_000
    )
    activation: str = option(
        "softmax", help="The function applied to each step's weighted input z_t.", choices=tuple(ACTIVATIONS)
    )
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
        #: each part's share of the weight and bias gradients, by number of parts
        self._partial_grads: dict[int, tuple[np.ndarray, np.ndarray]] = {}

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
        parts = row_parts(rows)
        run_parts(
            time_dense_forward_parts,
            time_dense_forward_part,
            parts,
            self.x,
            self.params["weight"],
            self.params["bias"],
            self.activation_code,
            self.config.alpha,
            parts,
            self.z,
            self.a,
        )
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
        parts = row_parts(rows)
        if parts not in self._partial_grads:
            units = self.config.units
            self._partial_grads[parts] = (
                np.empty((parts, units, self.n_in), self.dtype),
                np.empty((parts, units), self.dtype),
            )
        weight_parts, bias_parts = self._partial_grads[parts]
        run_parts(
            time_dense_backward_parts,
            time_dense_backward_part,
            parts,
            self.x,
            delta,
            self.params["weight"],
            want_dx,
            weight_parts,
            bias_parts,
            dx,
        )
        sum_over_parts(weight_parts, self.grads["weight"])
        sum_over_parts(bias_parts, self.grads["bias"])
        return dx.reshape(rows // self.steps, self.steps, self.n_in)
