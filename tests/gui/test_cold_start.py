"""A run that waits for numba to compile the engine says so ("preparing the engine, first run
only"), with its progress, instead of sitting at "starting…" over empty plots.

The runners here are fake and slow: before their first event they "compile" for a while,
announcing it as numba announces a real compilation (a "numba:compile" event)."""

from __future__ import annotations

import threading
import time

from numba.core import event

from playground.engine.background import COMPILER
from playground.gui.sequence_lab import SequenceLab
from playground.training import Finished
from playground.training.lessons import load_lesson

from .helpers import shown_labs
from .test_sequence_lab import fake_runner, fake_spec

COLD = "preparing the engine, first run only"


def compiling(release: threading.Event, kernels: int = 3):
    """Pretend to compile ``kernels`` kernels, the last one until ``release`` is set."""
    for index in range(kernels):
        with event.trigger_event("numba:compile", data={"kernel": index}):
            if index == kernels - 1:
                release.wait(20)


def test_the_sequence_lab_says_the_engine_is_being_prepared(qtbot):
    release = threading.Event()
    events = fake_runner(epochs=1)

    def slow_runner(spec, control):
        compiling(release)
        yield from events(spec, control)

    before = COMPILER.compiled
    with shown_labs(qtbot) as show:
        lab = show(SequenceLab(runner=slow_runner), fake_spec())
        assert lab.train()
        qtbot.waitUntil(lambda: COLD in lab.status.text(), timeout=5000)
        assert f"{before + 2} kernels compiled" in lab.status.text()
        release.set()
        qtbot.waitUntil(lambda: not lab.running, timeout=10000)
        assert COLD not in lab.status.text() and "finished" in lab.status.text()


def test_a_run_that_compiles_nothing_just_starts(qtbot):
    release = threading.Event()

    def quiet_runner(spec, control):
        release.wait(20)  # slow, but no compilation: loading data, say
        yield Finished("completed", "done")

    with shown_labs(qtbot) as show:
        lab = show(SequenceLab(runner=quiet_runner), fake_spec())
        time.sleep(2)  # longer than the compile watch's quiet time: earlier tests' compilations are over
        assert lab.train()
        qtbot.waitUntil(lambda: "starting…" in lab.status.text(), timeout=5000)
        assert COLD not in lab.status.text()
        release.set()
        qtbot.waitUntil(lambda: not lab.running, timeout=10000)


def test_the_dashboard_says_the_engine_is_being_prepared(qtbot, make_window):
    window = make_window(load_lesson("toy-2d"), warm_up=False)
    release = threading.Event()
    real_get = window.data.get

    def slow_get(*args, **kwargs):  # the run's first moments, while numba "compiles"
        compiling(release)
        return real_get(*args, **kwargs)

    window.data.get = slow_get
    window.dashboard_lab._dataset_key = None
    window.train()
    lab = window.dashboard_lab
    qtbot.waitUntil(lambda: window._tick() is None and lab.rate_label.text() == "compiling…", timeout=5000)
    qtbot.waitUntil(lambda: COLD in window.statusBar().currentMessage().lower(), timeout=5000)
    release.set()
    qtbot.waitUntil(lambda: window._tick() is None and len(window.model.history) > 0, timeout=20000)
    window.stop_training(wait=True)
    assert lab.rate_label.text() != "compiling…"
