"""The Neuron view: one sigmoid neuron on two inputs, with its three parameters on sliders.

The output σ(w₁x₁ + w₂x₂ + b) as a heat map over the input plane, the perceptron's step next
to it, the formula with the numbers of a point filled in, and a cut through both neurons along
the weight last moved: how the output at the point changes with it.  The numbers come from
``training.neuron`` (the engine's own Dense layer); this file only draws them.

The sliders show the network's weights: while a run trains they follow it, snapshot by
snapshot.  Moved by hand, they ask for the network to take the new values
(``weightsEdited``); the lab does so while no run goes on, so Train starts from them.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGridLayout, QLabel, QSlider

from ...training.neuron import PARAMETER_LIMIT, SingleNeuron, is_single_neuron, neuron_parameters
from .common import CLASS_COLORS, DashboardModel, Panel, pen, set_title
from .data import MAX_POINTS_SHOWN, boundary_image

#: slider positions per unit of a parameter: a step of 0.05
SLIDER_SCALE = 20
RESOLUTION = 120
#: the plane shown before data is loaded, and the point the formula is evaluated at
DEFAULT_BOUNDS = (-1.5, 1.5, -1.5, 1.5)
DEFAULT_POINT = (0.6, 0.2)
NAMES = ("w₁", "w₂", "b")
IN_NATURE = (
    "<b>In nature</b> a neuron fires when the signals reaching it through its synapses, each made "
    "stronger or weaker, add up past a threshold; <b>in the machine</b> the inputs x are multiplied by "
    "weights w, summed with a bias b, and σ turns the sum z into a firing rate between 0 and 1."
)


class NeuronPanel(Panel):
    title = "Neuron"
    #: parameters moved by hand: the weights dict the network should take
    weightsEdited = Signal(object)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.neuron = SingleNeuron()
        self.layer_id = "neuron"
        self.point = np.array(DEFAULT_POINT)
        self.bounds = DEFAULT_BOUNDS
        #: the parameters before the last change (a slider move, or the last training snapshot)
        self.previous: tuple[float, float, float] | None = None
        self.moved = 0  # which parameter changed last: the cut follows it
        self._data_key = None
        self.data: tuple[np.ndarray, np.ndarray] | None = None  # the training points and labels
        self.change: tuple[float, float] | None = None  # the last change of the sigmoid's and step's output

        controls = QGridLayout()
        controls.setContentsMargins(8, 4, 8, 0)
        self.sliders: list[QSlider] = []
        self.value_labels: list[QLabel] = []
        for index, name in enumerate(NAMES):
            slider = QSlider(Qt.Horizontal)
            slider.setRange(int(-PARAMETER_LIMIT * SLIDER_SCALE), int(PARAMETER_LIMIT * SLIDER_SCALE))
            slider.setToolTip(f"{name}: drag, or use the arrow keys for steps of {1 / SLIDER_SCALE:g}")
            slider.valueChanged.connect(lambda _, index=index: self._slider_moved(index))
            value = QLabel()
            value.setMinimumWidth(value.fontMetrics().horizontalAdvance("−6.00") + 6)
            controls.addWidget(QLabel(name), 0, 3 * index)
            controls.addWidget(slider, 0, 3 * index + 1)
            controls.addWidget(value, 0, 3 * index + 2)
            self.sliders.append(slider)
            self.value_labels.append(value)
        self.formula = QLabel()
        self.formula.setStyleSheet("color: #1F2937; padding: 2px 8px; font-size: 13px;")
        self.formula.setTextFormat(Qt.RichText)
        self.formula.setWordWrap(True)
        self.nature = QLabel(IN_NATURE)
        self.nature.setWordWrap(True)
        self.nature.setTextFormat(Qt.RichText)
        self.nature.setStyleSheet("color: #4B5563; padding: 0px 8px; font-size: 12px;")

        self.headline = self.add_headline(colspan=2)
        self.sigmoid_plot = self.graphics.addPlot(row=1, col=0)
        self.step_plot = self.graphics.addPlot(row=1, col=1)
        self.images = {}
        self.points = {}
        self.markers = {}
        for key, plot in (("sigmoid", self.sigmoid_plot), ("step", self.step_plot)):
            plot.setAspectLocked(True)
            plot.setLabel("bottom", "x₁")
            plot.setLabel("left", "x₂")
            self.images[key] = pg.ImageItem(axisOrder="row-major")
            plot.addItem(self.images[key])
            self.points[key] = pg.ScatterPlotItem(size=6, pxMode=True)
            plot.addItem(self.points[key])
            self.markers[key] = pg.ScatterPlotItem(size=14, symbol="+", pen=pg.mkPen("#111827", width=2.5))
            plot.addItem(self.markers[key])
        set_title(self.sigmoid_plot, "Sigmoid neuron: σ(w·x + b)")
        set_title(self.step_plot, "Perceptron: step(w·x + b)")
        self.cut_plot = self.graphics.addPlot(row=2, col=0, colspan=2)
        self.cut_plot.setLabel("left", "output at the +")
        self.cut_plot.setYRange(-0.05, 1.05, padding=0)
        self.sigmoid_cut = self.cut_plot.plot(pen=pen("#0877BD", 2.5), name="sigmoid")
        self.step_cut = self.cut_plot.plot(pen=pen("#D55E00", 2.5, style=Qt.DashLine), name="step")
        self.before_marks = pg.ScatterPlotItem(size=9, symbol="o", brush=pg.mkBrush("#FFFFFF"), pen=pg.mkPen("#6B7280"))
        self.now_marks = pg.ScatterPlotItem(size=10, symbol="o", pen=None)
        self.cut_plot.addItem(self.before_marks)
        self.cut_plot.addItem(self.now_marks)
        self.graphics.ci.layout.setRowStretchFactor(1, 3)
        self.graphics.ci.layout.setRowStretchFactor(2, 2)
        self.sigmoid_plot.scene().sigMouseClicked.connect(self._clicked)

        self.layout_.addLayout(controls)
        self.layout_.addWidget(self.formula)
        self.layout_.addWidget(self.nature)
        self.layout_.addWidget(self.graphics, 1)
        self._show_parameters((0.0, 0.0, 0.0))
        self._redraw_neuron()

    # --- what the panel reads from the model -------------------------------------------------------
    def versions(self, model: DashboardModel) -> tuple:
        return model.weights_version, model.dataset_version, model.context_version

    def applies_to(self, model: DashboardModel) -> bool:
        return is_single_neuron(model.network_spec)

    def draw(self, model: DashboardModel) -> None:
        if model.dataset is not None and model.dataset.input_shape == (2,):
            if id(model.dataset) != self._data_key:
                self._data_key = id(model.dataset)
                self._draw_data(model.dataset)
        else:
            self._data_key = None
            self.data = None
            for points in self.points.values():
                points.clear()
        found = neuron_parameters(model.weights)
        if found is not None:
            self.layer_id, *parameters = found
            if tuple(parameters) != self.neuron.parameters:
                self.previous = self.neuron.parameters
                changes = np.abs(np.subtract(parameters, self.previous))
                self.moved = int(changes.argmax())
                self._show_parameters(parameters)
        self._redraw_neuron()

    def _draw_data(self, dataset) -> None:
        x, y = dataset.x_train[:MAX_POINTS_SHOWN], dataset.y_train[:MAX_POINTS_SHOWN]
        self.data = (dataset.x_train.astype(np.float64), dataset.y_train)
        brushes = [pg.mkBrush(CLASS_COLORS[int(label) % len(CLASS_COLORS)]) for label in y]
        for points in self.points.values():
            points.setData(x[:, 0], x[:, 1], brush=brushes, pen=pg.mkPen("w", width=1), size=6)
        low, high = x.min(axis=0), x.max(axis=0)
        margin = 0.1 * (high - low) + 1e-6
        self.bounds = tuple(
            float(v) for v in (low[0] - margin[0], high[0] + margin[0], low[1] - margin[1], high[1] + margin[1])
        )

    # --- the sliders ------------------------------------------------------------------------------
    def _show_parameters(self, parameters) -> None:
        """Set the sliders and the neuron to ``parameters`` without asking anyone to take them."""
        self.neuron.set(*parameters)
        for slider, label, value in zip(self.sliders, self.value_labels, parameters):
            slider.blockSignals(True)
            slider.setValue(int(round(np.clip(value, -PARAMETER_LIMIT, PARAMETER_LIMIT) * SLIDER_SCALE)))
            slider.blockSignals(False)
            label.setText(f"{value:.2f}".replace("-", "−"))

    def _slider_moved(self, index: int) -> None:
        parameters = list(self.neuron.parameters)
        self.previous = tuple(parameters)
        parameters[index] = self.sliders[index].value() / SLIDER_SCALE
        self.moved = index
        self._show_parameters(parameters)
        self._redraw_neuron()
        self.weightsEdited.emit(self.neuron.state(self.layer_id))

    def set_parameter(self, index: int, value: float) -> None:
        """Move one slider as a person would (what the tests drive)."""
        self.sliders[index].setValue(int(round(value * SLIDER_SCALE)))

    def _clicked(self, event) -> None:
        """A click on the sigmoid's heat map moves the point the formula and the cut look at."""
        position = self.sigmoid_plot.vb.mapSceneToView(event.scenePos())
        x0, x1, y0, y1 = self.bounds
        if x0 <= position.x() <= x1 and y0 <= position.y() <= y1:
            self.point = np.array([position.x(), position.y()])
            self._redraw_neuron()

    # --- drawing ----------------------------------------------------------------------------------
    def _redraw_neuron(self) -> None:
        neuron, bounds = self.neuron, self.bounds
        x0, x1, y0, y1 = bounds
        self.sigmoid_map, self.step_map = neuron.heat_maps(bounds, RESOLUTION)
        for key, values in (("sigmoid", self.sigmoid_map), ("step", self.step_map)):
            self.images[key].setImage(boundary_image(values[..., None], 2), autoLevels=False, levels=(0, 255))
            self.images[key].setRect(x0, y0, x1 - x0, y1 - y0)
            self.markers[key].setData([self.point[0]], [self.point[1]])
            plot = self.sigmoid_plot if key == "sigmoid" else self.step_plot
            plot.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)
        self._draw_cut()
        w1, w2, b = neuron.parameters
        gradient = neuron.gradient(self.point)
        derivatives = (
            f"∂σ/∂w₁ = σ′(z)·x₁ = {gradient[0]:.3f},  ∂σ/∂w₂ = σ′(z)·x₂ = {gradient[1]:.3f},  "
            f"∂σ/∂b = σ′(z) = {gradient[2]:.3f}; the step's derivatives are 0 (or undefined on its edge)."
        )
        where = f"At the + (x₁, x₂) = ({self.point[0]:.2f}, {self.point[1]:.2f}):  "
        formula = neuron.formula(self.point)
        self.formula.setText(where.replace("-", "−") + formula + "<br>" + derivatives.replace("-", "−"))
        if self.data is not None:
            accuracy = neuron.accuracy(*self.data)
            self.say(
                f"w = ({w1:.2f}, {w2:.2f}), b = {b:.2f}: the neuron puts <b>{100 * accuracy:.1f}%</b> of the "
                f"training points on their side of σ = 0.5 (blue: class 1).".replace("-", "−")
            )
        else:
            self.say(f"w = ({w1:.2f}, {w2:.2f}), b = {b:.2f}: σ = 0.5 on the line w·x + b = 0.".replace("-", "−"))

    def _draw_cut(self) -> None:
        """Both neurons' output at the point as the parameter last moved sweeps its slider's range,
        with where it was before the change and where it is now."""
        which = self.moved
        values = np.linspace(-PARAMETER_LIMIT, PARAMETER_LIMIT, 241)
        self.cut_sigmoid, self.cut_step = self.neuron.weight_sweep(self.point, which, values)
        self.sigmoid_cut.setData(values, self.cut_sigmoid)
        self.step_cut.setData(values, self.cut_step, connect="all")
        self.cut_plot.setLabel("bottom", f"{NAMES[which]}   (sigmoid: solid blue, step: dashed orange)")
        now = self.neuron.parameters
        sigmoid_now, step_now = (v[0] for v in self.neuron.outputs(self.point[None]))
        self.now_marks.setData(
            [now[which]] * 2, [sigmoid_now, step_now], brush=[pg.mkBrush("#0877BD"), pg.mkBrush("#D55E00")]
        )
        title = f"Output at the + as {NAMES[which]} changes"
        if self.previous is not None and self.previous != now:
            before = SingleNeuron(*self.previous).outputs(self.point[None])
            self.change = (float(sigmoid_now - before[0][0]), float(step_now - before[1][0]))
            self.before_marks.setData([self.previous[which]] * 2, [before[0][0], before[1][0]])
            title += (
                f": {self.previous[which]:.2f} → {now[which]:.2f} moved the sigmoid by {self.change[0]:+.3f}, "
                f"the step by {self.change[1]:+.0f}"
            )
        else:
            self.change = None
            self.before_marks.clear()
        set_title(self.cut_plot, title.replace("-", "−"))
