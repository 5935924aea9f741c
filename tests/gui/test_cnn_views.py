"""The convolutional views: filters and feature maps fed while the cnn-mnist lesson trains,
the drawing pad, the convolution explainer against the engine, the augmentation preview
and its inspector section, a conv net's save/load round trip, and shape errors shown."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from playground.gui.dashboard import Dashboard, DashboardModel
from playground.gui.dashboard.convolution import KERNELS, LECTURE_IMAGE, ConvolutionExample
from playground.gui.dashboard.drawing_pad import stroke
from playground.gui.dashboard.filters import filter_mosaic
from playground.gui.dashboard.images import fitting_columns
from playground.gui.editor.palette import PaletteWidget
from playground.model import build_network, with_overrides
from playground.training.lessons import load_lesson


def small_cnn(epochs: int = 100_000):
    """cnn-mnist on 300 training images: a step takes a millisecond, a run never completes."""
    spec = load_lesson("cnn-mnist")
    spec.training = with_overrides(spec.training, epochs=epochs, train_limit=300)
    return spec


def cnn_model(seed: int = 0) -> DashboardModel:
    spec = small_cnn()
    network = build_network(spec)
    network.initialize(spec.training.initializer, seed)
    model = DashboardModel()
    model.set_network(spec, network.copy_state())
    return model


def tab_visible(window, panel) -> bool:
    return window.dashboard.isTabVisible(window.dashboard.indexOf(panel))


def test_conv_views_receive_data_while_training(qtbot, make_window, mnist_dir):
    window = make_window(small_cnn(), data_dir=mnist_dir)
    board = window.dashboard
    for panel in (board.filters, board.feature_maps, board.convolution, board.augmentation):
        assert tab_visible(window, panel)
    board.show_panel("filters")
    board.refresh(force=True)
    before = board.filters.blocks["conv1"].image.image.copy()
    window.train()
    # with a cold numba cache the conv kernels compile first (tens of seconds on 2 cores)
    qtbot.waitUntil(lambda: window._tick() is None and len(window.model.history) >= 1, timeout=180000)
    qtbot.waitUntil(lambda: window._tick() is None and len(window.model.history) >= 60, timeout=20000)
    board.refresh()
    during = board.filters.blocks["conv1"].image.image.copy()
    window.stop_training(wait=True)  # the window owns the network again, and shows its final weights
    board.refresh(force=True)
    after = board.filters.blocks["conv1"].image.image
    assert after.shape == before.shape == during.shape
    finite = np.isfinite(after)
    assert not np.allclose(after[finite], before[finite])  # the kernels moved
    weights = window.model.weights["conv1.weight"]
    assert board.filters.limit == pytest.approx(float(np.abs(weights).max()))  # one scale, from the largest weight
    assert board.filters.color_bar.levels() == pytest.approx((-board.filters.limit, board.filters.limit))

    board.show_panel("feature-maps")
    board.refresh(force=True)
    panel = board.feature_maps
    assert panel.example.isEnabled() and panel.example.maximum() == len(window.model.dataset.x_val) - 1
    assert panel.maps["conv1"].shape == (20, 24, 24)
    assert panel.maps["pool1"].shape == (20, 12, 12)
    assert panel.output.sum() == pytest.approx(1.0, abs=1e-5)
    # the panel computes on its own network: the worker's network was never called from here
    assert panel._own.network is not window.network
    expected = window.network.forward(window.model.dataset.x_val[:1], training=False)[0]
    assert panel.output == pytest.approx(expected, abs=1e-5)
    panel.example.setValue(5)
    assert np.array_equal(panel.pad.pixels, window.model.dataset.x_val[5].reshape(28, 28))


def test_conv_tabs_hidden_for_networks_without_convolutions(make_window):
    window = make_window()  # toy-2d: two inputs, dense layers
    board = window.dashboard
    for panel in (board.filters, board.feature_maps, board.convolution, board.augmentation):
        assert not tab_visible(window, panel)


def test_drawing_on_the_pad_becomes_the_input(qtbot):
    board = Dashboard(cnn_model())
    qtbot.addWidget(board)
    board.resize(800, 700)
    board.show()
    board.show_panel("feature-maps")
    panel = board.feature_maps
    board.refresh(force=True)
    panel.clear_button.click()
    blank_output = panel.output.copy()
    assert not panel.pad.pixels.any()
    pad = panel.pad
    qtbot.mousePress(pad, Qt.LeftButton, pos=QPoint(pad.width() // 2, pad.height() // 5))
    for k in range(1, 11):
        qtbot.mouseMove(pad, QPoint(pad.width() // 2, pad.height() // 5 + k * pad.height() // 16))
    qtbot.mouseRelease(pad, Qt.LeftButton, pos=QPoint(pad.width() // 2, pad.height() * 5 // 6))
    ink = pad.pixels
    assert ink.max() == 1.0 and ink.min() == 0.0
    # a vertical pen stroke: full ink two to three pixels wide in the middle rows, soft edges
    middle = ink[14]
    assert 2 <= (middle == 1.0).sum() <= 3
    assert ((middle > 0) & (middle < 1)).any()
    assert ink[:, :8].max() == 0.0  # nothing far from the stroke
    assert not np.allclose(panel.output, blank_output)  # the maps and probabilities followed the drawing
    assert panel.output.sum() == pytest.approx(1.0, abs=1e-5)


def test_stroke_never_lightens_ink():
    pixels = np.zeros((28, 28), np.float32)
    stroke(pixels, (5.0, 5.0), (20.0, 5.0))
    first = pixels.copy()
    stroke(pixels, (5.0, 8.0), (20.0, 8.0))
    assert (pixels >= first).all() and pixels[5, 10] == 1.0 and pixels[8, 10] == 1.0


@pytest.mark.parametrize("kernel", list(KERNELS))
@pytest.mark.parametrize("stride,padding", [(1, "valid"), (1, "same"), (2, "same"), (2, "valid")])
def test_explainer_numbers_are_the_engines(kernel, stride, padding):
    scipy_signal = pytest.importorskip("scipy.signal")
    example = ConvolutionExample(LECTURE_IMAGE, KERNELS[kernel], stride, padding)
    for step in range(example.positions):
        row, col = example.where(step)
        assert example.products(step).sum() == pytest.approx(example.output[row, col], abs=1e-12)
    # and the engine's output is the cross-correlation an independent library computes
    reference = scipy_signal.correlate2d(example.padded, KERNELS[kernel], mode="valid")[::stride, ::stride]
    assert example.output == pytest.approx(reference, abs=1e-12)


def test_explainer_steps_through_the_lectures_example(qtbot):
    board = Dashboard(cnn_model())
    qtbot.addWidget(board)
    board.show()
    panel = board.convolution
    assert panel.example.output == pytest.approx(np.array([[4, 3, 4], [2, 4, 3], [2, 3, 4]]))
    for _ in range(4):
        panel.step_button.click()
    assert panel.step == 4 and "Output (2, 1)" in panel.explanation.text() and "<b>2</b>" in panel.explanation.text()
    panel.padding_choice.setCurrentText("same")
    assert panel.step == 0 and panel.example.output.shape == (5, 5)
    panel.play_button.setChecked(True)
    qtbot.waitUntil(lambda: panel.step >= 2, timeout=5000)
    panel.reset_button.click()
    assert panel.step == 0 and not panel.timer.isActive()


def test_augmentation_preview_follows_the_inspector(qtbot, make_window, mnist_dir):
    window = make_window(small_cnn(), data_dir=mnist_dir)
    window.step()  # loads the data
    qtbot.waitUntil(
        lambda: window._tick() is None and window.state != "idle" and window.model.dataset is not None, timeout=15000
    )
    window.stop_training(wait=True)
    board = window.dashboard
    board.show_panel("augmentation")
    board.refresh(force=True)
    panel = board.augmentation
    plain = panel.grid.copy()
    tile = 28 + 1
    # augmentation off: every variant equals its original
    assert np.array_equal(plain[:28, tile : tile + 28], plain[:28, :28])
    form = window.inspector.augmentation_form
    form.editor("rotation").setText("20")
    form.editor("rotation").setModified(True)
    form.editor("rotation").editingFinished.emit()
    assert window.document.spec.augmentation.rotation == 20.0
    board.refresh()
    rotated = panel.grid.copy()
    assert np.array_equal(rotated[:, :28], plain[:, :28], equal_nan=True)  # the originals stay
    assert not np.allclose(rotated[:28, tile : tile + 28], plain[:28, :28])  # the variants turned
    assert "rotations up to ±20°" in panel.headline.text
    panel.new_samples.click()
    assert not np.array_equal(panel.grid, rotated, equal_nan=True)
    window.document.undo()
    assert window.document.spec.augmentation.rotation == 0.0
    assert form.editor("rotation").text() == "0.0"


def test_conv_project_round_trip(qtbot, make_window, mnist_dir, tmp_path):
    window = make_window(small_cnn(), data_dir=mnist_dir)
    window.train()
    qtbot.waitUntil(lambda: window._tick() is None and len(window.model.history) >= 20, timeout=20000)
    window.stop_training(wait=True)
    trained = window.network.copy_state()
    path = tmp_path / "cnn.npz"
    assert window.save_to(path)
    window.reset()
    assert not np.array_equal(window.network.copy_state()["conv1.weight"], trained["conv1.weight"])
    assert window.open_path(path, ask=False)
    loaded = window.network.copy_state()
    assert set(loaded) == set(trained)
    for key in trained:
        assert np.array_equal(loaded[key], trained[key]), key
    assert loaded["conv1.weight"].shape == (20, 1, 5, 5)
    assert [node.type for node in window.document.spec.nodes] == [node.type for node in small_cnn().nodes]


@pytest.mark.parametrize(
    "node,field,value,reason",
    [
        ("conv1", "kernel_size", 30, "larger than its 28×28 input"),
        ("pool1", "size", 5, "does not divide a 24×24 input"),
    ],
)
def test_shape_errors_show_in_the_window(make_window, node, field, value, reason):
    window = make_window(small_cnn())
    assert window.document.set_layer_config(node, field, value)
    assert reason in window.problem_label.text()
    assert any(reason in problem for problem in window.canvas.node_item(node).problems)
    assert not window.train_action.isEnabled()
    for name in ("filters", "feature-maps"):  # the views keep drawing the last valid network
        window.dashboard.show_panel(name)
        assert window.dashboard.refresh(force=True)


def test_palette_and_cards_use_display_names(qtbot, make_window):
    palette = PaletteWidget()
    qtbot.addWidget(palette)
    names = [
        palette.tree.topLevelItem(g).child(i).text(0)
        for g in range(palette.tree.topLevelItemCount())
        for i in range(palette.tree.topLevelItem(g).childCount())
    ]
    assert {"Conv2D", "MaxPool2D", "AvgPool2D", "Dense", "Flatten"} <= set(names)
    window = make_window(small_cnn())
    assert window.canvas.node_item("pool1").subtitle.startswith("MaxPool2D")


def test_kernel_grid_fits_the_space():
    assert fitting_columns(20, (5, 5), (600, 100)) == 10  # a wide strip: two rows of ten
    assert fitting_columns(20, (5, 5), (400, 500)) == 4  # a tall space: five rows of four


def test_multichannel_kernels_show_each_out_in_pair():
    weight = np.arange(4 * 3 * 2 * 2, dtype=np.float32).reshape(4, 3, 2, 2)
    mosaic = filter_mosaic(weight)
    assert mosaic.shape == (4 * 3 - 1, 3 * 3 - 1)  # a row per output map, a column per input channel
    assert np.array_equal(mosaic[3:5, 6:8], weight[1, 2])
