"""Work split into parts, one per core: what the recurrent layers, the per-step head and the
convolutions (conv_stack.py) share.

A training step of a sequence model is mostly independent rows: the sequences of a batch
run their time loops without looking at each other, and a per-step head treats its B·T
rows alike; so do a convolution's examples.  So those layers split their rows into ``PARTS``
parts (2, the cores of these machines) and run each part, products included, in one call of a
part kernel.  With the BLAS pinned to one thread (blas.py), two threads multiplying side by side
each run as fast as one alone (measured: 512×128 by 128×16, 8.3 µs per product either way).
Each part writes its own share of a weight gradient; ``sum_over_parts`` adds them up afterwards
in part order, so a seeded run repeats exactly.

``run_parts`` calls a step's part kernel for every part, in turn or side by side.  Side by side
goes through a ``parallel=True`` driver whose ``prange`` makes the very same calls: numba's
threads wait for work spinning, so handing a part to one takes microseconds, where a Python
thread pool took 90 µs a step (measured on a 120 µs part), 7% of an LSTM step.  But numba takes
4-5 s to compile each such driver (it compiles the outlined loop, then every callee's code again
in each library), 9 s of an LSTM lesson's first step on an empty cache.  So the parts run in
turn until the driver is ready: it compiles on a thread of its own once numba has compiled the
step's kernels (background.py), and the first steps wait only for the part kernels.  In turn or
side by side, the parts compute the same numbers (tested bit for bit), so a run does not depend
on when the driver arrived.

Rules for the part kernels: a part's arrays are views that another part never touches, and
a driver does nothing but call its part kernel (see ``copy_into``).
"""

from __future__ import annotations

import os
import threading
import time
from contextlib import contextmanager

import numba
from numba import njit

from ..machine import OtherLoad
from . import background
from .numeric import FAST_MATH

#: Into how many parts work is split, whatever the machine: not the threads numba runs here.  The
#: parts' gradients are added in part order, so the part count is part of a run's arithmetic: fixed,
#: a seeded run gives the same figures on one core or two (``NUMBA_NUM_THREADS=1`` runs the parts in
#: turn), alone or held to one thread by a sweep.  2 is the cores of the machines this is measured on.
PARTS = 2


def batch_parts(batch: int) -> int:
    """Into how many equal parts a batch is split: the most, up to ``PARTS``, that divide it."""
    return next(parts for parts in range(min(PARTS, batch), 0, -1) if batch % parts == 0)


def row_parts(rows: int) -> int:
    """Into how many (nearly equal) parts ``rows`` independent rows are split."""
    return max(1, min(PARTS, rows))


@njit(nogil=True, cache=True, inline="always")
def part_bounds(rows, parts, p):
    """Rows [start, stop) of part p when ``rows`` rows are split into ``parts`` nearly equal parts."""
    return p * rows // parts, (p + 1) * rows // parts


@njit(nogil=True, cache=True, no_cfunc_wrapper=True)
def copy_into(target, source):
    """target[:len(source)] = source, for 2D arrays.  The parallel drivers call this rather than
    assign slices themselves: written in a ``parallel=True`` function, a slice assignment of the
    LSTM's initial cell state (``cs[p][:n] = c0[p]``) never reached its array, and the LSTM
    started from garbage (seen with numba 0.68).  Element loops: a slice assignment compiles
    its shape check's error message too, 2.5 s on a cold cache."""
    for i in range(source.shape[0]):
        for j in range(source.shape[1]):
            target[i, j] = source[i, j]


@njit(nogil=True, cache=True, no_cfunc_wrapper=True, fastmath=FAST_MATH, error_model="numpy")
def sum_over_parts(partials, total):
    """total = Σ_p partials[p], added in part order so that runs repeat exactly."""
    flat, first = total.reshape(total.size), partials[0].reshape(total.size)
    for k in range(total.size):
        flat[k] = first[k]
    for p in range(1, partials.shape[0]):
        part = partials[p].reshape(total.size)
        for k in range(total.size):
            flat[k] += part[k]


