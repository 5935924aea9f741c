"""The Experiments view: variants of the network on the canvas, trained side by side on every core.

Pick a field (the inspector's own: a training setting or a layer's config field) and type its
values, once per setting that varies; choose the seeds and the epochs; Run.  The sweep is the
experiments package's (``Sweep``: a grid through Optuna, one run per variant and seed on this
machine's cores), run on a thread of this panel; its events go to a ``Board`` that this panel
draws from on a timer:

- every run's validation curve, coloured by variant, with the mean over the seeds and a band
  from the lowest to the highest seed;
- for two or more varied settings, a heat map of the final metric over the first two;
- the results table, sortable by any column; clicking a row loads that variant onto the canvas
  with the weights its first seed trained.

Stop keeps the study (in a folder of its own); Run again resumes where it stopped.  Without the
optional Optuna and Dask packages the view says in one line which extra to install.
"""

from __future__ import annotations

import math
import shutil
import sys
import tempfile
import threading
import traceback
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from ...experiments import ExperimentError, MissingExtra, Sweep, require_extra
from ...experiments.board import Board, grid_experiment, parse_values, varying_fields
from .common import CLASS_COLORS, DashboardModel, Panel, pen, set_title

PULL_MS = 200
#: what the window says when Optuna is missing (the command line's hint names pip; this names the extra)
MISSING_EXTRA = (
    'Experiments need the optional "experiments" extra of the playground (Optuna and Dask); '
    "install it, then restart the playground."
)


def extra_installed() -> bool:
    try:
        require_extra()
    except MissingExtra:
        return False
    return True


class NumberItem(QTableWidgetItem):
    """A table cell that sorts by its number (missing figures last), not by its text."""

    def __init__(self, value: float | None, text: str):
        super().__init__(text)
        self.number = math.inf if value is None or not math.isfinite(value) else value

    def __lt__(self, other):
        if isinstance(other, NumberItem):
            return self.number < other.number
        return super().__lt__(other)


