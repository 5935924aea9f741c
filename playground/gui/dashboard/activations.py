"""Activations: the fraction of saturated units per layer.

A sigmoid or tanh unit whose σ'(z) has fallen below 1% of its peak passes almost no
gradient back: it is saturated, and so are the layers that depend on it for learning.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from ...engine.activations import ACTIVATIONS
from ...engine.dense_stack import SATURATION
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
    recent_mean,
    set_title,
    smooth,
)


class ActivationPanel(Panel):
    title = "Activations"

    def __init__(self, parent=None):
        super().__init__(parent)
        self.headline = self.add_headline()
        self.curves_plot = self.graphics.addPlot(row=1, col=0)
        self.curves_plot.setYRange(0, 1, padding=0.02)
        self.curves_plot.setLabel("bottom", "mini-batch step")
        self.curves_plot.setLabel("left", "fraction saturated")
        self.legend = add_legend(self.curves_plot)
        self.bars_plot = self.graphics.addPlot(row=2, col=0, title="now")
        self.bars_plot.setYRange(0, 1, padding=0.02)
        self.bars_plot.setMouseEnabled(x=False, y=False)
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.6)
        self.bars_plot.addItem(self.bars)
        self.bars_plot.disableAutoRange()
        self.ranges = RangeKeeper(self.curves_plot, y_floor=0.0)
        self.graphics.ci.layout.setRowStretchFactor(1, 3)
        self.graphics.ci.layout.setRowStretchFactor(2, 2)
        self.layout_.addWidget(self.graphics)
        self._curves: dict[str, pg.PlotDataItem] = {}
        self._key: tuple = ()
        self.current: dict[str, float] = {}

    @staticmethod
    def _saturating(model: DashboardModel, ids: list[str]) -> list[int]:
        """Which layers can saturate, from their activations (before any figures arrive)."""
        spec = model.network_spec
        found = []
        for index, layer_id in enumerate(ids):
            try:
                activation = getattr(spec.node(layer_id).config, "activation", None)
            except (KeyError, AttributeError):
                continue
            info = ACTIVATIONS.get(activation) if activation else None
            if info is not None and info.saturating:
                found.append(index)
        return found

    def _set_layers(self, model: DashboardModel, ids: list[str], saturating: list[int]) -> tuple[list[int], list[str]]:
        """Curves and bars for the layers that can saturate, at most MAX_PLOTTED_LAYERS of them
        (``plotted``); returns the indices and ids of those drawn."""
        shown = plotted(saturating)
        shown_ids = [ids[i] for i in shown]
        key = (tuple(shown_ids), model.context_version)
        if key != self._key:
            self._key = key
            note = plotted_note(len(shown), len(saturating))
            set_title(self.curves_plot, f"Saturated units per layer (σ′ below 1% of its peak){note}")
            for curve in self._curves.values():
                self.curves_plot.removeItem(curve)
            self.legend.clear()
            self._curves = {
                layer_id: self.curves_plot.plot(pen=pen(model.color(layer_id, i), 2), name=layer_id)
                for i, layer_id in zip(shown, shown_ids)
            }
            if shown:  # pyqtgraph's BarGraphItem fails on empty pen lists
                self.bars.setOpts(
                    brushes=[model.color(layer_id, i) for i, layer_id in zip(shown, shown_ids)],
                    pens=[pg.mkPen(None)] * len(shown),
                )
            self.bars_plot.getAxis("bottom").setTicks([[(k, layer_id) for k, layer_id in enumerate(shown_ids)]])
            self.bars_plot.setXRange(-0.6, max(len(shown) - 0.4, 0.4), padding=0)
        return shown, shown_ids

    def draw(self, model: DashboardModel) -> None:
        history = model.history
        if len(history) == 0 or not history.layer_ids:
            ids = model.layer_ids()
            shown = self._saturating(model, ids)
            self._set_layers(model, ids, shown)  # ready before training, so the first figures only fill them
            for curve in self._curves.values():
                curve.setData([], [])
            self.bars.setOpts(x=[], height=[])
            self.say("Press <b>Train</b> to see how many units saturate.")
            self.current = {}
            return
        ids = history.layer_ids
        values = history.layer_metrics[:, :, SATURATION]
        tail = values[-200:]
        saturating = [i for i, _ in enumerate(ids) if np.isfinite(tail[:, i]).any()]
        shown, shown_ids = self._set_layers(model, ids, saturating)
        if not shown:
            self.say(
                "None of these layers can saturate (ReLU, linear and softmax have no flat "
                "region that stops the gradient)."
            )
            self.bars.setOpts(x=[], height=[])
            self.current = {}
            return
        x, y = downsample(history.steps, values[:, shown])
        span = max(3.0, len(x) / 40)
        for k, layer_id in enumerate(shown_ids):
            self._curves[layer_id].setData(x, smooth(y[:, k], span), connect="finite")
        if len(x):
            self.ranges.update(float(x[-1]), 0.0, 1.0, x_min=float(min(x[0], 0)))
        now = np.nan_to_num(recent_mean(values[:, shown]), nan=0.0)
        self.current = {layer_id: float(now[k]) for k, layer_id in enumerate(shown_ids)}
        self.bars.setOpts(x=np.arange(len(shown)), height=now)
        worst = int(np.argmax(now))
        names = describe_layers(ids)
        self.say(f"Most saturated: {names[shown_ids[worst]]}, {100 * now[worst]:.0f}% of its units.")
