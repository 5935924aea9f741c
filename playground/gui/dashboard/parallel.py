"""The parallelisation lesson's view: the lecture's last slide, measured on this machine as it runs.

``experiments.parallel.measure`` does the measuring (one training step on one core and on all,
N variants one after another and side by side); this panel runs it on a thread of its own when
the lesson first shows it (and again on request), and draws each figure as it arrives: two bar
charts, the figures in words, and one sentence each on what a GPU and a cluster add.
"""

from __future__ import annotations

import dataclasses
import threading

import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton

from ...experiments.parallel import CLUSTER_SENTENCE, GPU_SENTENCE, ParallelFigures, measure
from ...runs.jobs import LatestSlot
from .common import DashboardModel, Panel, set_title

ONE, ALL = "#9CA3AF", "#0072B2"
PULL_MS = 150


def shows_parallel(spec) -> bool:
    """The tab belongs to the lesson that opens on it."""
    return spec is not None and (spec.lesson or {}).get("panel") == "parallel"


class ParallelPanel(Panel):
    title = "Parallel"

    def __init__(self, parent=None):
        super().__init__(parent)
        self.data = None  # the window's data store
        self.headline = self.add_headline(colspan=2)
        self.step_plot = self.graphics.addPlot(row=1, col=0)
        self.variants_plot = self.graphics.addPlot(row=1, col=1)
        self.step_plot.setLabel("left", "samples a second")
        self.variants_plot.setLabel("left", "seconds")
        for plot in (self.step_plot, self.variants_plot):
            plot.setMouseEnabled(False, False)
            plot.getAxis("left").enableAutoSIPrefix(False)
        self.step_bars = pg.BarGraphItem(x=[0, 1], height=[0, 0], width=0.6, brushes=[ONE, ALL])
        self.variants_bars = pg.BarGraphItem(x=[0, 1], height=[0, 0], width=0.6, brushes=[ONE, ALL])
        self.step_plot.addItem(self.step_bars)
        self.variants_plot.addItem(self.variants_bars)
        self.labels = {plot: [] for plot in (self.step_plot, self.variants_plot)}
        row = QHBoxLayout()
        self.measure_button = QPushButton("Measure on this machine")
        self.measure_button.clicked.connect(self.start)
        row.addWidget(self.measure_button)
        row.addStretch(1)
        self.layout_.addLayout(row)
        self.layout_.addWidget(self.graphics, 3)
        self.words = QLabel()
        self.words.setWordWrap(True)
        self.words.setTextFormat(Qt.RichText)
        self.layout_.addWidget(self.words, 1)
        self.figures: ParallelFigures | None = None
        self.problem = ""
        self.spec = None
        self._slot = LatestSlot()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._started_for = None
        self._model = DashboardModel()
        self.timer = QTimer(self)
        self.timer.setInterval(PULL_MS)
        self.timer.timeout.connect(self._pull)

    def applies_to(self, model: DashboardModel) -> bool:
        return shows_parallel(model.network_spec)

    def versions(self, model: DashboardModel) -> tuple:
        return model.context_version, self._slot.get()[1], self.problem

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> bool:
        """Measure (again) on a thread of this panel; False while a measurement runs."""
        if self.running or self.spec is None:
            return False
        self.problem = ""
        spec = self.spec
        data_dir = self.data.folder_for(spec.dataset.name) if self.data is not None else None
        self._started_for = spec
        self._thread = threading.Thread(target=self._measure, args=(spec, data_dir), name="parallel", daemon=True)
        self._thread.start()
        self.timer.start()
        self.measure_button.setEnabled(False)
        return True

    def _measure(self, spec, data_dir) -> None:
        try:
            for figures in measure(spec, data_dir):
                # a snapshot for the GUI thread: the measuring thread goes on filling its own
                self._slot.put(dataclasses.replace(figures))
                if self._stop.is_set():
                    return
        except Exception as error:  # noqa: BLE001 - one line in the panel, whatever went wrong
            self.problem = f"the measurement could not run: {error}"

    def _pull(self) -> None:
        figures, _ = self._slot.get()
        if figures is not None:
            self.figures = figures
        if not self.running:
            self.timer.stop()
            self.measure_button.setEnabled(True)
        self.draw(self._model)

    def shutdown(self) -> None:
        self._stop.set()
        self.timer.stop()
        if self._thread is not None:
            self._thread.join()

    def draw(self, model: DashboardModel) -> None:
        self._model = model
        self.spec = model.network_spec
        if shows_parallel(self.spec) and self._started_for is None and self.isVisible():
            self.start()  # the lesson's figures are measured when it first shows them
        figures = self.figures
        cores = figures.cores if figures else 0
        self._bars(
            self.step_plot,
            self.step_bars,
            [figures.step_one_core, figures.step_all_cores] if figures else [None, None],
            ["1 core", f"{cores} cores"],
            "{:,.0f}",
        )
        set_title(self.step_plot, "one LSTM step, the batch in parts")
        self._bars(
            self.variants_plot,
            self.variants_bars,
            [figures.one_after_another, figures.side_by_side] if figures else [None, None],
            ["one after another", "side by side"],
            "{:.1f} s",
        )
        set_title(self.variants_plot, f"{figures.variants if figures and figures.variants else cores} variants")
        if self.problem:
            self.say(self.problem[0].upper() + self.problem[1:])
        elif figures is None:
            self.say("Press <b>Measure on this machine</b>: the figures are this computer's own.")
        elif not figures.done:
            self.say(f"Measuring on this machine's {cores} cores…")
        else:
            self.say(f"Measured on this machine's {cores} cores.")
        lines = figures.sentences() if figures else []
        self.words.setText("<br>".join([*lines, f"<b>GPU.</b> {GPU_SENTENCE}", f"<b>Cluster.</b> {CLUSTER_SENTENCE}"]))

    def _bars(self, plot, bars, values, names, fmt) -> None:
        heights = [value or 0.0 for value in values]
        bars.setOpts(height=heights)
        for label in self.labels[plot]:
            plot.removeItem(label)
        self.labels[plot] = []
        for x, value in enumerate(values):
            if value:
                label = pg.TextItem(fmt.format(value), color="#1F2937", anchor=(0.5, 1.0))
                label.setPos(x, value)
                plot.addItem(label)
                self.labels[plot].append(label)
        plot.getAxis("bottom").setTicks([list(enumerate(names))])
        plot.setXRange(-0.6, 1.6, padding=0)
        plot.setYRange(0, max(heights) * 1.2 or 1.0, padding=0)
