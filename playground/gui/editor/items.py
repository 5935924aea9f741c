"""What the canvas draws: layer cards with ports, and the curved edges between them.

Items only display; they hold no network state of their own.  The canvas refreshes them
from the document after every change (``NodeItem.refresh``), and reads their positions back
when a drag ends.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPainterPath, QPainterPathStroker, QPen, QPolygonF
from PySide6.QtWidgets import QGraphicsEllipseItem, QGraphicsItem, QGraphicsPathItem

from ...engine.config import fields_of
from ...model import Analysis, Node
from ...model.edits import NODE_HEIGHT, NODE_WIDTH, is_recurrent
from .palette import type_title, type_tooltip

HEADER_HEIGHT = 26.0
RADIUS = 8.0
PORT_RADIUS = 6.0

INK = QColor("#1F2937")
MUTED = QColor("#6B7280")
CARD = QColor("#FFFFFF")
BORDER = QColor("#D1D5DB")
ACCENT = QColor("#2563EB")
ERROR = QColor("#DC2626")
GOOD = QColor("#16A34A")
EDGE = QColor("#94A3B8")
#: header of layers without parameters (input, dropout): they get no plot colour
NEUTRAL_HEADER = QColor("#64748B")
#: how a recurrent layer's card says where its state connection is made
STATE_HINT = "Right-click → Feed final state to ▸ another recurrent layer, to make an encoder-decoder."


def _font(pixels: int, bold: bool = False) -> QFont:
    font = QFont()
    font.setPixelSize(pixels)
    font.setBold(bold)
    return font


def _readable_on(colour: QColor) -> QColor:
    """Black or white, whichever reads on ``colour`` (the plot palette has yellow and black)."""
    r, g, b = colour.redF(), colour.greenF(), colour.blueF()
    return QColor("#111827") if 0.299 * r + 0.587 * g + 0.114 * b > 0.6 else QColor("#FFFFFF")


def shape_text(shape) -> str:
    return "×".join(str(n) for n in shape) if shape else "?"


def edge_path(start: QPointF, end: QPointF) -> QPainterPath:
    """A vertical S-curve from an output port down (or back up) to an input port."""
    bend = max(40.0, abs(end.y() - start.y()) / 2)
    path = QPainterPath(start)
    path.cubicTo(start + QPointF(0, bend), end - QPointF(0, bend), end)
    return path


class PortItem(QGraphicsEllipseItem):
    """A connection point: ``kind`` is "in" (top of the card) or "out" (bottom)."""

    def __init__(self, node: NodeItem, kind: str):
        r = PORT_RADIUS
        super().__init__(-r, -r, 2 * r, 2 * r, node)
        self.node, self.kind = node, kind
        self.setPos(NODE_WIDTH / 2, 0.0 if kind == "in" else NODE_HEIGHT)
        self.setCursor(Qt.CrossCursor)
        self.setToolTip("Drag to an output port to connect" if kind == "in" else "Drag to an input port to connect")
        self.mark(None)

    def mark(self, verdict: str | None) -> None:
        """Colour while a connection is dragged over it: "ok", "refused", or None (idle)."""
        colour = {"ok": GOOD, "refused": ERROR}.get(verdict, MUTED)
        self.setPen(QPen(colour, 2))
        self.setBrush(QBrush(colour if verdict else CARD))
        self.setScale(1.4 if verdict else 1.0)


class HoverHighlight:
    """Redraws the item when the mouse enters or leaves it, so ``paint`` can highlight it.

    Items using it set ``self._hovered = False`` and call ``setAcceptHoverEvents(True)``.
    """

    def hoverEnterEvent(self, event):
        self._hovered = True
        self.update()

    def hoverLeaveEvent(self, event):
        self._hovered = False
        self.update()


class NodeItem(HoverHighlight, QGraphicsItem):
    """One layer: a rounded card whose header carries the layer's plot colour."""

    def __init__(self, node: Node):
        super().__init__()
        self.node_id, self.type_id = node.id, node.type
        self.setFlags(
            QGraphicsItem.ItemIsMovable | QGraphicsItem.ItemIsSelectable | QGraphicsItem.ItemSendsGeometryChanges
        )
        self.setAcceptHoverEvents(True)
        self.setZValue(1)
        self.in_port = None if node.type == "input" else PortItem(self, "in")
        self.out_port = PortItem(self, "out")
        self.edges: list[EdgeItem] = []
        self.header_colour = NEUTRAL_HEADER
        self.problems: list[str] = []
        self.title = self.subtitle = self.shape_text = self.params_text = ""
        self._hovered = False

    def refresh(self, node: Node, analysis: Analysis, colour: QColor | None, problems: list[str]) -> None:
        """Texts, colour and problem marks from the document's current state.  Only choice
        fields (a dense layer's activation) join the type on the card: they are short."""
        choices = [str(getattr(node.config, f.name)) for f in fields_of(type(node.config)) if f.kind == "choice"]
        self.title = node.id
        self.subtitle = " · ".join([type_title(node.type), *choices])
        self.shape_text = shape_text(analysis.output_shapes.get(node.id))
        count = analysis.parameter_counts.get(node.id)
        self.params_text = "" if count is None else f"{count:,} params" if count else "no params"
        self.header_colour = colour or NEUTRAL_HEADER
        self.problems = problems
        tips = problems or [type_tooltip(node.type)]
        if is_recurrent(node.type):
            tips = [*tips, STATE_HINT]
        self.setToolTip("\n".join(tips))
        self.update()

    def lines(self) -> list[str]:
        """The texts the card shows, top to bottom."""
        return [self.title, self.subtitle, self.shape_text, self.params_text]

    def in_anchor(self) -> QPointF:
        return self.mapToScene(QPointF(NODE_WIDTH / 2, 0.0))

    def out_anchor(self) -> QPointF:
        return self.mapToScene(QPointF(NODE_WIDTH / 2, NODE_HEIGHT))

    # --- QGraphicsItem ----------------------------------------------------------------
    def boundingRect(self) -> QRectF:
        return QRectF(-10, -10, NODE_WIDTH + 20, NODE_HEIGHT + 20)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRoundedRect(QRectF(0, 0, NODE_WIDTH, NODE_HEIGHT), RADIUS, RADIUS)
        return path

    def itemChange(self, change, value):
        if change == QGraphicsItem.ItemPositionHasChanged:
            for edge in self.edges:
                edge.follow()
        return super().itemChange(change, value)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        painter.setRenderHint(QPainter.Antialiasing)
        card = QRectF(0, 0, NODE_WIDTH, NODE_HEIGHT)
        painter.setPen(Qt.NoPen)
        painter.setBrush(QColor(15, 23, 42, 28))  # soft shadow
        painter.drawRoundedRect(card.translated(0, 3), RADIUS, RADIUS)
        painter.setBrush(CARD)
        painter.drawRoundedRect(card, RADIUS, RADIUS)

        painter.save()
        painter.setClipPath(self.shape())
        painter.fillRect(QRectF(0, 0, NODE_WIDTH, HEADER_HEIGHT), self.header_colour)
        painter.restore()

        header_ink = _readable_on(self.header_colour)
        text_box = QRectF(10, 0, NODE_WIDTH - 20, HEADER_HEIGHT)
        painter.setPen(header_ink)
        painter.setFont(_font(13, bold=True))
        title = painter.fontMetrics().elidedText(self.title, Qt.ElideRight, int(text_box.width() * 0.6))
        painter.drawText(text_box, Qt.AlignLeft | Qt.AlignVCenter, title)
        title_width = painter.fontMetrics().horizontalAdvance(title) + 8
        painter.setFont(_font(11))
        subtitle = painter.fontMetrics().elidedText(self.subtitle, Qt.ElideRight, int(text_box.width() - title_width))
        painter.drawText(text_box, Qt.AlignRight | Qt.AlignVCenter, subtitle)

        body = QRectF(12, HEADER_HEIGHT, NODE_WIDTH - 24, NODE_HEIGHT - HEADER_HEIGHT)
        painter.setPen(INK)
        painter.setFont(_font(15, bold=True))
        painter.drawText(body, Qt.AlignLeft | Qt.AlignVCenter, self.shape_text)
        painter.setPen(MUTED)
        painter.setFont(_font(12))
        painter.drawText(body, Qt.AlignRight | Qt.AlignVCenter, self.params_text)

        painter.setBrush(Qt.NoBrush)
        if self.problems:
            painter.setPen(QPen(ERROR, 2))
        elif self.isSelected():
            painter.setPen(QPen(ACCENT, 2))
        else:
            painter.setPen(QPen(BORDER.darker(115) if self._hovered else BORDER, 1))
        painter.drawRoundedRect(card, RADIUS, RADIUS)
        if self.isSelected() and self.problems:  # both: a blue halo outside the red border
            painter.setPen(QPen(ACCENT, 2))
            painter.drawRoundedRect(card.adjusted(-4, -4, 4, 4), RADIUS + 3, RADIUS + 3)
        if self.problems:
            self._paint_badge(painter)

    def _paint_badge(self, painter: QPainter) -> None:
        centre = QPointF(NODE_WIDTH - 2, 2)
        painter.setPen(QPen(CARD, 1.5))
        painter.setBrush(ERROR)
        painter.drawEllipse(centre, 8, 8)
        painter.setPen(CARD)
        painter.setFont(_font(11, bold=True))
        painter.drawText(QRectF(centre.x() - 8, centre.y() - 8, 16, 16), Qt.AlignCenter, "!")


