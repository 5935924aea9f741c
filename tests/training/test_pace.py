"""Slow motion: ``run_batches`` honours a steps-per-second limit, one batch a chunk, and stop and
pause cut the wait between two steps short."""

from __future__ import annotations

import threading
import time

import pytest

from playground.training import TrainingControl
from playground.training.protocol import STOPPED, ChunkResult, ChunkSizer, run_batches


def _drain(control, count, calls):
    def chunk(first, wanted):
        calls.append((first, wanted))
        return ChunkResult(wanted, None)

    generator = run_batches(control, count, chunk, ChunkSizer(steps=50))
    try:
        while True:
            next(generator)
    except StopIteration as end:
        return end.value


def test_full_speed_runs_the_sizers_chunks():
    calls = []
    assert _drain(TrainingControl(0.1), 120, calls) is None
    assert [wanted for _, wanted in calls] == [50, 50, 20]


def test_five_steps_a_second_takes_about_the_expected_time():
    control = TrainingControl(0.1)
    control.set_pace(5.0)
    calls = []
    tick = time.perf_counter()
    assert _drain(control, 10, calls) is None
    elapsed = time.perf_counter() - tick
    assert [wanted for _, wanted in calls] == [1] * 10
    assert 1.9 <= elapsed <= 2.6


def test_stop_ends_a_slow_run_promptly():
    control = TrainingControl(0.1)
    control.set_pace(1.0)
    calls = []
    threading.Timer(0.3, control.stop).start()
    tick = time.perf_counter()
    assert _drain(control, 100, calls) is STOPPED
    assert time.perf_counter() - tick < 0.6
    assert len(calls) == 1


def test_pause_interrupts_the_wait_and_resume_goes_on():
    control = TrainingControl(0.1)
    control.set_pace(1.0)
    calls = []
    threading.Timer(0.2, control.pause).start()
    outcome = {}
    worker = threading.Thread(target=lambda: outcome.setdefault("value", _drain(control, 3, calls)))
    worker.start()
    time.sleep(0.4)
    assert control.paused and len(calls) == 1
    control.set_pace(None)  # back to full speed: the rest runs at once
    control.resume()
    worker.join(2.0)
    assert not worker.is_alive() and outcome["value"] is None
    assert sum(wanted for _, wanted in calls) == 3


def test_a_step_in_slow_motion_runs_one_batch_then_pauses():
    control = TrainingControl(0.1)
    control.set_pace(2.0)
    control.pause()
    calls = []
    worker = threading.Thread(target=lambda: _drain(control, 5, calls))
    worker.start()
    control.step(1)
    time.sleep(0.2)
    assert control.paused and calls == [(0, 1)]
    control.stop()
    worker.join(2.0)
    assert not worker.is_alive()


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf")])
def test_a_bad_pace_is_refused(bad):
    with pytest.raises(ValueError):
        TrainingControl(0.1).set_pace(bad)


@pytest.mark.parametrize("pace", [0, -3, "fast", True, float("nan"), 1e9])
def test_a_lesson_with_a_bad_pace_is_refused_on_loading(pace):
    from playground.model.network_file import NetworkFileError, lesson_pace

    with pytest.raises(NetworkFileError, match="pace"):
        lesson_pace({"pace": pace})


def test_every_lesson_pace_is_full_speed_or_slow_motion():
    from playground.model.network_file import lesson_pace
    from playground.training.lessons import load_lesson

    assert lesson_pace({}) is None and lesson_pace({"pace": "full"}) is None
    assert lesson_pace(load_lesson("toy-2d").lesson) == 300.0
