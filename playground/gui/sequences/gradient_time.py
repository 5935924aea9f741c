"""Gradient over time: ‖∂C/∂h_t‖ for every time step t, at every training step.

An RNN unrolled over T steps is a T-layer-deep network: the error reaching h_t from the
loss at the end is multiplied by the recurrent Jacobian once per step in between, so in
a tanh RNN it shrinks geometrically as t goes back; an LSTM's cell path, scaled only by
the forget gate, carries it back nearly unchanged.  The heat map shows the whole run
(time step × training step, log colour); the curve below shows the latest profile against
t, on a log axis, with earlier runs overlaid so the RNN and the LSTM can be compared.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Signal
from PySide6.QtWidgets import QHBoxLayout, QPushButton

from ..dashboard.common import Panel, RangeKeeper, add_legend, pen, positive, set_title
from ..widgets import ElidedLabel
from .model import SequenceModel, group_rows

#: most training-step columns the heat map draws; longer runs are averaged into buckets
MAX_COLUMNS = 600
CURRENT = "#111827"
SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
SUBSCRIPT = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def power_of_ten(exponent: int) -> str:
    return "10" + str(exponent).translate(SUPERSCRIPT)


class DecadeAxis(pg.AxisItem):
    """A log axis labelled at powers of ten, and at 2× and 5× them where the range holds fewer
    than two powers: labelling every tick between (2·10⁻³, 3·10⁻³ … 9·10⁻³) piles the labels on
    top of each other on a short axis.  A range with none of these keeps pyqtgraph's labels."""

    def logTickStrings(self, values, scale, spacing):
        mantissas = [round(10 ** (value - math.floor(value + 1e-9)), 6) for value in values]
        wanted = (1.0,) if mantissas.count(1.0) >= 2 else (1.0, 2.0, 5.0)
        if not any(m in wanted for m in mantissas):
            return super().logTickStrings(values, scale, spacing)
        labels = []
        for value, mantissa in zip(values, mantissas):
            power = power_of_ten(math.floor(value + 1e-9))
            labels.append("" if mantissa not in wanted else power if mantissa == 1.0 else f"{mantissa:g}·{power}")
        return labels


def heat_columns(steps: np.ndarray, values: np.ndarray, max_columns: int = MAX_COLUMNS):
    """At most ``max_columns`` columns: equal groups of consecutive steps averaged (NaN ignored)."""
    k = max(1, math.ceil(len(steps) / max_columns))
    used = len(steps) // k * k
    return group_rows(steps[len(steps) - used :], values[len(steps) - used :], k)


def decay_ratio(profile: np.ndarray) -> float | None:
    """‖∂C/∂h_first‖ ÷ ‖∂C/∂h_last‖: how much of the error at the end reaches the first step."""
    reached = np.flatnonzero(np.isfinite(profile))  # a time step no sequence reached is NaN
    if len(reached) < 2 or profile[reached[-1]] <= 0:
        return None
    return float(profile[reached[0]] / profile[reached[-1]])


