"""A lesson that compares variants, trained in the window: Train runs every variant in turn, each
becomes a run of its own named by its label, and every variant's curve reaches the Compare panel
in its own colour, with the figures the headless run gives."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from playground.engine.dense_stack import SATURATION
from playground.training.lessons import load_lesson
from playground.training.report import lesson_report

LABELS = ["quadratic, w=0.6 b=0.9", "cross-entropy, w=0.6 b=0.9", "quadratic, w=2 b=2", "cross-entropy, w=2 b=2"]


def _cost_at(run, epoch: int) -> float:
    """A kept run's cost at the start of ``epoch`` (step k is the network after k updates, and
    one epoch of this lesson is one update)."""
    return float(run.history.losses[list(run.history.steps).index(epoch)])


def test_train_runs_every_variant_and_each_curve_reaches_the_compare_panel(qtbot, make_window):
    window = make_window(load_lesson("learning-slowdown"))
    window.pace_box.set_pace(None)  # full speed: the paced run is the next test's
    assert window.dashboard.compare.metric.currentData() == "train_loss"  # the lesson's figure
    window.train()
    assert window.state != "idle"
    qtbot.waitUntil(lambda: window.state == "idle", timeout=60000)
    window._tick()
    runs = window.model.runs
    assert [run.name for run in runs] == LABELS
    assert len({run.color.name() for run in runs}) == len(LABELS)  # each in its own colour
    for run in runs:
        assert len(run.history) == 300 and len(run.history.epochs) == 300
    by_label = {run.name: run for run in runs}
    # the effect, in the series the window draws: from w = b = 2 the quadratic cost barely moves
    # in 150 epochs while cross-entropy has fallen by a third
    slow, fast = by_label["quadratic, w=2 b=2"], by_label["cross-entropy, w=2 b=2"]
    assert _cost_at(slow, 150) > 0.43 and _cost_at(slow, 0) > 0.48
    assert _cost_at(fast, 150) < 0.7 * _cost_at(fast, 0)
    # each variant trained at its own rate; the document keeps the lesson's
    assert window.document.spec.training.learning_rate == 0.15
    # the view draws every variant's curve, in its colour, and the current run (the last variant)
    dashboard = window.dashboard
    dashboard.show_panel("compare")
    dashboard.refresh(force=True)
    panel = dashboard.compare
    drawn = {curve.opts["name"]: curve for curve in panel.curves}
    for run in runs:
        x, y = drawn[run.name].getData()
        assert len(x) > 100 and np.isfinite(y).all()
        assert drawn[run.name].opts["pen"].color().name() == run.color.name()
    assert [panel.run_list.item(i).text() for i in range(panel.run_list.count())] == LABELS  # the legend
    # the dashboard shows the network trained last: the neuron that started at w = b = 2
    assert window.model.network_spec.name == LABELS[-1]
    assert window.model.weights["out.weight"].shape == (1, 1)
    # σ′(z) at the neuron's z is written above the curves, and the Cost tab marks it on the sigmoid
    assert "σ′(z)" in panel.headline.text
    assert dashboard.isTabVisible(dashboard.indexOf(dashboard.cost))
    dashboard.show_panel("cost")
    dashboard.refresh(force=True)
    w, b = float(window.model.weights["out.weight"][0, 0]), float(window.model.weights["out.bias"][0])
    assert dashboard.cost.neuron.z == pytest.approx(w + b)


def test_a_paced_comparison_moves_on_to_the_next_variant_and_the_timeline_follows_it(qtbot, make_window):
    spec = load_lesson("learning-slowdown")
    window = make_window(spec)
    lab = window.dashboard_lab
    window.pace_box.set_pace(300.0)
    window.train()
    assert window.state != "idle"
    # the second variant began: the first is kept under its label, the timeline starts again
    qtbot.waitUntil(lambda: len(window.model.runs) >= 1 and len(window.model.history) >= 5, timeout=30000)
    window.pause()
    qtbot.waitUntil(lambda: window.state == "paused", timeout=5000)
    window._tick()
    assert window.model.runs[0].name == LABELS[0]
    assert window.model.network_spec.name == LABELS[len(window.model.runs)]
    history = window.model.history
    assert history.steps[0] == 0 and history.last_step < 300  # this variant's own steps
    assert lab.timeline.last_step == history.last_step
    assert window.model.weights.run == window.model.network_spec.name  # the variant shown, not the next
    assert lab.job.control.steps_per_second == 300.0  # the pace holds across variants
    assert lesson_report(spec).epochs == (0, 50, 100, 150, 300)
    lab.stop(wait=True)
    assert window.state == "idle"
    # Train again: the comparison starts over, and its variants' curves replace the earlier ones
    kept = len(window.model.runs)
    window.train()
    qtbot.waitUntil(lambda: len(window.model.history) >= 3, timeout=30000)
    names = [run.name for run in window.model.runs]
    assert len(names) == len(set(names)) and len(names) <= kept + 1
    lab.stop(wait=True)


def test_weight_initialization_overlays_each_initialiser_s_accuracy_and_saturation(qtbot, make_window, mnist_dir):
    spec = load_lesson("weight-initialization")
    spec.training = dataclasses.replace(spec.training, epochs=1)
    window = make_window(spec, data_dir=mnist_dir)
    window.pace_box.set_pace(None)
    assert window.dashboard.compare.metric.currentData() == "val_accuracy"  # the lesson's figure
    window.train()
    qtbot.waitUntil(lambda: window.state == "idle", timeout=120000)
    window._tick()
    runs = {run.name: run for run in window.model.runs}
    assert list(runs) == ["N(0, 1)", "N(0, 1/n_in)", "tanh, Xavier", "ReLU, He"]
    accuracy = {name: run.history.epochs[-1].val_accuracy for name, run in runs.items()}
    assert accuracy["N(0, 1/n_in)"] > accuracy["N(0, 1)"] + 0.05  # the real MNIST digits, 8k/2k
    panel = window.dashboard.compare
    window.dashboard.show_panel("compare")
    for key in ("val_accuracy", "first_saturation"):
        panel.show_metric(key)
        window.dashboard.refresh(force=True)
        drawn = {curve.opts["name"]: curve.getData() for curve in panel.curves}
        assert all(len(drawn[name][0]) >= 1 for name in runs)
    # the saturated hidden units at the start, in the series the Compare panel draws
    saturated = {name: float(run.history.layer_metrics[0, 0, SATURATION]) for name, run in runs.items()}
    assert saturated["N(0, 1)"] > 0.3 and saturated["N(0, 1/n_in)"] < 0.02


def test_the_rate_starts_again_when_a_comparison_s_next_variant_counts_from_zero():
    from playground.runs.jobs import RateMeter

    meter = RateMeter()
    assert meter.add(0, now=0.0) is None
    assert meter.add(1000, now=1.0) == 1000.0
    assert meter.add(100, now=1.5) is None  # the next variant's count: no negative rate
    assert meter.add(600, now=2.0) == 1000.0
