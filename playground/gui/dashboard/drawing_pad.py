"""A 28×28 pad to draw a digit on with the mouse, as the network's input.

MNIST digits are strokes about two to three pixels wide with soft, anti-aliased edges, on a
black background.  The pen here paints the same kind of stroke: full ink within ``PEN_RADIUS``
of the mouse's path, fading to none over one more pixel, and never lighter where it passes
twice.  The pad shows ink dark on light paper (easier to read than white on black); the
values it gives the network are MNIST's (1 = ink, 0 = background).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPen
from PySide6.QtWidgets import QWidget

SIDE = 28
PEN_RADIUS = 1.1
PEN_SOFTNESS = 1.0
#: screen pixels per pad pixel (for 28×28; other sizes fill the same square)
PIXEL_SIZE = 6


def stroke(
    pixels: np.ndarray,
    start: tuple[float, float],
    end: tuple[float, float],
    radius: float = PEN_RADIUS,
    softness: float = PEN_SOFTNESS,
) -> None:
    """Ink the segment start → end (pixel coordinates (x, y); pixel (i, j) covers [j, j+1) × [i, i+1))
    into ``pixels`` in place: each pixel takes the darker of its ink and the pen's."""
    height, width = pixels.shape
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32) + 0.5
    (x0, y0), (x1, y1) = start, end
    dx, dy = x1 - x0, y1 - y0
    length2 = dx * dx + dy * dy
    t = np.zeros_like(xs) if length2 == 0 else np.clip(((xs - x0) * dx + (ys - y0) * dy) / length2, 0.0, 1.0)
    distance = np.hypot(xs - (x0 + t * dx), ys - (y0 + t * dy))
    ink = np.clip((radius + softness - distance) / softness, 0.0, 1.0)
    np.maximum(pixels, ink, out=pixels)


class DrawingPad(QWidget):
    """Draw with the left button; ``changed`` after every stroke segment, clear and load."""

    changed = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.pixels = np.zeros((SIDE, SIDE), np.float32)
        self._last: tuple[float, float] | None = None
        self.setFixedSize(PIXEL_SIZE * SIDE, PIXEL_SIZE * SIDE)
        self.setCursor(Qt.CrossCursor)
        self.setToolTip("Draw a digit with the mouse: the network sees what you draw.")

    # --- the picture -----------------------------------------------------------------------
    def set_image(self, image: np.ndarray) -> None:
        """Show ``image`` (height, width; values 0..1) and draw on top of it from now on."""
        image = np.asarray(image, np.float32)
        if image.shape != self.pixels.shape:  # another dataset's image size
            self.pixels = np.zeros(image.shape, np.float32)
            self.setFixedSize(
                PIXEL_SIZE * SIDE * image.shape[1] // max(image.shape),
                PIXEL_SIZE * SIDE * image.shape[0] // max(image.shape),
            )
        self.pixels[...] = np.clip(image, 0.0, 1.0)
        self.update()
        self.changed.emit()

    def clear(self) -> None:
        self.set_image(np.zeros_like(self.pixels))

    def _to_pixels(self, position: QPointF) -> tuple[float, float]:
        side_y, side_x = self.pixels.shape
        return position.x() * side_x / max(self.width(), 1), position.y() * side_y / max(self.height(), 1)

    def draw_line(self, start: tuple[float, float], end: tuple[float, float]) -> None:
        """One pen segment in pixel coordinates (what dragging the mouse does; tests call it too)."""
        stroke(self.pixels, start, end)
        self.update()
        self.changed.emit()

    # --- mouse -----------------------------------------------------------------------------
    def mousePressEvent(self, event):
        if event.button() == Qt.LeftButton:
            self._last = self._to_pixels(event.position())
            self.draw_line(self._last, self._last)

    def mouseMoveEvent(self, event):
        if self._last is not None and event.buttons() & Qt.LeftButton:
            point = self._to_pixels(event.position())
            self.draw_line(self._last, point)
            self._last = point

    def mouseReleaseEvent(self, event):
        self._last = None

    def paintEvent(self, event):
        paper = (255 - np.round(self.pixels * 255)).astype(np.uint8)
        height, width = paper.shape
        image = QImage(paper.tobytes(), width, height, width, QImage.Format_Grayscale8)
        painter = QPainter(self)
        painter.drawImage(QRectF(self.rect()), image)  # scaled up without smoothing: the real pixels
        painter.setPen(QPen(QColor("#9CA3AF"), 1))
        painter.drawRect(self.rect().adjusted(0, 0, -1, -1))
        painter.end()
