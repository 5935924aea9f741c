"""The Descent and Gradient chain tabs: each on its own with fake data (the numbers drawn are the
engine's), and driven in the window by the gradient-descent and exploding-gradients lessons."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtGui import QColor

from playground.datasets import load_dataset
from playground.gui.dashboard import DashboardModel
from playground.gui.dashboard.chain import GROWS, SHRINKS, ChainPanel
from playground.gui.dashboard.compare import keep_run
from playground.gui.dashboard.descent import DescentPanel, scenes
from playground.model import build_network
from playground.model.project import EpochSummary, MetricHistory
from playground.training.gradient_chain import gradient_chain
from playground.training.lessons import load_lesson

DESCENT_LABELS = ["batch 1", "batch 10", "batch 100", "full batch"]
EXPLODING_LABELS = ["N(0, 1)", "clipped at 1", "He init"]


def lesson_model(name: str, initializer: str | None = None) -> DashboardModel:
    """The lesson's network as initialised, on the built-in synthetic digits (fake data: no MNIST)."""
    spec = load_lesson(name)
    network = build_network(spec)
    network.initialize(initializer or spec.training.initializer, 0)
    model = DashboardModel()
    model.set_network(spec, network.copy_state())
    model.set_dataset(load_dataset("digits", seed=0))
    return model, network


def fake_epochs(history: MetricHistory, examples_per_epoch: int, seconds_per_epoch: float, start: float) -> None:
    for epoch in range(1, 6):
        loss = start / epoch
        history.add_epoch(
            EpochSummary(
                epoch, epoch, loss, loss, None, None, 1.0, 1.0, epoch * examples_per_epoch, epoch * seconds_per_epoch
            )
        )


def test_the_descent_panel_on_its_own_draws_the_engines_paths_noise_and_runs(qtbot):
    model, _ = lesson_model("gradient-descent")
    for k, label in enumerate(DESCENT_LABELS[:2]):
        model.set_history(MetricHistory())
        fake_epochs(model.history, 2000, 0.1 * (k + 1), 2.0 + k)
        keep_run(model, label)
    model.set_history(MetricHistory())
    fake_epochs(model.history, 2000, 0.05, 2.5)
    panel = DescentPanel()
    qtbot.addWidget(panel)
    panel.resize(760, 640)
    panel.show()
    assert panel.applies_to(model)
    panel.refresh(model, force=True)
    # the paths drawn are the engine optimiser's, point for point
    expected = scenes()
    for plot, scene in zip(panel.surface_plots, expected):
        drawn = [item for item in plot.listDataItems() if item.opts.get("name")]
        assert [item.opts["name"].removesuffix(" (diverged)") for item in drawn] == [p.label for p in scene.paths]
        for item, path in zip(drawn, scene.paths):
            x, y = item.getData()
            assert np.allclose(x, path.points[:, 0]) and np.allclose(y, path.points[:, 1])
    assert any(path.diverged for path in panel.scenes[0].paths)
    # the noise bars: one per batch size and the full set, smaller angles for larger batches
    angles = [noise.mean_angle for noise in panel.noise]
    assert [noise.batch_size for noise in panel.noise][:3] == [1, 10, 100] and angles[-1] == 0.0
    assert angles[0] > angles[1] > angles[2] > angles[3]
    assert np.allclose(panel.noise_bars.opts["height"], angles)
    # each run by examples seen, then by computing time
    assert set(panel.runs_drawn) == {"batch 1", "batch 10", "gradient-descent"}
    assert np.allclose(panel.runs_drawn["batch 10"][0], 2000 * np.arange(1, 6))
    panel.axis.setCurrentIndex(1)
    assert np.allclose(panel.runs_drawn["batch 10"][0], 0.2 * np.arange(1, 6))
    assert panel.runs_plot.getAxis("bottom").labelText == "computing time (s)"
    assert "away from the full gradient" in panel.headline.text
    panel.graphics.grab()  # paints without error


def test_the_chain_panel_on_its_own_shows_the_engines_factors(qtbot):
    model, network = lesson_model("exploding-gradients")
    panel = ChainPanel()
    qtbot.addWidget(panel)
    panel.resize(760, 560)
    panel.show()
    assert panel.applies_to(model)
    panel.refresh(model, force=True)
    panel.example.setValue(3)  # the spin box offers the validation examples once it has seen them
    dataset = model.dataset
    target = np.eye(10, dtype=np.float32)[dataset.y_val[3]]
    expected = gradient_chain(network, dataset.x_val[3].reshape(-1), target)
    assert [link.layer for link in panel.links] == [link.layer for link in expected]
    for shown, engine in zip(panel.links, expected):
        assert shown.bias_gradient == pytest.approx(engine.bias_gradient, rel=1e-6)
    factors = np.array([link.factor for link in expected[:-1]])
    assert np.allclose(panel.bars.opts["height"], np.log10(factors), rtol=1e-5)
    colors = [QColor(brush).name() for brush in panel.bars.opts["brushes"]]
    assert colors == [QColor(GROWS if f > 1 else SHRINKS).name() for f in factors]
    assert all(f > 1 for f in factors)  # N(0, 1) weights: every factor grows the gradient
    text = panel.formula.text()
    for link in expected[:-1]:
        assert f"{link.factor:.3g}" in text and f"w of {link.next_layer}" in text
    assert "4 of the 4 factors are above 1" in panel.headline.text
    # He's weights: the same panel, factors near 1
    he, _ = lesson_model("exploding-gradients", "he")
    panel.refresh(he, force=True)
    assert all(0.2 < link.factor < 3 for link in panel.links[:-1])


