"""Gradient descent, seen: loss surfaces with the optimiser's path, the noise of a mini-batch's
gradient, and the batch sizes compared by examples seen and by computing time.

- Two loss surfaces of a linear neuron a = w·x + b (two parameters, so the whole surface is a
  contour plot), with the paths the engine's own SGD takes on them (``training.descent``): three
  learning rates on a round bowl, plain steps against momentum in a narrow valley.  Computed once.
- The angle between a mini-batch's gradient and the full gradient, per batch size, measured on
  the panel's own copy of the network at the newest weights (never the worker's), on the training
  examples the window has loaded.
- Each run's training loss at its epochs' ends against the examples it has seen or the seconds it
  has spent computing (``EpochSummary.examples`` and ``compute_seconds``): the live run and the
  runs kept for comparison, one curve each.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel

from ...datasets.toys import make_function
from ...training.descent import DescentScene, GradientNoise, gradient_noise, learning_rate_scene, momentum_scene
from .common import DashboardModel, OwnNetwork, Panel, add_legend, pen, set_title

PATH_COLORS = ("#0877BD", "#009E73", "#D55E00")
#: batch sizes whose gradient the panel compares with the full gradient (the full set is added)
BATCH_SIZES = (1, 10, 100)
#: random mini-batches per batch size, and the most training examples the full gradient is taken over
DRAWS = 20
MOST_EXAMPLES = 2000
#: contour levels per surface, spaced evenly in log(cost)
LEVELS = 14
AXES = {"examples": "examples seen", "seconds": "computing time (s)"}


def scenes() -> list[DescentScene]:
    """The two pictures, on the function-regression set's sine (what ``train gradient-descent`` prints)."""
    data = make_function(seed=0)
    return [learning_rate_scene(data.x_train, data.y_train), momentum_scene(data.x_train, data.y_train)]


def draw_scene(plot: pg.PlotItem, scene: DescentScene) -> list[pg.PlotDataItem]:
    """The surface as a shaded image with contours, the minimum, and one curve per path."""
    surface = scene.surface
    shade = np.log10(surface.losses)
    image = pg.ImageItem(shade.T)  # ImageItem's first axis is x: the weights
    image.setColorMap(pg.colormap.get("CET-L12"))
    image.setLevels((float(shade.min()), float(shade.max()) + 0.5))
    w0, w1 = float(surface.weights[0]), float(surface.weights[-1])
    b0, b1 = float(surface.biases[0]), float(surface.biases[-1])
    image.setRect(QRectF(w0, b0, w1 - w0, b1 - b0))
    plot.addItem(image)
    for level in np.linspace(shade.min(), shade.max(), LEVELS + 2)[1:-1]:
        contour = pg.IsocurveItem(shade.T, level, pen=pg.mkPen("#475569", width=1))
        contour.setParentItem(image)
    plot.plot([scene.minimum[0]], [scene.minimum[1]], pen=None, symbol="+", symbolSize=14, symbolPen="#111827")
    curves = []
    for k, (path, color) in enumerate(zip(scene.paths, PATH_COLORS)):
        ended = " (diverged)" if path.diverged else ""
        curves.append(
            plot.plot(
                path.points[:, 0],
                path.points[:, 1],
                pen=pen(color, 2),
                symbol="o",
                symbolSize=4,
                symbolBrush=color,
                symbolPen=None,
                name=f"{path.label}{ended}",
            )
        )
        curves[-1].setZValue(len(scene.paths) - k)  # the first path on top: plain SGD hides in momentum's wake
    plot.setXRange(w0, w1, padding=0)
    plot.setYRange(b0, b1, padding=0)
    plot.setLabel("bottom", "weight w")
    plot.setLabel("left", "bias b")
    plot.setAspectLocked(True)  # a round bowl looks round, a narrow valley narrow
    low, high = scene.curvatures
    set_title(plot, f"{scene.title}<br>λ {low:.2g} to {high:.3g}; η past {2 / high:.3g} diverges")
    return curves


