"""What the sequence lab's views draw, held on the GUI thread.

``SequenceModel`` extends the dashboard's model, so the dashboard's loss panel draws a
sequence run's cost unchanged (its ``history`` gets the per-batch losses and per-epoch
validation figures); the sequence views read the rest: ‖∂C/∂h_t‖ per step, the gates,
the translations and the hidden states.  The lab's timer fills it from the worker's
``SequenceStream``; each view remembers the versions it drew and redraws only on change.
"""

from __future__ import annotations

import copy
import warnings
from dataclasses import dataclass

import numpy as np
from PySide6.QtGui import QColor

from ...model.project import EpochSummary, MetricHistory
from ...runs.sequence_stream import SequenceSnapshot
from ...training.sequence_events import HiddenStates, SequenceEpoch, Translation
from ..dashboard.common import DashboardModel, downsample, replay_version

#: mini-batches averaged into the "latest" gradient-over-time profile (one batch is noisy)
PROFILE_STEPS = 20


class StepRows:
    """Rows of per-step figures (steps × columns) in bounded memory.

    Past ``max_rows`` neighbouring rows are averaged in pairs and from then on each row
    stands for ``stride`` consecutive steps, so every row covers the same number of steps
    and a heat map drawn from them keeps a true training-step axis.  Steps that do not
    fill a row yet wait in an accumulator (sums and counts, NaN ignored).
    """

    def __init__(self, max_rows: int = 4096):
        self.max_rows = max_rows
        self.stride = 1
        self._n = 0
        self._steps = np.zeros(0, np.int64)
        self._values = np.zeros((0, 0), np.float32)
        self._sum = np.zeros(0)  # the accumulator: per column, sum and count of finite values
        self._count = np.zeros(0)
        self._waiting = 0  # steps in the accumulator
        self._last_step = 0

    def __len__(self) -> int:
        return self._n

    @property
    def steps(self) -> np.ndarray:
        return self._steps[: self._n]

    @property
    def values(self) -> np.ndarray:
        return self._values[: self._n]

    def up_to(self, step: int) -> StepRows:
        """A copy of the rows recorded up to ``step`` (the timeline's replay)."""
        other = copy.copy(self)
        n = int(np.searchsorted(self.steps, step, side="right"))
        other._n, other._steps, other._values = n, self._steps[:n].copy(), self._values[:n].copy()
        other._sum, other._count = np.zeros_like(self._sum), np.zeros_like(self._count)
        other._waiting = other._last_step = 0
        return other

    def append(self, steps: np.ndarray, values: np.ndarray) -> None:
        values = np.asarray(values, np.float32)
        i = 0
        while i < len(steps):
            left = len(steps) - i
            if self._waiting or left < self.stride:
                take = min(self.stride - self._waiting, left)
                self._accumulate(steps[i + take - 1], values[i : i + take], weight=1)
                i += take
                if self._waiting == self.stride:
                    self._flush()
            else:  # whole rows at once; a write may halve the rows and double the stride
                full = left // self.stride * self.stride
                self._write(*group_rows(steps[i : i + full], values[i : i + full], self.stride))
                i += full

    def _accumulate(self, last_step: int, values: np.ndarray, weight: int) -> None:
        width = max(len(self._sum), values.shape[1])
        self._sum, self._count = _widen(self._sum[None], width, 0.0)[0], _widen(self._count[None], width, 0.0)[0]
        finite = np.isfinite(values)
        self._sum[: values.shape[1]] += weight * np.where(finite, values, 0.0).sum(axis=0)
        self._count[: values.shape[1]] += weight * finite.sum(axis=0)
        self._waiting += weight * len(values)
        self._last_step = max(self._last_step, int(last_step))  # a halving may add an older row

    def _flush(self) -> None:
        with np.errstate(invalid="ignore", divide="ignore"):
            row = np.where(self._count > 0, self._sum / np.maximum(self._count, 1), np.nan)
        step = self._last_step
        self._sum[:], self._count[:], self._waiting, self._last_step = 0.0, 0.0, 0, 0
        self._write(np.array([step]), row[None].astype(np.float32))

    def _write(self, steps: np.ndarray, values: np.ndarray) -> None:
        needed = self._n + len(steps)
        width = max(self._values.shape[1], values.shape[1])
        if needed > len(self._steps) or width > self._values.shape[1]:
            capacity = max(needed, min(2 * len(self._steps), self.max_rows + len(steps)), 256)
            grown_steps = np.zeros(capacity, np.int64)
            grown_values = np.full((capacity, width), np.nan, np.float32)
            grown_steps[: self._n] = self.steps
            grown_values[: self._n, : self._values.shape[1]] = self.values
            self._steps, self._values = grown_steps, grown_values
        self._steps[self._n : needed] = steps
        self._values[self._n : needed] = _widen(values, width)
        self._n = needed
        while self._n > self.max_rows:
            self._halve()

    def _halve(self) -> None:
        """Average rows in pairs; an odd last row waits in the accumulator for its partner."""
        odd = self._n % 2
        if odd:
            self._accumulate(self._steps[self._n - 1], self._values[self._n - 1][None], weight=self.stride)
        steps, values = group_rows(self._steps[: self._n - odd], self._values[: self._n - odd], 2)
        self._n = len(steps)
        self._steps[: self._n], self._values[: self._n] = steps, values
        self.stride *= 2