class GradientOverTimePanel(Panel):
    title = "Gradient over time"
    min_interval = 0.25  # the heat map is recomputed from every step it shows
    clearRequested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        controls = QHBoxLayout()
        self.kept_label = ElidedLabel()
        controls.addWidget(self.kept_label, 1)
        self.clear_button = QPushButton("Clear comparison")
        self.clear_button.setToolTip("Forget the earlier runs' curves")
        self.clear_button.clicked.connect(self.clearRequested)
        controls.addWidget(self.clear_button)
        self.layout_.addLayout(controls)
        self.headline = self.add_headline()
        self.heat_plot = self.graphics.addPlot(row=1, col=0)
        self.heat_plot.setLabel("bottom", "mini-batch step")
        self.heat_plot.setLabel("left", "time step t")
        self.heat_plot.setMouseEnabled(y=False)
        self.image = pg.ImageItem()
        self.heat_plot.addItem(self.image)
        self.color_bar = pg.ColorBarItem(
            values=(-3, 0), colorMap="viridis", label="‖∂C/∂h_t‖ (log scale)", interactive=False, width=14
        )
        self.color_bar.setImageItem(self.image, insert_in=self.heat_plot)
        self.profile_plot = self.graphics.addPlot(row=2, col=0, axisItems={"left": DecadeAxis("left")})
        self.profile_plot.setLogMode(y=True)
        self.profile_plot.setLabel("bottom", "time step t (the loss is measured after the last)")
        self.profile_plot.setLabel("left", "‖∂C/∂h_t‖")
        # powers of ten read directly; an SI multiplier on a log axis ("5·10¹ ×0.001") does not
        self.profile_plot.getAxis("left").enableAutoSIPrefix(False)
        # under the axis, never over the curves (a corner always has some run's profile in it)
        self.legend = add_legend(self.profile_plot, "below", columns=2)
        self.profile_ranges = RangeKeeper(self.profile_plot, log_y=True, x_mode="fit")
        self.graphics.ci.layout.setRowStretchFactor(1, 3)
        self.graphics.ci.layout.setRowStretchFactor(2, 2)
        self.layout_.addWidget(self.graphics, 1)
        self._curves_key = None
        self._kept_curves: list[pg.PlotDataItem] = []
        self.current: pg.PlotDataItem | None = None
        self._heat_key = None
        self.heat_shape: tuple[int, int] = (0, 0)  # (training-step columns, time steps) drawn
        self.ratios: dict[str, float] = {}

    def versions(self, model: SequenceModel) -> tuple:
        return model.history_version, model.kept_version

    def draw(self, model: SequenceModel) -> None:
        name = f"{model.run_name or 'this run'} (now)"
        self._make_curves(model, name)
        self._draw_heat(model)
        profile = model.latest_profile()
        if profile is None:
            self.current.setData([], [])
        else:
            self.current.setData(np.arange(len(profile)), positive(profile), connect="finite")
        self._fit_profile_range(model, profile)
        self.ratios = {kept.name: r for kept in model.kept if (r := decay_ratio(kept.profile)) is not None}
        if profile is not None and (r := decay_ratio(profile)) is not None:
            self.ratios[name] = r
        self.say(self._sentence(model, profile))

    def _make_curves(self, model: SequenceModel, name: str) -> None:
        """The kept runs' curves and this run's, rebuilt when either changes (the legend follows)."""
        key = (model.kept_version, name)
        if key == self._curves_key:
            return
        self._curves_key = key
        for curve in self._kept_curves + [self.current]:
            if curve is not None:
                self.profile_plot.removeItem(curve)
        self._kept_curves = [
            self.profile_plot.plot(
                np.arange(len(kept.profile)),
                positive(kept.profile),
                pen=pen(kept.color, 2),
                name=kept.name,
                connect="finite",
            )
            for kept in model.kept
        ]
        self.current = self.profile_plot.plot(
            pen=pen(CURRENT, 2.4), name=name, symbol="o", symbolSize=4, symbolBrush=CURRENT, symbolPen=None
        )
        self.profile_ranges.reset()
        self.clear_button.setEnabled(bool(model.kept))
        self.kept_label.setText(
            "Compared with: " + ", ".join(k.name for k in model.kept)
            if model.kept
            else "Train one model, then another: the first run's curve stays here to compare."
        )

    def _draw_heat(self, model: SequenceModel) -> None:
        rows = model.log_time_grads
        if not len(rows):
            self.image.clear()
            self.heat_shape = (0, 0)
            self._heat_key = None
            set_title(self.heat_plot, "‖∂C/∂h_t‖ per time step and mini-batch")
            return
        steps, logs = heat_columns(rows.steps, rows.values)
        finite = logs[np.isfinite(logs)]
        if len(finite):
            low, high = np.percentile(finite, [1, 99.5])
            low, high = float(low), float(max(high, low + 0.1))
            self.image.setImage(logs, autoLevels=False, levels=(low, high))
            self.color_bar.setLevels((low, high))
            self._set_color_ticks(low, high)
        columns, times = logs.shape
        width = float(steps[1] - steps[0]) if columns > 1 else 1.0
        left = float(steps[0]) - width
        self.image.setRect(QRectF(left, 0.0, width * columns, float(times)))
        self.heat_shape = (columns, times)
        key = (left, float(steps[-1]), times)
        if key != self._heat_key:
            self._heat_key = key
            self.heat_plot.setXRange(left, float(steps[-1]), padding=0)
            self.heat_plot.setYRange(0, times, padding=0)
        stride = rows.stride * max(1, len(rows) // max(columns, 1))
        set_title(
            self.heat_plot,
            "‖∂C/∂h_t‖ per time step and mini-batch" + (f" (each column: {stride} mini-batches)" if stride > 1 else ""),
        )

    def _set_color_ticks(self, low: float, high: float) -> None:
        exponents = range(math.ceil(low), math.floor(high) + 1)
        if len(exponents) >= 2:
            every = max(1, len(exponents) // 6)
            self.color_bar.axis.setTicks([[(k, power_of_ten(k)) for k in exponents[::every]], []])
        else:  # less than two decades: the norms themselves, not their logarithms ("-1.8")
            ticks = np.linspace(low, high, 4)
            self.color_bar.axis.setTicks([[(float(k), f"{10.0**k:.2g}") for k in ticks], []])

    def _fit_profile_range(self, model: SequenceModel, profile: np.ndarray | None) -> None:
        shown = [kept.profile for kept in model.kept] + ([] if profile is None else [profile])
        values = np.concatenate([positive(p) for p in shown]) if shown else np.array([])
        values = values[np.isfinite(values)]
        if len(values):
            longest = max(len(p) for p in shown)
            self.profile_ranges.update(float(longest - 1), float(values.min()), float(values.max()), x_min=0.0)

    def _sentence(self, model: SequenceModel, profile: np.ndarray | None) -> str:
        if profile is None and not model.kept:
            return (
                "Press <b>Train</b>: the gradient that reaches each time step appears here. "
                "In a SimpleRNN it fades along time; an LSTM keeps it."
            )
        parts = []
        if self.ratios:
            last = str(len(profile if profile is not None else model.kept[-1].profile) - 1).translate(SUBSCRIPT)
            shown = ", ".join(f"{name} <b>{ratio:.2g}</b>" for name, ratio in self.ratios.items())
            parts.append(f"How much error reaches the first step, ‖∂C/∂h₀‖ ÷ ‖∂C/∂h{last}‖: {shown}")
        if len(model.log_time_grads):
            steps = int(model.log_time_grads.steps[-1]) + 1
            parts.append(f"gradient clipped {model.clips_total:,} times in {steps:,} mini-batches")
        return " · ".join(parts)

    def curve_names(self) -> list[str]:
        """The profile curves drawn now: earlier runs first, then this one (when it has data)."""
        names = [curve.opts["name"] for curve in self._kept_curves]
        if self.current is not None and self.current.xData is not None and len(self.current.xData):
            names.append(self.current.opts["name"])
        return names
