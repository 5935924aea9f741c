"""The learning-rate finder: Smith's range test on the network on the canvas, drawn as it runs.

The computation is ``training.lr_finder``'s (the same ``playground lr-find`` prints): the
network's own trainer takes one mini-batch at each of a rising series of rates, on a copy of the
network, so the canvas's weights are untouched.  The panel runs it on its own worker thread (one
``TrainingThread`` and ``RunnerJob``, as a lab does), pulls the newest figures on a timer, and
draws the loss against η on a log axis: every mini-batch's loss as a dot, the smoothed curve
the suggestion is read from, and the suggested range shaded.  "Use η" puts the range's upper end,
the largest rate that still trains steadily, in the window's learning-rate box.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QPushButton

from ...runs.jobs import LatestSlot, RunnerJob
from ...training import TrainingControl
from ...training.families import RunOptions
from ...training.lr_finder import LearningRateFinder, RangeTest, RangeTestSettings
from ..worker import TrainingThread
from .common import DashboardModel, Panel, add_legend, pen

RAW, SMOOTHED, RANGE = "#9CA3AF", "#0072B2", (0, 158, 115, 60)
PULL_MS = 100


class LatestTest(LatestSlot):
    """The job's stream: the newest ``RangeTest`` only (the finder updates one in place)."""

    def append(self, event) -> None:
        self.put(event)


