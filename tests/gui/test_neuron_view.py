"""The Neuron view: on its own with fake data, and in the window with the sigmoid-neuron lesson
(move a slider: the heat map, the formula and the cut follow and the network takes the value;
Train: the sliders follow w and b as they move)."""

from __future__ import annotations

import numpy as np
import pytest

from playground.gui.dashboard.neuron import NeuronPanel
from playground.gui.dashboard.preview import fake_model
from playground.training.lessons import load_lesson
from playground.training.neuron import neuron_parameters


@pytest.fixture
def panel(qtbot):
    view = NeuronPanel()
    qtbot.addWidget(view)
    view.resize(900, 700)
    view.show()
    return view


def test_the_view_runs_on_its_own_with_fake_data(panel):
    model = fake_model("neuron")
    assert panel.applies_to(model) and not panel.applies_to(fake_model("toy-2d"))
    panel.refresh(model, force=True)
    _, w1, w2, b = neuron_parameters(model.weights)
    assert [s.value() / 20 for s in panel.sliders] == pytest.approx([w1, w2, b], abs=0.03)
    assert panel.sigmoid_map.shape == (120, 120) and panel.data is not None
    assert "% </b>" not in panel.headline.text and "of the training points" in panel.headline.text
    assert panel.images["sigmoid"].image is not None and panel.images["step"].image is not None


def test_moving_a_slider_redraws_the_map_formula_and_cut_and_asks_the_network_to_take_it(panel, qtbot):
    model = fake_model("neuron")
    panel.refresh(model, force=True)
    edited = []
    panel.weightsEdited.connect(edited.append)
    before_map = panel.sigmoid_map.copy()
    before_formula = panel.formula.text()
    panel.set_parameter(1, 2.5)  # w₂
    assert panel.neuron.parameters[1] == pytest.approx(2.5)
    assert not np.allclose(panel.sigmoid_map, before_map)
    assert panel.formula.text() != before_formula and "2.50×" in panel.formula.text()
    assert panel.value_labels[1].text() == "2.50"
    assert edited and edited[-1]["neuron.weight"][0, 1] == pytest.approx(2.5)
    # one slider step of w₁: the sigmoid's output at the + moves a little and smoothly
    panel.set_parameter(0, panel.neuron.parameters[0] + 0.05)
    assert panel.cut_plot.getAxis("bottom").labelText.startswith("w₁ ")
    sigmoid_change, step_change = panel.change
    assert 0 < abs(sigmoid_change) < 0.05 and step_change in (-1.0, 0.0, 1.0)
    assert "moved the sigmoid by" in panel.cut_plot.titleLabel.text


def test_in_the_window_sliders_set_the_network_and_follow_training(qtbot, make_window):
    window = make_window(load_lesson("sigmoid-neuron"))
    dashboard = window.dashboard
    assert dashboard.currentWidget() is dashboard.neuron  # the lesson opens on its view
    lab = window.dashboard_lab
    view = dashboard.neuron
    view.set_parameter(2, -1.0)  # b by hand: the idle network takes it
    assert float(lab.network.state()["neuron.bias"][0]) == pytest.approx(-1.0)
    assert float(window.model.weights["neuron.bias"][0]) == pytest.approx(-1.0)
    view.set_parameter(2, -1.36)  # back to the lesson's start
    start = view.neuron.parameters
    window.pace_box.set_pace(100.0)  # faster than the lesson's 30 steps a second, slow enough to watch
    window.train()
    seen = {start}
    for _ in range(40):
        qtbot.wait(250)
        seen.add(view.neuron.parameters)
        if window.state == "idle":
            break
    qtbot.waitUntil(lambda: window.state == "idle", timeout=30000)
    window._tick()
    dashboard.refresh(force=True)
    assert len(seen) >= 5  # the sliders moved with training, snapshot by snapshot
    final = neuron_parameters(lab.network.state())[1:]
    assert view.neuron.parameters == pytest.approx(final, abs=1e-6)
    assert [s.value() / 20 for s in view.sliders] == pytest.approx(final, abs=0.03)
    assert final[0] + final[1] > 4 and start[0] + start[1] < -2  # w turned round
    assert window.model.history.epochs[-1].val_accuracy >= 0.97
    assert "99" in view.headline.text or "100" in view.headline.text
    # back in time on the timeline, a slider move is an edit made now: the views come back live
    lab.timeline.choose(lab.snapshots.steps[1])
    assert dashboard.replayed is not None
    view.set_parameter(2, 0.5)
    assert lab.timeline.live and dashboard.replayed is None
    assert float(lab.network.state()["neuron.bias"][0]) == pytest.approx(0.5)
    assert view.neuron.parameters[2] == pytest.approx(0.5)
