"""What SimpleRNN and LSTM share: the torch layout of their weights, the sequence API, the buffers.

A recurrent layer reads a (batch, T, features) sequence and runs the same cell at every
step, feeding its hidden state h_t into step t+1.  Unrolled over T steps it is a T-layer
deep network with shared weights, trained by backpropagation through time; its error
signal ‖∂C/∂h_t‖ along t (``time_grad_norms``) shows the vanishing gradient on the time
axis, as the per-layer gradient norm does for deep feed-forward nets.

Parameters follow ``torch.nn.RNN``/``torch.nn.LSTM`` (one layer, ``batch_first=True``):
``weight_ih`` (G·H, in), ``weight_hh`` (G·H, H), ``bias_ih`` and ``bias_hh`` (G·H), with G = 1
for the RNN and 4 gates for the LSTM, so a weights file maps one-to-one onto torch's
``weight_ih_l0`` etc.

Beyond the base protocol (for the encoder-decoder and the trainers):
- ``forward(x, training, initial_state=None, lengths=None)``; afterwards ``final_state`` is
  a tuple of (batch, H) arrays, (h,) or (h, c), read at each sequence's last valid step;
- ``backward(dy, d_final_state=None)`` also sets ``d_initial_state`` (a tuple like
  ``final_state``), so an encoder receives its decoder's error;
- ``time_grad_norms`` (T,): ‖∂C/∂h_t‖ of the last backward, over the whole batch;
- ``truncate``: BPTT truncated to blocks of that many steps (0: full); see recurrent.py.

The arrays these return are the layer's work buffers, valid until its next forward or
backward with the same batch size and length: copy what must outlive that.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from ..config import option
from ..initializers import initial_weight
from ..parts import batch_parts
from ..recurrent import RecurrentWork, combine_parts
from .base import Layer, ShapeError

#: (batch, T) shapes whose buffers are kept at once: training, evaluation, a short last batch
KEPT_SHAPES = 3


def hidden_option():
    return option(32, help="Size H of the hidden state h_t carried from step to step.", minimum=1, maximum=4096)


def return_sequences_option():
    return option(
        "no",
        help="Output h_t at every step (yes: for a per-step head or a next recurrent layer) "
        "or only the final state (no: for one prediction per sequence).",
        choices=("no", "yes"),
    )


def sequence_shape(input_shape) -> tuple[int, int]:
    """(T, features) of a sequence input, or ShapeError saying what is expected."""
    if len(input_shape) != 2:
        shown = "×".join(str(s) for s in input_shape)
        raise ShapeError(f"needs a sequence input [time steps, features], not [{shown}]")
    return int(input_shape[0]), int(input_shape[1])


class RecurrentLayer(Layer):
    """Base of SimpleRNN and LSTM (not registered itself); subclasses set ``gates`` and the cell kernels."""

    category = "Sequence"
    #: weight rows per hidden unit: 1 for the RNN, 4 (i, f, g, o) for the LSTM
    gates: ClassVar[int] = 1
    #: the cell's memory besides h (the LSTM's c); names of the state tuple's members
    state_names: ClassVar[tuple[str, ...]] = ("h",)
    #: the projections ``xp`` and the errors ``deltas`` as per-step (G·H, B) blocks, (T·G·H, B),
    #: rather than (T·B, G·H) rows: the LSTM's per-step GEMMs are faster so (see recurrent.py)
    feature_major: ClassVar[bool] = False
    decaying = ("weight_ih", "weight_hh")
    example_input_shape = (4, 3)

    @classmethod
    def infer_output_shape(cls, config, input_shape):
        steps, _ = sequence_shape(input_shape)
        return (steps, config.hidden) if config.return_sequences == "yes" else (config.hidden,)

    @classmethod
    def parameter_shapes(cls, config, input_shape):
        _, features = sequence_shape(input_shape)
        rows = cls.gates * config.hidden
        return {
            "weight_ih": (rows, features),
            "weight_hh": (rows, config.hidden),
            "bias_ih": (rows,),
            "bias_hh": (rows,),
        }

    def __init__(self, layer_id, config, input_shape, dtype=np.float32):
        super().__init__(layer_id, config, input_shape, dtype)
        self.features = self.input_shape[1]
        self.hidden = config.hidden
        self.sequences = config.return_sequences == "yes"
        self.truncate = 0
        #: False when the input is the data itself (the layer follows the input layer): backward
        #: then skips ∂C/∂x, a sixth of its products, and returns None
        self.needs_input_gradient = True
        self._shapes: dict[tuple[int, int], dict[str, np.ndarray]] = {}
        self.final_state: tuple[np.ndarray, ...] = ()
        self.d_initial_state: tuple[np.ndarray, ...] = ()
        self.time_grad_norms = np.zeros(0)

    def initialize(self, initializer, rng):
        """Weights from the chosen initialiser (fan-in: the input size for W_ih, H for W_hh); biases 0."""
        rows, hidden = self.gates * self.hidden, self.hidden
        self.params["weight_ih"][...] = initial_weight(
            initializer, (rows, self.features), self.features, hidden, rng, self.dtype
        )
        self.params["weight_hh"][...] = initial_weight(initializer, (rows, hidden), hidden, hidden, rng, self.dtype)
        self.params["bias_ih"][...] = 0.0
        self.params["bias_hh"][...] = 0.0

    # --- buffers ----------------------------------------------------------------------------
    def _buffers(self, batch: int, steps: int) -> dict[str, np.ndarray]:
        """Work arrays for one (batch, T): allocated once, reused every step after.

        The per-step arrays are stacked over the parts of the batch (``batch_parts``), which
        the kernels run on a thread each; the layer's inputs and results keep the (batch, …)
        layout and are handed to the kernels as (parts, batch/parts, …) views."""
        key = (batch, steps)
        found = self._shapes.get(key)
        if found is None:
            if len(self._shapes) >= KEPT_SHAPES:
                self._shapes.pop(next(iter(self._shapes)))
            parts = batch_parts(batch)
            size = batch // parts
            rows, hidden, dt = steps * size, self.hidden, self.dtype
            width = self.gates * hidden
            per_step = (parts, steps * width, size) if self.feature_major else (parts, rows, width)
            xp = np.empty(per_step, dt)
            found = {
                "parts": parts,
                "bias": np.empty(width, dt),
                "lengths": np.full(batch, steps, np.int64),
                "norms": np.zeros(steps),
                "out": np.empty((batch, steps, hidden), dt),
                "dx": np.empty((batch, steps, self.features), dt),
                # the all-steps GEMMs' (G·H, T·B) layout; the batch-major kernels do not use it
                "work": RecurrentWork(
                    xt=np.empty((parts, rows, self.features), dt),
                    xp=xp,
                    spread=np.empty((parts, width, rows), dt) if self.feature_major else xp,
                    hs=np.empty((parts, rows + size, hidden), dt),
                    deltas=np.empty(per_step, dt),
                    dxt=np.empty((parts, rows, self.features), dt),
                    norms=np.zeros((parts, steps)),
                    grad_ih=np.empty((parts, width, self.features), dt),
                    grad_hh=np.empty((parts, width, hidden), dt),
                    grad_bias=np.empty((parts, width), dt),
                ),
            }
            for name in self.state_names:
                found[f"final_{name}"] = np.empty((batch, hidden), dt)
                found[f"d_{name}"] = np.empty((batch, hidden), dt)
                found[f"zero_{name}"] = np.zeros((batch, hidden), dt)
            found.update(self._cell_buffers(parts, size, steps))
            self._shapes[key] = found
        return found

    def _cell_buffers(self, parts: int, size: int, steps: int) -> dict:
        return {}

    def _parts(self, array: np.ndarray) -> np.ndarray:
        """A (batch, …) array as the (parts, batch/parts, …) view the kernels take."""
        parts = self._current["parts"]
        return array.reshape(parts, array.shape[0] // parts, *array.shape[1:])

    def _check_lengths(self, lengths, batch: int, steps: int, own: np.ndarray) -> np.ndarray:
        if lengths is None:
            own[:] = steps
            return own
        lengths = np.asarray(lengths)
        if lengths.shape != (batch,) or lengths.min() < 1 or lengths.max() > steps:
            raise ValueError(f'layer "{self.id}": lengths must be {batch} whole numbers between 1 and {steps}')
        own[:] = lengths
        return own

    # --- forward and backward ---------------------------------------------------------------
    def forward(self, x, training, initial_state=None, lengths=None):
        x = np.ascontiguousarray(x, dtype=self.dtype)
        if x.ndim != 3 or x.shape[2] != self.features:
            raise ValueError(f'layer "{self.id}": expects (batch, time steps, {self.features}) inputs, got {x.shape}')
        batch, steps = x.shape[0], x.shape[1]
        buf = self._buffers(batch, steps)
        self._current = buf
        self._batch, self._steps = batch, steps
        self.lengths = self._check_lengths(lengths, batch, steps, buf["lengths"])
        np.add(self.params["bias_ih"], self.params["bias_hh"], out=buf["bias"])
        # a copy, never np.broadcast_to's read-only view: a read-only array is another signature
        # to numba, and would compile the recurrent kernels a second time on a cold cache
        initial = tuple(
            buf[f"zero_{name}"]
            if initial_state is None
            else np.array(np.broadcast_to(initial_state[index], (batch, self.hidden)), self.dtype, order="C")
            for index, name in enumerate(self.state_names)
        )
        finals = tuple(buf[f"final_{name}"] for name in self.state_names)
        self._run_forward(
            buf,
            self._parts(x),
            tuple(self._parts(s) for s in initial),
            tuple(self._parts(f) for f in finals),
            self._parts(buf["out"]),
        )
        self.final_state = finals
        return buf["out"] if self.sequences else finals[0]

    def backward(self, dy, d_final_state=None):
        buf, batch, steps = self._current, self._batch, self._steps
        dy = np.ascontiguousarray(dy, dtype=self.dtype).reshape(batch, steps if self.sequences else 1, self.hidden)
        finals = d_final_state if d_final_state is not None else tuple(buf[f"zero_{n}"] for n in self.state_names)
        finals = tuple(self._parts(np.ascontiguousarray(f, dtype=self.dtype)) for f in finals)
        self._run_backward(buf, self._parts(dy), finals, self._parts(buf["dx"]))
        grads = self.grads
        combine_parts(buf["work"], grads["weight_ih"], grads["weight_hh"], grads["bias_ih"], buf["norms"])
        self.grads["bias_hh"][...] = self.grads["bias_ih"]
        self.time_grad_norms = buf["norms"]
        self.d_initial_state = tuple(buf[f"d_{name}"] for name in self.state_names)
        return buf["dx"] if self.needs_input_gradient else None

    def _run_forward(self, buf, x, initial, finals, out) -> None:
        """The cell's forward kernel over the parts: x, the initial states, the final states and
        the output, all as (parts, batch/parts, …) views."""
        raise NotImplementedError

    def _run_backward(self, buf, dy, d_finals, dx) -> None:
        """The cell's BPTT kernel over the parts, filling each part's share of the weight gradients
        and of ‖∂C/∂h_t‖ (``buf["work"]``, which ``combine_parts`` adds up) and the d_<state>
        buffers (∂C/∂ of the initial state); dy, d_finals and dx as part views."""
        raise NotImplementedError