def test_the_chain_tab_is_for_stacks_of_dense_layers_and_the_descent_tab_for_its_lesson(qtbot, make_window):
    window = make_window(load_lesson("exploding-gradients"))
    board = window.dashboard
    assert board.isTabVisible(board.indexOf(board.chain))
    assert not board.isTabVisible(board.indexOf(board.descent))
    assert board.currentWidget() is board.chain  # the lesson opens on its view
    assert window.load_lesson("cnn-mnist")
    assert not board.isTabVisible(board.indexOf(board.chain)) and not board.isTabVisible(board.indexOf(board.descent))
    assert window.load_lesson("gradient-descent")
    assert board.isTabVisible(board.indexOf(board.descent)) and board.currentWidget() is board.descent


def test_exploding_gradients_in_the_window_diverges_names_the_layer_and_the_fixes_finish(
    qtbot, make_window, mnist_dir, dialogs
):
    window = make_window(load_lesson("exploding-gradients"), data_dir=mnist_dir)
    window.pace_box.set_pace(None)
    window.train()
    qtbot.waitUntil(lambda: window.state == "idle", timeout=120000)
    window._tick()
    runs = {run.name: run for run in window.model.runs}
    assert list(runs) == EXPLODING_LABELS
    # the diverged variant stopped after a few steps; the window says so, naming the layer
    assert len(runs["N(0, 1)"].history) < 10
    warnings = dialogs.of("warning")
    assert warnings and warnings[-1][1] == "A variant's loss exploded"
    assert "N(0, 1): the loss exploded" in warnings[-1][2] and 'first appeared in layer "' in warnings[-1][2]
    assert "clip norm" in warnings[-1][2]
    # clipping and He's initialisation trained all their epochs
    for label in EXPLODING_LABELS[1:]:
        assert len(runs[label].history.epochs) == 3
    assert runs["He init"].history.epochs[-1].val_accuracy > 0.7
    # the diagnosis strip flags the diverged run's gradients and links this lesson
    strip = window.dashboard_lab.diagnosis
    replay = DashboardModel()
    replay.set_history(runs["N(0, 1)"].history)
    strip.refresh(replay, force=True)
    exploding = [flag for flag in strip.flags if flag.kind == "exploding"]
    assert exploding and exploding[0].lesson == "exploding-gradients"
    # the chain tab shows the last variant (He): its factors drawn from the window's weights
    board = window.dashboard
    board.show_panel("chain")
    board.refresh(force=True)
    links = board.chain.links
    assert links and all(np.isfinite(link.factor) for link in links[:-1])
    assert links[0].bias_gradient < 20 * links[-1].bias_gradient


def test_gradient_descent_in_the_window_trains_every_batch_size_and_the_tab_draws_them(qtbot, make_window, mnist_dir):
    spec = load_lesson("gradient-descent")
    window = make_window(spec, data_dir=mnist_dir)
    board = window.dashboard
    assert board.currentWidget() is board.descent
    window.pace_box.set_pace(None)
    window.train()
    qtbot.waitUntil(lambda: window.state == "idle", timeout=180000)
    window._tick()
    runs = {run.name: run for run in window.model.runs}
    assert list(runs) == DESCENT_LABELS
    board.refresh(force=True)
    panel = board.descent
    assert set(panel.runs_drawn) == set(DESCENT_LABELS)  # the last variant once, under its label
    examples = {label: panel.runs_drawn[label][0] for label in DESCENT_LABELS}
    losses = {label: panel.runs_drawn[label][1] for label in DESCENT_LABELS}
    for label in DESCENT_LABELS:
        assert np.allclose(examples[label], 2000 * np.arange(1, 11))
    # after the same examples, small batches are far ahead of the full batch
    assert losses["batch 10"][0] < losses["full batch"][0] / 2
    assert losses["batch 10"][-1] < losses["batch 100"][-1] < losses["full batch"][-1]
    assert len(panel.noise) == 4 and panel.noise[0].mean_angle > panel.noise[2].mean_angle
