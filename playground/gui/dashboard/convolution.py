"""The convolution itself: a 3×3 kernel stepping over a 5×5 image, one multiply-add at a time.

The lecture's worked example: a binary 5×5 patch and the "X" kernel (1 on the diagonals'
ends and the centre), which gives the 3×3 output 4 3 4 / 2 4 3 / 2 3 4.  At each position
the nine pixels under the kernel are multiplied by the nine weights and summed; the same
nine weights are used at every position (shared weights), and each output looks at its
own 3×3 window only (a local receptive field).

The output map is computed by the engine's own Conv2D layer (float64, linear activation),
so the numbers on screen are exactly what a network computes; the products and their sum
shown for the current position are the same arithmetic spelt out (a test checks they agree).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt, QTimer
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QSpinBox, QWidget

from ...engine.layers import layer_class
from ...engine.layers.geometry import output_size
from .common import Panel

#: the lecture's 5×5 patch
LECTURE_IMAGE = np.array(
    [[1, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 1], [0, 0, 1, 1, 0], [0, 1, 1, 0, 0]], np.float64
)
KERNELS = {
    "The lecture's X": np.array([[1, 0, 1], [0, 1, 0], [1, 0, 1]], np.float64),
    "Vertical edge": np.array([[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]], np.float64),
    "Horizontal edge": np.array([[-1, -1, -1], [0, 0, 0], [1, 1, 1]], np.float64),
    "Blur (mean)": np.full((3, 3), 1 / 9, np.float64),
    "Sharpen": np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], np.float64),
    "Identity": np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]], np.float64),
}
STEP_MS = 700

INK = QColor("#1F2937")
MUTED = QColor("#9CA3AF")
GRID = QColor("#CBD5E1")
WINDOW = QColor("#F59322")
WINDOW_FILL = QColor(245, 147, 34, 60)
PADDING_FILL = QColor("#F1F5F9")
DONE_FILL = QColor("#DBEAFE")
CURRENT_FILL = QColor("#FDE68A")


def number(value: float) -> str:
    """Short and exact where it can be: 4, −1, 0.111."""
    if abs(value - round(value)) < 1e-9:
        return f"{int(round(value))}".replace("-", "−")
    return f"{value:.3g}".replace("-", "−")


class ConvolutionExample:
    """The worked example's arithmetic: the engine's output map and, per position, the
    receptive field, the products and their sum."""

    def __init__(self, image: np.ndarray, kernel: np.ndarray, stride: int = 1, padding: str = "valid"):
        self.image, self.kernel, self.stride, self.padding = image, kernel, stride, padding
        k = kernel.shape[0]
        height, width = image.shape
        _, top, bottom = output_size(height, k, stride, padding)
        _, left, right = output_size(width, k, stride, padding)
        self.pad = (top, left)
        self.padded = np.pad(image, ((top, bottom), (left, right)))
        self.output = self.engine_output()

    def engine_output(self) -> np.ndarray:
        """The output map as the engine's Conv2D layer computes it (one filter, no bias, linear)."""
        conv = layer_class("conv2d")
        config = conv.Config(
            filters=1, kernel_size=self.kernel.shape[0], stride=self.stride, padding=self.padding, activation="linear"
        )
        layer = conv("explainer", config, (1,) + self.image.shape, np.float64)
        layer.params["weight"][0, 0] = self.kernel
        layer.params["bias"][0] = 0.0
        return layer.forward(self.image[None, None], False)[0, 0].copy()

    @property
    def positions(self) -> int:
        return self.output.size

    def where(self, step: int) -> tuple[int, int]:
        """(row, column) of the output computed at ``step`` (row by row)."""
        return divmod(step, self.output.shape[1])

    def window(self, step: int) -> tuple[int, int]:
        """Top-left corner, in padded coordinates, of the receptive field at ``step``."""
        oy, ox = self.where(step)
        return oy * self.stride, ox * self.stride

    def products(self, step: int) -> np.ndarray:
        y, x = self.window(step)
        k = self.kernel.shape[0]
        return self.padded[y : y + k, x : x + k] * self.kernel


