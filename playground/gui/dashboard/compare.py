"""Compare runs: earlier runs kept with their curves, overlaid on the current one.

This is how a lesson becomes an experiment: train the sigmoid network, switch the hidden
layers to ReLU, train again, and see both runs' gradient magnitudes on one plot; or the
same network with and without L2.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPushButton, QVBoxLayout

from ...engine.dense_stack import BIAS_GRAD, SATURATION
from ...model.project import MetricHistory
from ...training.cost_gradients import is_one_neuron, neuron_moment
from .common import DashboardModel, Panel, RangeKeeper, RunRecord, downsample, pen, positive, set_title, smooth
from .cost import neuron_text

RUN_COLORS = ("#1B9E77", "#D95F02", "#7570B3", "#E7298A", "#66A61E", "#E6AB02", "#A6761D", "#666666")
MAX_RUNS = 12
KEPT_ROWS = 4000


def _layer_series(history: MetricHistory, index: int, column: int):
    if not history.layer_ids or len(history) == 0:
        return np.array([]), np.array([])
    return downsample(history.steps, history.layer_metrics[:, index, column])


def _ratio_series(history: MetricHistory):
    ids = history.layer_ids
    if len(ids) < 2 or len(history) == 0:
        return np.array([]), np.array([])
    hidden = slice(0, len(ids) - 1) if len(ids) > 2 else slice(0, len(ids))
    values = history.layer_metrics[:, hidden, BIAS_GRAD].astype(np.float64)
    x, y = downsample(history.steps, values)
    with np.errstate(divide="ignore", invalid="ignore"):
        return x, y.max(axis=1) / y.min(axis=1)


def _smoothed(x, y):
    return x, smooth(y, max(2.0, len(x) / 40))


#: metric id -> (label, log axis, series(history))
METRICS = {
    "train_loss": ("Training cost (smoothed)", False, lambda h: _smoothed(*downsample(h.steps, h.losses))),
    "val_loss": (
        "Validation cost (per epoch)",
        False,
        lambda h: (np.array([e.step for e in h.epochs]), np.array([e.val_loss for e in h.epochs])),
    ),
    "val_accuracy": (
        "Validation accuracy (per epoch)",
        False,
        lambda h: (
            np.array([e.step for e in h.epochs if e.val_accuracy is not None]),
            np.array([e.val_accuracy for e in h.epochs if e.val_accuracy is not None]),
        ),
    ),
    "first_speed": (
        "‖δ‖ of the first layer (speed of learning)",
        True,
        lambda h: _smoothed(*_layer_series(h, 0, BIAS_GRAD)),
    ),
    "last_speed": (
        "‖δ‖ of the output layer",
        True,
        lambda h: _smoothed(*_layer_series(h, len(h.layer_ids) - 1, BIAS_GRAD)),
    ),
    "ratio": ("Fastest ÷ slowest hidden layer (‖δ‖)", True, lambda h: _smoothed(*_ratio_series(h))),
    "first_saturation": (
        "Saturated units in the first layer",
        False,
        lambda h: _smoothed(*_layer_series(h, 0, SATURATION)),
    ),
}


def keep_run(model: DashboardModel, name: str) -> RunRecord | None:
    """Add the current run (a downsampled copy) to the model's runs; None when it is empty."""
    history = model.history
    if len(history) == 0 and not history.epochs:
        return None
    copy = history.copy()
    while len(copy) > KEPT_ROWS:
        copy._halve()
    used = {run.color.name() for run in model.runs}
    color = next((c for c in RUN_COLORS if QColor(c).name() not in used), RUN_COLORS[len(model.runs) % len(RUN_COLORS)])
    record = RunRecord(name, QColor(color), copy, model.layer_names(copy.layer_ids), source=history)
    model.runs.append(record)
    del model.runs[:-MAX_RUNS]
    model.runs_changed()
    return record


