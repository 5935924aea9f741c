"""The Bumps view: universal approximation by hand, as Nielsen's chapter 4 proves it.

Top: what each pair of hidden neurons adds to the output, a bump between its two steps, with a
handle for each step (a vertical line to drag) and for each bump's height (a dot to drag).
Bottom: the output neuron's sum of the bumps against the target points, and its error.  A
slider sets how steep every step is (the hidden weights' size); two buttons lay the bumps out
side by side and give each the height of the target over it, the proof's recipe.

The handles edit the network's own weights (``training.bumps``), so every curve is the engine's
forward pass and Train starts from what was dragged; while a run trains, the view follows its
snapshots and draws each pair's contribution whatever gradient descent made of it.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSlider

from ...training.bumps import (
    DEFAULT_STEEPNESS,
    BumpNetwork,
    bump_heights,
    bump_layers,
    even_bumps,
    heights_from_data,
    proof_interval,
    step_positions,
    with_height,
    with_steepness,
    with_step_at,
)
from .common import CLASS_COLORS, DashboardModel, Panel, add_legend, pen, set_title

#: the steepness slider: log₁₀ of the hidden weights' size, from 1 to 1,000, in steps of 0.05
STEEPNESS_RANGE = (0.0, 3.0)
STEEPNESS_STEPS = 20
CURVE_POINTS = 400
#: hidden weights smaller than this make slopes rather than steps over the data: the view says so
SHARP = 5.0
#: the input range before data is loaded
DEFAULT_RANGE = (-1.0, 1.0)


def _color(pair: int, alpha: int = 255):
    color = pg.mkColor(CLASS_COLORS[(pair + 1) % len(CLASS_COLORS)])
    color.setAlpha(alpha)
    return color


class BumpsPanel(Panel):
    title = "Bumps"
    #: handles dragged: the weights dict the network should take
    weightsEdited = Signal(object)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.layers = None
        self.bump_network: BumpNetwork | None = None
        self.weights: dict[str, np.ndarray] | None = None
        self.data: tuple[np.ndarray, np.ndarray] | None = None
        self.x_range = DEFAULT_RANGE
        self.error: float | None = None
        self._spec_key = None
        self._data_key = None
        self._updating = False

        controls = QHBoxLayout()
        controls.setContentsMargins(8, 4, 8, 0)
        self.steepness = QSlider(Qt.Horizontal)
        self.steepness.setRange(STEEPNESS_RANGE[0] * STEEPNESS_STEPS, STEEPNESS_RANGE[1] * STEEPNESS_STEPS)
        self.steepness.setToolTip("The size of every hidden weight w: the larger, the sharper each step")
        self.steepness.setMaximumWidth(260)
        self.steepness.valueChanged.connect(self._steepness_moved)
        self.steepness_label = QLabel()
        self.steepness_label.setMinimumWidth(self.steepness_label.fontMetrics().horizontalAdvance("w = 1000") + 6)
        self.even_button = QPushButton("Even steps")
        self.even_button.setToolTip(
            f"Lay the bumps side by side over the data, sharp (w = {DEFAULT_STEEPNESS:g}) and of height 0"
        )
        self.even_button.clicked.connect(self.lay_out_evenly)
        self.fill_button = QPushButton("Heights from the target")
        self.fill_button.setToolTip("Raise each bump to the target's mean over it: the proof's recipe")
        self.fill_button.clicked.connect(self.heights_from_target)
        for widget in (QLabel("Steepness"), self.steepness, self.steepness_label, self.even_button, self.fill_button):
            controls.addWidget(widget)
        controls.addStretch()
        self.layout_.addLayout(controls)

        self.headline = self.add_headline()
        self.bump_plot = self.graphics.addPlot(row=1, col=0)
        self.bump_plot.setLabel("bottom", "x")
        self.bump_plot.setLabel("left", "added to the output")
        self.bump_plot.getAxis("left").enableAutoSIPrefix(False)
        self.sum_plot = self.graphics.addPlot(row=2, col=0)
        self.sum_plot.setLabel("bottom", "x")
        self.sum_plot.setXLink(self.bump_plot)
        add_legend(self.sum_plot, where="below", columns=2)
        self.targets = pg.ScatterPlotItem(size=4, pen=None, brush=pg.mkBrush(80, 80, 80, 110), name="target")
        self.sum_plot.addItem(self.targets)
        self.sum_curve = self.sum_plot.plot(pen=pen("#D55E00", 3), name="sum of the bumps")
        set_title(self.sum_plot, "The output neuron adds the bumps (and its bias): the sum against the target")
        self.bump_curves: list[pg.PlotDataItem] = []
        self.step_lines: list[pg.InfiniteLine] = []
        self.height_handles: list[pg.TargetItem] = []
        self.layout_.addWidget(self.graphics, 1)
        self._show_steepness(DEFAULT_STEEPNESS)

    # --- what the panel reads from the model -------------------------------------------------------
    def versions(self, model: DashboardModel) -> tuple:
        return model.weights_version, model.dataset_version, model.context_version

    def applies_to(self, model: DashboardModel) -> bool:
        return bump_layers(model.network_spec) is not None

    def draw(self, model: DashboardModel) -> None:
        layers = bump_layers(model.network_spec)
        if layers is None:
            self.say("This page takes apart networks of one input, a hidden layer of sigmoid pairs, one linear output.")
            return
        if (id(model.network_spec), model.context_version) != self._spec_key:
            self._spec_key = (id(model.network_spec), model.context_version)
            self.layers = layers
            self.bump_network = BumpNetwork(model.network_spec, layers)
            self._make_handles()
        data = model.dataset
        fits = data is not None and data.input_shape == (1,) and data.n_outputs == 1 and data.task == "regression"
        if fits and id(data) != self._data_key:
            self._data_key = id(data)
            x, y = data.x_train[:, 0].astype(np.float64), data.y_train[:, 0].astype(np.float64)
            self.data = (x, y)
            self.x_range = proof_interval(x)
            self.targets.setData(x[:1500], y[:1500])
        steps = (model.weights or {}).get(f"{layers.hidden}.weight")
        if steps is not None and steps.shape == (2 * layers.pairs, 1):  # not the weights of an earlier network
            self.weights = {key: np.asarray(value, np.float64) for key, value in model.weights.items()}
        self._redraw()

    # --- the handles ------------------------------------------------------------------------------
    def _make_handles(self) -> None:
        for item in [*self.bump_curves, *self.step_lines, *self.height_handles]:
            self.bump_plot.removeItem(item)
        self.bump_curves, self.step_lines, self.height_handles = [], [], []
        for pair in range(self.layers.pairs):
            curve = self.bump_plot.plot(pen=pen(_color(pair), 2), fillLevel=0.0, brush=pg.mkBrush(_color(pair, 60)))
            self.bump_curves.append(curve)
            for unit in (2 * pair, 2 * pair + 1):
                line = pg.InfiniteLine(angle=90, movable=True, pen=pg.mkPen(_color(pair), width=1.5, style=Qt.DashLine))
                line.setHoverPen(pg.mkPen(_color(pair), width=3))
                line.setToolTip(f"Hidden neuron {unit + 1} steps here (s = −b/w): drag it")
                line.sigPositionChanged.connect(lambda _, unit=unit: self._step_dragged(unit))
                self.bump_plot.addItem(line)
                self.step_lines.append(line)
            handle = pg.TargetItem(size=13, symbol="o", pen=pg.mkPen("#111827"), brush=pg.mkBrush(_color(pair)))
            handle.setToolTip(f"Bump {pair + 1}'s height (its two output weights, +h and −h): drag it")
            handle.sigPositionChanged.connect(lambda _, pair=pair: self._height_dragged(pair))
            self.bump_plot.addItem(handle)
            self.height_handles.append(handle)

    def _place_handles(self) -> None:
        """Put every handle where the weights say, without taking it for a drag."""
        positions = step_positions(self.weights, self.layers)
        heights = bump_heights(self.weights, self.layers)
        low, high = self.x_range
        shown = np.clip(np.nan_to_num(positions, nan=low), low, high)
        self._updating = True
        try:
            for line, position in zip(self.step_lines, shown):
                line.setValue(float(position))
            for pair, handle in enumerate(self.height_handles):
                handle.setPos(float(shown[2 * pair : 2 * pair + 2].mean()), float(heights[pair]))
        finally:
            self._updating = False

    def _step_dragged(self, unit: int) -> None:
        if self._updating or self.weights is None:
            return
        self._edit(with_step_at(self.weights, self.layers, unit, float(self.step_lines[unit].value())))

    def _height_dragged(self, pair: int) -> None:
        if self._updating or self.weights is None:
            return
        self._edit(with_height(self.weights, self.layers, pair, float(self.height_handles[pair].pos().y())))

    def drag_step(self, unit: int, position: float) -> None:
        """Move a step's line as a person's drag does (what the tests drive)."""
        self.step_lines[unit].setValue(position)

    def drag_height(self, pair: int, height: float) -> None:
        """Move a bump's height handle as a person's drag does (what the tests drive)."""
        self.height_handles[pair].setPos(self.height_handles[pair].pos().x(), height)

    def lay_out_evenly(self) -> None:
        if self.weights is not None:
            self._edit(even_bumps(self.weights, self.layers, *self.x_range, DEFAULT_STEEPNESS))

    def heights_from_target(self) -> None:
        if self.weights is not None and self.data is not None:
            self._edit(heights_from_data(self.weights, self.layers, *self.data))

    def _steepness_value(self) -> float:
        return 10 ** (self.steepness.value() / STEEPNESS_STEPS)

    def _show_steepness(self, steepness: float) -> None:
        self.steepness.blockSignals(True)
        self.steepness.setValue(int(round(math.log10(max(steepness, 1.0)) * STEEPNESS_STEPS)))
        self.steepness.blockSignals(False)
        self.steepness_label.setText(f"w = {steepness:.3g}")

    def _steepness_moved(self) -> None:
        steepness = self._steepness_value()
        self.steepness_label.setText(f"w = {steepness:.3g}")
        if self.weights is not None:
            self._edit(with_steepness(self.weights, self.layers, steepness))

    def _edit(self, weights: dict[str, np.ndarray]) -> None:
        """Draw ``weights`` now and ask for the network to take them."""
        self.weights = weights
        self._redraw()
        self.weightsEdited.emit({key: value.copy() for key, value in weights.items()})

    # --- drawing ----------------------------------------------------------------------------------
    def _redraw(self) -> None:
        if self.weights is None or self.bump_network is None:
            return
        self.bump_network.load(self.weights)
        low, high = self.x_range
        xs = np.linspace(low, high, CURVE_POINTS)
        self.contributions = self.bump_network.contributions(xs)
        for pair, curve in enumerate(self.bump_curves):
            curve.setData(xs, self.contributions[:, pair])
        self.output = self.bump_network.output(xs)
        self.sum_curve.setData(xs, self.output)
        self._place_handles()
        sizes = np.abs(self.weights[f"{self.layers.hidden}.weight"][:, 0])
        if not self.steepness.isSliderDown():
            self._show_steepness(float(np.median(sizes)))
        pairs = self.layers.pairs
        set_title(
            self.bump_plot,
            f"{pairs} pairs of hidden neurons, each two steps making a bump: drag the lines and the dots",
        )
        if self.data is None:
            self.error = None
            self.say("The bumps and their sum; the target appears when its data is loaded.")
            return
        self.error = self.bump_network.rms(*self.data)
        size = float(np.median(sizes))
        hint = (
            f" The hidden weights are small (about {size:.2g}), so each “step” is a gentle slope: press "
            f"<b>Even steps</b> to lay out sharp steps side by side, as the proof does."
            if size < SHARP
            else ""
        )
        self.say(
            f"Root-mean-square error of the sum on the training points: <b>{self.error:.4f}</b> "
            f"({pairs} bumps, hidden weights of size about {size:.3g}).{hint}"
        )
        bottom, top = float(self.data[1].min()), float(self.data[1].max())
        margin = 0.1 * (top - bottom) + 1e-3
        self.sum_plot.setRange(xRange=(low, high), yRange=(bottom - margin, top + margin), padding=0.02)
