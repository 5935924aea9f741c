"""LSTM (Hochreiter & Schmidhuber), in ``torch.nn.LSTM``'s gate order (i, f, g, o) and layout.

    i = σ(W_ii x + W_hi h + b_i)   input gate: how much of the candidate to write
    f = σ(W_if x + W_hf h + b_f)   forget gate: how much of the old cell to keep
    g = tanh(W_ig x + W_hg h + b_g) candidate
    o = σ(W_io x + W_ho h + b_o)   output gate
    c_t = f ⊙ c_{t−1} + i ⊙ g,   h_t = o ⊙ tanh(c_t)

The cell state is updated by addition, so its error reaches c_{t−1} multiplied only by
the forget gate: with f near 1 it survives many steps, where the SimpleRNN's error is
squashed by W_hh and tanh' at every step.  Starting the forget gate's bias at 1 (Gers et
al.; Jozefowicz et al. 2015) keeps the cell remembering from the first step of training.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..config import option
from ..parts import copy_into, run_parts
from ..recurrent import (
    LSTMWork,
    lstm_backward_part,
    lstm_backward_parts,
    lstm_forward_part,
    lstm_forward_parts,
)
from .base import register_layer
from .recurrent_base import RecurrentLayer, hidden_option, return_sequences_option


@dataclass(frozen=True)
class LSTMConfig:
    hidden: int = hidden_option()
    return_sequences: str = return_sequences_option()
    forget_bias: float = option(
        1.0,
        help="Initial bias of the forget gate: 1 makes a new cell keep its memory "
        "(f = σ(1) ≈ 0.73) until it learns what to forget.",
        minimum=-10.0,
        maximum=10.0,
    )


@register_layer
class LSTM(RecurrentLayer):
    type_id = "lstm"
    display_name = "LSTM"
    Config = LSTMConfig
    gates = 4
    state_names = ("h", "c")
    formula = "c_t = f⊙c_{t−1} + i⊙g,  h_t = o⊙tanh(c_t)"
    when_to_use = (
        "Sequences with long-range dependencies: the gated cell carries its error across "
        "many time steps without it vanishing."
    )

    def initialize(self, initializer, rng):
        """As every recurrent layer, then the forget gate's bias (rows H … 2H of ``bias_ih``) set to ``forget_bias``."""
        super().initialize(initializer, rng)
        self.params["bias_ih"][self.hidden : 2 * self.hidden] = self.config.forget_bias

    feature_major = True

    def _cell_buffers(self, parts, size, steps):
        hidden, dt = self.hidden, self.dtype
        per_unit = (parts, hidden, size)
        return {
            "cell": LSTMWork(
                h_now=np.empty(per_unit, dt),
                cells=np.empty((parts, (steps + 1) * hidden, size), dt),
                acts=np.empty((parts, steps * 4 * hidden, size), dt),
                tanh_c=np.empty((parts, steps * hidden, size), dt),
                dh_now=np.empty(per_unit, dt),
                dc_now=np.empty(per_unit, dt),
            ),
            "weight_hh_t": np.empty((hidden, 4 * hidden), dt),
        }

    def _run_forward(self, buf, x, initial, finals, out):
        run_parts(
            lstm_forward_parts,
            lstm_forward_part,
            buf["parts"],
            x,
            self.params["weight_ih"],
            buf["bias"],
            self.params["weight_hh"],
            initial[0],
            initial[1],
            self._parts(self.lengths),
            buf["work"],
            buf["cell"],
            finals[0],
            finals[1],
            self.sequences,
            out,
        )

    def _run_backward(self, buf, dy, d_finals, dx):
        copy_into(buf["weight_hh_t"], self.params["weight_hh"].T)  # the contiguous W_hhᵀ the parts read
        run_parts(
            lstm_backward_parts,
            lstm_backward_part,
            buf["parts"],
            dy,
            self.sequences,
            self.params["weight_ih"],
            buf["weight_hh_t"],
            self._parts(self.lengths),
            d_finals[0],
            d_finals[1],
            self.truncate,
            buf["work"],
            buf["cell"],
            self._parts(buf["d_h"]),
            self._parts(buf["d_c"]),
            self.needs_input_gradient,
            dx,
        )

    @property
    def gate_means(self) -> dict[str, np.ndarray]:
        """Mean input-gate and forget-gate activation per time step of the last forward, over batch and units."""
        acts = self._current["cell"].acts
        acts = acts.reshape(acts.shape[0], self._steps, 4, self.hidden, acts.shape[2])
        return {"input": acts[:, :, 0].mean(axis=(0, 2, 3)), "forget": acts[:, :, 1].mean(axis=(0, 2, 3))}
