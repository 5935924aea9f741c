"""On how many threads the parts run (parts.run_parts): all while the machine has a core free for
each part, one while other processes keep a core busy; the caller's setting is left as it was."""

from __future__ import annotations

import subprocess
import sys
import time

import numba
import pytest

from playground.engine import parts

needs_two_threads = pytest.mark.skipif(
    numba.config.NUMBA_NUM_THREADS < 2 or parts.PARTS < 2, reason="numba runs one thread here: nothing to choose"
)


def _threads_numba_gives(_):
    return numba.get_num_threads()


@pytest.fixture
def fresh_watch(monkeypatch):
    """A new measurement on every call, and none left over from an earlier test."""
    monkeypatch.setattr(parts, "LOOK_EVERY_S", 0.0)
    parts._watch.load, parts._watch.crowded = None, False
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    yield
    parts._watch.load, parts._watch.crowded = None, False


class _Load:
    """Stands for machine.OtherLoad: ``other`` cores kept busy by other processes."""

    other = 0.0

    def __init__(self):
        self.start_time = time.perf_counter()

    def cores(self):
        return _Load.other


@needs_two_threads
@pytest.mark.parametrize(("other", "threads"), [(0.0, 2), (0.3, 2), (1.0, 1), (1.7, 1)])
def test_the_parts_share_the_cores_other_processes_leave_free(monkeypatch, fresh_watch, other, threads):
    monkeypatch.setattr(parts, "OtherLoad", _Load)
    monkeypatch.setattr(parts.os, "cpu_count", lambda: 2)
    _Load.other = other
    numba.set_num_threads(2)
    assert parts.run_parts(_threads_numba_gives, None) == 2  # nothing measured yet: all threads
    assert [parts.run_parts(_threads_numba_gives, None) for _ in range(3)] == [threads] * 3
    assert numba.get_num_threads() == 2


@needs_two_threads
def test_a_busy_process_beside_sends_the_parts_to_one_thread(fresh_watch):
    """The real measurement: a process spinning on one core for the duration."""
    numba.set_num_threads(2)
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.5)
        parts.run_parts(_threads_numba_gives, None)
        time.sleep(0.3)
        assert parts.run_parts(_threads_numba_gives, None) == 1
    finally:
        spinner.kill()
        spinner.wait()


def test_on_one_thread_the_kernel_is_simply_called(fresh_watch):
    before = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        assert parts.run_parts(_threads_numba_gives, None) == 1
    finally:
        numba.set_num_threads(before)


@needs_two_threads
def test_the_thread_setting_is_restored_when_a_kernel_fails(monkeypatch, fresh_watch):
    monkeypatch.setattr(parts, "OtherLoad", _Load)
    _Load.other = 1.0
    numba.set_num_threads(2)

    def failing(_):
        raise FloatingPointError("boom")

    for _ in range(3):
        with pytest.raises(FloatingPointError):
            parts.run_parts(failing, None)
        assert numba.get_num_threads() == 2
