"""The main window trains in its worker thread: panels receive data, controls work, closing joins.

The fixture builds the window with its own settings and autosave folder, replaces every
QMessageBox with a recorder (nothing blocks), and stops and joins the worker at teardown.
"""

from __future__ import annotations

import gc
import time

import numpy as np
import pytest
from PySide6.QtWidgets import QMessageBox

from playground.engine.dense_stack import BIAS_GRAD
from playground.model import sequential_spec, with_overrides
from playground.model.settings import DatasetSettings
from playground.training.lessons import load_lesson


def long_toy():
    """toy-2d trains its 100 epochs in well under a second: a version that keeps running."""
    spec = load_lesson("toy-2d")
    spec.training = with_overrides(spec.training, epochs=100_000)
    return spec


def _train_until(qtbot, window, steps, timeout=15000):
    qtbot.waitUntil(lambda: len(window.model.history) >= steps, timeout=timeout)


def test_training_fills_loss_and_gradient_panels(qtbot, make_window):
    window = make_window(long_toy())
    assert window.dashboard.isTabVisible(window.dashboard.indexOf(window.dashboard.data))
    window.train()
    assert window.document.locked
    _train_until(qtbot, window, 30)
    window.pause()
    qtbot.waitUntil(lambda: window.state == "paused", timeout=5000)
    window._tick()
    history = window.model.history
    assert history.layer_ids == ["fc1", "fc2", "out"]
    assert np.isfinite(history.losses).all()
    assert (history.layer_metrics[:, :, BIAS_GRAD] > 0).all()
    dashboard = window.dashboard
    for name in ("loss", "gradients", "data"):
        dashboard.show_panel(name)
        dashboard.refresh(force=True)
    x, y = dashboard.loss.train_loss.getData()
    assert len(x) > 0 and np.isfinite(y).all()
    assert set(dashboard.gradients.current) == {"fc1", "fc2", "out"}
    for layer_id, curve in dashboard.gradients._curves.items():
        assert len(curve.getData()[0]) > 0
        # the canvas and the plots use the same colour for a layer
        assert curve.opts["pen"].color().name() == window.model.colors[layer_id].name()
    assert dashboard.data.mode == "boundary" and dashboard.data.last_outputs is not None
    assert "epoch" in window.epoch_label.text() and window.step_label.text().startswith("step ")


def test_editing_is_refused_while_training(qtbot, make_window):
    window = make_window(long_toy())
    window.train()
    _train_until(qtbot, window, 1)
    reasons = []
    window.document.editRefused.connect(reasons.append)
    assert not window.document.set_training("batch_size", 32)
    assert reasons and "Stop training" in reasons[0]
    window.stop()
    qtbot.waitUntil(lambda: window.state == "idle", timeout=10000)
    assert not window.document.locked
    assert window.document.set_training("batch_size", 32)


def test_step_trains_exactly_one_mini_batch(qtbot, make_window):
    window = make_window()

    def rows(count):
        window._tick()
        return window.state == "paused" and len(window.model.history) == count

    window.step()
    qtbot.waitUntil(lambda: rows(1), timeout=10000)
    window.step()
    qtbot.waitUntil(lambda: rows(2), timeout=10000)
    np.testing.assert_array_equal(window.model.history.steps, [0, 1])
    assert window.state == "paused"


def test_learning_rate_changes_while_training(qtbot, make_window):
    window = make_window(long_toy())
    window.train()
    _train_until(qtbot, window, 1)
    window.rate_box.setValue(0.05)
    assert window.job.control.learning_rate == pytest.approx(0.05)
    window.stop_training(wait=True)
    assert window.document.spec.training.learning_rate == pytest.approx(0.05)  # kept after the run


def test_close_during_training_stops_and_joins(qtbot, make_window, dialogs):
    window = make_window(long_toy())
    window.train()
    _train_until(qtbot, window, 5)
    assert window.thread.isRunning()
    dialogs.answer = QMessageBox.Discard
    assert window.close()
    assert not window.thread.isRunning()
    assert window.job is None


def test_close_while_paused_wakes_and_joins(qtbot, make_window):
    window = make_window(long_toy())
    window.prompt_on_close = False
    window.train()
    _train_until(qtbot, window, 1)
    window.pause()
    qtbot.waitUntil(lambda: window.state == "paused", timeout=5000)
    window.close()
    assert not window.thread.isRunning()


