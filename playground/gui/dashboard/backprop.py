"""Backpropagation, step by step: a small dense network drawn with its numbers, the forward pass
and then the four equations layer by layer, and a gradient check beside them.

Everything shown comes from ``training.backprop.BackpropExplainer``, which reads z, a, δ and
the gradients from the engine's own pass (float64, on the data set's first training example) and
checks each gradient against central differences of the engine's cost.  This module only draws:
the network (nodes and edges the current step uses lit up), the step's formulas, the table.
Next/Back (or the → and ← keys) step through; the numbers follow the newest weights, so a
paused run can be stepped through at any moment.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...training.backprop import (
    EXAMPLE_NAME,
    FINITE_DIFFERENCE,
    FINITE_DIFFERENCE_STEP,
    BackpropExplainer,
    Step,
    dense_units,
    number,
    why_not_explained,
)
from .common import DashboardModel, Panel

#: the panel draws networks up to this many units in a layer and this many Dense layers: beyond
#: them the edges and the step's formulas (one per weight) no longer fit the page to be read
MAX_DRAWN_UNITS = 5
MAX_DRAWN_LAYERS = 3

INK = QColor("#1F2937")
MUTED = QColor("#9CA3AF")
EDGE = QColor("#E5E7EB")
LIT = QColor("#F59322")
NODE = QColor("#F8FAFC")
LIT_NODE = QColor("#FDE68A")
DELTA = QColor("#B91C1C")


def drawable(spec) -> bool:
    """A network of Dense layers small enough to draw with every number on it."""
    units = dense_units(spec)
    return (
        units is not None
        and why_not_explained(spec) is None
        and len(units) - 1 <= MAX_DRAWN_LAYERS
        and max(units) <= MAX_DRAWN_UNITS
    )


def _font(pixels: float, bold: bool = False) -> QFont:
    font = QFont()
    font.setPixelSize(max(9, int(pixels)))
    font.setBold(bold)
    return font


class NetworkDrawing(QWidget):
    """The network as columns of nodes, each with its activation (and δ once the backward pass
    has reached it), the edges between them; the current step's nodes and edges lit up."""

    def __init__(self, panel: BackpropPanel):
        super().__init__(panel)
        self.panel = panel
        self.setMinimumSize(360, 220)

    def sizeHint(self):
        return QSize(520, 300)

    def node_centres(self) -> list[list[QPointF]]:
        """Where each layer's nodes are drawn, the input first."""
        sizes = self.panel.explainer.sizes
        width, height = self.width(), self.height()
        top, bottom = 36.0, 34.0
        columns = []
        for layer, count in enumerate(sizes):
            x = 48 + layer * (width - 130) / max(1, len(sizes) - 1)
            gap = (height - top - bottom) / count
            columns.append([QPointF(x, top + gap * (j + 0.5)) for j in range(count)])
        return columns

    def paintEvent(self, event):
        painter = QPainter(self)
        painter.setRenderHint(QPainter.Antialiasing)
        painter.fillRect(self.rect(), QColor("#FFFFFF"))
        explainer, step = self.panel.explainer, self.panel.current_step()
        if explainer is None:
            painter.end()
            return
        centres = self.node_centres()
        radius = max(18.0, min(30.0, 0.42 * self._smallest_gap(centres)))
        lit_nodes = step.nodes if step else set()
        lit_edges = step.edges if step else set()
        label_edges = step is not None and 0 < len(lit_edges) <= 6
        for layer in range(1, len(centres)):
            for j, end in enumerate(centres[layer]):
                for k, start in enumerate(centres[layer - 1]):
                    lit = (layer, j, k) in lit_edges
                    painter.setPen(QPen(LIT if lit else EDGE, 2.5 if lit else 1.2))
                    painter.drawLine(start, end)
        known_a = step.forward_known if step else 0
        known_delta = step.delta_known_from if step and step.delta_known_from is not None else math.inf
        for layer, column in enumerate(centres):
            for j, centre in enumerate(column):
                lit = (layer, j) in lit_nodes
                painter.setPen(QPen(LIT if lit else MUTED, 2.5 if lit else 1.2))
                painter.setBrush(LIT_NODE if lit else NODE)
                painter.drawEllipse(centre, radius, radius)
                painter.setPen(INK)
                painter.setFont(_font(radius * 0.42))
                if layer <= known_a:
                    painter.drawText(
                        QRectF(centre.x() - radius, centre.y() - radius, 2 * radius, 2 * radius),
                        Qt.AlignCenter,
                        number(explainer.a[layer][j]),
                    )
        if label_edges:  # over the nodes, so a label near one stays readable
            self._label_edges(painter, centres, step, radius)
        painter.setFont(_font(11))
        for layer in range(len(centres)):  # δ last: never covered
            if layer < known_delta:
                continue
            for j, centre in enumerate(centres[layer]):
                box = QRectF(centre.x() - 38, centre.y() + radius + 1, 76, 14)
                painter.fillRect(box, QColor(255, 255, 255, 225))
                painter.setPen(DELTA)
                painter.drawText(box, Qt.AlignCenter, f"δ={number(explainer.delta[layer][j])}")
        self._captions(painter, centres, radius)
        painter.end()

    def _label_edges(self, painter: QPainter, centres, step: Step, radius: float) -> None:
        """Each lit edge's weight, written on it where it covers no node and no other label: at the
        first free place of a few along the edge, from the end the step is about (none where none is free)."""
        explainer = self.panel.explainer
        painter.setFont(_font(11))
        # BP2 sends δ down the edges: their weights are read from the lower layer's side
        preferred = (0.3, 0.4, 0.5, 0.2, 0.6, 0.7) if step.kind == "BP2" else (0.7, 0.6, 0.5, 0.8, 0.4, 0.3)
        # the nodes, and the δ written under each
        taken = [QRectF(c.x() - radius, c.y() - radius, 2 * radius, 2 * radius) for column in centres for c in column]
        taken += [QRectF(c.x() - 38, c.y() + radius + 1, 76, 14) for column in centres for c in column]
        for layer, j, k in sorted(step.edges):
            start, end = centres[layer - 1][k], centres[layer][j]
            boxes = [QRectF(p.x() - 34, p.y() - 7, 68, 14) for p in (start + (end - start) * f for f in preferred)]
            box = next((b for b in boxes if not any(b.intersects(other) for other in taken)), None)
            if box is None:
                continue  # no room on a narrow page: the step's formulas below name this weight too
            taken.append(box)
            painter.fillRect(box, QColor(255, 255, 255, 225))
            painter.setPen(QColor("#B45309"))
            painter.drawText(box, Qt.AlignCenter, f"w={number(explainer.weights[layer][j, k])}")

    @staticmethod
    def _smallest_gap(centres) -> float:
        gaps = [column[1].y() - column[0].y() for column in centres if len(column) > 1]
        return min(gaps) if gaps else 80.0

    def _captions(self, painter: QPainter, centres, radius: float) -> None:
        explainer = self.panel.explainer
        painter.setPen(INK)
        painter.setFont(_font(12, bold=True))
        names = ["input a⁰ = x"] + [f"{layer_id} (layer {i + 1})" for i, layer_id in enumerate(explainer.layer_ids)]
        for column, name in zip(centres, names):
            painter.drawText(QRectF(column[0].x() - 80, 4, 160, 18), Qt.AlignHCenter, name)
        painter.setFont(_font(12))
        painter.setPen(QColor("#047857"))
        for j, centre in enumerate(centres[-1]):
            painter.drawText(
                QRectF(centre.x() + radius + 6, centre.y() - 9, 70, 18),
                Qt.AlignLeft | Qt.AlignVCenter,
                f"y={number(explainer.target[j])}",
            )