class ComparePanel(Panel):
    title = "Compare"
    keepRequested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        controls = QHBoxLayout()
        controls.addWidget(QLabel("Plot:"))
        self.metric = QComboBox()
        for key, (label, _, _) in METRICS.items():
            self.metric.addItem(label, key)
        self.metric.setCurrentIndex(list(METRICS).index("first_speed"))
        self.metric.currentIndexChanged.connect(lambda: self._redraw())
        controls.addWidget(self.metric, 1)
        self.keep_button = QPushButton("Keep current run")
        self.keep_button.setToolTip("Add the current run to the list, to compare it with the next one")
        self.keep_button.clicked.connect(self.keepRequested)
        controls.addWidget(self.keep_button)
        self.remove_button = QPushButton("Remove")
        self.remove_button.clicked.connect(self._remove_selected)
        controls.addWidget(self.remove_button)
        self.layout_.addLayout(controls)
        body = QHBoxLayout()
        # the list of runs is the legend (a colour swatch each), and the headline names the dashed
        # curve: a legend in the plot covered the curves, and a long title widened the plot past the view
        self.headline = self.add_headline(size="10pt")
        self.plot = self.graphics.addPlot(row=1, col=0)
        self.plot.setLabel("bottom", "mini-batch step")
        body.addWidget(self.graphics, 1)
        side = QVBoxLayout()
        side.addWidget(QLabel("Runs (tick to show):"))
        self.run_list = QListWidget()
        self.run_list.setMaximumWidth(230)
        self.run_list.setWordWrap(True)  # a run's whole name, on two lines if need be
        self.run_list.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.run_list.itemChanged.connect(self._item_changed)
        side.addWidget(self.run_list, 1)
        body.addLayout(side)
        self.layout_.addLayout(body, 1)
        self._model: DashboardModel | None = None
        self._listed_version = -1
        self._structure: tuple = ()
        self.curves: list[pg.PlotDataItem] = []
        self.current: pg.PlotDataItem | None = None

    def versions(self, model: DashboardModel) -> tuple:
        # one neuron's σ′(z) is written above the curves, and moves with its weights
        neuron = model.weights_version if is_one_neuron(model.network_spec) else None
        return model.history_version, model.runs_version, model.context_version, neuron

    def show_metric(self, key: str) -> None:
        """Plot ``key`` (one of ``METRICS``): a lesson's comparison opens on the figure it is about."""
        self.metric.setCurrentIndex(list(METRICS).index(key))

    def _redraw(self):
        if self._model is not None:
            self.refresh(self._model, force=True)

    def _remove_selected(self):
        if self._model is None:
            return
        rows = sorted({index.row() for index in self.run_list.selectedIndexes()}, reverse=True)
        if not rows and self.run_list.currentRow() >= 0:
            rows = [self.run_list.currentRow()]
        for row in rows:
            del self._model.runs[row]
        self._model.runs_changed()
        self._redraw()

    def _item_changed(self, item: QListWidgetItem):
        if self._model is None:
            return
        row = self.run_list.row(item)
        if 0 <= row < len(self._model.runs):
            self._model.runs[row].visible = item.checkState() == Qt.Checked
            self._model.runs_changed()
            self._redraw()

    def _fill_list(self, model: DashboardModel):
        if self._listed_version == model.runs_version:
            return
        self.run_list.blockSignals(True)
        self.run_list.clear()
        for run in model.runs:
            swatch = QPixmap(12, 12)
            swatch.fill(run.color)
            item = QListWidgetItem(QIcon(swatch), run.name)
            item.setFlags(item.flags() | Qt.ItemIsUserCheckable)
            item.setCheckState(Qt.Checked if run.visible else Qt.Unchecked)
            item.setToolTip(run.name)
            self.run_list.addItem(item)
        self.run_list.blockSignals(False)
        self._listed_version = model.runs_version

    def draw(self, model: DashboardModel) -> None:
        self._model = model
        self._fill_list(model)
        key = self.metric.currentData()
        label, log, series = METRICS[key]
        symbol = "o" if key.startswith("val_") else None
        structure = (model.runs_version, key, model.context_version)
        if structure != self._structure:
            self._structure = structure
            self.plot.setLogMode(y=log)
            self.ranges = RangeKeeper(self.plot, log_y=log)
            self._extent = (np.inf, -np.inf, -np.inf)  # y min, y max, x max of the kept runs
            for curve in self.curves:
                self.plot.removeItem(curve)
            self.curves = []
            for run in model.runs:
                if not run.visible:
                    continue
                x, y = series(run.history)
                if len(x):
                    y = positive(np.asarray(y, np.float64)) if log else np.asarray(y, np.float64)
                    finite = y[np.isfinite(y)]
                    if len(finite):
                        low, high, right = self._extent
                        self._extent = (min(low, finite.min()), max(high, finite.max()), max(right, float(x[-1])))
                    self.curves.append(
                        self.plot.plot(
                            x,
                            y,
                            pen=pen(run.color, 2),
                            name=run.name,
                            connect="finite",
                            symbol=symbol,
                            symbolSize=5,
                            symbolBrush=run.color,
                            symbolPen=None,
                        )
                    )
            self.current = self.plot.plot(
                pen=pen("#000000", 2.2, style=Qt.DashLine),
                name="current run",
                connect="finite",
                symbol=symbol,
                symbolSize=5,
                symbolBrush="#000000",
                symbolPen=None,
            )
            self.curves.append(self.current)
        kept = any(run.source is model.history for run in model.runs)  # drawn already, in its colour
        x, y = series(model.history) if (len(model.history) or model.history.epochs) and not kept else ([], [])
        low, high, right = self._extent
        if len(x):
            y = positive(np.asarray(y, np.float64)) if log else np.asarray(y, np.float64)
            finite = y[np.isfinite(y)]
            if len(finite):
                low, high, right = min(low, finite.min()), max(high, finite.max()), max(right, float(x[-1]))
        self.current.setData(x, y)
        if np.isfinite(low) and np.isfinite(high):
            self.ranges.update(right, float(low), float(high), x_min=0.0)
        set_title(self.plot, label)
        neuron = neuron_moment(model.network_spec, model.weights, model.dataset)
        slope = f"<br>{neuron_text(neuron)}" if neuron is not None else ""
        if not model.runs:
            self.say("No runs kept yet. Train, change something, train again: each run is kept here." + slope)
        else:
            self.say("<b>- - -</b> current run · solid: the runs ticked in the list" + slope)
