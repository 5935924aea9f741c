"""The Cost view on its own, with a fake neuron (no window, no training): it marks the neuron's z on
the sigmoid and its slope, writes the error each cost sends back, and its softmax sliders move the
bars and the log-likelihood cost."""

from __future__ import annotations

import numpy as np
import pytest

from playground.datasets import load_dataset
from playground.gui.dashboard import DashboardModel
from playground.gui.dashboard.cost import CostPanel
from playground.training.lessons import load_lesson


@pytest.fixture
def panel(qtbot):
    view = CostPanel()
    qtbot.addWidget(view)
    view.resize(900, 600)
    view.show()
    return view


def neuron_model(w: float, b: float) -> DashboardModel:
    model = DashboardModel()
    model.set_network(load_lesson("learning-slowdown"), {"out.weight": np.array([[w]]), "out.bias": np.array([b])})
    model.set_dataset(load_dataset("one-example"))
    return model


def test_the_neuron_is_marked_where_its_slope_is_small(panel):
    model = neuron_model(2.0, 2.0)
    assert panel.applies_to(model)
    panel.refresh(model, force=True)
    assert panel.marker_line.isVisible() and panel.marker_line.value() == pytest.approx(4.0)
    _, y = panel.markers.getData()
    assert y[1] == pytest.approx(0.0177, abs=1e-4)  # σ′(4)
    text = panel.headline.text
    assert "0.0177" in text and "0.0173" in text and "0.9820" in text
    # the weights move: the view follows
    model.set_weights({"out.weight": np.array([[0.0]]), "out.bias": np.array([0.0])})
    assert panel.refresh(model)
    assert panel.marker_line.value() == pytest.approx(0.0) and "0.2500" in panel.headline.text


def test_other_networks_do_not_get_the_tab_and_an_empty_model_says_what_to_do(panel):
    model = DashboardModel()
    model.set_network(load_lesson("toy-2d"))
    assert not panel.applies_to(model)
    panel.refresh(DashboardModel(), force=True)
    assert not panel.marker_line.isVisible() and "Train the neuron" in panel.headline.text


def test_the_softmax_sliders_move_the_bars_and_the_cost(panel):
    before = panel.softmax
    assert before.a.sum() == pytest.approx(1.0)
    assert np.allclose(panel.bars.opts["height"], before.a)
    panel.sliders[3].setValue(50)  # z4 = 5: the target class's output grows, its cost falls
    after = panel.softmax
    assert after.z[3] == 5.0 and after.a[3] > before.a[3] and after.cost < before.cost
    assert np.allclose(panel.bars.opts["height"], after.a)
    assert f"{after.cost:.3f}" in panel.softmax_text.text()
    panel.target.setValue(2)
    assert panel.softmax.target == 1 and "ln a2" in panel.softmax_text.text()
