"""An encoder-decoder: two chains of layers joined by a state connection (Sutskever et al. 2014).

The encoder reads the source tokens and ends in a recurrent layer; its final state
(h, or h and c for an LSTM) is the *whole* message the decoder receives, copied in as
the initial state of the decoder's recurrent layer.  The decoder reads the target
tokens shifted right by one (<bos> first), and its per-step softmax head predicts the
next target token: "teacher forcing", since during training it is always fed the right
previous word, never its own guess.  Backward runs the decoder first; the error that
reaches the decoder's initial state (``d_initial_state``) is handed to the encoder as
the error of its final state, so one gradient step trains both halves.

Step-by-step decoding (``decode_step``) runs the decoder one token at a time, carrying the
state of every recurrent layer of the decoder; the trainer builds greedy and beam search
on it.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .layers import Layer, layer_class
from .layers.recurrent_base import RecurrentLayer
from .numeric import FAST_MATH
from .parameters import LayerParameters


@njit(nogil=True, cache=True, no_cfunc_wrapper=True, fastmath=FAST_MATH, error_model="numpy")
def masked_log_likelihood(probs, targets, ignore, scale, delta):
    """C = −Σ ln a_y over the rows whose target is not ``ignore`` (padding), and δ = ∂C/∂z.

    For a softmax output the error of its weighted input is simply a − onehot(y); padded
    rows get δ = 0, so the steps after a sequence's <eos> teach nothing.  ``scale`` turns
    the sum into the mini-batch mean (1/B).  Returns the (unscaled) cost and the rows counted.
    """
    total = 0.0
    counted = 0
    for r in range(probs.shape[0]):
        y = targets[r]
        if y == ignore:
            for j in range(probs.shape[1]):
                delta[r, j] = 0.0
            continue
        counted += 1
        total -= np.log(max(probs[r, y], 1e-12))
        for j in range(probs.shape[1]):
            delta[r, j] = probs[r, j] * scale
        delta[r, y] -= scale
    return total, counted


def _run(layer: Layer, x, training: bool, *, initial_state=None, lengths=None):
    if isinstance(layer, RecurrentLayer):
        return layer.forward(x, training, initial_state=initial_state, lengths=lengths)
    return layer.forward(x, training)


class EncoderDecoder(LayerParameters):
    """The built network of an encoder-decoder spec; parameters keyed like ``Network.state()``."""

    def __init__(self, encoder: list[Layer], decoder: list[Layer]):
        if not encoder or not isinstance(encoder[-1], RecurrentLayer):
            raise ValueError("the encoder must end in a recurrent layer, whose final state starts the decoder")
        recurrent = [layer for layer in decoder if isinstance(layer, RecurrentLayer)]
        if not recurrent or not decoder[-1].produces_output:
            raise ValueError("the decoder needs a recurrent layer and must end in a per-step output layer")
        self.encoder, self.decoder = encoder, decoder
        self.layers = encoder + decoder
        self.encoder_recurrent = encoder[-1]
        #: the decoder layer the state connection feeds: its first recurrent layer
        self.decoder_recurrent = recurrent[0]
        self.decoder_recurrents = recurrent
        self.output = decoder[-1]
        self.dtype = encoder[0].dtype
        #: work arrays kept per shape: the encoder output's (zero) error and the head's δ
        self._buffers: dict[tuple, np.ndarray] = {}

    @classmethod
    def from_specs(cls, encoder_specs, decoder_specs, source_shape, target_shape, dtype=np.float32):
        """Build from two lists of ``(layer_id, type_id, config)`` in feed-forward order."""

        def chain(specs, shape):
            layers = []
            for layer_id, type_id, config in specs:
                layers.append(layer_class(type_id)(layer_id, config, shape, dtype))
                shape = layers[-1].output_shape
            return layers

        return cls(chain(encoder_specs, tuple(source_shape)), chain(decoder_specs, tuple(target_shape)))

    # --- training -----------------------------------------------------------------------------
    def encode(self, source: np.ndarray, lengths: np.ndarray, training: bool = False) -> tuple[np.ndarray, ...]:
        """The encoder's final state for (batch, S) source ids, read at each source's last token."""
        x = source
        for layer in self.encoder:
            x = _run(layer, x, training, lengths=lengths)
        self._encoder_output_shape = x.shape
        return self.encoder_recurrent.final_state

    def _buffer(self, name: str, shape: tuple[int, ...], zero: bool = False) -> np.ndarray:
        found = self._buffers.get((name, shape))
        if found is None:
            found = self._buffers[(name, shape)] = (np.zeros if zero else np.empty)(shape, self.dtype)
        return found

    def loss_and_gradients(self, source, source_lengths, decoder_input, target) -> tuple[float, int]:
        """Teacher-forced forward and backward of one mini-batch; fills every layer's ``grads``.

        ``decoder_input`` is <bos> followed by the target shifted right; ``target`` ends in
        <eos> and is 0 (padding) after it.  Returns the mini-batch's mean cost (summed over the
        steps of each sequence) and the number of target tokens scored.
        """
        batch = len(source)
        state = self.encode(source, source_lengths, training=True)
        y = decoder_input
        for layer in self.decoder:
            y = _run(layer, y, True, initial_state=state if layer is self.decoder_recurrent else None)
        rows = y.reshape(-1, y.shape[-1])
        delta = self._buffer("delta", rows.shape)
        total, counted = masked_log_likelihood(rows, np.ascontiguousarray(target).reshape(-1), 0, 1.0 / batch, delta)
        dy = self.output.backward_from_delta(delta)
        for layer in reversed(self.decoder[1:-1]):
            dy = layer.backward(dy)
        # the encoder's own output is not read: only its final state carries an error
        dy = self._buffer("no error", self._encoder_output_shape, zero=True)
        dy = self.encoder_recurrent.backward(dy, d_final_state=self.decoder_recurrent.d_initial_state)
        for layer in reversed(self.encoder[1:-1]):
            dy = layer.backward(dy)
        return total / batch, counted

    # --- decoding -----------------------------------------------------------------------------
    def start_states(self, encoder_state) -> dict[str, tuple[np.ndarray, ...]]:
        """Initial states of the decoder's recurrent layers: the encoder's for the connected one, zeros else."""
        batch = len(encoder_state[0])
        states = {}
        for layer in self.decoder_recurrents:
            if layer is self.decoder_recurrent:
                states[layer.id] = tuple(np.array(part, copy=True) for part in encoder_state)
            else:
                states[layer.id] = tuple(np.zeros((batch, layer.hidden), self.dtype) for _ in layer.state_names)
        return states

    def decode_step(self, tokens: np.ndarray, states: dict[str, tuple[np.ndarray, ...]]):
        """Probabilities of the next token (batch, V) after feeding ``tokens`` (batch,), and the new states."""
        y = tokens.reshape(-1, 1)
        new_states = {}
        for layer in self.decoder:
            if isinstance(layer, RecurrentLayer):
                y = layer.forward(y, False, initial_state=states[layer.id])
                new_states[layer.id] = tuple(part.copy() for part in layer.final_state)
            else:
                y = layer.forward(y, False)
        return y[:, 0, :], new_states