class DescentPanel(Panel):
    title = "Descent"
    min_interval = 1.0  # the gradient-noise bars take some forty forward and backward passes

    def __init__(self, parent=None):
        super().__init__(parent)
        controls = QHBoxLayout()
        controls.setContentsMargins(6, 4, 6, 0)
        controls.addWidget(QLabel("Runs against:"))
        self.axis = QComboBox()
        for key, label in AXES.items():
            self.axis.addItem(label, key)
        self.axis.setToolTip("Compare the runs by the data they used, or by the time they spent computing")
        self.axis.currentIndexChanged.connect(self._redraw)
        controls.addWidget(self.axis)
        controls.addStretch(1)
        self.layout_.addLayout(controls)
        self.headline = self.add_headline(colspan=2)
        self.surface_plots = [self.graphics.addPlot(row=1, col=k) for k in range(2)]
        self.noise_plot = self.graphics.addPlot(row=2, col=0)
        self.noise_plot.setMouseEnabled(x=False)
        self.noise_bars = pg.BarGraphItem(x=[], height=[], width=0.6, brush="#94A3B8")
        self.noise_plot.addItem(self.noise_bars)
        self.noise_plot.setLabel("left", "angle to the full gradient (°)")
        self.runs_plot = self.graphics.addPlot(row=2, col=1)
        self.runs_plot.setLabel("left", "training cost")
        self.runs_legend = add_legend(self.runs_plot)
        layout = self.graphics.ci.layout
        layout.setRowStretchFactor(1, 3)
        layout.setRowStretchFactor(2, 2)
        for column in range(2):
            layout.setColumnStretchFactor(column, 1)
        self.layout_.addWidget(self.graphics, 1)
        self._own = OwnNetwork()
        self._model: DashboardModel | None = None
        self._noise_key = None
        self._run_curves: list[pg.PlotDataItem] = []
        self._noise_labels: list[pg.TextItem] = []
        #: what is drawn (tests read these)
        self.scenes: list[DescentScene] = []
        self.noise: list[GradientNoise] = []
        self.runs_drawn: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def _redraw(self) -> None:
        if self._model is not None:
            self.refresh(self._model, force=True)

    def applies_to(self, model: DashboardModel) -> bool:
        spec = model.network_spec
        return spec is not None and (spec.lesson or {}).get("panel") == "descent"

    def versions(self, model: DashboardModel) -> tuple:
        return model.history_version, model.weights_version, model.context_version, model.runs_version

    def draw(self, model: DashboardModel) -> None:
        self._model = model
        if not self.scenes:  # once: the surfaces do not depend on the run
            self.scenes = scenes()
            for plot, scene in zip(self.surface_plots, self.scenes):
                add_legend(plot, where="below", columns=1)
                draw_scene(plot, scene)
        self._draw_noise(model)
        self._draw_runs(model)
        self.say(self._headline())

    # --- the noise of a mini-batch's gradient -----------------------------------------------------
    def _draw_noise(self, model: DashboardModel) -> None:
        network = self._own.for_model(model)
        dataset = model.dataset
        key = (model.weights_version, model.context_version, id(dataset))
        if key == self._noise_key:
            return
        self._noise_key = key
        self.noise = []
        if network is not None and model.weights and dataset is not None and len(dataset.x_train):
            if self._own.loaded_weights != model.weights_version:
                network.load_state(model.weights)
                self._own.loaded_weights = model.weights_version
            x = np.asarray(dataset.x_train[:MOST_EXAMPLES], network.dtype).reshape(
                min(len(dataset.x_train), MOST_EXAMPLES), -1
            )
            if x.shape[1] == int(np.prod(network.input_shape)) and dataset.task == "classification":
                targets = np.eye(network.output_size, dtype=network.dtype)[dataset.y_train[: len(x)].astype(int)]
                with np.errstate(all="ignore"):
                    self.noise = gradient_noise(network, x, targets, (*BATCH_SIZES, len(x)), DRAWS)
        for label in self._noise_labels:
            self.noise_plot.removeItem(label)
        self._noise_labels = []
        angles = [noise.mean_angle for noise in self.noise]
        self.noise_bars.setOpts(x=np.arange(len(angles)), height=angles)
        names = [f"{noise.batch_size:,}" if k < len(BATCH_SIZES) else "full" for k, noise in enumerate(self.noise)]
        for k, noise in enumerate(self.noise):
            label = pg.TextItem(f"{noise.mean_angle:.0f}°", anchor=(0.5, 1.0), color="#333333")
            label.setPos(k, noise.mean_angle)
            self.noise_plot.addItem(label)
            self._noise_labels.append(label)
        self.noise_plot.getAxis("bottom").setTicks([list(enumerate(names))])
        self.noise_plot.setXRange(-0.6, max(len(angles), 1) - 0.4, padding=0)
        self.noise_plot.setYRange(0, 105, padding=0)
        set_title(
            self.noise_plot,
            "Angle of a mini-batch's gradient<br>to the full gradient (now)"
            if self.noise
            else "The gradient's noise appears<br>once the data is loaded",
        )

    # --- runs by examples seen or computing time ------------------------------------------------
    def _draw_runs(self, model: DashboardModel) -> None:
        axis = self.axis.currentData()
        for curve in self._run_curves:
            self.runs_plot.removeItem(curve)
        self.runs_legend.clear()
        self._run_curves = []
        self.runs_drawn = {}
        runs = [(run.name, run.color, run.history) for run in model.runs if run.visible]
        # the live run, named as a compared variant is; once kept (a comparison's last variant) it is drawn once
        live = getattr(model.network_spec, "name", "") or "this run"
        kept = {run.name: len(run.history.epochs) for run in model.runs}
        if kept.get(live) != len(model.history.epochs):
            runs.append((live, "#111827", model.history))
        for name, color, history in runs:
            epochs = [e for e in history.epochs if e.examples > 0]
            if not epochs:
                continue
            x = np.array([e.examples if axis == "examples" else e.compute_seconds for e in epochs], np.float64)
            y = np.array([e.loss for e in epochs], np.float64)
            curve = self.runs_plot.plot(x, y, pen=pen(color, 2), symbol="o", symbolSize=5, symbolBrush=color, name=name)
            self._run_curves.append(curve)
            self.runs_drawn[name] = (x, y)
        self.runs_plot.setLabel("bottom", AXES[axis])
        set_title(self.runs_plot, f"Training cost at epoch ends<br>against {AXES[axis]}")

    def _headline(self) -> str:
        parts = []
        if len(self.noise) >= 2:
            one, last = self.noise[0], self.noise[len(BATCH_SIZES) - 1]
            parts.append(
                f"A mini-batch of {one.batch_size} points <b>{one.mean_angle:.0f}°</b> away from the full gradient, "
                f"one of {last.batch_size} {last.mean_angle:.0f}°: small batches take many cheap, noisy steps."
            )
        for scene in self.scenes:
            diverged = [path.label for path in scene.paths if path.diverged]
            if diverged:
                parts.append(f"On the bowl, {diverged[0]} diverges: each step overshoots further.")
        if len(self.scenes) > 1 and len(self.scenes[1].paths) > 1:
            plain, momentum = self.scenes[1].paths[:2]
            parts.append(
                f"In the valley, after {len(plain.points) - 1} steps plain SGD is at cost {plain.losses[-1]:.3g}, "
                f"{momentum.label} at {momentum.losses[-1]:.3g}."
            )
        return " ".join(parts)