class ConvolutionView(QWidget):
    """Paints input, kernel, products and output as grids of numbers for one step."""

    def __init__(self, panel: ConvolutionPanel):
        super().__init__(panel)
        self.panel = panel
        self.setMinimumSize(560, 250)

    def sizeHint(self):
        return QSize(680, 300)

    def _grid(self, painter, x0, y0, cell, values, title, fills=None, border=None, small=None):
        rows, cols = values.shape
        painter.setPen(INK)
        painter.setFont(self._font(cell * 0.32, bold=True))
        painter.drawText(
            QRectF(x0 - cell, y0 - cell * 0.9, (cols + 2) * cell, cell * 0.8), Qt.AlignHCenter | Qt.AlignBottom, title
        )
        for r in range(rows):
            for c in range(cols):
                rect = QRectF(x0 + c * cell, y0 + r * cell, cell, cell)
                fill = fills(r, c) if fills else None
                if fill is not None:
                    painter.fillRect(rect, fill)
                painter.setPen(QPen(GRID, 1))
                painter.drawRect(rect)
                value = values[r, c]
                if np.isnan(value):
                    continue
                painter.setPen(MUTED if fills and fill is PADDING_FILL else INK)
                painter.setFont(self._font(cell * 0.36))
                painter.drawText(rect, Qt.AlignCenter, number(value))
                if small is not None and small(r, c) is not None:
                    painter.setPen(QColor("#B45309"))
                    painter.setFont(self._font(cell * 0.22))
                    painter.drawText(rect.adjusted(0, 0, -3, -1), Qt.AlignRight | Qt.AlignBottom, "×" + small(r, c))
        if border is not None:
            top, left, height, width = border
            painter.setPen(QPen(WINDOW, 3))
            painter.drawRect(QRectF(x0 + left * cell, y0 + top * cell, width * cell, height * cell))

    @staticmethod
    def _font(pixels: float, bold: bool = False) -> QFont:
        font = QFont()
        font.setPixelSize(max(8, int(pixels)))
        font.setBold(bold)
        return font

    def paintEvent(self, event):
        example, step = self.panel.example, self.panel.step
        padded, kernel, output = example.padded, example.kernel, example.output
        k = kernel.shape[0]
        current = step - 1  # the position computed last; −1 before the first step
        gap = 1.3
        columns = padded.shape[1] + 2 * k + output.shape[1] + 3 * gap
        rows = max(padded.shape[0], output.shape[0]) + 1.2
        cell = min(44.0, (self.width() - 16) / columns, (self.height() - 8) / rows)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.Antialiasing)
        painter.fillRect(self.rect(), QColor("#FFFFFF"))
        top_y = cell * 1.0 + 4
        x = 8.0
        pad_top, pad_left = example.pad
        height, width = example.image.shape
        window = example.window(current) if current >= 0 else None

        def input_fill(r, c):
            inside = pad_top <= r < pad_top + height and pad_left <= c < pad_left + width
            if window is not None and window[0] <= r < window[0] + k and window[1] <= c < window[1] + k:
                return WINDOW_FILL
            return None if inside else PADDING_FILL

        def kernel_tag(r, c):
            if window is None or not (window[0] <= r < window[0] + k and window[1] <= c < window[1] + k):
                return None
            return number(kernel[r - window[0], c - window[1]])

        title = "Input" + (" (zero padding in grey)" if padded.shape != example.image.shape else "")
        self._grid(
            painter,
            x,
            top_y,
            cell,
            padded,
            title,
            input_fill,
            (window[0], window[1], k, k) if window is not None else None,
            kernel_tag,
        )
        x += (padded.shape[1] + gap) * cell
        self._grid(painter, x, top_y, cell, kernel, "Kernel (shared)", lambda r, c: WINDOW_FILL)
        x += (k + gap) * cell
        products = example.products(current) if current >= 0 else np.full((k, k), np.nan)
        self._grid(painter, x, top_y, cell, products, "Products")
        if current >= 0:
            painter.setPen(INK)
            painter.setFont(self._font(cell * 0.4, bold=True))
            painter.drawText(
                QRectF(x - cell, top_y + (k + 0.2) * cell, (k + 2) * cell, cell),
                Qt.AlignHCenter | Qt.AlignTop,
                f"sum = {number(float(products.sum()))}",
            )
        x += (k + gap) * cell
        shown = np.where(np.arange(output.size).reshape(output.shape) < step, output, np.nan)
        where = example.where(current) if current >= 0 else None

        def output_fill(r, c):
            if where == (r, c):
                return CURRENT_FILL
            return DONE_FILL if r * output.shape[1] + c < step else None

        self._grid(painter, x, top_y, cell, shown, "Output map", output_fill)
        painter.end()


