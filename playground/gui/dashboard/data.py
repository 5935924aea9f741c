"""What the network computes over its input space: a decision boundary for 2D
classification (as in TensorFlow Playground) and the fitted curve for 1-D regression.

The network's output is computed here, on the GUI thread, with a private copy built
from the same spec and loaded with the latest weights snapshot: the training network
is never called from this thread (its buffers are in use by the worker).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor

from ...model import build_network
from ...training.trainer import predicted_classes
from .common import CLASS_COLORS, DashboardModel, Panel, pen, set_title

GRID = 110
MAX_POINTS_SHOWN = 1500


def _rgb(color: str) -> np.ndarray:
    c = QColor(color)
    return np.array([c.red(), c.green(), c.blue()], np.float32)


def boundary_image(outputs: np.ndarray, n_classes: int) -> np.ndarray:
    """RGBA image from network outputs over a grid (grid, grid, outputs): the winning class's
    colour, fading to white where the network is unsure."""
    if outputs.shape[-1] == 1:  # one sigmoid unit: probability of class 1
        p1 = outputs[..., 0]
        outputs = np.stack([1 - p1, p1], axis=-1)
    k = max(outputs.shape[-1], 2)
    winner = outputs.argmax(axis=-1)
    confidence = outputs.max(axis=-1)
    strength = np.clip((confidence - 1.0 / k) / (1.0 - 1.0 / k), 0.0, 1.0)[..., None]
    palette = np.stack([_rgb(CLASS_COLORS[i % len(CLASS_COLORS)]) for i in range(k)])
    rgb = 255.0 * (1 - strength) + palette[winner] * strength
    rgb = 255.0 - 0.55 * (255.0 - rgb)  # pale, so the points stand out
    image = np.empty(rgb.shape[:2] + (4,), np.uint8)
    image[..., :3] = np.clip(rgb, 0, 255)
    image[..., 3] = 255
    return image


class DataPanel(Panel):
    title = "Boundary"

    def __init__(self, parent=None):
        super().__init__(parent)
        self.headline = self.add_headline()
        self.plot = self.graphics.addPlot(row=1, col=0)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.points = pg.ScatterPlotItem(size=6, pxMode=True)
        self.plot.addItem(self.points)
        self.curve = self.plot.plot(pen=pen("#D55E00", 3), name="network")
        self.layout_.addWidget(self.graphics)
        self._network = None
        self._network_spec = None
        self._data_key = None
        self.mode = None  # "boundary", "fit" or None
        self.bounds = None
        self.last_outputs: np.ndarray | None = None

    @staticmethod
    def mode_for(model: DashboardModel) -> str | None:
        data = model.dataset
        if data is None or model.network_spec is None:
            return None
        inputs = [tuple(node.config.shape) for node in model.network_spec.nodes if node.type == "input"]
        if not inputs or int(np.prod(inputs[0])) != int(np.prod(data.input_shape)):
            return None  # the data of another network
        if data.task == "classification" and data.input_shape == (2,):
            return "boundary"
        if data.task == "regression" and data.input_shape == (1,) and data.n_outputs == 1:
            return "fit"
        return None

    def applies_to(self, model: DashboardModel) -> bool:
        return self.mode_for(model) is not None

    def versions(self, model: DashboardModel) -> tuple:
        return model.weights_version, model.dataset_version, model.context_version

    def _private_network(self, model: DashboardModel):
        if model.network_spec is not self._network_spec:
            self._network_spec = model.network_spec
            try:
                self._network = build_network(model.network_spec)
            except ValueError:
                self._network = None
        return self._network

    def _draw_data(self, model: DashboardModel) -> None:
        data = model.dataset
        x, y = data.x_train[:MAX_POINTS_SHOWN], data.y_train[:MAX_POINTS_SHOWN]
        if self.mode == "boundary":
            brushes = [pg.mkBrush(CLASS_COLORS[int(label) % len(CLASS_COLORS)]) for label in y]
            self.points.setData(x[:, 0], x[:, 1], brush=brushes, pen=pg.mkPen("w", width=1), size=7)
            low, high = x.min(axis=0), x.max(axis=0)
            margin = 0.1 * (high - low) + 1e-6
            self.bounds = tuple(
                float(v) for v in (low[0] - margin[0], high[0] + margin[0], low[1] - margin[1], high[1] + margin[1])
            )
            self.plot.setRange(xRange=self.bounds[:2], yRange=self.bounds[2:], padding=0)
            set_title(self.plot, "The network's output over the plane (pale where it is unsure)")
        else:
            self.points.setData(x[:, 0], y[:, 0], brush=pg.mkBrush(80, 80, 80, 120), pen=None, size=5)
            low, high = float(x.min()), float(x.max())
            self.bounds = (low, high)
            # the whole target in view, whatever the untrained network's curve does: a fixed range
            # fitted to every target point (not only those drawn), with a margin
            targets = data.y_train[:, 0]
            bottom, top = float(targets.min()), float(targets.max())
            margin = 0.08 * (top - bottom) + 1e-3
            self.plot.setRange(xRange=(low, high), yRange=(bottom - margin, top + margin), padding=0.02)
            set_title(self.plot, "Target points (grey) and the network's function (orange)")

    def draw(self, model: DashboardModel) -> None:
        self.mode = self.mode_for(model)
        if self.mode is None:
            self.image.clear()
            self.points.clear()
            self.curve.setData([], [])
            self.say("This page draws 2D classification sets (circle, xor, spiral…) and function fitting.")
            return
        data_key = (id(model.dataset), self.mode)
        if data_key != self._data_key:
            self._data_key = data_key
            self._draw_data(model)
        self.image.setVisible(self.mode == "boundary")
        self.curve.setVisible(self.mode == "fit")
        network = self._private_network(model)
        if network is None or model.weights is None:
            self.say("")
            return
        expected = network.state()
        if any(key not in model.weights or model.weights[key].shape != value.shape for key, value in expected.items()):
            return  # weights of another network (the spec changed since): wait for the next snapshot
        network.load_state(model.weights)
        if self.mode == "boundary":
            x0, x1, y0, y1 = self.bounds
            gx, gy = np.meshgrid(np.linspace(x0, x1, GRID), np.linspace(y0, y1, GRID))
            grid = np.stack([gx.ravel(), gy.ravel()], axis=1).astype(network.dtype)
            outputs = network.predict(grid).reshape(GRID, GRID, -1)
            self.last_outputs = outputs
            self.image.setImage(boundary_image(outputs, model.dataset.n_outputs), autoLevels=False, levels=(0, 255))
            self.image.setRect(x0, y0, x1 - x0, y1 - y0)
            train_outputs = network.predict(model.dataset.x_train.astype(network.dtype))
            accuracy = float((predicted_classes(train_outputs) == model.dataset.y_train).mean())
            self.say(f"Training points classified correctly: <b>{100 * accuracy:.1f}%</b>")
        else:
            low, high = self.bounds
            xs = np.linspace(low, high, 300, dtype=network.dtype)[:, None]
            ys = network.predict(xs)[:, 0]
            self.last_outputs = ys
            self.curve.setData(xs[:, 0], ys)
            fitted = network.predict(model.dataset.x_train.astype(network.dtype))[:, 0]
            with np.errstate(over="ignore", invalid="ignore"):
                error = float(np.sqrt(np.mean((fitted.astype(np.float64) - model.dataset.y_train[:, 0]) ** 2)))
            self.say(f"Root-mean-square error on the training points: <b>{error:.4f}</b>")
