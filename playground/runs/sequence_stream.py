"""What a sequence run hands from the worker thread to the lab's timer.

The same pattern as the feed-forward ``MetricStream``: the worker appends whole chunks to
preallocated ring buffers under a short lock, and the GUI copies only what is new on its
~30 Hz timer.  What is big and only interesting in its newest form (the translations
sample, the hidden states of the probe phrases, the gate profile) goes into latest-wins
slots instead, so nothing per batch or per epoch queues up between the threads.
"""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass

import numpy as np

from ..training.metrics import RunStartLog
from ..training.protocol import RunStarted
from ..training.sequence_events import SequenceChunk, SequenceEpoch
from .jobs import LatestSlot


@dataclass
class SequenceSnapshot:
    """The steps appended since a reader's last look, and the new epoch summaries."""

    steps: np.ndarray  # (n,) global step index
    epochs: np.ndarray  # (n,) epoch of each step
    losses: np.ndarray  # (n,)
    time_grads: np.ndarray  # (n, T) ‖∂C/∂h_t‖, NaN where a step's sequence was shorter
    gate_means: np.ndarray  # (n, 2) forget and input gate means over t; NaN where not measured
    clips_total: int
    layer_id: str
    epoch_records: list[SequenceEpoch]


class SequenceStream(RunStartLog):
    """Keeps the last ``capacity`` steps, every epoch's figures, and the newest samples.

    ``gates`` holds ``(step, forget (T,), input (T,))`` of the newest LSTM chunk;
    ``samples`` holds ``(epoch, translations, hidden_states)`` of the newest epoch.
    """

    def __init__(self, capacity: int = 20_000):
        self.capacity = capacity
        self._lock = threading.Lock()
        self.gates = LatestSlot()
        self.samples = LatestSlot()
        self._count = 0
        self._clips = 0
        self._layer_id = ""
        self._steps = np.zeros(capacity, np.int64)
        self._epochs = np.zeros(capacity, np.int32)
        self._losses = np.zeros(capacity, np.float32)
        self._gate_means = np.full((capacity, 2), np.nan, np.float32)
        self._time_grads = np.full((capacity, 1), np.nan, np.float32)
        self._epoch_records: list[SequenceEpoch] = []
        self._run_starts: list[tuple[int, int, str]] = []  # see RunStartLog

    def append(self, event) -> None:
        if isinstance(event, SequenceChunk):
            self._append_chunk(event)
        elif isinstance(event, SequenceEpoch):
            if event.translations or event.hidden_states is not None:
                self.samples.put((event.epoch, list(event.translations), event.hidden_states))
            # the list keeps the figures only: the samples are big and only the newest is drawn
            light = dataclasses.replace(event, translations=[], hidden_states=None)
            with self._lock:
                self._epoch_records.append(light)
        elif isinstance(event, RunStarted):
            self._note_run_start(event)

    def _append_chunk(self, chunk: SequenceChunk) -> None:
        grads = np.asarray(chunk.time_grad_norms, np.float32).reshape(chunk.steps, -1)
        n = min(chunk.steps, self.capacity)
        skipped = chunk.steps - n  # a chunk longer than the ring: keep its newest steps
        gates = None
        if chunk.forget_gate is not None and chunk.input_gate is not None:
            gates = (np.asarray(chunk.forget_gate, np.float64), np.asarray(chunk.input_gate, np.float64))
            self.gates.put((chunk.first_step + chunk.steps - 1, *gates))
        with self._lock:
            if grads.shape[1] > self._time_grads.shape[1]:  # a longer sequence than any before
                wider = np.full((self.capacity, grads.shape[1]), np.nan, np.float32)
                wider[:, : self._time_grads.shape[1]] = self._time_grads
                self._time_grads = wider
            positions = (self._count + np.arange(n)) % self.capacity
            self._steps[positions] = chunk.first_step + skipped + np.arange(n)
            self._epochs[positions] = chunk.epoch
            with np.errstate(over="ignore"):  # an exploding loss is kept as inf
                self._losses[positions] = chunk.losses[skipped:]
            self._time_grads[positions] = np.nan
            self._time_grads[positions, : grads.shape[1]] = grads[skipped:]
            self._gate_means[positions] = np.nan
            if gates is not None:  # the gates describe the chunk's last mini-batch
                self._gate_means[positions[-1]] = (gates[0].mean(), gates[1].mean())
            self._count += n
            self._clips += int(chunk.clips)
            self._layer_id = chunk.layer_id or self._layer_id

    @property
    def clips_total(self) -> int:
        with self._lock:
            return self._clips

    def read_since(
        self, count: int = 0, epochs_seen: int = 0, until: tuple[int, int] | None = None
    ) -> tuple[int, SequenceSnapshot]:
        """What was appended after the first ``count`` steps (at most the ring's capacity) and
        the epoch summaries after the first ``epochs_seen``, with the new step total; with
        ``until`` (steps, epochs), only what came before that point (a run's start)."""
        with self._lock:
            total = self._count if until is None else min(self._count, until[0])
            epochs_end = len(self._epoch_records) if until is None else until[1]
            n = min(total - count, self.capacity)
            positions = (total - n + np.arange(n)) % self.capacity
            return total, SequenceSnapshot(
                self._steps[positions],
                self._epochs[positions],
                self._losses[positions],
                self._time_grads[positions],
                self._gate_means[positions],
                self._clips,
                self._layer_id,
                list(self._epoch_records[epochs_seen:epochs_end]),
            )
