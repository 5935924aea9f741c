"""Work arrays kept per batch size, for the layers that write their results into buffers.

Allocating a batch-sized array on every step costs more than the arithmetic that fills
it, so a layer allocates once per batch size and reuses.  Three sizes are kept, the ones
a training run alternates between: the training batch, the evaluation batch and a short
last batch; a fourth size evicts the oldest.
"""

from __future__ import annotations

import numpy as np

#: batch sizes kept at once: training, evaluation and a short last batch
KEPT_BATCH_SIZES = 3


class BatchBuffers:
    """Named arrays of shape (batch,) + a per-name shape, allocated on first use."""

    def __init__(self):
        self._by_batch: dict[int, dict[str, np.ndarray]] = {}

    def get(self, batch: int, name: str, shape: tuple[int, ...], dtype) -> np.ndarray:
        """The array ``name`` for this batch size: (batch,) + ``shape`` of ``dtype``, kept between calls."""
        found = self._by_batch.get(batch)
        if found is None:
            if len(self._by_batch) >= KEPT_BATCH_SIZES:
                self._by_batch.pop(next(iter(self._by_batch)))
            found = self._by_batch[batch] = {}
        if name not in found:
            found[name] = np.empty((batch,) + tuple(shape), dtype)
        return found[name]
