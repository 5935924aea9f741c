"""Compile the kernels a lesson needs before anyone waits for them.

numba compiles a kernel on its first call and caches the machine code on disk
(``cache=True``).  On a fresh install the first step of a dense lesson therefore waits
about ten seconds for the compiler, a convolutional or recurrent one twenty or more; once
cached, a new process loads them in a fraction of that.  A kernel is compiled once per
signature (its arguments' types), so a warm-up helps only if it calls the kernels with the
types the run will: it prepares the lesson's own run through the family registry, as the
command line and the window do, trains its first mini-batch, and waits for the big kernels
that compile on a thread of their own meanwhile (engine/background.py).  The window starts it on a
background thread whenever a lesson is loaded, so the first press of Train finds its kernels
ready; a lesson that opens on the backprop view also warms that view's float64 pass (the
only float64 kernels outside the tests).
"""

from __future__ import annotations

import contextlib
import threading

import numpy as np

from ..engine import background
from ..model import NetworkSpec, build_network
from .families import RunOptions, family_of
from .protocol import ChunkEvent, Finished


def warm_up(spec: NetworkSpec, options: RunOptions | None = None) -> None:
    """Prepare ``spec``'s run (its first variant, where a lesson compares several), train until
    its first mini-batch is reported and have its big kernels compiled; with the backprop view,
    run its float64 pass once."""
    run = family_of(spec).start(spec, RunOptions() if options is None else options, None)
    steps = run.trainer.run()
    try:
        for event in steps:
            if isinstance(event, ChunkEvent | Finished):
                break
    finally:
        run.trainer.control.stop()
        steps.close()
    background.settle()
    if (spec.lesson or {}).get("panel") == "backprop":
        from ..engine.dense_stack import DenseStackPass
        from .backprop import why_not_explained

        if not why_not_explained(spec):  # the values do not matter, only the types
            network = build_network(spec, np.float64)
            DenseStackPass(network).run(np.zeros((1, *network.input_shape)), np.zeros((1, network.output_size)))


def start_warm_up(spec: NetworkSpec, options: RunOptions | None = None) -> threading.Thread:
    """Compile (or load from numba's cache) ``spec``'s kernels on a thread of their own, while
    the learner reads the lesson, so the first press of Train does not wait for them.  Call
    ``wait_for_warm_ups`` before the process exits."""

    def run():
        with contextlib.suppress(Exception):  # only a head start: the first Train compiles what it needs
            warm_up(spec, RunOptions(compare=False) if options is None else options)

    thread = threading.Thread(target=run, name="playground-warm-up", daemon=True)
    _threads[:] = [*(t for t in _threads if t.is_alive()), thread]
    thread.start()
    return thread


#: the warm-up threads started in this process
_threads: list[threading.Thread] = []


def warming_up() -> bool:
    """Whether a warm-up thread is still compiling (a run started now waits for its kernels)."""
    return any(thread.is_alive() for thread in _threads)


def wait_for_warm_ups() -> None:
    """Join every warm-up thread (one may be in the middle of a compilation, which cannot be cut short)."""
    for thread in list(_threads):
        thread.join()
