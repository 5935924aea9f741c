"""Whether numba is compiling the engine's kernels: what a run that shows nothing yet is waiting for.

numba compiles a kernel on its first call (and loads it from its disk cache afterwards).  On a
fresh install the first convolutional or recurrent run waits 15-20 s for that, with nothing to
show.  numba announces every real compilation (not a cache load) as a "numba:compile" event;
``WATCH`` counts them, so the window can say "preparing the engine, first run only" and how
far it has got, instead of looking frozen.
"""

from __future__ import annotations

import threading
import time

from numba.core import event

#: a compilation that ended this recently still counts as "compiling": between two kernels the
#: compiler spends a moment in Python, and the status line should not flicker
QUIET_S = 1.5


class CompileWatch(event.Listener):
    """Counts numba's compilations as they start and end (from any thread)."""

    def __init__(self):
        self._lock = threading.Lock()
        self.active = 0
        self.compiled = 0
        self.last_end = -float("inf")

    def on_start(self, _event) -> None:
        with self._lock:
            self.active += 1

    def on_end(self, _event) -> None:
        with self._lock:
            self.active = max(0, self.active - 1)
            self.compiled += 1
            self.last_end = time.perf_counter()

    def busy(self, now: float | None = None) -> bool:
        """Whether a kernel is compiling now, or one finished within ``QUIET_S``."""
        now = time.perf_counter() if now is None else now
        with self._lock:
            return self.active > 0 or now - self.last_end < QUIET_S


WATCH = CompileWatch()
event.register("numba:compile", WATCH)
