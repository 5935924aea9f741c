"""Filters: every convolutional layer's kernels as small images, live while training.

All tiles share one colour scale, symmetric around 0 (white), red for positive weights and
blue for negative ones.  A shared scale is what makes the tiles comparable: with a scale per
tile (as the Weights tab uses for dense neurons) a kernel that has barely moved from its
random start would look as strong as one that has learnt an edge.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from .common import SIGNED_COLORMAP, DashboardModel, Panel, symmetric_limit, tile_mosaic
from .images import ImageBlock, fitting_columns, replace_blocks

#: the most kernels drawn per layer (output maps × input channels); a layer with more shows the first ones
MAX_OUT = 64
MAX_IN = 16


def conv_layer_ids(spec) -> list[str]:
    """The Conv2D layers of ``spec`` in the order the nodes are listed (the feed-forward order
    for the sequential networks the editor builds)."""
    return [node.id for node in spec.nodes if node.type == "conv2d"] if spec is not None else []


def filter_mosaic(weight: np.ndarray, area: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    """The kernels of one layer, weight (out, in, kh, kw), as one picture with a pixel of NaN
    between tiles: with one input channel the kernels in the grid that shows them largest in
    ``area`` (width, height on screen; rows of ten when unknown); with several, one row per
    output map and one column per input channel (each (out, in) kernel)."""
    in_channels = weight.shape[1]
    shown = weight[:MAX_OUT, :MAX_IN].astype(np.float32)
    kh, kw = shown.shape[2:]
    if in_channels == 1:
        return tile_mosaic(shown[:, 0], fitting_columns(len(shown), (kh, kw), area))
    return tile_mosaic(shown.reshape(-1, kh, kw), shown.shape[1])


class FiltersPanel(Panel):
    title = "Filters"
    min_interval = 0.2  # live, but a few redraws per second are all an eye follows

    def __init__(self, parent=None):
        super().__init__(parent)
        self.headline = self.add_headline(colspan=2, size="10pt")
        self.blocks: dict[str, ImageBlock] = {}
        self.color_bar = pg.ColorBarItem(
            values=(-1.0, 1.0),
            colorMap=pg.colormap.get(SIGNED_COLORMAP),
            label="weight",
            interactive=False,
            rounding=1e-6,
            width=14,
        )
        self.layout_.addWidget(self.graphics)
        self._layout_key: tuple = ()
        self.limit = 1.0

    def applies_to(self, model: DashboardModel) -> bool:
        return bool(conv_layer_ids(model.network_spec))

    def versions(self, model: DashboardModel) -> tuple:
        return model.weights_version, model.context_version

    def _rebuild(self, layers: dict[str, np.ndarray]) -> None:
        """One caption and image per layer, and the colour bar beside them all."""
        layout = self.graphics.ci
        self.blocks = replace_blocks(layout, self.blocks, list(layers), self.color_bar)
        if layers:  # beside the images, from the first image down (a caption row would grow with it)
            self.graphics.addItem(self.color_bar, row=2, col=1, rowspan=2 * len(layers) - 1)
        for index in range(len(layers)):
            layout.layout.setRowStretchFactor(2 + 2 * index, 1)

    def _area(self, layers: int) -> tuple[float, float]:
        """The screen space one layer's kernels get: the panel's, less the headline, captions and colour bar."""
        return self.graphics.width() - 110.0, (self.graphics.height() - 60.0) / max(layers, 1) - 24.0

    def resizeEvent(self, event):
        super().resizeEvent(event)
        self._seen = ()  # the kernels' best grid depends on the size: lay them out again on the next refresh

    def draw(self, model: DashboardModel) -> None:
        weights = model.weights or {}
        layers = {
            layer_id: weights[f"{layer_id}.weight"]
            for layer_id in conv_layer_ids(model.network_spec)
            if f"{layer_id}.weight" in weights
        }
        key = tuple((layer_id, weight.shape) for layer_id, weight in layers.items())
        if key != self._layout_key:
            self._layout_key = key
            self._rebuild(layers)
        if not layers:
            self.say("No convolutional weights yet.")
            return
        self.limit = symmetric_limit(layers.values())
        self.color_bar.setLevels((-self.limit, self.limit))
        for layer_id, weight in layers.items():
            out_channels, in_channels, kh, kw = weight.shape
            shown = f"{min(out_channels, MAX_OUT)} of {out_channels}" if out_channels > MAX_OUT else f"{out_channels}"
            what = (
                f"{shown} kernels of {kh}×{kw}"
                if in_channels == 1
                else f"{shown} maps (rows) × {min(in_channels, MAX_IN)} input channels (columns), {kh}×{kw} each"
            )
            self.blocks[layer_id].show(
                filter_mosaic(weight, self._area(len(layers))),
                f"<b>{layer_id}</b>: {what}",
                (-self.limit, self.limit),
                SIGNED_COLORMAP,
            )
        self.say(
            f"Each tile is one kernel: the weights a feature map applies to every window of its input. "
            f"One colour scale for all tiles: red +, blue −, white 0; the strongest weight is "
            f"±{self.limit:.3g}."
        )
