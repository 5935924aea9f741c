"""Every dashboard panel works on its own with fake data (no window, no training)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest

from playground.engine.dense_stack import BIAS_GRAD
from playground.gui.dashboard import Dashboard, DashboardModel, export_png, metrics_csv
from playground.gui.dashboard.common import describe_layers, downsample, smooth
from playground.gui.dashboard.compare import METRICS, keep_run
from playground.gui.dashboard.data import boundary_image
from playground.gui.dashboard.gradients import speed_ratio
from playground.gui.dashboard.preview import add_fake_steps, fake_model
from playground.gui.dashboard.weights import weight_mosaic


@pytest.fixture
def dashboard(qtbot):
    def make(kind="mnist", **options):
        board = Dashboard(fake_model(kind, **options))
        qtbot.addWidget(board)
        board.resize(700, 600)
        board.show()
        return board

    return make


def test_gradient_panel_plots_each_layer_and_prints_the_ratio(dashboard):
    board = dashboard()
    panel = board.gradients
    board.show_panel("gradients")
    assert panel.refresh(board.model, force=True)
    ids = board.model.history.layer_ids
    assert list(panel.current) == ids == ["fc1", "fc2", "fc3", "fc4", "out"]
    for layer_id in ids:
        curve = panel._curves[layer_id]
        assert len(curve.xData) > 0 and np.all(curve.yData > 0)  # (getData() gives log10 on a log axis)
    # fake speeds shrink 4× per layer towards the input: fc1 is 64× slower than fc4
    assert panel.ratio == pytest.approx(64, rel=0.3)
    text = panel.headline.text
    assert "first hidden layer (fc1)" in text and "slower" in text and "last hidden layer (fc4)" in text
    assert "At the start of this run" in text
    panel.measure.setCurrentIndex(1)  # the weight gradient instead of the bias gradient
    assert panel.ratio == pytest.approx(64, rel=0.3)


def test_panels_redraw_only_when_their_data_changes(dashboard):
    board = dashboard()
    panel = board.loss
    assert panel.refresh(board.model, force=True)
    assert not panel.refresh(board.model)
    add_fake_steps(board.model.history, 10, board.model.history.last_step + 1, np.random.default_rng(0))
    board.model.history_changed()
    assert panel.refresh(board.model)


def test_loss_panel_shows_training_and_validation(dashboard):
    board = dashboard()
    board.loss.refresh(board.model, force=True)
    assert len(board.loss.train_loss.getData()[0]) > 0
    assert len(board.loss.val_loss.getData()[0]) == len(board.model.history.epochs) > 0
    assert board.loss.accuracy_plot.isVisible()
    assert "validation accuracy" in board.loss.headline.text


def test_loss_panel_hides_accuracy_for_regression(dashboard):
    board = dashboard("function")
    board.loss.refresh(board.model, force=True)
    assert not board.loss.accuracy_plot.isVisible()


def test_weight_panel_shows_first_layer_as_images(dashboard):
    board = dashboard()
    board.show_panel("weights")
    board.weights.refresh(board.model, force=True)
    assert board.weights.showing_tiles
    assert board.weights.tiles.image.shape == (5 * 29 - 1, 6 * 29 - 1)  # 30 neurons: 5 rows of 6 tiles
    assert set(board.weights._curves) == {"fc1", "fc2", "fc3", "fc4", "out"}


def test_weight_panel_without_image_input(dashboard):
    board = dashboard("toy-2d")
    board.weights.refresh(board.model, force=True)
    assert not board.weights.showing_tiles


def test_activation_panel_reports_saturation(dashboard):
    board = dashboard()
    board.activations.refresh(board.model, force=True)
    assert set(board.activations.current) == {"fc1", "fc2", "fc3", "fc4", "out"}
    assert "Most saturated" in board.activations.headline.text


def test_decision_boundary_for_2d_data(dashboard):
    board = dashboard("toy-2d")
    assert board.isTabVisible(board.indexOf(board.data))
    assert board.tabText(board.indexOf(board.data)) == "Boundary"
    board.show_panel("data")
    board.data.refresh(board.model, force=True)
    assert board.data.mode == "boundary"
    assert board.data.last_outputs.shape[:2] == (110, 110)
    assert board.data.image.image is not None
    assert "classified correctly" in board.data.headline.text


def test_function_fit_for_regression(dashboard):
    board = dashboard("function")
    assert board.tabText(board.indexOf(board.data)) == "Fit"
    board.data.refresh(board.model, force=True)
    assert board.data.mode == "fit"
    x, y = board.data.curve.getData()
    assert len(x) == 300 and np.isfinite(y).all()


def test_data_tab_hidden_for_images(dashboard):
    board = dashboard("mnist")
    assert not board.isTabVisible(board.indexOf(board.data))


def test_compare_overlays_kept_runs(dashboard):
    board = dashboard()
    model = board.model
    assert keep_run(model, "Run 1 · sigmoid")
    model.set_history(model.history.copy())
    model.history._metrics[:, 0, BIAS_GRAD] *= 30  # a run whose first layer learns faster
    assert keep_run(model, "Run 2 · relu")
    board.show_panel("compare")
    panel = board.compare
    for key in METRICS:
        panel.metric.setCurrentIndex(list(METRICS).index(key))
        panel.refresh(model, force=True)
    panel.metric.setCurrentIndex(list(METRICS).index("first_speed"))
    assert panel.run_list.count() == 2
    assert len(panel.curves) == 3  # two kept runs and the current one
    first, second = (curve.yData for curve in panel.curves[:2])
    assert np.median(second) > 10 * np.median(first)
    panel.run_list.item(0).setCheckState(panel.run_list.item(0).checkState().__class__.Unchecked)
    assert not model.runs[0].visible and len(panel.curves) == 2


def test_export_png_and_csv(dashboard, tmp_path):
    board = dashboard()
    board.show_panel("gradients")
    board.refresh(force=True)
    export_png(board.gradients, tmp_path / "gradients.png")
    assert (tmp_path / "gradients.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = metrics_csv(board.model.history)
    lines = text.splitlines()
    assert len(lines) == 1 + len(board.model.history) + len(board.model.history.epochs)
    assert lines[1].startswith("step,1,0,")


def test_broken_svg_export_is_not_offered():
    from pyqtgraph.exporters.Exporter import Exporter

    assert all(exporter.__name__ != "SVGExporter" for exporter in Exporter.Exporters)


def test_empty_model_shows_hints(qtbot):
    board = Dashboard(DashboardModel())
    qtbot.addWidget(board)
    for panel in board.panels:
        panel.refresh(board.model, force=True)
    assert "Train" in board.gradients.headline.text


def test_helpers():
    assert describe_layers(["a", "b", "c"]) == {
        "a": "the first hidden layer (a)",
        "b": "the last hidden layer (b)",
        "c": "the output layer (c)",
    }
    x, y = downsample(np.arange(10_000), np.arange(10_000, dtype=float), 100)
    assert len(x) == 100 and x[-1] == 9999 and y[0] == pytest.approx(49.5)
    assert smooth(np.ones(50), 10) == pytest.approx(np.ones(50))
    assert speed_ratio({"a": 1.0, "b": 1.2, "c": 5.0}, describe_layers(["a", "b", "c"]))[1].startswith(
        "The layers learn at about the same speed"
    )
    mosaic = weight_mosaic(np.ones((4, 784)), (28, 28))
    assert mosaic.shape == (57, 57) and np.isnan(mosaic[28]).all()
    image = boundary_image(np.array([[[0.9, 0.1], [0.5, 0.5]]]), 2)
    assert image.shape == (1, 2, 4) and (image[0, 1, :3] > 240).all()  # unsure: near white


def _legends(board):
    """(panel, plot, legend) of every dashboard plot that has a legend."""
    found = []
    for panel in board.panels:
        for item in panel.graphics.scene().items():
            legend = getattr(item, "legend", None)
            if isinstance(item, pg.PlotItem) and legend is not None:
                found.append((panel, item, legend))
    return found


def test_legends_sit_beside_the_data_not_over_it(qtbot, dashboard):
    board = dashboard()
    board.resize(690, 700)
    seen = set()
    for panel, plot, legend in _legends(board):
        board.setCurrentWidget(panel)
        panel.refresh(board.model, force=True)
        qtbot.wait(20)
        if not legend.items:
            continue
        seen.add(panel.title)
        box = legend.sceneBoundingRect()
        assert box.width() > 10 and box.height() > 10
        assert not box.intersects(plot.vb.sceneBoundingRect()), panel.title
        assert panel.graphics.sceneRect().contains(box) or panel.graphics.viewport().rect().contains(box.toRect())
    assert {"Loss", "Gradients", "Weights"} <= seen


def test_every_tab_is_in_view_at_the_window_s_width(qtbot, make_window):
    from playground.training.lessons import load_lesson

    window = make_window(load_lesson("cnn-mnist"))
    window.resize(1280, 800)
    qtbot.wait(50)
    board = window.dashboard
    bar = board.tabBar()
    shown = [i for i in range(board.count()) if board.isTabVisible(i)]
    assert len(shown) >= 9
    for i in shown:
        assert bar.tabRect(i).right() <= bar.width() and bar.tabRect(i).width() > 30, board.tabText(i)


def test_compare_shows_its_whole_plot(qtbot):
    """Before any run (when it says how to use it) and after, the plot fits the panel, tall and wide."""
    board = Dashboard()
    qtbot.addWidget(board)
    board.resize(680, 700)
    board.show()
    board.setCurrentWidget(board.compare)
    panel = board.compare
    for model in (board.model, fake_model()):
        if model is not board.model:
            keep_run(model, "Run 1 · sigmoid ×4 · η=0.5 · L2 λ=5 · normal-scaled")
        panel.refresh(model, force=True)
        qtbot.wait(20)
        view = panel.graphics.viewport().rect()
        plot = panel.plot.sceneBoundingRect()
        assert plot.right() <= view.right() + 1 and plot.bottom() <= view.bottom() + 1
        assert panel.plot.vb.height() > 0.6 * view.height() and panel.plot.vb.width() > 0.7 * view.width()


def test_tool_tabs_appear_once_asked_for(dashboard):
    """The finder and the experiments are tools, not views of the run: hidden until the View or
    Training menu (or a lesson) asks for them, then kept, so the run's own tabs keep their names."""
    board = dashboard("toy-2d")
    board.update_tabs()
    tools = [board.lr_finder, board.experiments]
    assert not any(board.isTabVisible(board.indexOf(panel)) for panel in tools)
    board.show_panel("experiments")
    assert board.currentWidget() is board.experiments
    board.update_tabs()  # a new network: the asked-for tool stays, the other is still hidden
    assert board.isTabVisible(board.indexOf(board.experiments))
    assert not board.isTabVisible(board.indexOf(board.lr_finder))