class LearningRateFinderPanel(Panel):
    title = "LR finder"
    #: the upper end of the suggested range, for the window's learning-rate box
    rateChosen = Signal(float)
    #: three rates across the suggested range, for the Experiments view to compare
    experimentRequested = Signal(list)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.headline = self.add_headline()
        self.plot = self.graphics.addPlot(row=1, col=0)
        self.plot.setLogMode(x=True, y=False)
        self.plot.setLabel("bottom", "learning rate η (log scale)")
        self.plot.setLabel("left", "mini-batch cost")
        add_legend(self.plot, "below", columns=3)
        self.raw = self.plot.plot(
            pen=None, symbol="o", symbolSize=3, symbolBrush=RAW, symbolPen=None, name="each mini-batch"
        )
        self.smoothed = self.plot.plot(pen=pen(SMOOTHED, 2.5), name="smoothed")
        self.range = pg.LinearRegionItem(movable=False, brush=pg.mkBrush(*RANGE), pen=pg.mkPen(None))
        self.range.setZValue(-10)
        self.range.hide()
        self.plot.addItem(self.range)
        self.range_legend = pg.BarGraphItem(x=[0], height=[0], width=0, brush=pg.mkBrush(*RANGE))
        self.plot.legend.addItem(self.range_legend, "suggested range")
        buttons = QHBoxLayout()
        self.start_button = QPushButton("Find learning rate")
        self.start_button.setToolTip(
            "Train briefly while η rises from 0.00001 to 10, one mini-batch per rate, on a copy of the network"
        )
        self.start_button.clicked.connect(self.toggle)
        self.use_button = QPushButton("Use η")
        self.use_button.setToolTip("Put the largest rate of the suggested range in the learning-rate box")
        self.use_button.clicked.connect(self._use_rate)
        self.use_button.setEnabled(False)
        self.compare_button = QPushButton("Compare three rates")
        self.compare_button.setToolTip(
            "Train the network at the two ends of the suggested range and their geometric mean, side by side, "
            "in the Experiments view"
        )
        self.compare_button.clicked.connect(self._compare_rates)
        self.compare_button.setEnabled(False)
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.use_button)
        buttons.addWidget(self.compare_button)
        buttons.addStretch(1)
        self.layout_.addLayout(buttons)
        self.layout_.addWidget(self.graphics)
        #: where the finder reads its data (the window's data store); None: the defaults
        self.data = None
        self.settings = RangeTestSettings()
        self.test: RangeTest | None = None
        self.problem: str | None = None
        self.spec = None
        self.thread = TrainingThread(self)
        self.thread.finished.connect(self._finished)
        self.job: RunnerJob | None = None
        self._version = 0
        self._pulled = None
        self._model = DashboardModel()
        self.timer = QTimer(self)
        self.timer.setInterval(PULL_MS)
        self.timer.timeout.connect(self._pull)

    # --- running ----------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.job is not None

    def versions(self, model: DashboardModel) -> tuple:
        return model.context_version, self._version

    def options_for(self, spec) -> RunOptions:
        if self.data is None:
            return RunOptions()
        name = spec.dataset.name
        return RunOptions(data_dir=self.data.folder_for(name), data_file=self.data.file_for(name))

    def start(self) -> bool:
        """Run the range test on the network on the canvas (a copy trains); False if one already
        runs or there is no network to test."""
        spec = self.spec
        if self.running or spec is None:
            return False
        self.test, self.problem = None, None
        options, settings = self.options_for(spec), self.settings

        def runner(spec, control):
            return LearningRateFinder(spec, options, settings, control).run()

        self.job = RunnerJob(spec, runner, TrainingControl(settings.start), stream=LatestTest())
        self.thread.launch(self.job)
        self.timer.start()
        self.start_button.setText("Stop")
        self._enable_suggestion_buttons()
        self._changed()
        return True

    def toggle(self) -> None:
        if self.running:
            self.job.control.stop()
        else:
            self.start()

    def shutdown(self) -> None:
        self.timer.stop()
        self.thread.stop_and_join()

    def _pull(self) -> None:
        if self.job is None:
            return
        test, version = self.job.stream.get()
        if test is not None and version != self._pulled:
            self._pulled = version
            self.test = test
            self._changed()

    def _finished(self) -> None:
        self.timer.stop()
        job, self.job = self.job, None
        if job is not None:
            self.test = job.stream.get()[0] or self.test
            self.problem = job.error
        self.start_button.setText("Find learning rate")
        self._enable_suggestion_buttons()
        self._changed()

    def _changed(self) -> None:
        """New figures: redraw now (the dashboard's own timer only ticks while a run trains)."""
        self._version += 1
        self.draw(self._model)

    def suggested_rate(self) -> float | None:
        """The upper end of the suggested range (two significant digits), once the test has ended."""
        if self.test is None or self.running:
            return None
        suggestion = self.test.suggestion()
        return None if suggestion is None else float(f"{suggestion.high:.2g}")

    def _enable_suggestion_buttons(self) -> None:
        for button in (self.use_button, self.compare_button):
            button.setEnabled(self.suggested_rate() is not None)

    def _compare_rates(self) -> None:
        suggestion = None if self.test is None or self.running else self.test.suggestion()
        if suggestion is not None:
            self.experimentRequested.emit([float(f"{rate:.2g}") for rate in suggestion.rates()])

    def _use_rate(self) -> None:
        rate = self.suggested_rate()
        if rate is not None:
            self.rateChosen.emit(rate)

    def load(self, spec, test: RangeTest | None) -> None:
        """Show ``test`` as the finder's result for ``spec`` (the preview and the tests use this)."""
        self.spec, self.test, self.problem = spec, test, None
        self._enable_suggestion_buttons()
        self._model = DashboardModel()
        self._model.network_spec = spec
        self._changed()

    # --- drawing ----------------------------------------------------------------------------
    def draw(self, model: DashboardModel) -> None:
        self._model = model
        if not self.running and model.network_spec is not self.spec:
            # another network on the canvas: an earlier test says nothing about it
            self.spec, self.test, self.problem = model.network_spec, None, None
            self._enable_suggestion_buttons()
        test = self.test
        if self.problem:
            self.say(f"The range test could not run: {self.problem}")
            return
        if test is None or not test.rates:
            for curve in (self.raw, self.smoothed):
                curve.setData([], [])
            self.range.hide()
            if self.running:
                self.say("Finding the learning rate: preparing the network and its data…")
            else:
                self.say(
                    "Press <b>Find learning rate</b>: the network trains briefly while η rises from "
                    f"{self.settings.start:g} to {self.settings.end:g}, and the cost against η shows where to train."
                )
            return
        self.show_test(test, running=self.running)

    def show_test(self, test: RangeTest, running: bool = False) -> None:
        """Draw ``test`` (the live one, or any other: the preview and the tests pass their own)."""
        count = min(len(test.rates), len(test.losses))
        rates, losses = np.asarray(test.rates[:count]), np.asarray(test.losses[:count], np.float64)
        finite = np.isfinite(losses)
        self.raw.setData(rates[finite], losses[finite])
        smoothed = test.smoothed[:count]
        self.smoothed.setData(rates[: len(smoothed)], smoothed)
        if finite.any():
            shown = losses[finite]
            top = max(float(np.percentile(shown, 98)), float(smoothed.max()) if len(smoothed) else 0.0)
            self.plot.setYRange(float(shown.min()), top, padding=0.05)
        self.plot.setXRange(math.log10(test.settings.start), math.log10(test.settings.end), padding=0.02)
        suggestion = None if running else test.suggestion()
        if suggestion is None:
            self.range.hide()
        else:
            self.range.setRegion((math.log10(suggestion.low), math.log10(suggestion.high)))
            self.range.show()
        if running:
            self.say(
                f"Finding the learning rate: η = {rates[-1]:.3g}, mini-batch {count} of {test.settings.steps}. "
                "The cost falls where η is large enough to learn, and blows up where η is too large."
            )
        else:
            advice = f" Press <b>Use η</b> to train at {suggestion.high:.2g}." if suggestion else ""
            self.say(test.summary() + advice)
