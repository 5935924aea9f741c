"""The toolbar's speed control sets every lab's pace (and a lesson's own pace on loading); the
timeline under the dashboard takes every panel back to a recorded step."""

from __future__ import annotations

import time

import numpy as np

from playground.gui.dashboard import DashboardModel
from playground.gui.dashboard.weights import WeightPanel
from playground.model import with_overrides
from playground.training.lessons import load_lesson


def long_toy():
    spec = load_lesson("toy-2d")
    spec.training = with_overrides(spec.training, epochs=100_000)
    return spec


def test_the_speed_control_sets_the_pace_of_every_lab_and_the_run(qtbot, make_window):
    window = make_window(long_toy())
    assert window.pace_box.pace() == 300.0  # toy-2d's own pace, applied on loading
    window.pace_box.set_pace(None)
    assert all(lab.pace is None for lab in window.labs.values())
    window.pace_box.set_pace(5.0)  # not offered: the nearest rate, 3 steps/s
    assert all(lab.pace == 3.0 for lab in window.labs.values())
    window.pace_box.set_pace(10.0)
    window.train()
    qtbot.waitUntil(lambda: window.job is not None and window.job.control.steps_per_second == 10.0, timeout=5000)
    qtbot.waitUntil(lambda: len(window.model.history) >= 3, timeout=20000)
    start_steps, start = len(window.model.history), time.perf_counter()
    qtbot.wait(1500)
    window._tick()
    rate = (len(window.model.history) - start_steps) / (time.perf_counter() - start)
    assert 4 <= rate <= 13  # about 10 steps a second, not thousands
    window.pace_box.set_pace(None)  # back to full speed while it runs
    assert window.job.control.steps_per_second is None
    qtbot.waitUntil(lambda: len(window.model.history) >= 2000, timeout=20000)


def test_dragging_the_timeline_back_shows_that_step_in_every_panel(qtbot, make_window):
    window = make_window(long_toy())
    window.pace_box.set_pace(None)
    lab = window.dashboard_lab
    window.train()
    qtbot.waitUntil(lambda: len(lab.snapshots) >= 5 and window.model.history.last_step > 2000, timeout=30000)
    window.stop()
    qtbot.waitUntil(lambda: window.state == "idle", timeout=5000)
    window._tick()
    last = window.model.history.last_step
    assert lab.timeline.last_step == last and lab.timeline.live
    chosen = lab.snapshots.steps[len(lab.snapshots) // 2]
    lab.timeline.choose(chosen + 1 if chosen + 1 not in lab.snapshots.steps else chosen)
    dashboard = window.dashboard
    shown = dashboard.shown_model()
    assert shown is not window.model and shown.history.last_step == chosen
    snapshot = lab.snapshots.at(chosen)[1]
    assert shown.weights is snapshot
    assert f"step {chosen + 1:,} of {last + 1:,}" == lab.timeline.label.text()
    # the loss curve ends at the chosen step
    dashboard.show_panel("loss")
    dashboard.refresh(force=True)
    x, _ = dashboard.loss.train_loss.getData()
    assert x[-1] <= chosen + 1 and x[-1] >= chosen * 0.9
    # the weights panel draws the snapshot's weights
    dashboard.show_panel("weights")
    dashboard.refresh(force=True)
    expected = WeightPanel()
    alone = DashboardModel()
    alone.set_network(window.model.network_spec, snapshot)
    expected.draw(alone)
    for layer, curve in dashboard.weights._curves.items():
        assert np.array_equal(curve.getData()[1], expected._curves[layer].getData()[1])
    live_weights = window.model.weights
    assert any(not np.array_equal(live_weights[key], snapshot[key]) for key in snapshot)
    # the decision boundary is computed from the snapshot
    dashboard.show_panel("data")
    dashboard.refresh(force=True)
    replayed_outputs = np.array(dashboard.data.last_outputs, copy=True)
    lab.timeline.go_live()
    assert dashboard.shown_model() is window.model and lab.timeline.label.text().endswith("(live)")
    dashboard.refresh(force=True)
    assert not np.allclose(replayed_outputs, dashboard.data.last_outputs)