def _widen(values: np.ndarray, width: int, fill: float = np.nan) -> np.ndarray:
    if values.shape[1] >= width:
        return values
    wider = np.full((len(values), width), fill, values.dtype)
    wider[:, : values.shape[1]] = values
    return wider


def group_rows(steps: np.ndarray, values: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Groups of ``k`` rows as one: the step of the last, the mean of the values (NaN ignored).
    ``len(steps)`` must be a multiple of ``k``."""
    if k == 1:
        return steps, values
    return steps[k - 1 :: k], nan_mean(values.reshape(-1, k, values.shape[1]), axis=1).astype(np.float32)


def log10_norms(norms: np.ndarray) -> np.ndarray:
    """log10 of gradient norms; NaN where a norm is not positive or not measured."""
    norms = np.asarray(norms, np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(norms > 0, np.log10(np.maximum(norms, 1e-300)), np.nan)


def nan_mean(values: np.ndarray, axis: int) -> np.ndarray:
    """Mean ignoring NaN; NaN, silently, where all are NaN (a time step no sequence reached)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(values, axis=axis)


#: earlier runs kept to compare with: the lecture's comparisons are of two or three networks, a
#: profile plot with more curves is unreadable, and a lab that restarts runs for hours must not
#: keep every one (the oldest is dropped, with its curve)
MAX_KEPT_RUNS = 4


@dataclass
class KeptProfile:
    """An earlier run's latest ‖∂C/∂h_t‖ profile, kept to compare the next run with."""

    name: str
    color: QColor
    profile: np.ndarray
    gates: tuple[np.ndarray, np.ndarray] | None = None
    #: (steps, training costs) downsampled, and (steps, validation costs) per epoch, to overlay
    costs: tuple[np.ndarray, np.ndarray] | None = None
    val_costs: tuple[np.ndarray, np.ndarray] | None = None


@dataclass(frozen=True)
class SequenceMoment:
    """What the sequence views draw that the step rows do not keep, as it was at one step: the
    newest gates, the newest epoch's samples and the clip count (the timeline's snapshot)."""

    gates: tuple[int, np.ndarray, np.ndarray] | None
    first_gates: tuple[int, np.ndarray, np.ndarray] | None
    samples: tuple[int, list[Translation], HiddenStates | None]
    clips_total: int

    @property
    def nbytes(self) -> int:
        """The arrays it refers to (shared with the moments before it while they did not change)."""
        gates = [array for kept in (self.gates, self.first_gates) if kept is not None for array in kept[1:]]
        hidden = self.samples[2]
        return sum(array.nbytes for array in gates) + (0 if hidden is None else np.asarray(hidden.states).nbytes)


class SequenceModel(DashboardModel):
    """The dashboard's model (losses in ``history``) plus the sequence figures."""

    def __init__(self):
        super().__init__()
        self.kept: list[KeptProfile] = []
        self.kept_version = 0
        self.epochs_version = self.gates_version = self.samples_version = 0
        self._start_run("")

    def _start_run(self, name: str) -> None:
        self.run_name = name
        #: log10 ‖∂C/∂h_t‖ per step: rows are averaged in logs (a geometric mean), since the norms
        #: span orders of magnitude and one exploding mini-batch would swamp an arithmetic mean
        self.log_time_grads = StepRows()
        self.gate_means = StepRows()  # (steps, 2): forget and input gate means over t
        self.clips_total = 0
        self.layer_id = ""
        self.epochs: list[SequenceEpoch] = []
        self.gates: tuple[int, np.ndarray, np.ndarray] | None = None  # (step, forget, input)
        self.first_gates: tuple[int, np.ndarray, np.ndarray] | None = None
        self.translations: list[Translation] = []
        self.hidden_states: HiddenStates | None = None
        self.samples_epoch = 0

    # --- writers (the lab's timer) ------------------------------------------------------------
    def add(self, new: SequenceSnapshot) -> bool:
        """Take what the stream had since the last look; True when anything changed."""
        changed = False
        if len(new.steps):
            self.history.append(new.steps, new.epochs, new.losses, None, [], np.zeros((len(new.steps), 0, 4)))
            self.log_time_grads.append(new.steps, log10_norms(new.time_grads))
            measured = np.isfinite(new.gate_means[:, 0])
            if measured.any():
                self.gate_means.append(new.steps[measured], new.gate_means[measured])
            self.clips_total = new.clips_total
            self.layer_id = new.layer_id
            changed = True
        for record in new.epoch_records:
            self.epochs.append(record)
            self.history.add_epoch(
                EpochSummary(
                    record.epoch,
                    record.step,
                    record.loss,
                    record.val_loss,
                    seconds=record.seconds,
                    samples_per_s=record.samples_per_s,
                )
            )
            self.clips_total = max(self.clips_total, record.clips_total)
            changed = True
        if new.epoch_records:
            self.epochs_version += 1
        if changed:
            self.history_changed()
        return changed

    def set_gates(self, gates: tuple[int, np.ndarray, np.ndarray]) -> None:
        if self.first_gates is None:
            self.first_gates = gates
        self.gates = gates
        self.gates_version += 1

    def set_samples(self, epoch: int, translations: list[Translation], hidden_states: HiddenStates | None) -> None:
        self.samples_epoch = epoch
        self.translations = translations
        self.hidden_states = hidden_states
        self.samples_version += 1

    def keep_current(self, color: QColor) -> KeptProfile | None:
        """Keep this run's latest gradient profile (and gates) for comparison; None if it has none."""
        profile = self.latest_profile()
        if profile is None:
            return None
        gates = None if self.gates is None else (self.gates[1], self.gates[2])
        history = self.history
        costs = downsample(history.steps, history.losses) if len(history) else None
        epochs = history.epochs
        val = (np.array([e.step for e in epochs], float), np.array([e.val_loss for e in epochs], float))
        name = self.run_name or f"run {len(self.kept) + 1}"
        kept = KeptProfile(name, QColor(color), profile, gates, costs, val if epochs else None)
        self.kept.append(kept)
        del self.kept[:-MAX_KEPT_RUNS]
        self.kept_version += 1
        return kept

    def clear_kept(self) -> None:
        self.kept.clear()
        self.kept_version += 1

    def new_run(self, name: str) -> None:
        """Forget the current run's figures (the kept profiles stay); versions only grow, so
        every view sees the change."""
        self._start_run(name)
        self.set_history(MetricHistory())
        self.epochs_version += 1
        self.gates_version += 1
        self.samples_version += 1

    def moment(self) -> SequenceMoment:
        """What ``replay`` needs, besides the step rows, to show the run as it is now."""
        samples = (self.samples_epoch, self.translations, self.hidden_states)
        return SequenceMoment(self.gates, self.first_gates, samples, self.clips_total)

    def replay(self, step: int, moment: SequenceMoment) -> SequenceModel:
        """The run as it was after ``step``: every row and epoch up to it, and the ``moment``
        kept then; new versions, so every view redraws for it (and again for the live model)."""
        other = copy.copy(self)
        other.history = self.history.up_to(step)
        other.log_time_grads = self.log_time_grads.up_to(step)
        other.gate_means = self.gate_means.up_to(step)
        other.epochs = [record for record in self.epochs if record.step <= step]
        other.gates, other.first_gates, other.clips_total = moment.gates, moment.first_gates, moment.clips_total
        other.samples_epoch, other.translations, other.hidden_states = moment.samples
        version = replay_version()
        other.history_version = other.weights_version = other.epochs_version = version
        other.gates_version = other.samples_version = version
        return other

    # --- readers ------------------------------------------------------------------------------
    def latest_profile(self) -> np.ndarray | None:
        """‖∂C/∂h_t‖ against t over the last few mini-batches (their geometric mean), or None
        before the first."""
        if not len(self.log_time_grads):
            return None
        rows = max(1, PROFILE_STEPS // self.log_time_grads.stride)
        return 10.0 ** nan_mean(self.log_time_grads.values[-rows:].astype(np.float64), axis=0)
