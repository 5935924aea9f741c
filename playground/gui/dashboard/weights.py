"""Weights: the first layer's weights as images (when the input is an image) and a
histogram of each layer's weights."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg

from .common import DashboardModel, Panel, RangeKeeper, add_legend, pen, plotted, plotted_note, set_text, set_title

MAX_TILES = 100
HISTOGRAM_BINS = 60


def weight_mosaic(weight: np.ndarray, shape: tuple[int, int], max_tiles: int = MAX_TILES) -> np.ndarray:
    """Rows of ``weight`` (one neuron's incoming weights each) as a grid of images, NaN between tiles.

    Each tile is scaled by its own largest magnitude, so every neuron's pattern shows.
    """
    h, w = shape
    tiles = weight[:max_tiles].reshape(-1, h, w).astype(np.float32)
    n = len(tiles)
    cols = max(1, math.ceil(math.sqrt(n)))
    rows = math.ceil(n / cols)
    mosaic = np.full((rows * (h + 1) - 1, cols * (w + 1) - 1), np.nan, np.float32)
    scale = np.abs(tiles).reshape(n, -1).max(axis=1)
    scale[scale == 0] = 1.0
    for k in range(n):
        r, c = divmod(k, cols)
        mosaic[r * (h + 1) : r * (h + 1) + h, c * (w + 1) : c * (w + 1) + w] = tiles[k] / scale[k]
    return mosaic


class WeightPanel(Panel):
    title = "Weights"

    def __init__(self, parent=None):
        super().__init__(parent)
        self.tiles_title = self.graphics.addLabel("", row=0, col=0, justify="left", size="10pt")
        self.tiles_view = self.graphics.addViewBox(row=1, col=0, lockAspect=True, invertY=True, enableMouse=True)
        self.tiles = pg.ImageItem(axisOrder="row-major")
        self.tiles.setColorMap(pg.colormap.get("CET-D1A"))
        self.tiles_view.addItem(self.tiles)
        self.histogram_plot = self.graphics.addPlot(row=2, col=0)
        self.histogram_plot.setLabel("bottom", "weight")
        self.histogram_plot.setLabel("left", "share of weights")
        self.ranges = RangeKeeper(self.histogram_plot, y_floor=0.0, x_mode="fit")
        self.legend = add_legend(self.histogram_plot)
        self.graphics.ci.layout.setRowStretchFactor(1, 3)
        self.graphics.ci.layout.setRowStretchFactor(2, 2)
        self.layout_.addWidget(self.graphics)
        self._curves: dict[str, pg.PlotDataItem] = {}
        self._key: tuple = ()
        self.showing_tiles = False

    def versions(self, model: DashboardModel) -> tuple:
        return model.weights_version, model.context_version

    def draw(self, model: DashboardModel) -> None:
        weights = model.weights or {}
        layer_weights = {key.partition(".")[0]: value for key, value in weights.items() if key.endswith(".weight")}
        ids = list(layer_weights)
        key = (tuple(ids), model.context_version)
        if key != self._key:
            self._key = key
            for curve in self._curves.values():
                self.histogram_plot.removeItem(curve)
            self.legend.clear()
            self._curves = {
                ids[i]: self.histogram_plot.plot(stepMode="center", name=ids[i], pen=pen(model.color(ids[i], i), 2))
                for i in plotted(range(len(ids)))
            }
            note = plotted_note(len(self._curves), len(ids))
            set_title(self.histogram_plot, f"Weights of each layer (histogram){note}")
        image_shape = model.image_shape()
        first = layer_weights.get(ids[0]) if ids else None
        tiles = None
        if first is not None and first.ndim == 4:  # convolution filters (out, in, kh, kw)
            filters = first[:, 0] if first.shape[1] == 1 else first.mean(axis=1)
            tiles = (
                filters.reshape(len(filters), -1),
                filters.shape[1:],
                f"The filters of {ids[0]}: {filters.shape[1]}×{filters.shape[2]} weights each "
                f"({min(len(filters), MAX_TILES)} of {len(filters)}; red +, blue −)",
            )
        elif (
            image_shape is not None
            and first is not None
            and first.ndim == 2
            and first.shape[1] == image_shape[0] * image_shape[1]
        ):
            tiles = (
                first,
                image_shape,
                f"What each neuron of {ids[0]} looks for: its {image_shape[0]}×"
                f"{image_shape[1]} incoming weights ({min(len(first), MAX_TILES)} of {len(first)} neurons; "
                f"red +, blue −)",
            )
        self.showing_tiles = tiles is not None
        self.tiles_view.setVisible(self.showing_tiles)
        if tiles is not None:
            self.tiles.setImage(weight_mosaic(tiles[0], tiles[1]), levels=(-1, 1))
            set_text(self.tiles_title, tiles[2])
        else:
            set_text(self.tiles_title, "" if ids else "No weights yet.")
        if not ids:
            return
        every = np.concatenate([value.ravel() for value in layer_weights.values()])
        finite = every[np.isfinite(every)]
        if finite.size == 0:
            return
        low, high = np.percentile(finite, [0.5, 99.5]) if finite.size > 200 else (finite.min(), finite.max())
        if high <= low:
            low, high = low - 1.0, high + 1.0
        edges = np.linspace(low, high, HISTOGRAM_BINS + 1)
        top = 0.0
        for layer_id, curve in self._curves.items():
            value = layer_weights[layer_id]
            counts, _ = np.histogram(value, bins=edges)
            share = counts / max(value.size, 1)
            top = max(top, float(share.max()))
            curve.setData(edges, share)
        self.ranges.update(float(high), 0.0, top, x_min=float(low))
