"""Kernels compiled on a thread of their own while their Python twins do the work.

The fused training kernels (``train_dense_batches``, ``train_conv_batches``) and the recurrent
layers' ``parallel=True`` drivers are big: on an empty numba cache each takes seconds to compile
on itself, after the small kernels it calls (1.4 s for the dense driver, 4.6 s for the
convolutional one, 4-5 s for each recurrent driver).  A first step that waited for them would
wait for all of it.  Each of these kernels only composes smaller kernels, though, so its own
Python code, run by the interpreter and calling those small kernels compiled, computes the very
same numbers, bit for bit (tested): the first steps run that way, its "twin", while the kernel
compiles on a thread of its own; from the next call after it is ready, the kernel runs.  A run
therefore does not depend on when the kernel arrived, only its speed does.

When to start: numba compiles, and loads from its cache, under one lock, so a kernel compiling
meanwhile would hold up the first step's own small kernels for seconds.  A kernel starts once it
has been needed twice, first ``QUIET_COMPILER_S`` ago, and numba has compiled nothing for as long.
A benchmark (or the window's warm-up) calls ``settle`` to have every kernel ready at once.
"""

from __future__ import annotations

import atexit
import threading
import time
import types
from collections.abc import Callable

from numba.core import event
from numba.core.registry import CPUDispatcher

#: how long numba must have compiled nothing, and a kernel have been in use, before the kernel
#: starts compiling: a run's first step compiles its kernels or loads them from numba's cache, both
#: under numba's lock, which a kernel compiling meanwhile would hold for seconds (an encoder-decoder
#: calls the LSTM's driver twice in its first step: its warm start took 4.1 s instead of 0.9)
QUIET_COMPILER_S = 1.0


#: a compilation that ended this recently still counts as "compiling" for the window's status:
#: between two kernels the compiler spends a moment in Python, and the status should not flicker
COMPILING_QUIET_S = 1.5


class CompileWatch(event.Listener):
    """numba's compilations in this process, from any thread, as they start and end (loading a
    kernel from numba's cache is not one).  Two readers: the background compiles wait for numba to
    be quiet, and the window says "preparing the engine, first run only" and how far it has got
    while a first run waits for its kernels, instead of looking frozen."""

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
        """Whether a kernel is compiling now, or one finished within ``COMPILING_QUIET_S``."""
        now = time.perf_counter() if now is None else now
        with self._lock:
            return self.active > 0 or now - self.last_end < COMPILING_QUIET_S


COMPILER = CompileWatch()
event.register("numba:compile", COMPILER)


class BackgroundCompiles:
    """The kernels this process may call, each compiled (or loaded from numba's cache) by a job run
    once on a thread of its own, when it is time (see the module's docstring)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._calls: dict[object, int] = {}
        self._first_call: dict[object, float] = {}
        self._jobs: dict[object, Callable[[], object]] = {}
        self._compiling: dict[object, threading.Thread] = {}
        self._ready: set[object] = set()
        self._failed: dict[object, BaseException] = {}

    def ready(self, kernel, make_job: Callable[[], Callable[[], object]]) -> bool:
        """Whether ``kernel`` can run now; else starts its compilation when it is time.  On the
        first call ``make_job()`` gives the job that compiles it (for the first call's types)."""
        if kernel in self._ready:
            return True
        with self._lock:
            now = time.perf_counter()
            calls = self._calls[kernel] = self._calls.get(kernel, 0) + 1
            if calls == 1:
                self._first_call[kernel] = now
                self._jobs[kernel] = make_job()
            quiet = min(now - self._first_call[kernel], now - COMPILER.last_end) >= QUIET_COMPILER_S
            if calls >= 2 and quiet:
                self._start(kernel)
        return False

    def _start(self, kernel) -> None:
        """Run ``kernel``'s job on a thread of its own, unless that has begun (the caller holds ``_lock``)."""
        if kernel not in self._compiling:
            thread = threading.Thread(target=self._compile, args=(kernel,), name="playground-compile", daemon=True)
            self._compiling[kernel] = thread
            thread.start()

    def _compile(self, kernel) -> None:
        try:
            self._jobs[kernel]()
        except BaseException as error:  # the twin keeps working; ``settle`` reports it
            self._failed[kernel] = error
        else:
            self._ready.add(kernel)
        finally:
            self._jobs[kernel] = None  # done: what it held (a runner's arrays) may go

    def wait(self) -> None:
        """Wait for the kernels being compiled."""
        for thread in list(self._compiling.values()):
            thread.join()

    def settle(self) -> None:
        """Compile every kernel called so far (without waiting for its time), wait for them, then
        raise the first compilation's error, if one failed."""
        with self._lock:
            for kernel in self._jobs:
                self._start(kernel)
        self.wait()
        if self._failed:
            raise next(iter(self._failed.values()))


compiles = BackgroundCompiles()


@atexit.register
def _finish_compiling() -> None:
    """A process that ends while a kernel compiles waits for it (seconds, once per install): LLVM
    still running on a thread while the interpreter and its libraries are torn down can crash."""
    compiles.wait()


def settle() -> None:
    """Compile every kernel of this module's kind that this process has called, and wait until they
    are ready (after a benchmark's warm-up, in the window's warm-up, in a test comparing the two ways)."""
    compiles.settle()


_twins: dict[object, types.FunctionType] = {}


def python_twin(kernel) -> types.FunctionType:
    """``kernel``'s own Python code as a function the interpreter runs: the helpers numba inlines
    into it (``inline="always"``) run as Python too, every other kernel it calls runs compiled.

    Only for kernels that compose other kernels: loops of their own over array elements would run
    at the interpreter's pace.  The twin computes what the kernel computes as long as its own
    arithmetic is plain IEEE (no ``fastmath``) and its own numpy calls give numba's results
    (``np.sqrt``, ``np.isfinite``; matrix products go through a kernel, since numpy's BLAS is not
    the one numba calls)."""
    twin = _twins.get(kernel)
    if twin is None:
        function = kernel.py_func
        names = dict(function.__globals__)
        twin = _twins[kernel] = types.FunctionType(
            function.__code__, names, function.__name__, function.__defaults__, function.__closure__
        )
        for name, value in function.__globals__.items():
            if isinstance(value, CPUDispatcher) and value.targetoptions.get("inline") == "always":
                names[name] = python_twin(value)
    return twin