def test_exploding_loss_names_the_layer(qtbot, make_window, dialogs):
    spec = sequential_spec([1, 16, 1], activation="relu", output="linear", cost="quadratic", initializer="he")
    spec.training = with_overrides(spec.training, learning_rate=1e4, batch_size=10)
    spec.dataset = DatasetSettings(name="function")
    window = make_window(spec)
    window.train()
    qtbot.waitUntil(lambda: bool(dialogs.of("warning")), timeout=15000)
    kind, title, text = dialogs.of("warning")[0]
    assert "exploded" in title.lower()
    assert 'layer "' in text and "learning rate" in text
    assert window.state == "idle" and not window.document.locked
    weights = window.network.copy_state()
    assert all(np.isfinite(w).all() for w in weights.values())  # the last good weights are kept


def test_reset_reinitialises_and_keeps_the_run_for_comparison(qtbot, make_window):
    window = make_window()
    initial = window.network.copy_state()
    window.train()
    _train_until(qtbot, window, 20)
    window.reset()
    assert window.state == "idle" and len(window.model.history) == 0
    for key, value in window.network.copy_state().items():
        np.testing.assert_array_equal(value, initial[key])  # same initialiser and seed
    assert len(window.model.runs) == 1 and window.model.runs[0].name.startswith("Run 1")


def test_changing_the_network_starts_a_new_run(qtbot, make_window):
    window = make_window()
    window.train()
    _train_until(qtbot, window, 10)
    window.stop_training(wait=True)
    steps_before = window.model.history.last_step
    assert window.document.set_layer_config("fc1", "activation", "relu")
    window.train()  # a different network: a fresh run, the old one kept under Compare runs
    _train_until(qtbot, window, 1)
    window.stop_training(wait=True)
    assert [run.name.split(" · ")[1] for run in window.model.runs] == ["tanh ×2"]
    assert window.model.history.steps[0] == 0 and steps_before > 0


def test_train_is_disabled_for_an_invalid_network(qtbot, make_window):
    window = make_window()
    assert window.train_action.isEnabled()
    window.document.disconnect("fc1", "fc2")
    assert not window.train_action.isEnabled()
    assert "Cannot train" in window.problem_label.text()
    window.document.undo()
    assert window.train_action.isEnabled() and window.problem_label.text() == ""


def test_space_toggles_training(qtbot, make_window):
    window = make_window(long_toy())
    window.toggle_action.trigger()
    assert window.state in ("running", "stopping") or window.job is not None
    _train_until(qtbot, window, 1)
    window.toggle_action.trigger()
    qtbot.waitUntil(lambda: window.state == "paused", timeout=5000)
    assert window.toggle_action.shortcut().toString() == "Space"


def test_step_from_a_paused_run_leaves_the_toolbar_paused(qtbot, make_window):
    """A single step pauses the job by itself: the window's actions follow, and Space continues."""
    window = make_window(long_toy())
    window.train()
    _train_until(qtbot, window, 1)
    window.pause()
    qtbot.waitUntil(lambda: window.state == "paused", timeout=5000)
    qtbot.wait(200)  # the chunk in progress ends
    window._tick()
    steps = len(window.model.history)
    control = window.job.control
    take_budget = control.take_budget

    def slow_take_budget(wanted):  # the worker wakes a moment after the window shows the running state
        time.sleep(0.3)
        return take_budget(wanted)

    control.take_budget = slow_take_budget
    window.step()
    assert window.state == "running"
    qtbot.waitUntil(lambda: len(window.model.history) == steps + 1 and window.state == "paused", timeout=10000)
    qtbot.waitUntil(lambda: window.train_action.isEnabled(), timeout=2000)
    assert window.train_action.text() == "Continue"
    assert not window.pause_action.isEnabled() and window.step_action.isEnabled()
    window.toggle_action.trigger()  # Space
    assert window.state == "running"


def test_loading_data_gives_way_once_the_data_is_there(qtbot, make_window, monkeypatch):
    window = make_window(long_toy())
    monkeypatch.setattr(window.data, "cached", lambda *args: None)  # as if the data had to load
    window.train()
    assert window.statusBar().currentMessage() == "Loading data…"
    _train_until(qtbot, window, 2)
    qtbot.waitUntil(lambda: window.dashboard_lab.data_label.text().startswith("data:"), timeout=5000)
    assert window.statusBar().currentMessage() != "Loading data…"


def test_a_run_starts_with_the_heap_collected_and_set_aside(qtbot, make_window):
    """The objects made before Train are collected and frozen, so the GUI thread's collections
    during the run scan only what the run makes (their first one stalled the timer 30-50 ms)."""
    window = make_window(long_toy())
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    window.train()
    assert gc.get_freeze_count() > 10_000
    _train_until(qtbot, window, 5)
    window.stop()
