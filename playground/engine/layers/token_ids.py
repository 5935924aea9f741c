"""Token-id inputs, shared by Embedding and OneHot.

A text network starts with the ordinary ``input`` layer whose shape is ``[T]``: one
integer token id per time step (a Vocabulary's index; 0 is padding).  The batch
arrives as a (batch, T) array of ids (int32 from the sequence datasets; floats holding
whole numbers are accepted too, which is how the generic tests feed them), and the
first layer after the input, Embedding or OneHot, turns each id into a vector.
Ids have no gradient: their backward returns zeros shaped like the input, so the
layer protocol (backward returns ∂C/∂input) still holds.  Outputs are work buffers kept
per shape, valid until the next forward of the same shape (as the recurrent layers').
"""

from __future__ import annotations

import numpy as np

from .base import Layer, ShapeError


def token_shape(input_shape) -> int:
    """T of a [T] token-id input, or ShapeError saying what is expected."""
    if len(input_shape) != 1:
        shown = "×".join(str(s) for s in input_shape)
        raise ShapeError(f"needs token ids of shape [time steps] from an input layer, not [{shown}]")
    return int(input_shape[0])


class TokenLayer(Layer):
    """Base of the layers that read token ids (not registered itself)."""

    category = "Sequence"
    #: the generic tests feed whole numbers below this instead of Gaussian floats
    token_input = True
    example_input_shape = (4,)

    def __init__(self, layer_id, config, input_shape, dtype=np.float32):
        super().__init__(layer_id, config, input_shape, dtype)
        self._kept: dict[tuple, np.ndarray] = {}

    @classmethod
    def infer_output_shape(cls, config, input_shape):
        return (token_shape(input_shape), cls.width(config))

    @classmethod
    def width(cls, config) -> int:
        raise NotImplementedError

    def buffer(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """A work array kept per name and shape (the batch and the length vary), allocated once."""
        key = (name, shape)
        found = self._kept.get(key)
        if found is None:
            if len(self._kept) >= 6:
                self._kept.pop(next(iter(self._kept)))
            found = self._kept[key] = np.zeros(shape, self.dtype)
        return found

    def ids(self, x) -> np.ndarray:
        """The batch's ids as int64, or ValueError naming the layer and the offending id."""
        x = np.asarray(x)
        ids = x.astype(np.int64)
        vocabulary = self.config.vocabulary
        if ids.size and (ids.min() < 0 or ids.max() >= vocabulary or not np.array_equal(ids, x)):
            bad = x.flat[np.flatnonzero((ids < 0) | (ids >= vocabulary) | (ids != x))[0]]
            raise ValueError(f'layer "{self.id}": token id {bad} is not a whole number from 0 to {vocabulary - 1}')
        self._input_shape = x.shape
        return ids

    def backward(self, dy):
        return self.buffer("no gradient", self._input_shape)
