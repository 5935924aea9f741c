"""How a step's parts run (parts.run_parts): side by side through their parallel driver once it is
compiled, while the machine has a core free for each part; in turn on one thread otherwise."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import numba
import pytest

from playground.engine import background, parts

needs_two_threads = pytest.mark.skipif(
    numba.config.NUMBA_NUM_THREADS < 2 or parts.PARTS < 2, reason="numba runs one thread here: nothing to choose"
)


class _Driver:
    """Stands for a ``parallel=True`` driver: counts its calls; its compilation waits for ``release``."""

    def __init__(self, error=None):
        self.calls = 0
        self.compiled = []
        self.release = threading.Event()
        self.error = error

    def typeof_pyval(self, value):
        return type(value).__name__

    def compile(self, signature):
        assert self.release.wait(10)
        if self.error is not None:
            raise self.error
        self.compiled.append(signature)

    def __call__(self, *arguments):
        self.calls += 1


def _in_turn(p, log):
    log.append(p)


@pytest.fixture
def fresh(monkeypatch):
    """No driver compiled yet, a new load measurement on every call, and none left over."""
    monkeypatch.setattr(background, "compiles", background.BackgroundCompiles())
    monkeypatch.setattr(background, "QUIET_COMPILER_S", 0.0)
    monkeypatch.setattr(parts, "LOOK_EVERY_S", 0.0)
    parts._watch.load, parts._watch.crowded = None, False
    before = numba.get_num_threads()
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    yield
    numba.set_num_threads(before)
    parts._watch.load, parts._watch.crowded = None, False


class _Load:
    """Stands for machine.OtherLoad: ``other`` cores kept busy by other processes."""

    other = 0.0

    def __init__(self):
        self.start_time = time.perf_counter()

    def cores(self):
        return _Load.other


def _ready_driver():
    """A driver already compiled in this process (``background.compiles``)."""
    driver = _Driver()
    driver.release.set()
    for _ in range(2):
        parts.run_parts(driver, _in_turn, 2, [])
    background.settle()
    return driver


@needs_two_threads
def test_the_parts_run_in_turn_until_their_driver_is_compiled(monkeypatch, fresh):
    monkeypatch.setattr(parts, "threads_for_now", lambda most: most)
    driver, log = _Driver(), []
    parts.run_parts(driver, _in_turn, 2, log)
    assert log == [0, 1] and driver.compiled == []  # the first call compiles nothing more
    parts.run_parts(driver, _in_turn, 2, log)  # the second starts compiling the driver
    parts.run_parts(driver, _in_turn, 2, log)  # which is not ready yet
    assert log == [0, 1] * 3 and driver.calls == 0
    driver.release.set()
    background.settle()
    assert driver.compiled == [("list",)]
    parts.run_parts(driver, _in_turn, 2, log)
    assert driver.calls == 1 and len(log) == 6


@needs_two_threads
def test_no_driver_compiles_while_numba_compiles_a_steps_kernels(monkeypatch, fresh):
    """A driver compiling would hold numba's lock while the first steps compile their kernels."""
    monkeypatch.setattr(parts, "threads_for_now", lambda most: most)
    monkeypatch.setattr(background, "QUIET_COMPILER_S", 60.0)
    monkeypatch.setattr(background.COMPILER, "last_end", time.perf_counter())
    driver, log = _Driver(), []
    for _ in range(3):
        parts.run_parts(driver, _in_turn, 2, log)
    background.compiles._first_call[driver] -= 61.0  # in use for a minute, but numba compiled just now
    parts.run_parts(driver, _in_turn, 2, log)
    assert background.compiles._compiling == {}
    monkeypatch.setattr(background.COMPILER, "last_end", time.perf_counter() - 61.0)
    parts.run_parts(driver, _in_turn, 2, log)
    assert list(background.compiles._compiling) == [driver]
    driver.release.set()
    background.settle()


@needs_two_threads
def test_no_driver_compiles_in_the_first_step_that_needs_it(monkeypatch, fresh):
    """Twice in one step (an encoder's LSTM and its decoder's) is not yet the time: the step may
    still be loading kernels from numba's cache, under the lock a compiling driver would hold."""
    monkeypatch.setattr(parts, "threads_for_now", lambda most: most)
    monkeypatch.setattr(background, "QUIET_COMPILER_S", 60.0)
    monkeypatch.setattr(background.COMPILER, "last_end", 0.0)  # nothing compiled in this process
    driver, log = _Driver(), []
    for _ in range(3):
        parts.run_parts(driver, _in_turn, 2, log)
    assert background.compiles._compiling == {}
    background.compiles._first_call[driver] -= 61.0
    parts.run_parts(driver, _in_turn, 2, log)
    assert list(background.compiles._compiling) == [driver]
    driver.release.set()
    background.settle()


