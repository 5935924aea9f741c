"""Work split into parts, one per thread: what the recurrent layers and the per-step head share.

A training step of a sequence model is mostly independent rows: the sequences of a batch
run their time loops without looking at each other, and a per-step head treats its B·T
rows alike.  So those layers split their rows into as many parts as numba runs threads
(2 on these machines) and run each part, products included, in one ``prange`` iteration:
with the BLAS pinned to one thread (blas.py), two threads multiplying side by side each
run as fast as one alone (measured: 512×128 by 128×16, 8.3 µs per product either way).
Each part writes its own share of a weight gradient; ``sum_over_parts`` adds them up
afterwards in part order, so a seeded run repeats exactly.

Two rules for the ``parallel=True`` drivers that use this: they call kernels and do no
array arithmetic of their own (see ``copy_into``), and a part's arrays are views that
another part never touches.
"""

from __future__ import annotations

import numba
from numba import njit

from .numeric import FAST_MATH


def _threads() -> int:
    """The threads numba may run on this machine (``NUMBA_NUM_THREADS``), not the threads this
    thread is allowed now (``numba.get_num_threads``): a sweep holds each of its runs to a share of
    the cores, and a run split into as many parts as it has threads would add its gradients in
    another order than the same run alone, and give other figures.  With fewer threads than parts,
    ``prange`` runs the parts in turn, the same arithmetic."""
    return numba.config.NUMBA_NUM_THREADS


def batch_parts(batch: int) -> int:
    """Into how many equal parts a batch is split: the most, up to the threads numba runs, that divide it."""
    return next(parts for parts in range(min(_threads(), batch), 0, -1) if batch % parts == 0)


def row_parts(rows: int) -> int:
    """Into how many (nearly equal) parts ``rows`` independent rows are split: one per thread."""
    return max(1, min(_threads(), rows))


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
