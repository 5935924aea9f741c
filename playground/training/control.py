"""Stop, pause, single steps and the learning rate, shared between the trainer and whoever drives it.

The stop/pause flag and the learning rate live in a small numpy array that numba kernels
read between mini-batches, so a request from another thread takes effect within one
batch even inside a long compiled chunk.
"""

from __future__ import annotations

import math
import threading

import numpy as np

from ..engine.dense_stack import LEARNING_RATE, STOP


class TrainingControl:
    def __init__(self, learning_rate: float):
        self.array = np.array([0.0, 0.0])
        self.set_learning_rate(learning_rate)
        self._running = threading.Event()
        self._running.set()
        self._lock = threading.Lock()
        self.stopped = False
        #: batches left before pausing again (None: no limit); the window's Step button sets 1
        self.step_budget: int | None = None
        #: slow motion: at most this many batches a second, one per chunk (None: full speed)
        self.steps_per_second: float | None = None
        #: set to cut short the wait between two slow-motion steps (pause, stop, a new pace)
        self._wake = threading.Event()

    @property
    def learning_rate(self) -> float:
        return float(self.array[LEARNING_RATE])

    def set_learning_rate(self, value: float) -> None:
        if not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
            raise ValueError(f"the learning rate must be a positive finite number, not {value!r}")
        self.array[LEARNING_RATE] = value

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def set_pace(self, steps_per_second: float | None) -> None:
        """Slow motion at ``steps_per_second`` batches a second, or full speed (None)."""
        if steps_per_second is not None and (not math.isfinite(steps_per_second) or steps_per_second <= 0):
            raise ValueError(f"the pace must be a positive number of steps a second, not {steps_per_second!r}")
        self.steps_per_second = steps_per_second
        self._wake.set()

    def wait_between_steps(self, seconds: float) -> None:
        """Sleep up to ``seconds`` between two slow-motion steps; pause, stop or a new pace end it."""
        self._wake.clear()
        if seconds > 0 and self._running.is_set() and not self.stopped:
            self._wake.wait(seconds)

    def pause(self) -> None:
        with self._lock:
            self._running.clear()
            self.array[STOP] = 1.0
            self._wake.set()

    def resume(self) -> None:
        with self._lock:
            self.step_budget = None
            if not self.stopped:
                self.array[STOP] = 0.0
            self._running.set()

    def step(self, batches: int = 1) -> None:
        """Run ``batches`` mini-batches, then pause again."""
        with self._lock:
            self.step_budget = batches
            if not self.stopped:
                self.array[STOP] = 0.0
            self._running.set()

    def stop(self) -> None:
        with self._lock:
            self.stopped = True
            self.array[STOP] = 1.0
            self._running.set()
            self._wake.set()

    def wait_while_paused(self) -> None:
        self._running.wait()

    def take_budget(self, wanted: int) -> int:
        """How many batches the next chunk may run; reaching the end of a step budget pauses."""
        with self._lock:
            if self.step_budget is None:
                return wanted
            granted = min(wanted, self.step_budget)
            self.step_budget -= granted
            if self.step_budget == 0:
                self.step_budget = None
                self._running.clear()
            return granted