class BackpropPanel(Panel):
    title = "Backprop"
    min_interval = 0.25  # a pass and a gradient check: four times a second at most while training

    def __init__(self, parent=None):
        super().__init__(parent)
        self.back_button = QPushButton("◀ Back")
        self.next_button = QPushButton("Next ▶")
        self.back_button.setToolTip("The previous step (← key)")
        self.next_button.setToolTip("The next step (→ key)")
        self.back_button.clicked.connect(self.back)
        self.next_button.clicked.connect(self.next)
        self.step_label = QLabel()
        self.step_label.setStyleSheet("color: #6B7280;")
        self.headline = QLabel()
        self.headline.setWordWrap(True)
        self.headline.setStyleSheet("font-size: 13px; padding: 2px 6px;")
        controls = QHBoxLayout()
        controls.setContentsMargins(6, 4, 6, 0)
        for widget in (self.back_button, self.next_button, self.step_label):
            controls.addWidget(widget)
        controls.addStretch()
        self.drawing = NetworkDrawing(self)
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["parameter", "backprop", "numerical", "rel. error"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.NoSelection)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        self.table.setStyleSheet("font-size: 11px;")
        self.table.verticalHeader().setDefaultSectionSize(20)
        self.table.setToolTip(
            f"Each gradient by backpropagation and by central differences {FINITE_DIFFERENCE}, "
            f"h = {FINITE_DIFFERENCE_STEP:g}, both in float64 through the engine"
        )
        self.check_title = QLabel()
        self.check_title.setWordWrap(True)
        side = QWidget()
        column = QVBoxLayout(side)
        column.setContentsMargins(4, 0, 4, 0)
        column.addWidget(self.check_title)
        column.addWidget(self.table, 1)
        row = QHBoxLayout()
        row.addWidget(self.drawing, 3)
        row.addWidget(side, 2)
        self.explanation = QLabel()
        self.explanation.setWordWrap(True)
        self.explanation.setTextFormat(Qt.RichText)
        self.explanation.setAlignment(Qt.AlignTop | Qt.AlignLeft)
        self.explanation.setStyleSheet("color: #1F2937; padding: 4px 8px; font-size: 13px;")
        scroller = QScrollArea()
        scroller.setWidgetResizable(True)
        scroller.setFrameShape(QScrollArea.NoFrame)
        scroller.setWidget(self.explanation)
        scroller.setMinimumHeight(120)
        self.layout_.addLayout(controls)
        self.layout_.addWidget(self.headline)
        self.layout_.addLayout(row, 5)
        self.layout_.addWidget(scroller, 2)
        # the arrow keys step (keyPressEvent): the page keeps the focus, which buttons and table would take
        self.setFocusPolicy(Qt.StrongFocus)
        for widget in (self.back_button, self.next_button, self.table):
            widget.setFocusPolicy(Qt.NoFocus)

        self.explainer: BackpropExplainer | None = None
        self.steps: list[Step] = []
        self.check_rows = []
        #: 0 is the overview; step i (1 …) is ``steps[i - 1]``
        self.position = 0

    # --- what to draw --------------------------------------------------------------------
    def applies_to(self, model: DashboardModel) -> bool:
        return drawable(model.network_spec)

    def versions(self, model: DashboardModel) -> tuple:
        return model.weights_version, model.context_version, model.dataset_version

    def current_step(self) -> Step | None:
        return self.steps[self.position - 1] if self.position and self.steps else None

    def draw(self, model: DashboardModel) -> None:
        self.explainer, problem = None, None
        spec, dataset = model.network_spec, model.dataset
        if not drawable(spec):
            problem = (
                f"This view draws networks of Dense layers with up to {MAX_DRAWN_LAYERS} layers of up to "
                f"{MAX_DRAWN_UNITS} units; double-click a layer on the canvas to explain its numbers instead."
            )
        elif not model.weights:
            problem = "The network has no weights yet."
        elif dataset is None or not len(dataset.x_train):
            problem = "The example comes from the training data: press Train or Step once to load it."
        else:
            try:
                self.explainer = BackpropExplainer.for_dataset(spec, model.weights, dataset)
            except (ValueError, IndexError, KeyError) as error:  # data of another network, mid-switch
                problem = f"The data does not fit this network ({error})."
        if self.explainer is None:
            self.steps, self.check_rows = [], []
            self.headline.setText(problem)
            self.explanation.setText("")
            self.table.setRowCount(0)
            self.check_title.setText("")
            self._show_position()
            return
        self.steps = self.explainer.steps()
        self.check_rows = self.explainer.gradient_check()
        self.position = min(self.position, len(self.steps))
        x = ", ".join(number(v) for v in self.explainer.x)
        self.headline.setText(
            f"Backpropagation on {EXAMPLE_NAME}, x = ({x}), target y = "
            f"({', '.join(number(v) for v in self.explainer.target)}): "
            f"cost C = {number(self.explainer.cost)}. The numbers follow the newest weights."
        )
        worst = max((row.relative_error for row in self.check_rows), default=0.0)
        self.check_title.setText(
            f"<b>Gradient check</b>: backprop against central differences (h = {FINITE_DIFFERENCE_STEP:g}); "
            f"largest relative error {worst:.1e}"
        )
        self._fill_table()
        self._show_position()

    def _fill_table(self) -> None:
        self.table.setRowCount(len(self.check_rows))
        for r, row in enumerate(self.check_rows):
            for c, text in enumerate(
                (row.name, f"{row.backprop:.6e}", f"{row.numerical:.6e}", f"{row.relative_error:.1e}")
            ):
                item = QTableWidgetItem(text.replace("-", "−") if c else text)
                item.setTextAlignment((Qt.AlignRight if c else Qt.AlignLeft) | Qt.AlignVCenter)
                self.table.setItem(r, c, item)
        # every column in view: the relative error is the point of the table
        header = self.table.horizontalHeader()
        header.resizeSections(QHeaderView.ResizeToContents)
        self.table.setMinimumWidth(header.length() + self.table.verticalScrollBar().sizeHint().width() + 4)

    # --- stepping ---------------------------------------------------------------------------
    def next(self) -> None:
        if self.position < len(self.steps):
            self.position += 1
            self._show_position()

    def back(self) -> None:
        if self.position > 0:
            self.position -= 1
            self._show_position()

    def keyPressEvent(self, event):
        moves = {Qt.Key_Right: self.next, Qt.Key_Left: self.back}
        if event.key() in moves:
            moves[event.key()]()
            event.accept()
            return
        super().keyPressEvent(event)

    def mousePressEvent(self, event):
        self.setFocus()  # a click on the page (the drawing, the text) hands the arrow keys to it
        super().mousePressEvent(event)

    def _show_position(self) -> None:
        count = len(self.steps)
        self.back_button.setEnabled(self.position > 0)
        self.next_button.setEnabled(self.position < count)
        self.step_label.setText(f"step {self.position} of {count}" if count else "")
        step = self.current_step()
        if self.explainer is not None:
            if step is None:
                self.explanation.setText(
                    "Press <b>Next</b> (or →) to run the forward pass layer by layer, then the four equations "
                    "of backpropagation from the output layer down:<br>"
                    "BP1 δᴸ = ∇ₐC ⊙ σ′(zᴸ) &nbsp; BP2 δˡ = ((wˡ⁺¹)ᵀ δˡ⁺¹) ⊙ σ′(zˡ) &nbsp; "
                    "BP3 ∂C/∂bⱼˡ = δⱼˡ &nbsp; BP4 ∂C/∂wⱼₖˡ = aₖˡ⁻¹ δⱼˡ"
                )
            else:
                lines = [f"<b>{step.title}</b>: &nbsp; {step.equation}"] + [q.formula for q in step.quantities]
                self.explanation.setText("<br>".join(lines))
        self._mark_checked_rows(step)
        self.drawing.update()

    def displayed_formulas(self) -> list[str]:
        """The formula lines the explanation shows now (what a test reads)."""
        step = self.current_step()
        return [quantity.formula for quantity in step.quantities] if step else []

    def _mark_checked_rows(self, step: Step | None) -> None:
        """Shade the gradient check's rows of the gradients this step computes."""
        names = set()
        if step is not None and self.explainer is not None:
            for q in step.quantities:
                if q.kind == "bias_grad":
                    names.add(self.explainer.parameter_name(q.layer, "bias", (q.unit,)))
                elif q.kind == "weight_grad":
                    names.add(self.explainer.parameter_name(q.layer, "weight", (q.unit, q.source)))
        for r, row in enumerate(self.check_rows):
            colour = QColor("#FEF3C7") if row.name in names else QColor("#FFFFFF")
            for c in range(self.table.columnCount()):
                item = self.table.item(r, c)
                if item is not None:
                    item.setBackground(colour)

    def export_item(self):
        return None  # drawn with QPainter and widgets: the dashboard grabs the page instead
