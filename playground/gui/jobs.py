"""One run of any trainer on a lab's worker thread.

A lab (the sequence lab, the RBM lab) gives ``TrainingThread`` a ``RunnerJob``: the job asks
a *runner* for the trainer's event generator (building the data and the network happens
there, off the GUI thread), appends every event to the lab's stream (ring buffers and
latest-wins slots the lab's timer reads) and lets ``track`` keep a few live figures for
the status line.  A runner is any ``runner(spec, control) -> iterable of events``: the labs
pick the real trainer for the spec, tests pass fake ones that yield the same events.
"""
from __future__ import annotations

import sys
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ..datasets import DatasetError
from ..model import NetworkFileError
from ..training import Finished, TrainingControl

Runner = Callable[[object, TrainingControl], Iterable]


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
            self.error = str(problem)
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
