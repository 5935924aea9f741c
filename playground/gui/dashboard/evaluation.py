"""Evaluation: what the network makes of the validation set.

For a classifier: the confusion matrix (click a cell to see its examples), the accuracy of
each class, and a gallery of the mistakes, worst first, each with its true and predicted
class and the output the network gave the prediction.  For regression: the residuals.

The figures come from ``training.evaluation``, run on a network of the panel's own built
from the spec and loaded with the latest weights snapshot, never the worker's network (see
``feature_maps``).  A pass over 2,000 validation images takes about 12 ms for a dense
network and 0.1–0.2 s for a convolutional one, so it runs on a thread of its own (the
kernels release the GIL) while the panel keeps showing the last result; a pass starts only
when the weights changed, and no sooner than twenty times the last pass's cost after it (at
least ``MIN_SECONDS_BETWEEN_PASSES``): evaluating takes at most 5% of a core while training runs.
"""

from __future__ import annotations

import threading
import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QImage, QPixmap
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from ...training.evaluation import Evaluation, evaluate_network, expected_class_names
from ...training.trainer import DataMismatch
from .common import CLASS_COLORS, DashboardModel, OwnNetwork, Panel, set_title

#: mistakes shown in the gallery, and its columns
GALLERY_SIZE = 24
GALLERY_COLUMNS = 12
#: pixels of one picture in the gallery
TILE_PIXELS = 56
_WRONG, _RIGHT = "#B91C1C", "#15803D"
#: the least time from the end of one pass over the validation set to the start of the next
MIN_SECONDS_BETWEEN_PASSES = 1.0


class _CellImage(pg.ImageItem):
    """The confusion matrix's image: a click names the cell (true class, predicted class)."""

    def __init__(self, on_click):
        super().__init__(axisOrder="row-major")
        self._on_click = on_click

    def mouseClickEvent(self, event):
        if event.button() != Qt.MouseButton.LeftButton or self.image is None:
            return
        position = event.pos()
        row, column = int(np.floor(position.y())), int(np.floor(position.x()))
        rows, columns = self.image.shape[:2]
        if 0 <= row < rows and 0 <= column < columns:
            event.accept()
            self._on_click(row, column)


class _CellNumbers(pg.GraphicsObject):
    """The confusion matrix's numbers, one per cell, drawn by one item at a fixed font size.

    One item painting k² strings rather than k² ``TextItem`` s: making a hundred text items took
    80 ms on the GUI thread (``bench --gui`` saw the window's timer stall that long when the
    Evaluation tab first showed mid-run), while painting them takes about a millisecond.
    """

    def __init__(self):
        super().__init__()
        self.texts: list[list[str]] = []
        self.colors: list[list[str]] = []

    def set_cells(self, texts: list[list[str]], colors: list[list[str]]) -> None:
        self.prepareGeometryChange()
        self.texts, self.colors = texts, colors
        self.update()

    def text_at(self, true_class: int, predicted_class: int) -> str:
        return self.texts[true_class][predicted_class]

    def boundingRect(self) -> QRectF:
        k = len(self.texts)
        return QRectF(0, 0, k, k)

    def paint(self, painter, *_):
        # the cell centres in device pixels, then the text drawn untransformed (so it keeps its size)
        transform = painter.transform()
        painter.resetTransform()
        box = QRectF(-40, -12, 80, 24)
        for t, row in enumerate(self.texts):
            for p, text in enumerate(row):
                if not text:
                    continue
                centre = transform.map(QPointF(p + 0.5, t + 0.5))
                painter.setPen(QColor(self.colors[t][p]))
                painter.drawText(box.translated(centre), Qt.AlignmentFlag.AlignCenter, text)
        painter.setTransform(transform)


def moment(history) -> str:
    """When the weights are from, in words: "before training", "after epoch 3", "during epoch 4"."""
    epochs = history.epochs
    if len(history) == 0 and not epochs:
        return "before training"
    if epochs and epochs[-1].step >= history.last_step + 1:
        return f"after epoch {epochs[-1].epoch}"
    return f"during epoch {(epochs[-1].epoch if epochs else 0) + 1}"


