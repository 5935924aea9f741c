"""What the RBM lab's views draw, held on the GUI thread.

``RBMModel`` extends the dashboard's model, so the dashboard's loss panel draws the
fine-tuning cost and accuracy unchanged (its ``history``); the RBM views read the rest:
the pretraining reconstruction errors per mini-batch (``pretrain_history``, with the step
where each RBM began), the monitoring figures per epoch, the newest weight snapshot,
the validation examples and the ratings example's epochs.  Each view remembers the versions it
drew and redraws on change.
"""

from __future__ import annotations

import copy

import numpy as np

from ...model.project import EpochSummary, MetricHistory
from ...runs.rbm_stream import ExamplesReady, RBMSnapshot
from ...training.collaborative import RatingsEpoch
from ...training.metrics import Snapshot
from ...training.rbm_trainer import PretrainEpoch
from ..dashboard.common import DashboardModel, replay_version, tile_mosaic


class RBMModel(DashboardModel):
    def __init__(self):
        super().__init__()
        self.pretrain_version = self.snapshot_version = self.examples_version = 0
        self.examples: ExamplesReady | None = None
        self.ratings_epochs: list[RatingsEpoch] = []
        self.ratings_version = 0
        self._start_run("")

    def _start_run(self, name: str) -> None:
        self.run_name = name
        self.pretrain_history = MetricHistory()
        self.layer_starts: list[tuple[int, int, str]] = []  # (first step, RBM index, id)
        self.pretrain_epochs: list[PretrainEpoch] = []
        self.snapshot: RBMSnapshot | None = None
        self.phase = ""

    def new_run(self, name: str) -> None:
        """Forget the last run's figures; versions only grow, so every view sees the change.
        The examples stay until the new run sends its own (they are the same data)."""
        self._start_run(name)
        self.set_history(MetricHistory())
        self.pretrain_version += 1
        self.snapshot_version += 1

    # --- writers (the lab's timer) ------------------------------------------------------------
    def add_pretraining(self, new: Snapshot, records: list[PretrainEpoch], layer_starts) -> bool:
        if not len(new.steps) and not records:
            return False
        self.pretrain_history.append(new.steps, new.epochs, new.losses, None, new.layer_ids, new.layer_metrics)
        self.pretrain_epochs.extend(records)
        self.layer_starts = layer_starts
        self.pretrain_version += 1
        return True

    def add_fine_tuning(self, new: Snapshot) -> bool:
        if not len(new.steps) and not new.epoch_records:
            return False
        if len(new.steps):
            self.history.append(new.steps, new.epochs, new.losses, new.accuracies, new.layer_ids, new.layer_metrics)
        for record in new.epoch_records:
            self.history.add_epoch(EpochSummary.from_record(record))
        self.history_changed()
        return True

    def add_ratings(self, records: list[RatingsEpoch]) -> bool:
        if not records:
            return False
        self.ratings_epochs.extend(records)
        self.ratings_version += 1
        return True

    def clear_ratings(self) -> None:
        self.ratings_epochs = []
        self.ratings_version += 1

    def set_snapshot(self, snapshot: RBMSnapshot) -> None:
        self.snapshot = snapshot
        self.snapshot_version += 1

    def set_examples(self, examples: ExamplesReady) -> None:
        self.examples = examples
        self.examples_version += 1

    def replay(self, step: int, snapshot: RBMSnapshot) -> RBMModel:
        """The run as it was after ``step`` (counted on across pretraining and fine-tuning): the
        curves up to it and the weights of ``snapshot``; new versions, so every view redraws."""
        other = copy.copy(self)
        other.pretrain_history = self.pretrain_history.up_to(step)
        other.pretrain_epochs = [record for record in self.pretrain_epochs if record.step - 1 <= step]
        other.layer_starts = [start for start in self.layer_starts if start[0] <= step]
        other.history = self.history.up_to(step - self.pretrain_steps)
        other.snapshot = snapshot
        other.pretrain_version = other.snapshot_version = other.history_version = replay_version()
        return other

    # --- readers ------------------------------------------------------------------------------
    @property
    def pretrain_steps(self) -> int:
        return self.pretrain_history.last_step + 1

    @property
    def last_step(self) -> int:
        """The run's last step on the timeline: pretraining's steps, then fine-tuning's."""
        return self.pretrain_steps + self.history.last_step

    @property
    def first_rbm(self):
        """The RBM that sees the pixels (a copy of the newest weights), or None before a run."""
        return self.snapshot.rbms[0] if self.snapshot is not None and self.snapshot.rbms else None

    def pixel_examples(self, count: int) -> np.ndarray | None:
        """The first ``count`` validation rows, when they are pictures the views can draw."""
        examples = self.examples
        if examples is None or examples.image_shape is None or not len(examples.images):
            return None
        return examples.images[:count]

    def layer_name(self, index: int) -> str:
        return next((start[2] for start in self.layer_starts if start[1] == index), f"RBM {index + 1}")

    def layer_of_steps(self, steps: np.ndarray) -> np.ndarray:
        """Which RBM (index) trained at each of ``steps``: the colour of its curve."""
        if not self.layer_starts:
            return np.zeros(len(steps), np.int64)
        firsts = np.array([start[0] for start in self.layer_starts])
        indices = np.array([start[1] for start in self.layer_starts])
        return indices[np.clip(np.searchsorted(firsts, steps, side="right") - 1, 0, len(indices) - 1)]


def picture_row(rows: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Rows of pixels (n, h·w) side by side as one picture, a NaN gap between them."""
    return tile_mosaic(np.asarray(rows, np.float32).reshape((-1,) + tuple(shape)), len(rows))
