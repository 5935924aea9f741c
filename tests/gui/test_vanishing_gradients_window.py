"""The vanishing-gradients lesson in the window, on MNIST: the Gradients panel's own series keeps
the last hidden layer far faster than the first for the whole default run, and its headline says so."""

from __future__ import annotations

import numpy as np

from playground.engine.dense_stack import BIAS_GRAD
from playground.training.lessons import load_lesson


def test_the_last_hidden_layer_learns_at_least_30x_faster_than_the_first_at_every_recorded_step(
    qtbot, make_window, mnist_dir
):
    spec = load_lesson("vanishing-gradients")
    epochs = spec.training.epochs
    window = make_window(spec, data_dir=mnist_dir)
    window.pace_box.set_pace(None)  # the whole run, at full speed (the lesson's pace takes 50 s)
    window.train()

    def done():
        window._tick()
        return window.state == "idle" and len(window.model.history.epochs) >= epochs

    qtbot.waitUntil(done, timeout=180_000)
    history = window.model.history
    assert history.layer_ids == ["fc1", "fc2", "fc3", "fc4", "out"]
    speeds = history.layer_metrics[:, :, BIAS_GRAD]
    assert len(speeds) >= 100 and history.steps[-1] >= epochs - 1  # the whole run, step 0 onwards
    ratio = speeds[:, 3] / speeds[:, 0]  # fc4 over fc1
    assert np.all(ratio >= 30), (float(ratio.min()), int(np.argmin(ratio)))
    # the panel draws those series, and its headline names the gap it shows
    dashboard = window.dashboard
    dashboard.show_panel("gradients")
    dashboard.refresh(force=True)
    panel = dashboard.gradients
    assert panel.ratio is not None and panel.ratio >= 30
    assert "slower" in panel.headline.text and "same speed" not in panel.headline.text
