"""Image blocks shared by the convolutional views: a caption over an image that keeps its
pixels square, and the colour scales they are drawn with."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF

from .common import SIGNED_COLORMAP, UNSIGNED_COLORMAP, set_text, symmetric_limit, tile_mosaic

#: at most this many tiles in a row of a mosaic
ROW_LENGTH = 10


class ImageBlock:
    """A caption (row ``row``) and an image under it (row ``row + 1``) in a GraphicsLayout.

    The view is fixed (no mouse panning) because these pictures are read, not explored, and a
    learner who drags one by accident would lose it; NaN pixels show the background, which is
    how mosaics separate their tiles.
    """

    def __init__(self, layout, row: int, col: int = 0, colspan: int = 1, caption_size: str = "9pt"):
        self.caption = layout.addLabel("", row=row, col=col, colspan=colspan, justify="left", size=caption_size)
        self.view = layout.addViewBox(
            row=row + 1, col=col, colspan=colspan, lockAspect=True, invertY=True, enableMouse=False
        )
        self.view.setDefaultPadding(0.01)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.view.addItem(self.image)
        self._fit: tuple | None = None
        self._colormap: str | None = None

    def show(self, picture: np.ndarray, caption: str, levels: tuple[float, float], colormap: str) -> None:
        """Draw ``picture`` between ``levels`` with the named pyqtgraph colormap."""
        if colormap != self._colormap:
            self._colormap = colormap
            self.image.setColorMap(pg.colormap.get(colormap))
        self.image.setImage(picture, levels=levels, autoLevels=False)
        fit = (picture.shape, self.view.width(), self.view.height())
        if fit != self._fit:  # fit the view only when the picture's size or the view's changes
            self._fit = fit
            self.view.setRange(QRectF(0, 0, picture.shape[1], picture.shape[0]), padding=0.01)
        set_text(self.caption, caption)

    def set_visible(self, visible: bool) -> None:
        self.caption.setVisible(visible)
        self.view.setVisible(visible)


def replace_blocks(layout, blocks: dict[str, ImageBlock], names, companion) -> dict[str, ImageBlock]:
    """Take the old blocks and their ``companion`` (a colour bar, a chart placed after them) out
    of ``layout`` and add one block per name, from row 1 down; the caller places the companion."""
    for block in blocks.values():
        layout.removeItem(block.caption)
        layout.removeItem(block.view)
    if companion.scene() is not None:
        layout.removeItem(companion)
    return {name: ImageBlock(layout, row=1 + 2 * index) for index, name in enumerate(names)}


def balanced_mosaic(tiles: np.ndarray, row_length: int = ROW_LENGTH) -> np.ndarray:
    """``tiles`` (n, h, w) in as few rows of at most ``row_length`` as they need, the rows filled
    evenly (20 tiles: 2 rows of 10, not 10 and a ragged 10; 12 tiles: 2 rows of 6)."""
    rows = max(1, math.ceil(len(tiles) / row_length))
    return tile_mosaic(tiles, math.ceil(len(tiles) / rows))


def fitting_columns(count: int, tile: tuple[int, int], area: tuple[float, float]) -> int:
    """How many columns make ``count`` tiles of ``tile`` (height, width) pixels largest in an
    ``area`` (width, height) on screen: 20 kernels are a 10 × 2 strip in a wide, low space and
    a 5 × 4 block in a square one."""
    width, height = area
    if width <= 0 or height <= 0:
        return min(count, ROW_LENGTH)
    best, best_size = 1, 0.0
    for columns in range(1, count + 1):
        rows = math.ceil(count / columns)
        size = min(width / (columns * (tile[1] + 1)), height / (rows * (tile[0] + 1)))
        if size > best_size:
            best, best_size = columns, size
    return best


def value_levels(values: np.ndarray) -> tuple[tuple[float, float], str]:
    """(levels, colormap) for activations: ±max on the signed colormap when any value is
    negative (0 stays the centre colour), else 0..max on the unsigned one (ReLU and pooling
    outputs)."""
    finite = values[np.isfinite(values)]
    if finite.size and finite.min() < 0:
        limit = symmetric_limit([finite])
        return (-limit, limit), SIGNED_COLORMAP
    top = float(finite.max()) if finite.size else 0.0
    return (0.0, top if top > 0 else 1.0), UNSIGNED_COLORMAP
