"""Activations: the fraction of saturated units per layer, and of dead ReLUs.

A sigmoid or tanh unit whose σ'(z) has fallen below 1% of its peak passes almost no
gradient back: it is saturated, and so are the layers that depend on it for learning.
A ReLU saturates at 0: a unit whose output is 0 for every example of a batch passes no
gradient back and its weights stop changing; the trainer records the fraction of such units
in the same column (see ``engine.activations.saturated_fraction``), and the panel calls it dead.
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
        self.curves_plot.setLabel("left", "fraction saturated or dead")
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
        self._note = ""  # which layers are drawn, when not all of them
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
            if info is not None and (info.saturating or info.dies):
                found.append(index)
        return found

    @staticmethod
    def _dying(model: DashboardModel, ids: list[str]) -> set[str]:
        """The layers whose figure counts dead units (ReLU), not saturated ones."""
        spec = model.network_spec
        found = set()
        for layer_id in ids:
            try:
                activation = getattr(spec.node(layer_id).config, "activation", None)
            except (KeyError, AttributeError):
                continue
            info = ACTIVATIONS.get(activation) if activation else None
            if info is not None and info.dies:
                found.add(layer_id)
        return found

    def _set_layers(self, model: DashboardModel, ids: list[str], saturating: list[int]) -> tuple[list[int], list[str]]:
        """Curves and bars for the layers that can saturate, at most MAX_PLOTTED_LAYERS of them
        (``plotted``); returns the indices and ids of those drawn."""
        shown = plotted(saturating)
        shown_ids = [ids[i] for i in shown]
        key = (tuple(shown_ids), model.context_version)
        if key != self._key:
            self._key = key
            self._note = plotted_note(len(shown), len(saturating))
            for curve in self._curves.values():
                self.curves_plot.removeItem(curve)
            self.legend.clear()
            dying = self._dying(model, shown_ids)
            self._curves = {
                layer_id: self.curves_plot.plot(
                    pen=pen(model.color(layer_id, i), 2), name=f"{layer_id} (dead)" if layer_id in dying else layer_id
                )
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
            set_title(self.curves_plot, f"Saturated units per layer (σ′ below 1% of its peak){self._note}")
            self.say("Press <b>Train</b> to see how many units saturate (sigmoid, tanh) or die (ReLU).")
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
        names = describe_layers(ids)
        dying = self._dying(model, shown_ids)
        parts = []
        for kind, members in (
            ("Most saturated", [k for k, layer_id in enumerate(shown_ids) if layer_id not in dying]),
            ("Most dead ReLUs", [k for k, layer_id in enumerate(shown_ids) if layer_id in dying]),
        ):
            if not members:
                continue
            worst = max(members, key=lambda k: now[k])
            if now[worst] >= 0.005 or not dying:  # "0% saturated" beside dead ReLUs says nothing
                parts.append(f"{kind}: {names[shown_ids[worst]]}, {100 * now[worst]:.0f}% of its units.")
        if dying:
            parts.append("A dead ReLU outputs 0 for every example, so it passes no gradient and stops learning.")
        set_title(
            self.curves_plot,
            (
                "Dead ReLUs (0 for the whole batch) and saturated units per layer"
                if dying
                else "Saturated units per layer (σ′ below 1% of its peak)"
            )
            + self._note,
        )
        self.say(" ".join(parts))
