"""The state of a run at the steps it passed, for the window's timeline: bounded memory.

The worker already hands the window a copy of the weights about ten times a second (and at
every step in slow motion); ``WeightsAt`` tags such a copy with the step it was taken after.
``SnapshotStore`` keeps those copies, no closer than ``spacing`` steps apart.  When it holds
more than ``max_count`` snapshots or ``max_bytes`` of arrays, it drops every other one and
doubles the spacing, so a run of any length keeps snapshots spread evenly over all of it in
bounded memory.  Keeping a snapshot costs training nothing: the copy was made anyway.

A snapshot is whatever a lab needs to show a moment again: the dashboard keeps the weights,
the RBM lab its copies of the RBMs, the sequence lab the newest gates and samples; the store
is told how to count a snapshot's bytes (``size``).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable

import numpy as np

#: the store's bounds: at most this many snapshots, and at most this many bytes of weights
MAX_SNAPSHOTS = 400
MAX_SNAPSHOT_BYTES = 200 * 1024 * 1024


class WeightsAt(dict):
    """A copy of a network's weights (name → array) taken after global step ``step``; in a lesson's
    comparison, of the variant labelled ``run`` (its steps count from 0 again)."""

    def __init__(self, weights: dict[str, np.ndarray], step: int, run: str | None = None):
        super().__init__(weights)
        self.step = int(step)
        self.run = run


def weights_bytes(weights: dict[str, np.ndarray]) -> int:
    return sum(np.asarray(value).nbytes for value in weights.values())


class SnapshotStore:
    """Snapshots by step (by default of the weights), thinned by halves to stay within its bounds."""

    def __init__(
        self,
        max_count: int = MAX_SNAPSHOTS,
        max_bytes: int = MAX_SNAPSHOT_BYTES,
        size: Callable[[object], int] = weights_bytes,
    ):
        self.max_count = max(int(max_count), 2)
        self.max_bytes = int(max_bytes)
        self.size = size
        self.spacing = 1
        self.steps: list[int] = []
        self.snapshots: list = []
        self.nbytes = 0

    def __len__(self) -> int:
        return len(self.steps)

    def clear(self) -> None:
        self.__init__(self.max_count, self.max_bytes, self.size)

    def add(self, step: int, weights) -> bool:
        """Keep ``weights`` (a snapshot) as the state after ``step`` unless it is closer than
        ``spacing`` to the last one kept (the newest then replaces it, so the last step is always
        at hand)."""
        step = int(step)
        if self.steps and step <= self.steps[-1]:
            if step < self.steps[-1]:  # a new run that started from 0: forget the old one
                self.clear()
            else:
                return False
        if len(self.steps) >= 2 and step - self.steps[-2] < self.spacing:
            self._drop(len(self.steps) - 1)  # the newest stands in for the last, too close one
        self.steps.append(step)
        self.snapshots.append(weights)
        self.nbytes += self.size(weights)
        while len(self.steps) > 2 and (len(self.steps) > self.max_count or self.nbytes > self.max_bytes):
            self._thin()
        return True

    def at(self, step: int) -> tuple[int, object] | None:
        """The newest snapshot taken at or before ``step`` (the first one for an earlier step)."""
        if not self.steps:
            return None
        index = max(bisect.bisect_right(self.steps, int(step)) - 1, 0)
        return self.steps[index], self.snapshots[index]

    def _drop(self, index: int) -> None:
        self.nbytes -= self.size(self.snapshots[index])
        del self.steps[index], self.snapshots[index]

    def _thin(self) -> None:
        """Keep every other snapshot (and the newest), twice as far apart from now on."""
        last = len(self.steps) - 1
        keep = [i for i in range(len(self.steps)) if i % 2 == 0 or i == last]
        self.steps = [self.steps[i] for i in keep]
        self.snapshots = [self.snapshots[i] for i in keep]
        self.nbytes = sum(self.size(snapshot) for snapshot in self.snapshots)
        self.spacing *= 2