class ConvolutionPanel(Panel):
    title = "Convolution"

    def __init__(self, parent=None):
        super().__init__(parent)
        self.kernel_choice = QComboBox()
        self.kernel_choice.addItems(list(KERNELS))
        self.kernel_choice.setToolTip("The 3×3 kernel that slides over the image")
        self.padding_choice = QComboBox()
        self.padding_choice.addItems(["valid", "same"])
        self.padding_choice.setToolTip(
            '"valid": only windows inside the image (the output shrinks); '
            '"same": zeros around the border keep the output the input\'s size'
        )
        self.stride_box = QSpinBox()
        self.stride_box.setRange(1, 2)
        self.stride_box.setPrefix("stride ")
        self.step_button = QPushButton("Step")
        self.play_button = QPushButton("Play")
        self.play_button.setCheckable(True)
        self.reset_button = QPushButton("Reset")
        controls = QHBoxLayout()
        controls.setContentsMargins(6, 4, 6, 0)
        for widget in (QLabel("Kernel"), self.kernel_choice, QLabel("Padding"), self.padding_choice, self.stride_box):
            controls.addWidget(widget)
        controls.addStretch()
        for widget in (self.step_button, self.play_button, self.reset_button):
            controls.addWidget(widget)
        self.view = ConvolutionView(self)
        self.explanation = QLabel()
        self.explanation.setWordWrap(True)
        self.explanation.setStyleSheet("color: #374151; padding: 4px 8px; font-size: 13px;")
        self.explanation.setTextFormat(Qt.RichText)
        self.layout_.addLayout(controls)
        self.layout_.addWidget(self.view)
        self.layout_.addWidget(self.explanation)
        self.layout_.addStretch(1)

        self.timer = QTimer(self)
        self.timer.setInterval(STEP_MS)
        self.timer.timeout.connect(self.advance)
        self.step_button.clicked.connect(self.advance)
        self.play_button.toggled.connect(self.play)
        self.reset_button.clicked.connect(self.reset)
        for signal in (
            self.kernel_choice.currentTextChanged,
            self.padding_choice.currentTextChanged,
            self.stride_box.valueChanged,
        ):
            signal.connect(self.rebuild)
        self.step = 0
        self.example = ConvolutionExample(LECTURE_IMAGE, KERNELS[self.kernel_choice.currentText()])
        self._explain()

    def versions(self, model) -> tuple:
        return ()  # the worked example needs nothing from training

    def applies_to(self, model) -> bool:
        return any(node.type == "conv2d" for node in model.network_spec.nodes) if model.network_spec else False

    def draw(self, model) -> None:
        self.view.update()

    def rebuild(self) -> None:
        """A new kernel, padding or stride: compute the output again and start over."""
        self.example = ConvolutionExample(
            LECTURE_IMAGE,
            KERNELS[self.kernel_choice.currentText()],
            self.stride_box.value(),
            self.padding_choice.currentText(),
        )
        self.reset()

    def advance(self) -> None:
        """Compute the next output position (after the last one: start again)."""
        self.step = self.step + 1 if self.step < self.example.positions else 1
        if self.step == self.example.positions and self.timer.isActive():
            self.play_button.setChecked(False)
        self._explain()
        self.view.update()

    def play(self, playing: bool) -> None:
        self.play_button.setText("Pause" if playing else "Play")
        if playing:
            if self.step >= self.example.positions:
                self.step = 0
            self.timer.start()
        else:
            self.timer.stop()

    def reset(self) -> None:
        self.play_button.setChecked(False)
        self.step = 0
        self._explain()
        self.view.update()

    def hideEvent(self, event):
        self.play_button.setChecked(False)  # no timer ticking for a page nobody sees
        super().hideEvent(event)

    def _explain(self) -> None:
        example = self.example
        oh, ow = example.output.shape
        if self.step == 0:
            text = (
                f"A {example.kernel.shape[0]}×{example.kernel.shape[1]} kernel slides over the "
                f"{example.image.shape[0]}×{example.image.shape[1]} image with stride {example.stride} "
                f'(padding "{example.padding}"), giving a {oh}×{ow} output map. Press <b>Step</b> or '
                f"<b>Play</b>."
            )
        else:
            row, col = example.where(self.step - 1)
            products = example.products(self.step - 1)
            terms = " + ".join(number(v) for v in products.ravel())
            text = (
                f"Output ({row + 1}, {col + 1}): the nine pixels in the orange window times the nine weights "
                f"(small numbers), summed: {terms} = <b>{number(example.output[row, col])}</b>. "
                f"The same weights are used at every position (shared weights); each output sees only its "
                f"window (local receptive field)."
            )
        self.explanation.setText(
            text + " <span style='color:#6B7280'>(As in every deep-learning library, the "
            "kernel is not flipped: strictly a cross-correlation.)</span>"
        )

    def export_item(self):
        return None  # drawn with QPainter, not pyqtgraph: the dashboard grabs the widget instead
