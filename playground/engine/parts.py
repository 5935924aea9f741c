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

import os
import threading
import time

import numba
from numba import njit

from ..machine import OtherLoad
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
    if load is None or time.perf_counter() - load.start_time >= LOOK_EVERY_S:
        other = load.cores() if load is not None else None
        _watch.load = OtherLoad()
        if other is not None:
            free = (os.cpu_count() or 1) - other
            _watch.crowded = free < min(most, PARTS) - FREE_CORE_MARGIN
    return 1 if _watch.crowded else most


def run_parts(kernel, *arguments):
    """``kernel(*arguments)`` (a ``parallel=True`` driver whose ``prange`` runs the parts) on all
    the threads numba may use in this thread, or on one while other processes keep the cores busy.

    On a quiet machine the parts run side by side.  When another process keeps a core busy, a
    part on that core waits for the scheduler's slices and the step waits for it: an LSTM ran at
    0.3-0.4× its one-thread speed that way.  The parts are the same either way (``PARTS``), so
    the figures are too: only the speed changes.
    """
    most = numba.get_num_threads()
    threads = threads_for_now(most) if most > 1 else 1
    if threads == most:
        return kernel(*arguments)
    numba.set_num_threads(threads)
    try:
        return kernel(*arguments)
    finally:
        numba.set_num_threads(most)
