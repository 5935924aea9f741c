"""Gradient magnitude per layer: Nielsen's "speed of learning".

‖∂C/∂bˡ‖ = ‖δˡ‖ (averaged over the mini-batch) says how fast layer l's biases move.  In a
deep sigmoid network the early layers' δ is a product of many σ'(z)·w factors, each
usually below 1, so it is far smaller than the last layer's: the first layers learn
slowly.  The panel plots it per layer over the run (log scale, the canvas's colours),
shows the current values as bars, and prints the ratio of the slowest to the fastest.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel

from ...engine.dense_stack import BIAS_GRAD, WEIGHT_GRAD
from .common import (
    DashboardModel,
    Panel,
    RangeKeeper,
    add_legend,
    describe_layers,
    downsample,
    pen,
    plotted,
    plotted_note,
    positive,
    recent_mean,
    set_text,
    set_title,
    smooth,
)

#: mini-batches at the start of a run whose mean is "the untrained network"
START_STEPS = 50

MEASURES = {
    "bias": (BIAS_GRAD, "‖∂C/∂b‖ = ‖δ‖ (speed of learning)"),
    "weight": (WEIGHT_GRAD, "‖∂C/∂W‖ (weight gradient)"),
}


def speed_ratio(values: dict[str, float], names: dict[str, str]) -> tuple[float, str, str, str] | None:
    """(slowest/fastest factor, a sentence, slowest id, fastest id) over the hidden layers, or over all
    layers when fewer than two are hidden."""
    ids = list(values)
    hidden = ids[:-1] if len(ids) > 2 else ids
    finite = {i: values[i] for i in hidden if np.isfinite(values[i]) and values[i] > 0}
    if len(finite) < 2:
        return None
    slow = min(finite, key=finite.get)
    fast = max(finite, key=finite.get)
    factor = finite[fast] / finite[slow]
    if factor < 1.5:
        return factor, f"The layers learn at about the same speed (within {factor:.1f}×).", slow, fast
    shown = f"{factor:.0f}" if factor >= 10 else f"{factor:.1f}"
    return (
        factor,
        f"{names[slow][0].upper()}{names[slow][1:]} learns <b>{shown}× slower</b> than {names[fast]}.",
        slow,
        fast,
    )


def times(factor: float) -> str:
    """A factor as the headline prints it: 68×, 4.1×."""
    return f"{factor:.0f}×" if factor >= 10 else f"{factor:.1f}×"


class GradientPanel(Panel):
    title = "Gradients"

    def __init__(self, parent=None):
        super().__init__(parent)
        controls = QHBoxLayout()
        controls.addWidget(QLabel("Measure:"))
        self.measure = QComboBox()
        for key, (_, label) in MEASURES.items():
            self.measure.addItem(label, key)
        self.measure.currentIndexChanged.connect(lambda: self._redraw())
        controls.addWidget(self.measure)
        controls.addStretch(1)
        self.layout_.addLayout(controls)
        self.headline = self.add_headline(colspan=2)
        self.curves_plot = self.graphics.addPlot(row=1, col=0, colspan=2)
        self.curves_plot.setLogMode(y=True)
        self.curves_plot.setLabel("bottom", "mini-batch step")
        self.legend = add_legend(self.curves_plot)
        self.bars_plot = self.graphics.addPlot(row=2, col=0, colspan=2)
        self.bars_plot.setMouseEnabled(x=False)
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.6)
        self.bars_plot.addItem(self.bars)
        self.curve_ranges = RangeKeeper(self.curves_plot, log_y=True)
        self.bar_ranges = RangeKeeper(self.bars_plot, y_floor=0.0, manage_x=False)
        self.graphics.ci.layout.setRowStretchFactor(1, 3)
        self.graphics.ci.layout.setRowStretchFactor(2, 2)
        self.layout_.addWidget(self.graphics)
        self._curves: dict[str, pg.PlotDataItem] = {}
        self._labels: list[pg.TextItem] = []
        self._layer_key: tuple = ()
        self._model: DashboardModel | None = None
        self.current: dict[str, float] = {}
        self.ratio: float | None = None
        self.start_ratio: float | None = None

    def _redraw(self):
        if self._model is not None:
            self.refresh(self._model, force=True)

    @property
    def column(self) -> int:
        return MEASURES[self.measure.currentData()][0]

    def _set_layers(self, model: DashboardModel, layer_ids: list[str]) -> None:
        """A curve, a bar and a label for each plotted layer (``plotted``: at most MAX_PLOTTED_LAYERS)."""
        key = (tuple(layer_ids), model.context_version)
        if key == self._layer_key:
            return
        self._layer_key = key
        columns = plotted(range(len(layer_ids)))
        shown = [layer_ids[i] for i in columns]
        for curve in self._curves.values():
            self.curves_plot.removeItem(curve)
        self.legend.clear()
        self._curves = {}
        for index, layer_id in zip(columns, shown):
            curve = self.curves_plot.plot(pen=pen(model.color(layer_id, index), 2), name=layer_id)
            self._curves[layer_id] = curve
        for label in self._labels:
            self.bars_plot.removeItem(label)
        self._labels = []
        for _ in shown:
            label = pg.TextItem("", anchor=(0.5, 1.0), color="#333333")
            self.bars_plot.addItem(label)
            self._labels.append(label)
        self.bars_plot.getAxis("bottom").setTicks([[(k, layer_id) for k, layer_id in enumerate(shown)]])
        if shown:  # pyqtgraph's BarGraphItem fails on empty pen lists
            self.bars.setOpts(
                brushes=[model.color(layer_id, i) for i, layer_id in zip(columns, shown)],
                pens=[pg.mkPen(None)] * len(shown),
            )
        self.bars_plot.setXRange(-0.6, max(len(shown) - 0.4, 0.4), padding=0)
        self.curve_ranges.reset()
        self.bar_ranges.reset()

    def draw(self, model: DashboardModel) -> None:
        self._model = model
        history = model.history
        layer_ids = history.layer_ids
        every = model.layer_ids()
        self._set_layers(model, every)  # before training: the network's layers, ready to draw
        label = MEASURES[self.measure.currentData()][1]
        note = plotted_note(len(self._curves), len(every))
        set_title(self.curves_plot, f"{label} per layer, over the run (log scale){note}")
        set_title(self.bars_plot, "now (mean of the last 50 mini-batches)")
        if len(history) == 0 or not layer_ids:
            for curve in self._curves.values():
                curve.setData([], [])
            self.bars.setOpts(x=[], height=[])
            for text in self._labels:
                set_text(text, "")
            self.say("Press <b>Train</b>: each layer's gradient magnitude appears here.")
            self.current, self.ratio = {}, None
            return
        values = history.layer_metrics[:, :, self.column]
        columns = plotted(range(len(layer_ids)))
        x, y = downsample(history.steps, values[:, columns])
        span = max(3.0, len(x) / 40)  # one mini-batch's norm is noisy: show the trend
        low, high = np.inf, -np.inf
        for k, index in enumerate(columns):
            shown = positive(smooth(y[:, k], span))
            self._curves[layer_ids[index]].setData(x, shown, connect="finite")
            finite = shown[np.isfinite(shown)]
            if len(finite):
                low, high = min(low, float(finite.min())), max(high, float(finite.max()))
        if len(x):
            self.curve_ranges.update(float(x[-1]), low, high, x_min=float(min(x[0], 0)))
        now = recent_mean(values)
        self.current = {layer_id: float(now[i]) for i, layer_id in enumerate(layer_ids)}
        heights = np.nan_to_num(now[columns], nan=0.0, posinf=0.0)
        self.bars.setOpts(x=np.arange(len(columns)), height=heights)
        top = float(heights.max()) if len(heights) else 1.0
        self.bar_ranges.update(0.0, 0.0, top * 1.1 if top > 0 else 1.0)
        for index, text in enumerate(self._labels):
            set_text(text, f"{heights[index]:.3g}")
            text.setPos(index, heights[index])
        names = describe_layers(layer_ids)
        ratio = speed_ratio(self.current, names)
        self.ratio = ratio[0] if ratio else None
        text = ratio[1] if ratio else ""
        if ratio and ratio[0] >= 1.5:
            # the gap over the whole run, from the same (smoothed) series the curves draw
            slow_i, fast_i = layer_ids.index(ratio[2]), layer_ids.index(ratio[3])
            _, pair = downsample(history.steps, values[:, [slow_i, fast_i]])
            gap = smooth(pair[:, 1], span) / smooth(pair[:, 0], span)
            gap = gap[np.isfinite(gap) & (gap > 0)]
            if len(gap) >= 2:
                text += (
                    f" Over this run, {ratio[3]} over {ratio[2]}: between <b>{times(gap.min())}</b>"
                    f" and <b>{times(gap.max())}</b>"
                    + (f" ({ratio[2]} the faster of the two at times)." if gap.min() < 1 else ".")
                )
        first = max(1, START_STEPS // history.stride)  # rows covering the run's first mini-batches
        if len(values) >= 4 * first and history.steps[0] < 2 * history.stride:
            # the effect is strongest in the untrained network: keep its first figure in view
            untrained = values[:first].mean(axis=0)
            start = speed_ratio({layer_id: float(v) for layer_id, v in zip(layer_ids, untrained)}, names)
            if start and start[0] >= 1.5 and ratio:
                self.start_ratio = start[0]
                shown = f"{start[0]:.0f}" if start[0] >= 10 else f"{start[0]:.1f}"
                text = (
                    f"Now: {text}<br><span style='color:#555555'>At the start of this run (untrained): "
                    f"<b>{shown}×</b>, {start[2]} vs {start[3]}.</span>"
                )
        self.say(text)
