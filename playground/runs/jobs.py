"""One run of any trainer on a worker thread, and the latest-wins slot it leaves snapshots in.

Every lab (the dashboard, the sequence lab, the RBM lab) gives the window's worker a ``RunnerJob``: the job asks
a *runner* for the trainer's event generator (building the data and the network happens
there, off the GUI thread), appends every event to the lab's stream (ring buffers and
latest-wins slots the lab's timer reads) and lets ``track`` keep a few live figures for
the status line.  A runner is any ``runner(spec, control) -> iterable of events``: the labs
pick the real trainer for the spec, tests pass fake ones that yield the same events.
"""

from __future__ import annotations

import json
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ..datasets import DatasetError, window_message
from ..model import NetworkFileError, spec_to_dict
from ..training import Finished, TrainingControl

Runner = Callable[[object, TrainingControl], Iterable]

#: the worker puts a copy of the weights in its slot at most this often (and when paused or done)
SNAPSHOT_SECONDS = 0.1


class LatestSlot:
    """Holds the newest value only: a writer never waits for a reader, a reader never sees a queue."""

    def __init__(self):
        self._lock = threading.Lock()
        self._value = None
        self._version = 0

    def put(self, value) -> None:
        with self._lock:
            self._value = value
            self._version += 1

    def get(self):
        """(value, version); the version grows with every put."""
        with self._lock:
            return self._value, self._version


@dataclass
class JobProgress:
    """Written by the worker between chunks, read by the timer (a value one chunk old is fine)."""

    steps: int = 0
    epoch: int = 0
    started: float = 0.0
    last: float = 0.0


@dataclass
class RunnerJob:
    """``stream`` is anything with ``append(event)``; subclasses choose it and ``track`` events."""

    spec: object
    runner: Runner
    control: TrainingControl = field(default_factory=lambda: TrainingControl(0.01))
    stream: object = None
    progress: JobProgress = field(default_factory=JobProgress)
    finished: Finished | None = None
    error: str | None = None

    def execute(self) -> None:
        """The thread's body: never raises; a problem ends up in ``error`` as one line."""
        try:
            self._run()
        except (DatasetError, NetworkFileError, ValueError) as problem:
            self.error = window_message(problem)
        except Exception as problem:  # a bug: one line for the lab, the details on stderr
            traceback.print_exc(file=sys.stderr)
            self.error = f"internal error: {problem.__class__.__name__}: {problem}"
        finally:
            if self.error is None and self.finished is None:
                self.finished = Finished("stopped", "training stopped")

    def _run(self) -> None:
        progress = self.progress
        progress.started = progress.last = time.perf_counter()
        for event in self.runner(self.spec, self.control):
            self.stream.append(event)
            if isinstance(event, Finished):
                self.finished = event
            else:
                self.track(event)
            progress.last = time.perf_counter()

    def track(self, event) -> None:
        """Update ``progress`` from one event (the step count and epoch the status line shows)."""


class RateMeter:
    """Samples (or steps) per second over the last ~1.5 s, from a count the status line reads
    on every tick: a rate that follows the run without jumping at each chunk."""

    def __init__(self, window_seconds: float = 1.5):
        self.window_seconds = window_seconds
        self._samples: deque = deque(maxlen=64)

    def clear(self) -> None:
        self._samples.clear()

    def add(self, count: float, now: float | None = None) -> float | None:
        """Record ``count`` (a running total) now; the rate since the oldest sample kept, or None."""
        now = time.perf_counter() if now is None else now
        if self._samples and count < self._samples[-1][1]:  # counting started again (a comparison's next run)
            self._samples.clear()
        self._samples.append((now, count))
        while len(self._samples) > 2 and now - self._samples[0][0] > self.window_seconds:
            self._samples.popleft()
        (t0, c0), (t1, c1) = self._samples[0], self._samples[-1]
        return (c1 - c0) / (t1 - t0) if t1 > t0 else None


def run_signature(spec) -> str:
    """What makes two trainings the same run: everything but layout, text, the learning rate and epochs
    (those may change between a stop and a continue)."""
    data = spec_to_dict(spec)
    for key in ("ui", "lesson", "name"):
        data.pop(key, None)
    training = dict(data["training"])
    training.pop("learning_rate", None)
    training.pop("epochs", None)
    data["training"] = training
    return json.dumps(data, sort_keys=True, default=str)
