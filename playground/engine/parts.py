"""Work split into parts, one per core: what the recurrent layers and the per-step head share.

A training step of a sequence model is mostly independent rows: the sequences of a batch
run their time loops without looking at each other, and a per-step head treats its B·T
rows alike.  So those layers split their rows into ``PARTS`` parts (2, the cores of these
machines) and run each part, products included, in one ``prange`` iteration:
with the BLAS pinned to one thread (blas.py), two threads multiplying side by side each
run as fast as one alone (measured: 512×128 by 128×16, 8.3 µs per product either way).
Each part writes its own share of a weight gradient; ``sum_over_parts`` adds them up
afterwards in part order, so a seeded run repeats exactly.

Two rules for the ``parallel=True`` drivers that use this: they call kernels and do no
array arithmetic of their own (see ``copy_into``), and a part's arrays are views that
another part never touches.
"""

from __future__ import annotations

import threading
import time

import numba
from numba import njit

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


@njit(nogil=True, cache=True)
def copy_into(target, source):
    """target[:len(source)] = source.  The parallel drivers call this rather than assign slices
    themselves: written in a ``parallel=True`` function, a slice assignment of the LSTM's
    initial cell state (``cs[p][:n] = c0[p]``) never reached its array, and the LSTM started
    from garbage (seen with numba 0.68)."""
    target[: source.shape[0]] = source


@njit(nogil=True, cache=True, fastmath=FAST_MATH, error_model="numpy")
def sum_over_parts(partials, total):
    """total = Σ_p partials[p], added in part order so that runs repeat exactly."""
    flat = total.reshape(total.size)
    flat[:] = partials[0].reshape(total.size)
    for p in range(1, partials.shape[0]):
        part = partials[p].reshape(total.size)
        for k in range(total.size):
            flat[k] += part[k]


# --- on how many threads the parts run --------------------------------------------------------
class _Choice:
    """What the governor knows about one kernel on one thread: the thread count it runs at now,
    the call times measured at each count during the last probe, and when to probe again."""

    def __init__(self, most: int):
        self.most = most
        self.threads = most
        self.times: dict[int, list[float]] = {most: [], 1: []}
        self.probing: list[int] = [most, 1] * PROBE_CALLS  # taking turns, so a passing load hits both
        self.settled_for = SETTLED_MIN_S
        self.next_probe = 0.0
        self.first_call = True  # compiles or loads the kernel: not a measure of its speed

    def threads_for_next_call(self, now: float) -> int:
        if not self.probing and now >= self.next_probe:
            self.times = {self.most: [], 1: []}
            self.probing = [self.most, 1] * PROBE_CALLS
        return self.probing[0] if self.probing else self.threads

    def record(self, threads: int, seconds: float, now: float) -> None:
        if self.first_call or not self.probing:
            self.first_call = False
            return
        self.probing.pop(0)
        self.times[threads].append(seconds)
        if self.probing:
            return
        faster = min(self.times, key=lambda count: sorted(self.times[count])[PROBE_CALLS // 2])
        # the same answer again: trust it longer; a change: look again soon
        self.settled_for = min(2 * self.settled_for, SETTLED_MAX_S) if faster == self.threads else SETTLED_MIN_S
        self.threads = faster
        self.next_probe = now + self.settled_for


#: calls timed at each thread count per probe (the median decides)
PROBE_CALLS = 5
#: how long a decision stands before the next probe: doubled each time a probe confirms it
SETTLED_MIN_S, SETTLED_MAX_S = 0.05, 2.0

_choices = threading.local()


def run_parts(kernel, *arguments):
    """``kernel(*arguments)`` (a ``parallel=True`` driver whose ``prange`` runs the parts) on
    all the threads numba may use in this thread, or on one, whichever is faster now.

    On a quiet machine the parts run side by side.  When another process keeps a core busy,
    a part on that core waits for the scheduler's slices, and the step waits for it: an LSTM
    ran at 0.3-0.4× its one-thread speed that way.  So each (kernel, batch shape) is timed
    now and then on both counts, taking turns, and runs on the faster until the next probe;
    probes thin out while they agree (up to every ``SETTLED_MAX_S``), so they cost little.
    The parts are the same either way (``PARTS``), so the figures are too: only the speed
    changes.
    """
    most = numba.get_num_threads()
    if most == 1:
        return kernel(*arguments)
    table = getattr(_choices, "table", None)
    if table is None:
        table = _choices.table = {}
    key = (kernel, most, arguments[0].shape)
    choice = table.get(key)
    if choice is None:
        choice = table[key] = _Choice(most)
    start = time.perf_counter()
    threads = choice.threads_for_next_call(start)
    numba.set_num_threads(threads)
    try:
        result = kernel(*arguments)
    finally:
        numba.set_num_threads(most)
    end = time.perf_counter()
    choice.record(threads, end - start, end)
    return result