@needs_two_threads
@pytest.mark.parametrize(("other", "side_by_side"), [(0.0, True), (0.3, True), (1.0, False), (1.7, False)])
def test_the_parts_share_the_cores_other_processes_leave_free(monkeypatch, fresh, other, side_by_side):
    monkeypatch.setattr(parts, "OtherLoad", _Load)
    monkeypatch.setattr(parts.os, "cpu_count", lambda: 2)
    _Load.other = 0.0
    driver, log = _ready_driver(), []
    _Load.other = other
    parts.run_parts(driver, _in_turn, 2, log)  # measures
    calls = driver.calls
    log.clear()
    for _ in range(3):
        parts.run_parts(driver, _in_turn, 2, log)
    assert (driver.calls - calls, len(log)) == ((3, 0) if side_by_side else (0, 6))


@needs_two_threads
def test_a_look_that_spans_a_pause_is_discarded(monkeypatch, fresh):
    """A window pauses its run while a benchmark's headless reference trains in another process:
    what the machine did meanwhile says nothing about the parts' cores once the run goes on."""
    monkeypatch.setattr(parts, "OtherLoad", _Load)
    monkeypatch.setattr(parts.os, "cpu_count", lambda: 2)
    _Load.other = 0.0
    driver, log = _ready_driver(), []
    parts.run_parts(driver, _in_turn, 2, log)  # looks: quiet
    _Load.other = 1.7  # busy throughout the pause
    parts._watch.load.start_time -= 60.0  # a minute's pause
    calls = driver.calls
    parts.run_parts(driver, _in_turn, 2, log)
    assert (driver.calls - calls, log) == (1, [])  # the verdict from before the pause holds
    parts.run_parts(driver, _in_turn, 2, log)  # a look of the usual length: the load is real now
    assert log == [0, 1]


@needs_two_threads
def test_a_busy_process_beside_sends_the_parts_in_turn(fresh):
    """The real measurement: a process spinning on one core for the duration."""
    driver, log = _ready_driver(), []
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.5)
        parts.run_parts(driver, _in_turn, 2, log)
        time.sleep(0.3)
        calls = driver.calls
        parts.run_parts(driver, _in_turn, 2, log)
        assert driver.calls == calls and log[-2:] == [0, 1]
    finally:
        spinner.kill()
        spinner.wait()


def test_on_one_thread_the_parts_run_in_turn_and_no_driver_is_compiled(fresh):
    numba.set_num_threads(1)
    driver, log = _Driver(), []
    for _ in range(3):
        parts.run_parts(driver, _in_turn, 2, log)
    assert log == [0, 1] * 3
    assert (driver.calls, background.compiles._compiling) == (0, {})


@needs_two_threads
def test_a_driver_that_fails_to_compile_leaves_the_parts_in_turn(monkeypatch, fresh):
    monkeypatch.setattr(parts, "threads_for_now", lambda most: most)
    driver, log = _Driver(error=RuntimeError("no")), []
    driver.release.set()
    for _ in range(2):
        parts.run_parts(driver, _in_turn, 2, log)
    with pytest.raises(RuntimeError, match="no"):
        background.settle()
    parts.run_parts(driver, _in_turn, 2, log)
    assert driver.calls == 0 and log == [0, 1] * 3


@needs_two_threads
def test_settling_compiles_every_driver_called_so_far_at_once(monkeypatch, fresh):
    """What a benchmark does after its warm-up: no timed pass may run the parts in turn."""
    monkeypatch.setattr(parts, "threads_for_now", lambda most: most)
    monkeypatch.setattr(background, "QUIET_COMPILER_S", 60.0)
    driver, log = _Driver(), []
    driver.release.set()
    parts.run_parts(driver, _in_turn, 2, log)
    background.settle()
    parts.run_parts(driver, _in_turn, 2, log)
    assert (driver.compiled, driver.calls, log) == ([("list",)], 1, [0, 1])


class _LoadFor:
    """Stands for ``machine.OtherLoad``: other processes kept ``cores`` cores busy for ``seconds``."""

    def __init__(self, cores, seconds):
        self.start_time = time.perf_counter() - seconds
        self._cores = cores

    def cores(self):
        return self._cores


def test_a_fused_runner_judges_the_load_over_its_calls_only(monkeypatch):
    """A fused kernel's chunks (20 ms in the window) add up until LOOK_EVERY_S of running; the time
    between them (a pause, another process's work meanwhile) never counts."""
    monkeypatch.setattr(parts.os, "cpu_count", lambda: 2)
    readings = iter([(1.0, 0.1), (1.0, 0.1), (0.0, 0.05), (0.0, 0.3)])
    monkeypatch.setattr(parts, "OtherLoad", lambda: _LoadFor(*next(readings)))
    load = parts.LoadWhileRunning()
    for expected in (False, False):  # 0.1 s, then 0.2 s of running: not yet a judgement
        with load.measured(2):
            pass
        assert load.crowded is expected
    with load.measured(2):  # 0.25 s, one core busy for 0.2 of it: 0.8 of a core, one part's core lost
        pass
    assert load.crowded
    with load.measured(2):  # 0.3 s quiet: both cores free again
        pass
    assert not load.crowded
    assert not parts.crowded(0.4, 2) and parts.crowded(0.6, 2) and not parts.crowded(1.0, 1)
