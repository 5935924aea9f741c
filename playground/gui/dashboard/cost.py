"""Cost: why the cost decides how fast an output learns (the learning-slowdown lesson).

Left, the sigmoid σ(z) and its slope σ′(z), with the neuron being trained marked at its current z:
the quadratic cost's error (a − y)·σ′(z) is small wherever the slope is, cross-entropy's a − y is
not.  Right, Nielsen's softmax demo: sliders set four output z's, the bars are their softmax a,
and the log-likelihood cost −ln a_y and its error a − y are written out; no slope appears there
either.  The numbers come from ``training.cost_gradients`` (the engine's own kernels).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QSlider, QSpinBox

from ...training.cost_gradients import is_one_neuron, neuron_moment, sigmoid_and_slope, softmax_moment
from .common import CLASS_COLORS, DashboardModel, Panel, pen

#: the sigmoid is drawn over this range of z, which holds both of the lesson's starts (z = 1.5, 4)
Z_RANGE = (-6.0, 6.0)
#: the softmax demo's output units (the book's demo has four) and their starting z's
SOFTMAX_UNITS = 4
SOFTMAX_START = (2.5, -1.0, 3.2, 0.5)
#: the sliders move z in steps of 0.1 over [-5, 5]
SLIDER_SCALE = 10


def neuron_text(moment) -> str:
    """The headline sentence for the neuron at ``moment`` (a ``NeuronMoment``)."""
    return (
        f"The neuron now: z = w·{moment.x:g} + b = <b>{moment.z:.3f}</b>, a = σ(z) = {moment.a:.3f}, "
        f"σ′(z) = <b>{moment.slope:.4f}</b>. It learns from δ = (a − y)·σ′(z) = "
        f"<b>{moment.quadratic_delta:.4f}</b> under the quadratic cost, from δ = a − y = "
        f"<b>{moment.cross_entropy_delta:.4f}</b> under cross-entropy."
    )


class CostPanel(Panel):
    title = "Cost"

    def __init__(self, parent=None):
        super().__init__(parent)
        self.headline = self.add_headline(colspan=2)
        self.sigmoid_plot = self.graphics.addPlot(row=1, col=0, title="σ(z) (grey) and its slope σ′(z) (orange)")
        self.sigmoid_plot.setLabel("bottom", "z")
        self.sigmoid_plot.setMouseEnabled(x=False, y=False)
        self.sigmoid_plot.setXRange(*Z_RANGE, padding=0.02)
        self.sigmoid_plot.setYRange(0.0, 1.0, padding=0.04)
        z = np.linspace(*Z_RANGE, 241)
        a, slope = sigmoid_and_slope(z)
        self.sigmoid_plot.plot(z, a, pen=pen("#888888", 2))
        self.sigmoid_plot.plot(z, slope, pen=pen("#D95F02", 2.5))
        self.marker_line = pg.InfiniteLine(angle=90, pen=pen("#333333", 1, style=Qt.DashLine))
        self.marker_line.setVisible(False)
        self.sigmoid_plot.addItem(self.marker_line)
        self.markers = self.sigmoid_plot.plot([], [], pen=None, symbol="o", symbolSize=10, symbolBrush="#D95F02")
        self.softmax_plot = self.graphics.addPlot(row=1, col=1, title="softmax: a = e^z / Σ e^z")
        self.softmax_plot.setMouseEnabled(x=False, y=False)
        self.softmax_plot.setYRange(0.0, 1.0, padding=0.04)
        self.softmax_plot.setXRange(0.5, SOFTMAX_UNITS + 0.5, padding=0)
        self.softmax_plot.getAxis("bottom").setTicks([[(j + 1, f"a{j + 1}") for j in range(SOFTMAX_UNITS)]])
        self.bars = pg.BarGraphItem(x=np.arange(1, SOFTMAX_UNITS + 1), height=np.zeros(SOFTMAX_UNITS), width=0.6)
        self.softmax_plot.addItem(self.bars)
        self.layout_.addWidget(self.graphics, 1)
        controls = QGridLayout()
        self.sliders: list[QSlider] = []
        for j, start in enumerate(SOFTMAX_START):
            slider = QSlider(Qt.Horizontal)
            slider.setRange(-5 * SLIDER_SCALE, 5 * SLIDER_SCALE)
            slider.setValue(round(start * SLIDER_SCALE))
            slider.valueChanged.connect(self._softmax_changed)
            controls.addWidget(QLabel(f"z{j + 1}"), j // 2, 3 * (j % 2))
            controls.addWidget(slider, j // 2, 3 * (j % 2) + 1)
            self.sliders.append(slider)
        controls.addWidget(QLabel("target class y"), 2, 0)
        self.target = QSpinBox()
        self.target.setRange(1, SOFTMAX_UNITS)
        self.target.setValue(SOFTMAX_UNITS)
        self.target.valueChanged.connect(self._softmax_changed)
        controls.addWidget(self.target, 2, 1)
        self.softmax_text = QLabel()
        self.softmax_text.setWordWrap(True)
        controls.addWidget(self.softmax_text, 3, 0, 1, 6)
        self.layout_.addLayout(controls)
        #: what the panel shows now, for tests and the headline: the neuron's and the demo's moments
        self.neuron = None
        self.softmax = None
        self._softmax_changed()

    def applies_to(self, model: DashboardModel) -> bool:
        return is_one_neuron(model.network_spec)

    def versions(self, model: DashboardModel) -> tuple:
        return model.weights_version, model.context_version, model.dataset_version

    def softmax_z(self) -> list[float]:
        return [slider.value() / SLIDER_SCALE for slider in self.sliders]

    def _softmax_changed(self) -> None:
        moment = self.softmax = softmax_moment(self.softmax_z(), self.target.value() - 1)
        colours = [CLASS_COLORS[j] for j in range(SOFTMAX_UNITS)]
        self.bars.setOpts(height=moment.a, brushes=colours)
        z = ", ".join(f"{value:.1f}" for value in moment.z)
        a = ", ".join(f"{value:.3f}" for value in moment.a)
        delta = ", ".join(f"{value:+.3f}" for value in moment.delta)
        y = moment.target + 1
        self.softmax_text.setText(
            f"z = ({z}) → a = ({a}). Log-likelihood cost C = −ln a{y} = <b>{moment.cost:.3f}</b>; "
            f"its error δ = a − y = ({delta}): no σ′ factor, so a badly wrong output learns fast."
        )

    def draw(self, model: DashboardModel) -> None:
        moment = self.neuron = neuron_moment(model.network_spec, model.weights, model.dataset)
        if moment is None:
            self.marker_line.setVisible(False)
            self.markers.setData([], [])
            self.say("Train the neuron: its z, σ′(z) and the error each cost sends back appear here.")
            return
        z = float(np.clip(moment.z, *Z_RANGE))
        self.marker_line.setValue(z)
        self.marker_line.setVisible(True)
        self.markers.setData([z, z], [moment.a, moment.slope])
        name = getattr(model.network_spec, "name", "")
        self.say((f"<b>{name}</b> · " if name else "") + neuron_text(moment))
