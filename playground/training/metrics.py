"""Where training figures go: a ring-buffer stream for live views, and JSON Lines files.

The trainer's side appends whole chunks under a short lock; a reader (the window's
~30 Hz timer) copies a snapshot.  Nothing is queued per batch, so a fast engine never
floods a slow reader and a slow reader never stalls the engine.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .protocol import EpochEvent, Event, RunStarted
from .trainer import EpochRecord, StepChunk


@dataclass
class Snapshot:
    steps: np.ndarray  # global step index
    epochs: np.ndarray  # epoch of each step
    losses: np.ndarray
    accuracies: np.ndarray  # NaN where not a classifier
    layer_ids: list[str]
    layer_metrics: np.ndarray  # (steps, layers, 4), columns as in engine.dense_stack
    epoch_records: list[EpochRecord]


class RunStartLog:
    """Where each ``RunStarted`` fell in a stream: a lesson's comparison trains its variants in
    turn, and a reader starts a new run at each.  A stream that mixes this in has ``_lock``,
    ``_count`` (steps appended) and ``_epoch_records``."""

    def _note_run_start(self, event: RunStarted) -> None:
        with self._lock:
            self._run_starts.append((self._count, len(self._epoch_records), event.label))

    def run_starts(self) -> tuple[list[tuple[int, int, str]], tuple[int, int]]:
        """``(steps before it, epochs before it, label)`` of every variant a comparison began, and
        the (steps, epochs) the stream held at that moment: a reader that reads no further than that
        never takes a step of a variant whose start it has not seen (it reads them next time)."""
        with self._lock:
            return list(self._run_starts), (self._count, len(self._epoch_records))


class MetricStream(RunStartLog):
    """Keeps the last ``capacity`` steps and every epoch record."""

    def __init__(self, capacity: int = 50_000):
        self.capacity = capacity
        self._lock = threading.Lock()
        self._layer_ids: list[str] = []
        self.clear()

    def clear(self) -> None:
        with self._lock:
            self._count = 0
            self._steps = np.zeros(self.capacity, np.int64)
            self._epochs = np.zeros(self.capacity, np.int32)
            self._losses = np.zeros(self.capacity, np.float32)
            self._accuracies = np.zeros(self.capacity, np.float32)
            self._metrics = np.zeros((self.capacity, max(len(self._layer_ids), 1), 4), np.float32)
            self._epoch_records: list[EpochRecord] = []
            self._run_starts: list[tuple[int, int, str]] = []  # see RunStartLog

    def append(self, event) -> None:
        if isinstance(event, EpochRecord):
            with self._lock:
                self._epoch_records.append(event)
        elif isinstance(event, StepChunk):
            self._append_chunk(event)
        elif isinstance(event, RunStarted):
            self._note_run_start(event)

    def _append_chunk(self, chunk: StepChunk) -> None:
        with self._lock:
            if chunk.layer_ids != self._layer_ids:
                self._layer_ids = list(chunk.layer_ids)
                self._metrics = np.zeros((self.capacity, len(self._layer_ids), 4), np.float32)
            n = chunk.steps
            if n > self.capacity:  # keep only the newest
                chunk = StepChunk(
                    chunk.epoch,
                    chunk.first_step + n - self.capacity,
                    chunk.losses[-self.capacity :],
                    None if chunk.accuracies is None else chunk.accuracies[-self.capacity :],
                    chunk.layer_ids,
                    chunk.layer_metrics[-self.capacity :],
                    chunk.samples,
                )
                n = self.capacity
            positions = (self._count + np.arange(n)) % self.capacity
            self._steps[positions] = chunk.first_step + np.arange(n)
            self._epochs[positions] = chunk.epoch
            with np.errstate(over="ignore"):  # an exploding loss is stored as inf in float32, as it should be
                self._losses[positions] = chunk.losses
            self._accuracies[positions] = np.nan if chunk.accuracies is None else chunk.accuracies
            self._metrics[positions] = chunk.layer_metrics
            self._count += n

    def read_since(
        self, count: int = 0, epochs_seen: int = 0, until: tuple[int, int] | None = None
    ) -> tuple[int, Snapshot]:
        """The steps appended after the first ``count`` (at most the ring's capacity) and the
        epoch records after the first ``epochs_seen``, with the new total step count; with
        ``until`` (steps, epochs), only what came before that point (a variant's start).

        A reader that polls keeps the total and passes it back next time, so each look
        copies only what is new.
        """
        with self._lock:
            total = self._count if until is None else min(self._count, until[0])
            epochs_end = len(self._epoch_records) if until is None else until[1]
            n = min(total - count, self.capacity)
            positions = (total - n + np.arange(n)) % self.capacity
            return total, Snapshot(
                self._steps[positions],
                self._epochs[positions],
                self._losses[positions],
                self._accuracies[positions],
                list(self._layer_ids),
                self._metrics[positions],
                list(self._epoch_records[epochs_seen:epochs_end]),
            )

    def snapshot(self) -> Snapshot:
        """Everything the ring still holds, and every epoch record."""
        return self.read_since()[1]


class JsonLinesWriter:
    """Writes every event's JSON Lines records (``Event.records``), flushed after each epoch, for
    every family alike.  After a ``RunStarted`` (a lesson comparing networks), each record carries
    that run's label, so one file tells the runs apart."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("w", encoding="utf-8")
        self._label: dict = {}

    def append(self, event: Event) -> None:
        if isinstance(event, RunStarted):
            self._label = {"run": event.label}
        self._file.writelines(json.dumps({**self._label, **record}) + "\n" for record in event.records())
        if isinstance(event, EpochEvent):
            self._file.flush()

    def close(self) -> None:
        self._file.close()