class EdgeItem(HoverHighlight, QGraphicsPathItem):
    """A connection ``source → target``, drawn from the source's output port to the target's top."""

    def __init__(self, source: NodeItem, target: NodeItem):
        super().__init__()
        self.source, self.target = source, target
        self.key = (source.node_id, target.node_id)
        self.problem: str | None = None
        self._hovered = False
        self.setFlag(QGraphicsItem.ItemIsSelectable)
        self.setAcceptHoverEvents(True)
        source.edges.append(self)
        target.edges.append(self)
        self.follow()

    def detach(self) -> None:
        for node in (self.source, self.target):
            if self in node.edges:
                node.edges.remove(self)

    def follow(self) -> None:
        """Re-route after either end moved."""
        self.prepareGeometryChange()
        # ends just above the input port, so the arrow head is not hidden under it
        self.setPath(edge_path(self.source.out_anchor(), self.target.in_anchor() - QPointF(0, PORT_RADIUS + 1)))

    def set_problem(self, message: str | None) -> None:
        self.problem = message
        self.setToolTip(message or self.description())
        self.update()

    def description(self) -> str:
        """The tooltip while nothing is wrong with the connection."""
        return f"{self.key[0]} → {self.key[1]}  (select and press Delete to remove)"

    def shape(self) -> QPainterPath:
        stroker = QPainterPathStroker()
        stroker.setWidth(12)
        return stroker.createStroke(self.path())

    def boundingRect(self) -> QRectF:
        return super().boundingRect().adjusted(-8, -8, 8, 8)

    #: how an unselected, valid edge of this kind is drawn
    COLOUR = EDGE
    LINE = Qt.SolidLine

    def arrow_head(self, tip: QPointF) -> QPolygonF:
        """Pointing down into the input port at the top of the card below."""
        return QPolygonF([tip, tip + QPointF(-5, -9), tip + QPointF(5, -9)])

    def paint(self, painter: QPainter, option, widget=None) -> None:
        colour = self.current_colour()
        width = 3.0 if self.isSelected() or self._hovered else 2.0
        painter.setRenderHint(QPainter.Antialiasing)
        painter.setPen(QPen(colour, width, self.LINE, Qt.RoundCap))
        painter.setBrush(Qt.NoBrush)
        painter.drawPath(self.path())
        painter.setPen(Qt.NoPen)
        painter.setBrush(colour)
        painter.drawPolygon(self.arrow_head(self.path().pointAtPercent(1.0)))

    def current_colour(self) -> QColor:
        return ERROR if self.problem else ACCENT if self.isSelected() else self.COLOUR


