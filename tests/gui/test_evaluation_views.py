"""The evaluation panel and the diagnosis strip in the window, fed by real training runs."""

from __future__ import annotations

import dataclasses

import numpy as np
from PySide6.QtCore import Qt

from playground.model import with_overrides
from playground.training.lessons import load_lesson


def small_mnist_run():
    """fc-mnist on 1,000 training images for two epochs: a run that completes in seconds."""
    spec = load_lesson("fc-mnist")
    spec.training = with_overrides(spec.training, epochs=2, train_limit=1000)
    return spec


def _run_to_the_end(qtbot, window, epochs, timeout=120_000):
    window.train()

    def done():
        window._tick()
        return window.state == "idle" and len(window.model.history.epochs) >= epochs

    qtbot.waitUntil(done, timeout=timeout)


def test_the_confusion_matrix_sums_to_the_validation_set_and_matches_the_reported_accuracy(
    qtbot, make_window, mnist_dir
):
    window = make_window(small_mnist_run(), data_dir=mnist_dir)
    _run_to_the_end(qtbot, window, 2)
    dashboard = window.dashboard
    dashboard.show_panel("evaluation")
    panel = dashboard.evaluation
    assert dashboard.current_panel() is panel
    dashboard.refresh(force=True)
    qtbot.waitUntil(lambda: panel.up_to_date(window.model), timeout=10_000)  # the pass runs on a thread
    evaluation = panel.evaluation
    dataset = window.model.dataset
    record = window.model.history.epochs[-1]
    confusion = evaluation.confusion()
    assert confusion.sum() == len(dataset.y_val) == 2000
    assert np.trace(confusion) / confusion.sum() == record.val_accuracy
    assert f"after epoch 2: {np.trace(confusion):,} of 2,000 right" in panel.headline.text
    # the cells' numbers are the matrix's
    assert [panel.cell_numbers.text_at(0, p) for p in range(10)] == [str(v) for v in confusion[0]]
    # the gallery opens on the mistakes, worst first
    mistakes = evaluation.misclassified()
    assert panel.shown_examples == mistakes[: len(panel.shown_examples)].tolist() and panel.shown_examples
    assert "Mistakes, worst first" in panel.gallery_title.text()
    assert panel.tiles[0][0].pixmap() is not None and not panel.tiles[0][0].pixmap().isNull()
    # clicking a cell shows its examples
    off = confusion - np.diag(np.diag(confusion))
    t, p = np.unravel_index(int(np.argmax(off)), off.shape)
    qtbot.wait(50)  # the tab laid out at its size
    qtbot.mouseClick(panel.graphics.viewport(), Qt.MouseButton.LeftButton, pos=panel.cell_position(t, p))
    assert panel.cell == (t, p)
    assert len(panel.shown_examples) == min(int(confusion[t, p]), len(panel.tiles))
    assert all(dataset.y_val[i] == t and evaluation.predicted[i] == p for i in panel.shown_examples)
    assert f"True {t}, predicted {p}" in panel.gallery_title.text()
    per_class = evaluation.per_class_accuracy()
    assert np.allclose(panel.class_bars.opts["height"], per_class)


def test_regression_shows_the_residuals(qtbot, make_window):
    spec = load_lesson("universal-approximation")
    spec.training = with_overrides(spec.training, epochs=3)
    window = make_window(spec)
    _run_to_the_end(qtbot, window, 3, timeout=60_000)
    window.dashboard.show_panel("evaluation")
    window.dashboard.refresh(force=True)
    panel = window.dashboard.evaluation
    qtbot.waitUntil(lambda: panel.up_to_date(window.model), timeout=10_000)
    assert panel.evaluation.task == "regression"
    x, y = panel.residual_points.getData()
    assert len(x) == len(window.model.dataset.x_val) and np.isfinite(y).all()
    assert "RMS" in panel.headline.text and not panel.gallery_box.isVisible()


def relu_with_too_large_a_learning_rate():
    """The vanishing-gradients lesson's suggested experiment gone wrong, as a learner met it: ReLU
    hidden layers at η = 0.5 on MNIST (on the synthetic digits the same run diverges instead)."""
    spec = load_lesson("vanishing-gradients")
    for node in spec.nodes:
        if node.type == "dense" and node.id != "out":
            node.config = dataclasses.replace(node.config, activation="relu")
    spec.training = with_overrides(spec.training, learning_rate=0.5, epochs=2, train_limit=2000, batch_size=10)
    return spec


def test_a_relu_network_with_too_large_a_learning_rate_raises_the_dead_relu_flag(qtbot, make_window, mnist_dir):
    window = make_window(relu_with_too_large_a_learning_rate(), data_dir=mnist_dir)
    window.pace_box.set_pace(None)  # its 400 mini-batches at full speed, not the lesson's slow motion
    strip = window.dashboard_lab.diagnosis
    assert not strip.isVisible()
    _run_to_the_end(qtbot, window, 2, timeout=60_000)
    window.dashboard_lab.redraw(force=True)
    kinds = [flag.kind for flag in strip.flags]
    assert "dead-relu" in kinds
    label = strip.labels[kinds.index("dead-relu")]
    assert strip.isVisible() and label.isVisible()
    assert "Dead ReLUs" in label.text() and "href='lesson:vanishing-gradients'" in label.text()
    # the Activations panel says so too
    window.dashboard.show_panel("activations")
    window.dashboard.refresh(force=True)
    assert "dead ReLUs" in window.dashboard.activations.headline.text
    assert max(window.dashboard.activations.current.values()) > 0.5
    # the link loads the lesson that explains it
    requested = []
    window.dashboard_lab.lessonRequested.connect(requested.append)
    label.linkActivated.emit("lesson:vanishing-gradients")
    assert requested == ["vanishing-gradients"]