def to_pixmap(picture: np.ndarray, pixels: int = TILE_PIXELS) -> QPixmap:
    """A grey picture (values 0..1, ink bright as MNIST stores it) scaled to ``pixels``."""
    low, high = float(np.nanmin(picture)), float(np.nanmax(picture))
    scaled = (picture - low) / (high - low) if high > low else np.zeros_like(picture)
    grey = np.ascontiguousarray(np.clip(255 * scaled, 0, 255).astype(np.uint8))
    height, width = grey.shape
    image = QImage(grey.data, width, height, width, QImage.Format.Format_Grayscale8).copy()
    return QPixmap.fromImage(image).scaled(pixels, pixels, Qt.AspectRatioMode.KeepAspectRatio)


class EvaluationPanel(Panel):
    title = "Evaluation"
    min_interval = 0.2  # the passes themselves run on a thread, at most once a second

    def __init__(self, parent=None):
        super().__init__(parent)
        self.headline = self.add_headline(colspan=2)
        # the confusion matrix: rows are the true class (top to bottom), columns the predicted one
        self.matrix_plot = self.graphics.addPlot(row=1, col=0, title="Confusion matrix (click a cell)")
        self.matrix_plot.setMouseEnabled(False, False)
        self.matrix_plot.hideButtons()
        self.matrix_plot.setMenuEnabled(False)
        self.matrix_plot.invertY(True)
        self.matrix_plot.setAspectLocked(True)
        self.matrix_plot.setLabel("bottom", "predicted class")
        self.matrix_plot.setLabel("left", "true class")
        self.matrix_image = _CellImage(self.select_cell)
        self.matrix_image.setColorMap(pg.colormap.get("CET-L12"))  # white to blue
        self.matrix_plot.addItem(self.matrix_image)
        self.cell_numbers = _CellNumbers()
        self.matrix_plot.addItem(self.cell_numbers)
        self._cell_names: list[str] = []
        self.selection = pg.QtWidgets.QGraphicsRectItem()
        self.selection.setPen(pg.mkPen("#F59322", width=3))
        self.selection.setVisible(False)
        self.matrix_plot.addItem(self.selection)
        # per-class accuracy, or for regression the residual histogram
        self.class_plot = self.graphics.addPlot(row=1, col=1, title="Accuracy of each class")
        self.class_plot.setMouseEnabled(False, False)
        self.class_plot.hideButtons()
        self.class_plot.setMenuEnabled(False)
        self.class_plot.setLabel("bottom", "class")
        self.class_bars = pg.BarGraphItem(x=[], height=[], width=0.7)
        self.class_plot.addItem(self.class_bars)
        # residuals (regression): residual against the target
        self.residual_plot = pg.PlotItem(title="Residuals")  # in the matrix's place, for regression
        self.residual_plot.setLabel("bottom", "target")
        self.residual_plot.setLabel("left", "target − output")
        self.residual_points = pg.ScatterPlotItem(size=5, pen=None, brush=pg.mkBrush(CLASS_COLORS[1]))
        self.residual_plot.addItem(self.residual_points)
        self.residual_plot.addLine(y=0, pen=pg.mkPen("#9CA3AF", width=1))
        self.residual_histogram = pg.BarGraphItem(x=[], height=[], width=1.0)
        # the matrix keeps its cells square; the bars get a fixed share of the width beside it
        self.class_plot.setMinimumWidth(280)
        self.class_plot.setMaximumWidth(420)
        self.layout_.addWidget(self.graphics, 3)

        # the gallery: the worst mistakes, or the examples of the cell clicked
        self.gallery_title = QLabel()
        self.gallery_title.setTextFormat(Qt.TextFormat.RichText)
        self.show_mistakes_button = QPushButton("Show all mistakes")
        self.show_mistakes_button.clicked.connect(lambda: self.select_cell(None, None))
        self.show_mistakes_button.setVisible(False)
        heading = QHBoxLayout()
        heading.addWidget(self.gallery_title, 1)
        heading.addWidget(self.show_mistakes_button)
        self.gallery = QWidget()
        self.gallery_grid = QGridLayout(self.gallery)
        self.gallery_grid.setContentsMargins(4, 0, 4, 0)
        self.gallery_grid.setHorizontalSpacing(4)
        self.gallery_grid.setVerticalSpacing(2)
        self.tiles: list[tuple[QLabel, QLabel]] = []
        for k in range(GALLERY_SIZE):
            picture, caption = QLabel(), QLabel()
            picture.setFixedSize(TILE_PIXELS, TILE_PIXELS)
            picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
            caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
            caption.setTextFormat(Qt.TextFormat.RichText)
            caption.setStyleSheet("font-size: 8pt;")
            caption.setWordWrap(True)  # long class names ("T-shirt/top") take two lines, not the neighbour's room
            caption.setMaximumWidth(TILE_PIXELS + 16)
            picture.setStyleSheet("font-size: 8pt; color: #374151;")
            cell = QVBoxLayout()
            cell.setSpacing(0)
            cell.addWidget(picture, 0, Qt.AlignmentFlag.AlignHCenter)
            cell.addWidget(caption)
            row, column = divmod(k, GALLERY_COLUMNS)
            self.gallery_grid.addLayout(cell, row, column)
            self.tiles.append((picture, caption))
        box = QWidget()
        column = QVBoxLayout(box)
        column.setContentsMargins(4, 0, 4, 4)
        column.addLayout(heading)
        column.addWidget(self.gallery)
        self.layout_.addWidget(box, 0)
        self.gallery_box = box

        self._own = OwnNetwork()
        self.evaluation: Evaluation | None = None
        self._dataset = None
        self._epoch_text = ""
        self.cell: tuple[int, int] | None = None
        self.shown_examples: list[int] = []
        self.last_seconds = 0.0
        self.draw_seconds = 0.0  # the last drawing of a result, on the GUI thread
        self._model: DashboardModel | None = None
        self._pass: tuple | None = None  # (thread, result) of the pass under way
        self._evaluated_key: tuple | None = None
        self._evaluated_dataset = None
        self._failure: str | None = None
        self._next_pass_at = 0.0
        self._best_seconds: float | None = None
        self._cost_key = None
        #: passes finished so far, and the one drawn
        self.passes = 0
        self._rendered = -1
        self._poll = QTimer(self)
        self._poll.setInterval(50)
        self._poll.timeout.connect(self._poll_pass)
        self._mode = "classification"

    # --- what to draw --------------------------------------------------------------------
    def versions(self, model: DashboardModel) -> tuple:
        return model.weights_version, model.context_version, model.dataset_version, len(model.history.epochs)

    def draw(self, model: DashboardModel) -> None:
        self._model = model
        network = self._own.for_model(model)
        dataset = model.dataset
        if network is None or not model.weights:
            self._clear("The evaluation appears once the network is valid and has weights.")
            return
        if dataset is None or not len(dataset.x_val):
            self._clear("Press <b>Train</b>: the network is evaluated on the validation set as it learns.")
            return
        self._collect()
        wanted = self._key(model)
        now = time.perf_counter()
        if wanted != self._evaluated_key and self._pass is None and now >= self._next_pass_at:
            self._start_pass(model, network, dataset, wanted)
        if wanted != self._evaluated_key or self._pass is not None:
            self._poll.start()  # collects the pass, or starts the next when its turn comes
        if self._failure is not None:
            self._clear(f"Cannot evaluate: {self._failure}.")
            return
        evaluation = self.evaluation
        if evaluation is None:
            if dataset.task == "classification":  # the matrix's items, made now rather than mid-run
                self._prepare_cells(expected_class_names(network, dataset))
            self.say("Evaluating the validation set…")
            return
        if self._rendered == self.passes:
            return  # drawn already: the weights moved on, and the next pass is under way or due
        self._rendered = self.passes
        if self._dataset is not self._evaluated_dataset:
            self._dataset = self._evaluated_dataset
            self.cell = None
        drawing = time.perf_counter()
        if evaluation.task == "classification":
            self._set_mode("classification")
            self._draw_classification(evaluation, model)
        else:
            self._set_mode("regression")
            self._draw_regression(evaluation)
        self.draw_seconds = time.perf_counter() - drawing

    # --- the pass over the validation set, on a thread of its own -------------------------------
    def _key(self, model: DashboardModel) -> tuple:
        return model.weights_version, self._own.key, id(model.dataset)

    def _start_pass(self, model: DashboardModel, network, dataset, key: tuple) -> None:
        """Evaluate on a thread: numba's kernels and the BLAS release the GIL, so a convolutional
        network's 0.1–0.2 s over 2,000 images never stalls the window."""
        weights = model.weights if self._own.loaded_weights != model.weights_version else None
        self._own.loaded_weights = model.weights_version
        result: dict = {"key": key, "dataset": dataset, "moment": moment(model.history)}

        def evaluate() -> None:
            started = time.perf_counter()
            try:
                if weights is not None:
                    network.load_state(weights)
                result["evaluation"] = evaluate_network(network, dataset)
            except DataMismatch as error:  # while a lesson is replaced, data and network may briefly differ
                result["error"] = str(error)
            except Exception as error:  # noqa: BLE001 - shown in the panel, never lost on a thread
                result["error"] = f"{type(error).__name__}: {error}"
            result["seconds"] = time.perf_counter() - started

        thread = threading.Thread(target=evaluate, name="evaluation", daemon=True)
        self._pass = (thread, result)
        thread.start()

    def _collect(self) -> bool:
        """Take the finished pass's result, if there is one; True if there was."""
        if self._pass is None or self._pass[0].is_alive():
            return False
        _, result = self._pass
        self._pass = None
        self.last_seconds = result.get("seconds", 0.0)
        # at most 5% of a core: the next pass starts twenty times a pass's cost after this one ended
        # (the fastest pass of this network: the first also loads the kernels, 0.5-1 s for a CNN)
        if result["key"][1] != self._cost_key:  # a new network: its first pass does not count
            self._cost_key, self._best_seconds = result["key"][1], None
        else:
            self._best_seconds = min(self._best_seconds or self.last_seconds, self.last_seconds)
        self._next_pass_at = time.perf_counter() + max(MIN_SECONDS_BETWEEN_PASSES, 20 * (self._best_seconds or 0.0))
        self._evaluated_key = result["key"]
        self._evaluated_dataset = result["dataset"]
        self._failure = result.get("error")
        if "evaluation" in result:
            self.evaluation = result["evaluation"]
            self._epoch_text = result["moment"]
            self.passes += 1
        return True

    def _poll_pass(self) -> None:
        model = self._model
        if model is None:
            self._poll.stop()
            return
        finished = self._pass is not None and not self._pass[0].is_alive()
        due = self._pass is None and time.perf_counter() >= self._next_pass_at
        if finished or due:
            self._poll.stop()
            self.refresh(model, force=True)

    def up_to_date(self, model: DashboardModel) -> bool:
        """Whether what is shown is the evaluation of the model's current weights (for tests)."""
        return self._pass is None and self._evaluated_key == self._key(model)

    def _clear(self, text: str) -> None:
        self.evaluation = None
        self._rendered = -1
        self.say(text)
        self.matrix_image.clear()
        self.selection.setVisible(False)
        self.cell_numbers.set_cells([], [])
        self.class_bars.setOpts(x=[], height=[])
        self._fill_gallery([], "")

    def _set_mode(self, mode: str) -> None:
        if mode == self._mode:
            return
        self._mode = mode
        layout = self.graphics
        if mode == "regression":
            layout.removeItem(self.matrix_plot)
            layout.addItem(self.residual_plot, row=1, col=0)
            self.class_plot.removeItem(self.class_bars)
            self.class_plot.addItem(self.residual_histogram)
            self.class_plot.setLabel("bottom", "target − output")
            self.class_plot.getAxis("bottom").setTicks(None)
            set_title(self.class_plot, "Residuals: how many of each size")
        else:
            layout.removeItem(self.residual_plot)
            layout.addItem(self.matrix_plot, row=1, col=0)
            self.class_plot.removeItem(self.residual_histogram)
            self.class_plot.addItem(self.class_bars)
            self.class_plot.setLabel("bottom", "class")
            set_title(self.class_plot, "Accuracy of each class")
        self.gallery_box.setVisible(mode == "classification")

    # --- classification ----------------------------------------------------------------------
    def _draw_classification(self, evaluation: Evaluation, model: DashboardModel) -> None:
        confusion = evaluation.confusion()
        k = confusion.shape[0]
        names = evaluation.class_names
        totals = confusion.sum(axis=1, keepdims=True)
        # colour: the share of each true class's examples a cell holds (mistakes stay visible beside
        # a full diagonal); the number printed is the count
        shares = confusion / np.maximum(totals, 1)
        self.matrix_image.setImage(shares, levels=(0.0, 1.0), autoLevels=False)
        self.matrix_image.setRect(QRectF(0, 0, k, k))
        self._prepare_cells(names)
        small = k > 12
        self.cell_numbers.set_cells(
            [["" if small and t != p else str(int(confusion[t, p])) for p in range(k)] for t in range(k)],
            [
                [
                    "#FFFFFF" if shares[t, p] > 0.55 else ("#111827" if t == p or confusion[t, p] == 0 else _WRONG)
                    for p in range(k)
                ]
                for t in range(k)
            ],
        )
        accuracy = evaluation.per_class_accuracy()
        heights = np.nan_to_num(accuracy, nan=0.0)
        worst = int(np.nanargmin(np.where(np.isnan(accuracy), np.inf, accuracy))) if k else 0
        self.class_bars.setOpts(
            x=np.arange(k),
            height=heights,
            width=0.7,
            brushes=[CLASS_COLORS[0] if j == worst else CLASS_COLORS[1] for j in range(k)],
            pens=[None] * k,
        )
        n, right = evaluation.n, int(np.trace(confusion))
        set_title(self.class_plot, f"Accuracy of each class: weakest {names[worst]} ({accuracy[worst]:.0%})")
        mistakes = evaluation.misclassified()
        pair = ""
        if len(mistakes):
            off = confusion - np.diag(np.diag(confusion))
            t, p = np.unravel_index(int(np.argmax(off)), off.shape)
            pair = f" The most common mistake: {names[t]} taken for {names[p]} ({off[t, p]} times)."
        self.say(
            f"Validation set {self._epoch_text}: {right:,} of {n:,} right ({right / n:.2%}), {n - right:,} wrong.{pair}"
        )
        if self.cell is not None and max(self.cell) >= k:
            self.cell = None
        self._show_gallery(model)

    def _prepare_cells(self, names: list[str]) -> None:
        """The class axes and the matrix's range, set once for a set of classes."""
        k = len(names)
        if self._cell_names == names:
            return
        self._cell_names = list(names)
        ticks = [[(j + 0.5, name) for j, name in enumerate(names)]]
        self.matrix_plot.getAxis("bottom").setTicks(ticks)
        self.matrix_plot.getAxis("left").setTicks(ticks)
        self.matrix_plot.setRange(QRectF(0, 0, k, k), padding=0.02)
        self.class_plot.getAxis("bottom").setTicks([list(enumerate(names))])
        self.class_plot.setXRange(-0.6, k - 0.4, padding=0)
        self.class_plot.setYRange(0, 1, padding=0.02)

    def select_cell(self, true_class: int | None, predicted_class: int | None) -> None:
        """Show the examples of one confusion-matrix cell in the gallery (None: all the mistakes)."""
        self.cell = None if true_class is None else (int(true_class), int(predicted_class))
        self._show_gallery(None)

    def _show_gallery(self, _model) -> None:
        evaluation = self.evaluation
        if evaluation is None or evaluation.task != "classification":
            return
        names = evaluation.class_names
        if self.cell is None:
            self.selection.setVisible(False)
            self.show_mistakes_button.setVisible(False)
            rows = evaluation.misclassified()
            what = "probability" if evaluation.probabilistic else "output"
            title = (
                f"<b>Mistakes, worst first</b>: {len(rows):,} examples; under each, true → predicted "
                f"class and the {what} the network gave its prediction"
                if len(rows)
                else "<b>No mistakes</b> on the validation set."
            )
        else:
            t, p = self.cell
            self.selection.setRect(QRectF(p, t, 1, 1))
            self.selection.setVisible(True)
            self.show_mistakes_button.setVisible(True)
            rows = evaluation.examples_in(t, p)
            kind = "right" if t == p else "wrong"
            title = f"<b>True {names[t]}, predicted {names[p]}</b> ({kind}): {len(rows):,} examples" + (
                f", the {GALLERY_SIZE} most confident shown" if len(rows) > GALLERY_SIZE else ""
            )
        self._fill_gallery(rows[:GALLERY_SIZE], title)

    def _fill_gallery(self, rows, title: str) -> None:
        self.gallery_title.setText(title)
        self.shown_examples = [int(r) for r in rows]
        evaluation, dataset = self.evaluation, self._dataset
        for k, (picture, caption) in enumerate(self.tiles):
            if k >= len(rows) or evaluation is None or dataset is None:
                picture.clear()
                caption.setText("")
                picture.setToolTip("")
                continue
            index = int(rows[k])
            truth, guess = int(evaluation.labels[index]), int(evaluation.predicted[index])
            names = evaluation.class_names
            example = dataset.x_val[index]
            side = int(round(np.sqrt(example.size)))
            if example.ndim >= 2 or side * side == example.size and side >= 8:
                picture.setPixmap(to_pixmap(example.reshape(example.shape[-2:] if example.ndim >= 2 else (side, side))))
            else:  # points in the plane, rows of a table: their first values instead of a picture
                picture.setText("\n".join(f"{v:.2f}" for v in example.ravel()[:3]))
            color = _RIGHT if truth == guess else _WRONG
            score = evaluation.confidence[index]
            caption.setText(  # the output on a line of its own, so every caption has the same shape
                f"{names[truth]} → <span style='color:{color}'><b>{names[guess]}</b></span><br>"
                + (f"{score:.0%}" if evaluation.probabilistic else f"{score:.2f}")
            )
            picture.setToolTip(
                f"validation example {index}: labelled {names[truth]}, the network says {names[guess]} "
                f"({evaluation.confidence[index]:.1%}); it gave {names[truth]} {evaluation.true_score[index]:.1%}"
            )

    # --- regression ------------------------------------------------------------------------------
    def _draw_regression(self, evaluation: Evaluation) -> None:
        residuals = evaluation.residuals()
        targets = evaluation.labels.reshape(evaluation.outputs.shape)
        self.residual_points.setData(targets[:, 0], residuals[:, 0])
        flat = residuals.ravel()
        if flat.size:
            counts, edges = np.histogram(flat, bins=30)
            self.residual_histogram.setOpts(
                x=(edges[:-1] + edges[1:]) / 2, height=counts, width=float(edges[1] - edges[0]), brush=CLASS_COLORS[1]
            )
            self.class_plot.setXRange(float(edges[0]), float(edges[-1]), padding=0.05)
            self.class_plot.setYRange(0, float(counts.max()), padding=0.05)
        rms = evaluation.rms()
        worst = float(np.abs(flat).max()) if flat.size else float("nan")
        self.say(
            f"Validation set {self._epoch_text}: residuals (target − output) of {evaluation.n:,} examples, "
            f"RMS {rms:.3g}, largest {worst:.3g}. A pattern along the target means the fit misses a shape, "
            "not just noise."
        )

    # --- tests and screenshots -------------------------------------------------------------------
    def cell_position(self, true_class: int, predicted_class: int) -> QPoint:
        """Where the centre of a cell is, in the graphics view's viewport coordinates."""
        scene = self.matrix_image.mapToScene(QPointF(predicted_class + 0.5, true_class + 0.5))
        return self.graphics.mapFromScene(scene)
