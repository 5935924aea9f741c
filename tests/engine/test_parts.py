"""How many threads the parts run on (parts.run_parts): the faster count wins, and nothing else changes."""

from __future__ import annotations

import time

import numba
import numpy as np
import pytest

from playground.engine import parts

needs_two_threads = pytest.mark.skipif(
    numba.config.NUMBA_NUM_THREADS < 2, reason="numba runs one thread here: nothing to choose"
)

#: what the kernels are given: the governor tells calls apart by their first array's shape
ARRAY = np.zeros(3)


class _Kernel:
    """Stands for a parallel driver: sleeps ``seconds[threads]`` for the thread count numba is
    set to during the call (as a driver whose parts wait for a busy core, or do not), and
    notes that count."""

    def __init__(self, seconds: dict[int, float]):
        self.seconds = seconds
        self.threads: list[int] = []

    def __call__(self, x):
        threads = numba.get_num_threads()
        self.threads.append(threads)
        time.sleep(self.seconds[1 if threads == 1 else 2])
        return x


def _calls(kernel, count):
    return [parts.run_parts(kernel, ARRAY) for _ in range(count)] and kernel.threads


@needs_two_threads
@pytest.mark.parametrize("slow", [1, 2])
def test_the_parts_run_on_the_faster_thread_count(slow):
    """A first call (compiling), a probe taking turns between all threads and one, then the
    faster count until the next probe; the caller's thread setting is left as it was."""
    numba.set_num_threads(2)
    kernel = _Kernel({slow: 0.006, 3 - slow: 0.001})
    probe = 1 + 2 * parts.PROBE_CALLS
    threads = _calls(kernel, probe + 5)
    assert threads[1:probe] == [2, 1] * parts.PROBE_CALLS
    fast = 1 if slow == 2 else 2
    assert threads[probe:] == [fast] * 5
    assert numba.get_num_threads() == 2


@needs_two_threads
def test_a_choice_is_checked_again_and_changed_when_the_machine_changes():
    """A decision stands for a while, then a probe looks again: when the one-thread count has
    become the slow one (the other core freed), the parts go back to all threads."""
    numba.set_num_threads(2)
    kernel = _Kernel({2: 0.004, 1: 0.0005})
    probe = 1 + 2 * parts.PROBE_CALLS
    _calls(kernel, probe + 1)
    assert kernel.threads[-1] == 1
    kernel.seconds = {2: 0.0005, 1: 0.004}
    deadline = time.perf_counter() + 2 * parts.SETTLED_MIN_S + 1.0
    while time.perf_counter() < deadline and kernel.threads[-3:] != [2, 2, 2]:
        parts.run_parts(kernel, ARRAY)
    assert kernel.threads[-3:] == [2, 2, 2]


def test_on_one_thread_the_kernel_is_simply_called():
    before = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        kernel = _Kernel({1: 0.0, 2: 0.0})
        assert parts.run_parts(kernel, ARRAY) is ARRAY
        assert kernel.threads == [1]
    finally:
        numba.set_num_threads(before)


@needs_two_threads
def test_the_thread_setting_is_restored_when_a_kernel_fails():
    numba.set_num_threads(2)

    def failing(_):
        raise FloatingPointError("boom")

    for _ in range(1 + 2 * parts.PROBE_CALLS):
        with pytest.raises(FloatingPointError):
            parts.run_parts(failing, ARRAY)
        assert numba.get_num_threads() == 2