#: the encoder-decoder's state connection: a colour no data edge uses
STATE_EDGE = QColor("#7C3AED")


class StateEdgeItem(EdgeItem):
    """An encoder-decoder's state connection: the encoder's final state becomes the decoder's
    initial state.  No activation flows along it, so it is drawn apart from the data edges:
    dashed, sideways between the two cards, labelled "state".  Made from a recurrent card's
    context menu; selected and deleted like a data edge, and red with the reason when
    ``analyse`` finds it impossible."""

    LABEL = "state"

    def __init__(self, source: NodeItem, target: NodeItem):
        super().__init__(source, target)
        self.setZValue(0.5)
        self.set_problem(None)

    def description(self) -> str:
        return (
            f"{self.key[0]} → {self.key[1]}: the encoder's final state is the decoder's initial state  "
            "(select and press Delete to remove)"
        )

    def follow(self) -> None:
        """From the side of one card that faces the other, as a sideways S-curve."""
        self.prepareGeometryChange()
        source, target = self.source, self.target
        rightward = target.sceneBoundingRect().center().x() >= source.sceneBoundingRect().center().x()
        start = source.mapToScene(QPointF(NODE_WIDTH if rightward else 0.0, NODE_HEIGHT / 2))
        end = target.mapToScene(QPointF(0.0 if rightward else NODE_WIDTH, NODE_HEIGHT / 2))
        end -= QPointF(4 if rightward else -4, 0)  # the arrow's tip rests on the card's edge
        bend = max(40.0, abs(end.x() - start.x()) / 2) * (1 if rightward else -1)
        path = QPainterPath(start)
        path.cubicTo(start + QPointF(bend, 0), end - QPointF(bend, 0), end)
        self.rightward = rightward
        self.setPath(path)

    def boundingRect(self) -> QRectF:
        return super().boundingRect().adjusted(-30, -14, 30, 14)  # room for the label

    COLOUR = STATE_EDGE
    LINE = Qt.DashLine

    def arrow_head(self, tip: QPointF) -> QPolygonF:
        """Pointing sideways into the decoder's card."""
        back = -9 if self.rightward else 9
        return QPolygonF([tip, tip + QPointF(back, -5), tip + QPointF(back, 5)])

    def paint(self, painter: QPainter, option, widget=None) -> None:
        super().paint(painter, option, widget)
        colour = self.current_colour()
        painter.setFont(_font(11, bold=True))
        middle = self.path().pointAtPercent(0.5)
        text_width = painter.fontMetrics().horizontalAdvance(self.LABEL) + 12
        box = QRectF(middle.x() - text_width / 2, middle.y() - 9, text_width, 18)
        painter.setPen(QPen(colour, 1))
        painter.setBrush(CARD)
        painter.drawRoundedRect(box, 9, 9)
        painter.setPen(colour)
        painter.drawText(box, Qt.AlignCenter, self.LABEL)