class ExperimentsPanel(Panel):
    title = "Experiments"
    #: a variant to put on the canvas: (network, weights or None)
    variantChosen = Signal(object, object)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.available = extra_installed()
        self.data = None  # the window's data store: where the runs read their data
        self.spec = None
        self.board: Board | None = None
        self.sweep: Sweep | None = None
        self.problem = ""
        self._thread: threading.Thread | None = None
        self._folder: Path | None = None
        self._key = None  # what the board's experiment varied: the same again resumes it
        self._model = DashboardModel()
        self._build_controls()
        self.headline = self.add_headline(colspan=2)
        self.curves_plot = self.graphics.addPlot(row=1, col=0)
        self.curves_plot.setLabel("bottom", "epoch")
        # the variants are many and their names long: the table's colour swatches say which is which
        self.curves_plot.getAxis("left").enableAutoSIPrefix(False)
        self.heat_plot = self.graphics.addPlot(row=1, col=1)
        self.heat_image = pg.ImageItem()
        self.heat_image.setColorMap(pg.colormap.get("viridis"))
        self.heat_plot.addItem(self.heat_image)
        self.heat_plot.invertY(True)
        self.heat_plot.setMouseEnabled(False, False)
        self.heat_texts: list[pg.TextItem] = []
        self.graphics.ci.layout.setColumnStretchFactor(0, 3)
        self.graphics.ci.layout.setColumnStretchFactor(1, 2)
        self.layout_.addWidget(self.graphics, 3)
        self.table = QTableWidget()
        self.table.setSortingEnabled(True)
        self.table.setSelectionBehavior(QTableWidget.SelectRows)
        self.table.setEditTriggers(QTableWidget.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        self.table.verticalHeader().setVisible(False)
        self.table.cellClicked.connect(self._row_clicked)
        self.layout_.addWidget(self.table, 2)
        self.timer = QTimer(self)
        self.timer.setInterval(PULL_MS)
        self.timer.timeout.connect(self._pull)
        self._plotted: dict = {}

    def _build_controls(self) -> None:
        self.extra_label = QLabel(MISSING_EXTRA)
        self.extra_label.setWordWrap(True)
        self.extra_label.setStyleSheet("color: #B91C1C;")
        self.extra_label.setVisible(not self.available)
        self.layout_.addWidget(self.extra_label)
        row = QHBoxLayout()
        self.field_box = QComboBox()
        self.field_box.setToolTip("A setting of the network, as the inspector names it")
        self.field_box.setMinimumContentsLength(14)
        self.values_edit = QLineEdit()
        self.values_edit.setPlaceholderText("values, e.g. 0.025, 0.25, 2.5")
        self.add_button = QPushButton("Vary")
        self.add_button.clicked.connect(self.add_setting)
        self.values_edit.returnPressed.connect(self.add_setting)
        self.remove_button = QPushButton("Remove")
        self.remove_button.clicked.connect(self.remove_setting)
        for widget in (QLabel("Vary"), self.field_box, self.values_edit, self.add_button, self.remove_button):
            row.addWidget(widget)
        row.setStretchFactor(self.values_edit, 1)
        second = QHBoxLayout()
        self.settings_list = QListWidget()
        self.settings_list.setMaximumHeight(64)
        self.seeds_box = QSpinBox()
        self.seeds_box.setRange(1, 5)
        self.seeds_box.setValue(2)
        self.seeds_box.setToolTip("Each variant trains once per seed: the band shows how much luck moves it")
        self.epochs_box = QSpinBox()
        self.epochs_box.setRange(1, 1000)
        self.epochs_box.setValue(3)
        self.run_button = QPushButton("Run")
        self.run_button.clicked.connect(self.toggle)
        self.run_button.setEnabled(self.available)
        side = QVBoxLayout()
        for label, box in (("Seeds", self.seeds_box), ("Epochs", self.epochs_box)):
            line = QHBoxLayout()
            line.addWidget(QLabel(label))
            line.addWidget(box)
            side.addLayout(line)
        side.addWidget(self.run_button)
        second.addWidget(self.settings_list, 1)
        second.addLayout(side)
        self.status_label = QLabel("")
        self.layout_.addLayout(row)
        self.layout_.addLayout(second)
        self.layout_.addWidget(self.status_label)
        #: the settings that vary, by name, in the order they were added
        self.vary: dict[str, list] = {}

    # --- choosing what varies ----------------------------------------------------------------
    def versions(self, model: DashboardModel) -> tuple:
        return model.context_version, self.board.version if self.board else -1, self.problem

    def set_network(self, spec) -> None:
        """The network on the canvas: what the fields are offered from and what a run varies."""
        if spec is self.spec:
            return
        self.spec = spec
        chosen = self.field_box.currentText()
        self.field_box.clear()
        if spec is None:
            return
        self.fields = varying_fields(spec)
        self.field_box.addItems(list(self.fields))
        self.field_box.setCurrentText(chosen if chosen in self.fields else "learning_rate")
        grid = (spec.lesson or {}).get("experiment")
        if grid and not self.running:
            self.load_grid(grid.get("vary", {}), grid.get("seeds"), grid.get("epochs"))

    def load_grid(self, vary: dict, seeds: int | None = None, epochs: int | None = None) -> None:
        """Set what varies (and how many seeds and epochs), as a lesson or the finder asks."""
        self.vary = {name: list(values) for name, values in vary.items()}
        if seeds:
            self.seeds_box.setValue(seeds)
        if epochs:
            self.epochs_box.setValue(epochs)
        self._show_settings()

    def add_setting(self) -> None:
        name = self.field_box.currentText()
        if not name or self.spec is None:
            return
        try:
            self.vary[name] = parse_values(self.fields[name], self.values_edit.text())
        except ValueError as error:
            self.status_label.setText(str(error))
            return
        self.values_edit.clear()
        self._show_settings()

    def remove_setting(self) -> None:
        item = self.settings_list.currentItem()
        if item is not None:
            self.vary.pop(item.data(Qt.UserRole), None)
            self._show_settings()

    def _show_settings(self) -> None:
        self.settings_list.clear()
        for name, values in self.vary.items():
            self.settings_list.addItem(f"{name}: {', '.join(str(v) for v in values)}")
            self.settings_list.item(self.settings_list.count() - 1).setData(Qt.UserRole, name)
        variants = math.prod(len(values) for values in self.vary.values()) if self.vary else 0
        runs = variants * self.seeds_box.value()
        self.status_label.setText(f"{variants} variants × {self.seeds_box.value()} seeds: {runs} runs" if runs else "")

    # --- running ------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def toggle(self) -> None:
        if self.running:
            self.sweep.stop()
            self.status_label.setText("Stopping…")
        else:
            self.run()

    def run(self) -> bool:
        """Run the experiment the controls describe, or resume the one that was stopped."""
        if self.running or self.spec is None or not self.available:
            return False
        if not self.vary:
            self.status_label.setText("Choose a setting to vary and its values first.")
            return False
        seeds = list(range(self.seeds_box.value()))
        fixed = {"epochs": self.epochs_box.value()}
        try:
            experiment = grid_experiment(self.spec, self.vary, seeds, fixed)
        except ExperimentError as error:
            self.problem = str(error).removeprefix("the experiment: ")
            self.status_label.setText(self.problem)
            return False
        self.problem = ""
        same = self.board is not None and self._key == (self.vary_key(), tuple(seeds), self.epochs_box.value())
        if not same:  # a new experiment: a new study; the same one resumes from its folder
            self._forget_folder()
            self._folder = Path(tempfile.mkdtemp(prefix="playground-experiment-"))
            self.board = Board(experiment)
            self._key = (self.vary_key(), tuple(seeds), self.epochs_box.value())
            self._plotted = {}
        data_dir = self.data.folder_for(self.spec.dataset.name) if self.data is not None else None
        self.sweep = Sweep(
            experiment, folder=self._folder, data_dir=data_dir, on_event=self.board.hear, keep_weights=True
        )
        self._thread = threading.Thread(target=self._sweep_body, name="experiment", daemon=True)
        self._thread.start()
        self.timer.start()
        self.run_button.setText("Stop")
        return True

    def show_board(self, board: Board) -> None:
        """Draw ``board`` (a finished experiment's, or the preview's fake one) as if it had just run."""
        self.board, self._plotted, self._key = board, {}, None
        self.draw(self._model)

    def vary_key(self) -> tuple:
        return tuple((name, tuple(values)) for name, values in self.vary.items())

    def _sweep_body(self) -> None:
        try:
            self.sweep.run()
        except (ExperimentError, MissingExtra, OSError) as error:
            self.problem = str(error)
        except Exception as error:  # noqa: BLE001 - a bug: one line in the view, the details on stderr
            traceback.print_exc(file=sys.stderr)
            self.problem = f"internal error: {error.__class__.__name__}: {error}"

    def _pull(self) -> None:
        alive = self.running
        if self.board is not None and self.board.take() or not alive:
            self.draw(self._model)
        if not alive:
            self.timer.stop()
            self.run_button.setText("Run" if not self._finished() else "Run again")

    def _finished(self) -> bool:
        return self.board is not None and self.board.runs_done >= self.board.experiment.trials * len(
            self.board.experiment.seeds
        )

    def shutdown(self) -> None:
        self.timer.stop()
        if self.sweep is not None:
            self.sweep.stop()
        if self._thread is not None:
            self._thread.join()
        self._forget_folder()

    def _forget_folder(self) -> None:
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None

    # --- drawing ------------------------------------------------------------------------------
    def draw(self, model: DashboardModel) -> None:
        self._model = model
        if not self.running:
            self.set_network(model.network_spec)
        if not self.available:
            self.say("Experiments train many variants of this network side by side, on every core.")
            return
        board = self.board
        if board is None:
            self.say(
                "Choose what varies (a field and its values), then <b>Run</b>: every variant trains "
                "on its own core, and the curves, the table and the heat map fill in as they finish."
            )
            return
        self._draw_curves(board)
        self._draw_heat_map(board)
        self._fill_table(board)
        total = board.experiment.trials * len(board.experiment.seeds)
        best = board.best()
        state = "running" if self.running else ("stopped: Run resumes" if board.runs_done < total else "done")
        metric = board.metric.replace("_", " ")
        text = f"{board.runs_done} of {total} runs, {state}."
        if best is not None:
            so_far = " so far" if self.running else ""
            text += f" Best{so_far}: {best.label} ({metric} {_figure(best.value, board.metric)})."
        heat = board.heat_map()
        if heat is not None and heat.note:
            text += f" Heat map: {heat.note}."
        if self.problem:
            text += f" {self.problem}"
        self.say(text)
        self.status_label.setText(
            f"{self.sweep.executor.describe()}" if self.running and self.sweep and self.sweep.executor else ""
        )

    def _draw_curves(self, board: Board) -> None:
        plot = self.curves_plot
        set_title(plot, f"{board.metric.replace('_', ' ')}: each seed, mean and band over seeds")
        plot.setLabel("left", board.metric.replace("_", " "))
        for trial in sorted(board.labels):
            color = CLASS_COLORS[trial % len(CLASS_COLORS)]
            items = self._plotted.get(trial)
            if items is None:
                mean = plot.plot(pen=pen(color, 2.5))
                low, high = pg.PlotDataItem(), pg.PlotDataItem()
                band = pg.FillBetweenItem(low, high, brush=pg.mkBrush(*pg.mkColor(color).getRgb()[:3], 50))
                plot.addItem(band)
                items = self._plotted[trial] = (mean, low, high, band, {})
            mean, low, high, band, runs = items
            epochs, means, lows, highs = board.band(trial)
            mean.setData(epochs, means)
            low.setData(epochs, lows)
            high.setData(epochs, highs)
            for (number, seed), points in board.curves.items():
                if number != trial:
                    continue
                curve = runs.get(seed)
                if curve is None:
                    curve = runs[seed] = plot.plot(pen=pen(color, 1, alpha=110))
                curve.setData([p[0] for p in points], [p[1] for p in points])

    def _draw_heat_map(self, board: Board) -> None:
        heat = board.heat_map()
        plot = self.heat_plot
        for text in self.heat_texts:
            plot.removeItem(text)
        self.heat_texts = []
        if heat is None:
            self.heat_image.clear()
            set_title(plot, "heat map: vary two settings")
            return
        values = heat.values
        finite = values[np.isfinite(values)]
        shown = np.where(np.isfinite(values), values, np.nan if finite.size == 0 else finite.min())
        if finite.size:
            self.heat_image.setImage(shown, levels=(finite.min(), max(finite.max(), finite.min() + 1e-9)))
        else:
            self.heat_image.clear()
        set_title(plot, f"final {board.metric.replace('_', ' ')}")
        plot.setLabel("bottom", heat.x_name)
        plot.setLabel("left", heat.y_name)
        plot.getAxis("bottom").setTicks([[(i + 0.5, str(v)) for i, v in enumerate(heat.x_values)]])
        plot.getAxis("left").setTicks([[(j + 0.5, str(v)) for j, v in enumerate(heat.y_values)]])
        for i in range(values.shape[0]):
            for j in range(values.shape[1]):
                if np.isfinite(values[i, j]):
                    text = pg.TextItem(_figure(values[i, j], board.metric), color="w", anchor=(0.5, 0.5))
                    text.setPos(i + 0.5, j + 0.5)
                    plot.addItem(text)
                    self.heat_texts.append(text)
        plot.setRange(xRange=(0, values.shape[0]), yRange=(0, values.shape[1]), padding=0)

    def _fill_table(self, board: Board) -> None:
        rows = board.rows()
        columns = ["#", *board.settings, board.metric.replace("_", " "), "± over seeds", "status", "seconds"]
        self.table.setSortingEnabled(False)
        self.table.clear()
        self.table.setColumnCount(len(columns))
        self.table.setHorizontalHeaderLabels(columns)
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            label = NumberItem(row.trial, str(row.trial))
            label.setData(Qt.UserRole, row.trial)
            label.setToolTip(row.label)
            color = QColor(CLASS_COLORS[row.trial % len(CLASS_COLORS)])
            label.setBackground(color)
            label.setForeground(QColor("white"))
            cells = [label]
            for name in board.settings:
                value = row.changes.get(name)
                cells.append(
                    NumberItem(value, str(value)) if isinstance(value, (int, float)) else QTableWidgetItem(str(value))
                )
            cells.append(NumberItem(_order(row.value, board.direction), _figure(row.value, board.metric)))
            cells.append(NumberItem(row.spread, "" if row.spread is None else _figure(row.spread, board.metric)))
            cells.append(QTableWidgetItem(row.status))
            cells.append(NumberItem(row.seconds, f"{row.seconds:.1f}"))
            for c, cell in enumerate(cells):
                self.table.setItem(r, c, cell)
        self.table.setSortingEnabled(True)

    def _row_clicked(self, row: int, _column: int) -> None:
        item = self.table.item(row, 0)
        if item is None or self.board is None:
            return
        trial = item.data(Qt.UserRole)
        try:
            spec, weights = self.board.variant(trial)
        except ExperimentError as error:
            self.status_label.setText(str(error))
            return
        self.variantChosen.emit(spec, weights)


def _figure(value: float | None, metric: str) -> str:
    if value is None or not math.isfinite(value):
        return "–"
    return f"{100 * value:.1f}%" if "accuracy" in metric or metric == "exact_match" else f"{value:.4f}"


def _order(value: float | None, direction: str) -> float | None:
    """The number a column sorts by: ascending order puts the best first either way."""
    if value is None:
        return None
    return -value if direction == "maximize" else value


__all__ = ["MISSING_EXTRA", "ExperimentsPanel", "extra_installed"]
