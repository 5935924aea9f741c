"""The Bumps view: on its own with fake data, and in the window with universal-approximation-bumps
(drag a step or a height: that bump, the sum and the error follow and the network takes it; Train:
gradient descent refines the bumps and the view draws what it made of them)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from playground.gui.dashboard.bumps import BumpsPanel
from playground.gui.dashboard.preview import fake_model
from playground.training.bumps import BumpNetwork, bump_layers, step_positions
from playground.training.lessons import load_lesson


def shown_error(view) -> float:
    return float(re.search(r"<b>([0-9.]+)</b>", view.headline.text).group(1))


@pytest.fixture
def view(qtbot):
    panel = BumpsPanel()
    qtbot.addWidget(panel)
    panel.resize(900, 700)
    panel.show()
    return panel


def test_the_view_runs_on_its_own_with_fake_data(view):
    model = fake_model("bumps")
    assert view.applies_to(model) and not view.applies_to(fake_model("function"))
    view.refresh(model, force=True)
    assert len(view.bump_curves) == 5 and len(view.step_lines) == 10 and len(view.height_handles) == 5
    assert view.contributions.shape == (400, 5)
    assert "Even steps" in view.headline.text  # random small weights: the view says what to press


def test_dragging_steps_and_heights_redraws_the_bump_the_sum_and_the_error(view):
    model = fake_model("bumps")
    view.refresh(model, force=True)
    edited = []
    view.weightsEdited.connect(edited.append)
    view.lay_out_evenly()
    assert np.allclose(view.contributions, 0) and edited
    flat = shown_error(view)
    view.drag_height(2, 0.5)  # the middle bump up to the target's level there
    centre = np.argmin(np.abs(np.linspace(*view.x_range, 400)))
    assert view.contributions[centre, 2] == pytest.approx(0.5, abs=1e-6)
    assert np.allclose(np.delete(view.contributions[centre], 2), 0, atol=1e-6)
    assert shown_error(view) < flat
    assert edited[-1]["out.weight"][0, 4:6] == pytest.approx([0.5, -0.5])
    view.drag_step(5, 0.5)  # the middle bump's right step, from 0.2 to 0.5
    assert step_positions(edited[-1], view.layers)[5] == pytest.approx(0.5)
    x = np.linspace(*view.x_range, 400)
    assert view.contributions[np.argmin(np.abs(x - 0.35)), 2] == pytest.approx(0.5, abs=1e-3)
    view.lay_out_evenly()  # side by side again (the moved step made two bumps overlap)
    view.heights_from_target()
    assert shown_error(view) < 0.1
    # the sum drawn is the engine's output for the edited weights
    bumps = BumpNetwork(model.network_spec, view.layers)
    bumps.load(edited[-1])
    np.testing.assert_allclose(view.sum_curve.getData()[1], bumps.output(x), rtol=1e-9)


def test_in_the_window_handles_set_the_network_and_train_refines_the_bumps(qtbot, make_window):
    window = make_window(load_lesson("universal-approximation-bumps"))
    dashboard = window.dashboard
    assert dashboard.currentWidget() is dashboard.bumps
    view = dashboard.bumps
    lab = window.dashboard_lab
    view.lay_out_evenly()
    view.heights_from_target()
    view.steepness.setValue(26)  # 10^(26/20): steps of w ≈ 20
    layers = bump_layers(window.document.spec)
    weights = lab.network.copy_state()
    np.testing.assert_allclose(np.abs(weights["steps.weight"]), 10**1.3, rtol=1e-6)
    by_hand = shown_error(view)
    assert by_hand < 0.1
    window.pace_box.set_pace(None)
    window.train()
    qtbot.waitUntil(lambda: window.state == "idle", timeout=60000)
    window._tick()
    dashboard.refresh(force=True)
    trained = shown_error(view)
    assert trained < 0.01 < by_hand
    bumps = BumpNetwork(window.document.spec, layers)
    bumps.load(lab.network.copy_state())
    x = np.linspace(*view.x_range, 400)
    np.testing.assert_allclose(view.sum_curve.getData()[1], bumps.output(x), rtol=1e-5)
