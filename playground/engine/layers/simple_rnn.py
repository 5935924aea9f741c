"""SimpleRNN (Elman): h_t = tanh(x_t·W_ihᵀ + b_ih + h_{t−1}·W_hhᵀ + b_hh), as ``torch.nn.RNN``.

Backpropagated through time, the error reaching h_{t−k} is multiplied k times by
W_hhᵀ·diag(1 − h²): unless those factors stay near 1 it shrinks (or grows) geometrically,
so the net cannot learn what lies many steps back.  The adding problem shows it: over
50 steps this layer stays at the MSE of guessing, where the LSTM solves it.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..parts import run_parts
from ..recurrent import rnn_backward_part, rnn_backward_parts, rnn_forward_part, rnn_forward_parts
from .base import register_layer
from .recurrent_base import RecurrentLayer, hidden_option, return_sequences_option


@dataclass(frozen=True)
class SimpleRNNConfig:
    hidden: int = hidden_option()
    return_sequences: str = return_sequences_option()


@register_layer
class SimpleRNN(RecurrentLayer):
    type_id = "simple_rnn"
    display_name = "SimpleRNN"
    Config = SimpleRNNConfig
    gates = 1
    state_names = ("h",)
    formula = "h_t = tanh(W_ih·x_t + b_ih + W_hh·h_{t−1} + b_hh)"
    when_to_use = (
        "The plainest memory for sequences; its gradient vanishes over long spans, "
        "which is what the LSTM was invented to fix."
    )

    @property
    def can_saturate(self):
        return True

    def _run_forward(self, buf, x, initial, finals, out):
        run_parts(
            rnn_forward_parts,
            rnn_forward_part,
            buf["parts"],
            x,
            self.params["weight_ih"],
            buf["bias"],
            self.params["weight_hh"],
            initial[0],
            self._parts(self.lengths),
            buf["work"],
            finals[0],
            self.sequences,
            out,
        )

    def _run_backward(self, buf, dy, d_finals, dx):
        run_parts(
            rnn_backward_parts,
            rnn_backward_part,
            buf["parts"],
            dy,
            self.sequences,
            self.params["weight_ih"],
            self.params["weight_hh"],
            self._parts(self.lengths),
            d_finals[0],
            self.truncate,
            buf["work"],
            self._parts(buf["d_h"]),
            self.needs_input_gradient,
            dx,
        )