# --- on how many threads the parts run --------------------------------------------------------
#: how often ``run_parts`` looks at how busy other processes keep the machine
LOOK_EVERY_S = 0.25
#: a look this long or longer spans a pause of the run (a paused window, a benchmark's headless
#: reference running meanwhile in another process): it is discarded, and the verdict before it kept
STALE_LOOK_S = 4 * LOOK_EVERY_S
#: how far short of one free core per part the machine may fall and the parts still run side by
#: side: a core that other processes keep half busy still counts as free
FREE_CORE_MARGIN = 0.5


class _Watch(threading.local):
    """Per calling thread: the load measurement under way, and whether the last one found fewer
    free cores than parts."""

    load: OtherLoad | None = None
    crowded: bool = False


_watch = _Watch()


def threads_for_now(most: int) -> int:
    """``most`` while the machine has a free core for each part running side by side, else 1.

    Measured, not guessed: every ``LOOK_EVERY_S`` the cores other processes kept busy since the last
    look (machine.OtherLoad, from /proc; unknown elsewhere, which counts as free).
    """
    load = _watch.load
    since = time.perf_counter() - load.start_time if load is not None else None
    if since is None or since >= LOOK_EVERY_S:
        # a look that spans a pause (no parts ran for a while) says nothing about the parts' cores
        other = load.cores() if since is not None and since < STALE_LOOK_S else None
        _watch.load = OtherLoad()
        if other is not None:
            _watch.crowded = crowded(other, most)
    return 1 if _watch.crowded else most


def crowded(other_cores: float, most: int) -> bool:
    """Whether the machine, with ``other_cores`` cores kept busy by other processes, has fewer free
    cores than the parts that would run side by side on ``most`` threads."""
    return (os.cpu_count() or 1) - other_cores < min(most, PARTS) - FREE_CORE_MARGIN


class LoadWhileRunning:
    """Other processes' load measured only while a runner's parts run, over as many calls as it
    takes to add up to ``LOOK_EVERY_S`` (a fused kernel's chunk lasts 20 ms in the window, seconds
    in a benchmark), so that neither a pause between calls nor a short call's coarse /proc ticks
    decide: then ``crowded`` says whether the last such span found fewer free cores than parts."""

    def __init__(self):
        self.crowded = False
        self._busy_core_seconds = 0.0
        self._seconds = 0.0

    @contextmanager
    def measured(self, most: int):
        """Around one call of the parts on ``most`` threads."""
        load = OtherLoad()
        yield
        other = load.cores()
        if other is None:
            return
        seconds = time.perf_counter() - load.start_time
        self._busy_core_seconds += other * seconds
        self._seconds += seconds
        if self._seconds >= LOOK_EVERY_S:
            self.crowded = crowded(self._busy_core_seconds / self._seconds, most)
            self._busy_core_seconds = self._seconds = 0.0


def _compile_job(driver, arguments):
    """The job that compiles ``driver`` for the types of ``arguments`` (background.py)."""
    signature = tuple(driver.typeof_pyval(argument) for argument in arguments)
    return lambda: driver.compile(signature)


def run_parts(driver, part_kernel, parts, *arguments):
    """``part_kernel(p, *arguments)`` for every part p < ``parts``.

    Side by side through ``driver`` (``driver(*arguments)``, a ``parallel=True`` kernel whose
    ``prange`` makes those calls) on a quiet machine once it is compiled; in turn on this thread
    until then, on one numba thread (``NUMBA_NUM_THREADS=1``, a sweep's runs), and while other
    processes keep the cores busy: when another process keeps a core busy, a part on that core
    waits for the scheduler's slices and the step waits for it (an LSTM ran at 0.3-0.4× its
    one-thread speed that way).  The parts are the same either way (``PARTS``), so the figures
    are too: only the speed changes.
    """
    most = numba.get_num_threads()
    if (
        parts > 1
        and most > 1
        and threads_for_now(most) > 1
        and background.compiles.ready(driver, lambda: _compile_job(driver, arguments))
    ):
        return driver(*arguments)
    for p in range(parts):
        part_kernel(p, *arguments)
