"""The canvas: the network drawn as cards and curves, edited by mouse and keyboard.

The canvas never owns the graph.  Every gesture ends in one call on the Document (add,
connect, move...), and the scene is brought in line with the document whenever it
announces a change, so undo, redo and the inspector's edits show up here by the same
path as the canvas's own.
"""

from __future__ import annotations

from collections import defaultdict

from PySide6.QtCore import QMimeData, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QAction, QColor, QCursor, QKeySequence, QPainter, QPen
from PySide6.QtWidgets import (
    QApplication,
    QGraphicsItem,
    QGraphicsPathItem,
    QGraphicsScene,
    QGraphicsView,
    QMenu,
    QToolTip,
)

from ...model.edits import NODE_HEIGHT, NODE_WIDTH, auto_layout, is_recurrent, positions_of
from .document import LOCKED_MESSAGE, Document, layer_colors_for
from .items import ACCENT, EdgeItem, NodeItem, PortItem, StateEdgeItem, edge_path
from .palette import LAYER_MIME

#: Clipboard format of copied layers (network-file JSON); the text is offered as plain text too.
LAYERS_MIME = "application/x-playground-layers"

GRID = 20.0
#: Dropped positions snap to this, so hand-placed chains line up.
SNAP = 10.0
MIN_ZOOM, MAX_ZOOM = 0.2, 3.0


class _Wire:
    """A connection being dragged out of a port: a dashed curve that follows the mouse.

    It aims at a layer (the card or port under the mouse), not only at a port, so dropping
    on an input layer's card still gets its reason ("nothing can feed it")."""

    def __init__(self, port: PortItem, scene: QGraphicsScene):
        self.port = port
        self.target: NodeItem | None = None
        self.item = QGraphicsPathItem()
        self.item.setPen(QPen(ACCENT, 2, Qt.DashLine, Qt.RoundCap))
        self.item.setZValue(2)
        scene.addItem(self.item)

    def ends(self, target: NodeItem) -> tuple[str, str]:
        """(source id, target id), whichever end the drag started from."""
        if self.port.kind == "out":
            return self.port.node.node_id, target.node_id
        return target.node_id, self.port.node.node_id

    def _target_port(self) -> PortItem | None:
        if self.target is None:
            return None
        return self.target.in_port if self.port.kind == "out" else self.target.out_port

    def draw_to(self, point: QPointF) -> None:
        start = self.port.scenePos()
        self.item.setPath(edge_path(start, point) if self.port.kind == "out" else edge_path(point, start))

    def aim(self, target: NodeItem | None, verdict: str | None) -> None:
        """Point at ``target``, marking its port "ok" or "refused"."""
        if self._target_port() is not None:
            self._target_port().mark(None)
        self.target = target
        if self._target_port() is not None:
            self._target_port().mark(verdict)

    def remove(self) -> None:
        self.aim(None, None)
        self.item.scene().removeItem(self.item)


class CanvasView(QGraphicsView):
    """The network editor's drawing: drop layers, wire ports, move, select, copy, zoom."""

    statusMessage = Signal(str)
    #: the selected layer ids, in the network's order, after every selection change
    selectionChangedTo = Signal(list)
    #: "Explain this number" for a layer (id, "") or for the connection into it (id, source id):
    #: a double-click or the right-click menu asks; the window answers with the numbers
    explainRequested = Signal(str, str)

    def __init__(self, document: Document, parent=None):
        super().__init__(parent)
        self.document = document
        self._scene = QGraphicsScene(self)  # kept: a view does not own its scene
        self._scene.setSceneRect(-5000, -5000, 10000, 10000)
        self.setScene(self._scene)
        self._nodes: dict[str, NodeItem] = {}
        self._edges: dict[tuple[str, str], EdgeItem] = {}
        self._state_edges: dict[tuple[str, str], StateEdgeItem] = {}
        self._banner = ""
        self._wire: _Wire | None = None
        self._pan_from: QPointF | None = None
        self._space_held = False
        self._fit_pending = True

        self.setRenderHints(QPainter.Antialiasing | QPainter.TextAntialiasing)
        self.setDragMode(QGraphicsView.RubberBandDrag)
        self.setTransformationAnchor(QGraphicsView.AnchorUnderMouse)
        # The banner is drawn in viewport coordinates: partial repaints would smear it.
        self.setViewportUpdateMode(QGraphicsView.FullViewportUpdate)
        self.setAcceptDrops(True)
        self.setFocusPolicy(Qt.StrongFocus)
        self.setFrameShape(QGraphicsView.NoFrame)

        self._actions = self._make_actions()
        self.addActions(self._actions)
        document.changed.connect(self._sync)
        document.replaced.connect(self._on_replaced)
        document.lockedChanged.connect(self._on_locked)
        self._scene.selectionChanged.connect(self._on_selection)
        self._sync()

    # --- actions ----------------------------------------------------------------------------
    def _make_actions(self) -> list[QAction]:
        # Editing keys act only while the canvas has focus, so Delete or Ctrl+C typed in the
        # inspector or a plot never removes layers; view actions work anywhere in the window.
        local, window = Qt.WidgetWithChildrenShortcut, Qt.WindowShortcut
        specs = [
            ("delete", "Delete", [QKeySequence.Delete], local, self.delete_selection),
            ("copy", "Copy", [QKeySequence.Copy], local, self.copy_selection),
            ("paste", "Paste", [QKeySequence.Paste], local, self.paste),
            ("select_all", "Select all", [QKeySequence.SelectAll], local, self.select_all),
            ("auto_layout", "Auto layout", [QKeySequence("Ctrl+Shift+L")], window, self.auto_layout),
            ("zoom_in", "Zoom in", [QKeySequence.ZoomIn, QKeySequence("Ctrl+=")], window, self.zoom_in),
            ("zoom_out", "Zoom out", [QKeySequence.ZoomOut], window, self.zoom_out),
            ("fit", "Fit to view", [QKeySequence("Ctrl+0")], window, self.fit_to_view),
        ]
        actions = []
        for name, text, shortcuts, context, slot in specs:
            action = QAction(text, self)
            action.setObjectName(name)
            action.setShortcuts(shortcuts)
            action.setShortcutContext(context)
            action.triggered.connect(slot)
            actions.append(action)
        return actions

    def actions(self) -> list[QAction]:
        """Delete, Copy, Paste, Select all, Auto layout, Zoom in, Zoom out, Fit: for the window's menus."""
        return list(self._actions)

    def action(self, name: str) -> QAction:
        """One of ``actions()`` by object name ("delete", "copy", ..., "fit")."""
        return next(a for a in self._actions if a.objectName() == name)

    def _update_actions(self) -> None:
        has_selection = bool(self._scene.selectedItems())
        editable = not self.document.locked
        self.action("delete").setEnabled(editable and has_selection)
        self.action("copy").setEnabled(bool(self.selected_ids()))
        self.action("paste").setEnabled(editable)
        self.action("auto_layout").setEnabled(editable)

    # --- following the document -------------------------------------------------------------
    def node_item(self, node_id: str) -> NodeItem:
        return self._nodes[node_id]

    def edge_item(self, source_id: str, target_id: str) -> EdgeItem:
        return self._edges[(source_id, target_id)]

    def _sync(self) -> None:
        """Make the scene show the document.  Items are added, dropped and refreshed in place
        rather than rebuilt, so an edit never disturbs what is selected."""
        spec, analysis = self.document.spec, self.document.analysis
        self._match_items(spec)
        node_problems: dict[str, list[str]] = defaultdict(list)
        edge_problems: dict[tuple[str, str], str] = {}
        for problem in analysis.problems:
            if problem.node is not None:
                node_problems[problem.node].append(problem.message)
            if problem.edge is not None:
                edge_problems.setdefault(tuple(problem.edge), problem.message)
        self._banner = "\n".join(p.message for p in analysis.problems if p.node is None)
        colours, positions = layer_colors_for(self.document), positions_of(spec)
        for node in spec.nodes:
            item = self._nodes[node.id]
            item.setPos(*positions[node.id])  # edges follow through itemChange
            item.refresh(node, analysis, colours.get(node.id), node_problems.get(node.id, []))
        for key, edge in [*self._edges.items(), *self._state_edges.items()]:
            edge.set_problem(edge_problems.get(key))
        self._update_actions()
        self.viewport().update()

    def _match_items(self, spec) -> None:
        """One card per layer and one curve per edge: create the missing, remove the gone."""
        wanted = {node.id: node for node in spec.nodes}
        stale = {i for i, item in self._nodes.items() if i not in wanted or wanted[i].type != item.type_id}
        for key in [k for k in self._edges if k not in spec.edges or stale & set(k)]:
            edge = self._edges.pop(key)
            edge.detach()
            self._scene.removeItem(edge)
        for node_id in stale:
            self._scene.removeItem(self._nodes.pop(node_id))
        for node in spec.nodes:
            if node.id not in self._nodes:
                self._nodes[node.id] = item = NodeItem(node)
                item.setFlag(QGraphicsItem.ItemIsMovable, not self.document.locked)
                self._scene.addItem(item)
        for key in spec.edges:
            if key not in self._edges:
                self._edges[key] = EdgeItem(self._nodes[key[0]], self._nodes[key[1]])
                self._scene.addItem(self._edges[key])
        self._match_state_edges(spec)

    def _match_state_edges(self, spec) -> None:
        """The encoder-decoder's state connections (none in a plain chain), apart from the data edges."""
        wanted = [key for key in spec.state_edges if key[0] in self._nodes and key[1] in self._nodes]
        for key, edge in list(self._state_edges.items()):
            if key not in wanted or edge.source is not self._nodes[key[0]] or edge.target is not self._nodes[key[1]]:
                edge.detach()
                self._scene.removeItem(self._state_edges.pop(key))
        for key in wanted:
            if key not in self._state_edges:
                self._state_edges[key] = StateEdgeItem(self._nodes[key[0]], self._nodes[key[1]])
                self._scene.addItem(self._state_edges[key])

    def state_edge_item(self, source_id: str, target_id: str) -> StateEdgeItem:
        return self._state_edges[(source_id, target_id)]

    def _on_replaced(self) -> None:
        self._scene.clearSelection()
        self._fit_pending = True
        if self.isVisible():
            self.fit_to_view()

    def _on_locked(self, locked: bool) -> None:
        for item in self._nodes.values():
            item.setFlag(QGraphicsItem.ItemIsMovable, not locked)
        self._update_actions()

    def _on_selection(self) -> None:
        self._update_actions()
        self.selectionChangedTo.emit(self.selected_ids())

    def selected_ids(self) -> list[str]:
        return [
            node.id for node in self.document.spec.nodes if node.id in self._nodes and self._nodes[node.id].isSelected()
        ]

    def select(self, ids) -> None:
        self._scene.clearSelection()
        for node_id in ids:
            self._nodes[node_id].setSelected(True)

    # --- edits started here -------------------------------------------------------------
    def _edit(self, call, *args):
        """Call a document edit; if refused, its reason is shown here too (status and tooltip)."""
        with self.document.refusals() as reasons:
            result = call(*args)
        if reasons:
            self._tell(reasons[0])
        return result

    def _tell(self, message: str) -> None:
        self.statusMessage.emit(message)
        QToolTip.showText(QCursor.pos(), message, self.viewport())

    def add_layer_at(self, type_id: str, scene_point: QPointF) -> str | None:
        """Add a layer centred on ``scene_point`` and select it."""
        corner = scene_point - QPointF(NODE_WIDTH / 2, NODE_HEIGHT / 2)
        node_id = self._edit(self.document.add_layer, type_id, (_snap(corner.x()), _snap(corner.y())))
        if node_id:
            self.select([node_id])
        return node_id

    def add_layer_in_view(self, type_id: str) -> str | None:
        """Add a layer in the middle of what is visible (the palette's double-click)."""
        return self.add_layer_at(type_id, self.mapToScene(self.viewport().rect().center()))

    def delete_selection(self) -> None:
        """Remove the selected layers and connections of both kinds, as one undo step."""
        selected = self._scene.selectedItems()
        state_edges = [item.key for item in selected if isinstance(item, StateEdgeItem)]
        edges = [item.key for item in selected if isinstance(item, EdgeItem) and not isinstance(item, StateEdgeItem)]
        ids = self.selected_ids()
        if ids or edges or state_edges:
            self._edit(self.document.remove_layers, ids, edges, state_edges)

    def feed_state(self, source_id: str, target_id: str) -> bool:
        """Make ``source_id``'s final state ``target_id``'s initial state (encoder → decoder)."""
        done = self._edit(self.document.connect, source_id, target_id, "state")
        if done:
            self.statusMessage.emit(f'"{target_id}" now starts from the final state of "{source_id}"')
        return done

    def copy_selection(self) -> None:
        ids = self.selected_ids()
        if not ids:
            self.statusMessage.emit("Select layers to copy")
            return
        payload = self.document.copy_payload(ids)
        mime = QMimeData()
        mime.setData(LAYERS_MIME, payload.encode("utf-8"))
        mime.setText(payload)
        QApplication.clipboard().setMimeData(mime)
        self.statusMessage.emit(f"Copied {len(ids)} layer{'s' if len(ids) > 1 else ''}")

    def paste(self) -> None:
        """Paste the clipboard's layers in the next free column, clear of every card, and show them."""
        mime = QApplication.clipboard().mimeData()
        if mime is None or not mime.hasFormat(LAYERS_MIME):
            self.statusMessage.emit("The clipboard holds no layers")
            return
        ids = self._edit(self.document.paste, bytes(mime.data(LAYERS_MIME)).decode("utf-8"))
        if ids:
            self.select(ids)
            area = QRectF()
            for node_id in ids:
                area = area.united(self._nodes[node_id].sceneBoundingRect())
            self.ensureVisible(area, 20, 20)
            self.statusMessage.emit(f"Pasted {len(ids)} layer{'s' if len(ids) > 1 else ''}")

    def select_all(self) -> None:
        for item in self._nodes.values():
            item.setSelected(True)

    def auto_layout(self) -> None:
        """Each chain top to bottom, in order; one undo step."""
        if self._edit(self.document.move_layers, auto_layout(self.document.spec), "Auto layout"):
            self.fit_to_view()

    def _commit_moves(self) -> None:
        """After a drag: one move_layers call with every card that moved (snapped to the grid)."""
        before = self.document.spec
        stored = positions_of(before)
        moved = {
            node_id: (_snap(item.x()), _snap(item.y()))
            for node_id, item in self._nodes.items()
            if (item.x(), item.y()) != stored.get(node_id)
        }
        if moved:
            self._edit(self.document.move_layers, moved)
            if self.document.spec is before:  # refused, or snapped back to where it was
                self._sync()

    # --- zoom and pan -------------------------------------------------------------------
    def zoom(self) -> float:
        return self.transform().m11()

    def set_zoom(self, level: float) -> None:
        level = min(MAX_ZOOM, max(MIN_ZOOM, level))
        self.scale(level / self.zoom(), level / self.zoom())

    def zoom_in(self) -> None:
        self.set_zoom(self.zoom() * 1.25)

    def zoom_out(self) -> None:
        self.set_zoom(self.zoom() / 1.25)

    def fit_to_view(self) -> None:
        """Show the whole network, never magnified beyond 100%: small networks stay crisp."""
        self._fit_pending = False
        bounds = QRectF()
        for item in self._nodes.values():
            bounds = bounds.united(item.sceneBoundingRect())
        if bounds.isEmpty():
            self.resetTransform()
            self.centerOn(0, 0)
            return
        margin = 40.0
        self.fitInView(bounds.adjusted(-margin, -margin, margin, margin), Qt.KeepAspectRatio)
        if self.zoom() > 1.0:
            self.resetTransform()
        self.set_zoom(self.zoom())  # clamp to the zoom range
        self.centerOn(bounds.center())

    def showEvent(self, event):
        super().showEvent(event)
        if self._fit_pending:
            self.fit_to_view()

    def wheelEvent(self, event):
        if event.modifiers() & Qt.ControlModifier:
            self.set_zoom(self.zoom() * 1.0015 ** event.angleDelta().y())
            event.accept()
        else:
            super().wheelEvent(event)

    def keyPressEvent(self, event):
        if event.key() == Qt.Key_Space and not event.isAutoRepeat():
            self._space_held = True
            self.viewport().setCursor(Qt.OpenHandCursor)
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event):
        if event.key() == Qt.Key_Space and not event.isAutoRepeat():
            self._space_held = False
            self.viewport().unsetCursor()
            return
        super().keyReleaseEvent(event)

    # --- mouse: pan, wire, move ---------------------------------------------------------
    def _port_at(self, view_point) -> PortItem | None:
        return next((i for i in self.items(view_point.toPoint()) if isinstance(i, PortItem)), None)

    def _node_at(self, view_point) -> NodeItem | None:
        """The card under the point, its ports included."""
        for item in self.items(view_point.toPoint()):
            if isinstance(item, (PortItem, NodeItem)):
                return item.node if isinstance(item, PortItem) else item
        return None

    def mousePressEvent(self, event):
        if event.button() == Qt.MiddleButton or (event.button() == Qt.LeftButton and self._space_held):
            self._pan_from = event.position()
            self.viewport().setCursor(Qt.ClosedHandCursor)
            return
        port = self._port_at(event.position()) if event.button() == Qt.LeftButton else None
        if port is not None:
            if self.document.locked:
                self._tell(LOCKED_MESSAGE)
                return
            self._wire = _Wire(port, self._scene)
            self._wire.draw_to(self.mapToScene(event.position().toPoint()))
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event):
        if self._pan_from is not None:
            delta = event.position() - self._pan_from
            self._pan_from = event.position()
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - round(delta.x()))
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() - round(delta.y()))
            return
        if self._wire is not None:
            self._drag_wire(event.position())
            return
        super().mouseMoveEvent(event)

    def _drag_wire(self, view_point) -> None:
        wire = self._wire
        wire.draw_to(self.mapToScene(view_point.toPoint()))
        target = self._node_at(view_point)
        if target is wire.port.node:
            target = None  # back over its own card: a click on a port is no attempt to connect
        if target is wire.target:
            return
        problem = self.document.connection_problem(*wire.ends(target)) if target else None
        wire.aim(target, None if target is None else "refused" if problem else "ok")
        if problem:
            self.statusMessage.emit(problem)

    def mouseReleaseEvent(self, event):
        if self._pan_from is not None:
            self._pan_from = None
            if self._space_held:
                self.viewport().setCursor(Qt.OpenHandCursor)
            else:
                self.viewport().unsetCursor()
            return
        if self._wire is not None:
            self._drag_wire(event.position())
            wire, self._wire = self._wire, None
            target = wire.target
            wire.remove()
            if target is not None:
                self._edit(self.document.connect, *wire.ends(target))
            return
        super().mouseReleaseEvent(event)
        self._commit_moves()

    def _explainable_at(self, view_point) -> tuple[str, str] | None:
        """(layer id, source id or "") of the card or connection under the point, or None."""
        for item in self.items(view_point.toPoint()):
            if isinstance(item, (PortItem, NodeItem)):
                return (item.node if isinstance(item, PortItem) else item).node_id, ""
            if isinstance(item, EdgeItem) and not isinstance(item, StateEdgeItem):
                return item.key[1], item.key[0]
        return None

    def mouseDoubleClickEvent(self, event):
        under = self._explainable_at(event.position()) if event.button() == Qt.LeftButton else None
        if under is None:
            super().mouseDoubleClickEvent(event)
            return
        self.explainRequested.emit(*under)

    def contextMenuEvent(self, event):
        menu = self.context_menu(QPointF(event.pos()))
        menu.exec(event.globalPos())
        menu.deleteLater()

    def context_menu(self, view_point) -> QMenu:
        """The right-click menu at ``view_point``.  A connection clicked on becomes the
        selection, so the menu's Delete removes it; a recurrent card adds "Feed final state
        to ▸", the one way to make an encoder-decoder's state connection."""
        under = next(
            (i for i in self.items(view_point.toPoint()) if isinstance(i, (PortItem, NodeItem, EdgeItem))), None
        )
        if isinstance(under, EdgeItem):
            self._scene.clearSelection()
            under.setSelected(True)
        menu = QMenu(self)
        node = under.node if isinstance(under, PortItem) else under
        if isinstance(node, NodeItem) and is_recurrent(node.type_id):
            menu.addMenu(self._state_menu(node.node_id, menu))
            menu.addSeparator()
        explainable = self._explainable_at(view_point)
        if explainable is not None:
            explain = menu.addAction("Explain this number…")
            explain.setObjectName("explain")
            explain.setStatusTip("The activation, δ and gradient of a unit or weight here, with their formulas")
            explain.triggered.connect(lambda _=False: self.explainRequested.emit(*explainable))
            menu.addSeparator()
        menu.addActions(self._actions)
        return menu

    def _state_menu(self, source_id: str, parent: QMenu) -> QMenu:
        """One entry per other recurrent layer.  Entries stay enabled even where the edit
        would be refused: choosing one then says why, where a greyed entry would not."""
        menu = QMenu("Feed final state to", parent)
        menu.setToolTipsVisible(True)
        targets = [node for node in self.document.spec.nodes if node.id != source_id and is_recurrent(node.type)]
        for node in targets:
            problem = self.document.connection_problem(source_id, node.id, "state")
            action = menu.addAction(f"{node.id} ({node.type})")
            action.setObjectName(node.id)
            tip = problem or (
                f'"{node.id}" starts from the final state of "{source_id}": "{source_id}" encodes, "{node.id}" decodes'
            )
            action.setToolTip(tip)
            action.setStatusTip(tip)
            action.triggered.connect(lambda _=False, target=node.id: self.feed_state(source_id, target))
        if not targets:
            menu.addAction("Add another SimpleRNN or LSTM layer to be the decoder").setEnabled(False)
        return menu

    # --- drops from the palette ---------------------------------------------------------
    def dragEnterEvent(self, event):
        if event.mimeData().hasFormat(LAYER_MIME):
            event.acceptProposedAction()
        else:
            event.ignore()

    dragMoveEvent = dragEnterEvent

    def dropEvent(self, event):
        if not event.mimeData().hasFormat(LAYER_MIME):
            event.ignore()
            return
        type_id = bytes(event.mimeData().data(LAYER_MIME)).decode("utf-8")
        self.add_layer_at(type_id, self.mapToScene(event.position().toPoint()))
        event.acceptProposedAction()
        self.setFocus()

    # --- painting -------------------------------------------------------------------------
    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:
        """A light canvas with a faint grid: fine lines every 20, stronger ones every 100."""
        painter.fillRect(rect, QColor("#F8FAFC"))
        steps = [(GRID * 5, QColor("#E2E8F0"))]
        if self.zoom() >= 0.5:
            steps.insert(0, (GRID, QColor("#EEF2F7")))
        for step, colour in steps:
            pen = QPen(colour, 1)
            pen.setCosmetic(True)
            painter.setPen(pen)
            x = rect.left() - rect.left() % step
            while x < rect.right():
                painter.drawLine(QPointF(x, rect.top()), QPointF(x, rect.bottom()))
                x += step
            y = rect.top() - rect.top() % step
            while y < rect.bottom():
                painter.drawLine(QPointF(rect.left(), y), QPointF(rect.right(), y))
                y += step

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:
        """Problems of the whole network (no input layer...) or a hint on an empty canvas."""
        text = self._banner if self._nodes else "Drag layers here from the palette"
        if not text:
            return
        painter.save()
        painter.resetTransform()  # viewport coordinates: the banner stays put while panning
        font = painter.font()
        font.setPixelSize(13)
        painter.setFont(font)
        box = painter.fontMetrics().boundingRect(QRectF(0, 0, 600, 400).toRect(), Qt.TextWordWrap, text)
        box = QRectF(box).adjusted(-12, -8, 12, 8).translated(16 + 12, 16 + 8)
        problem = bool(self._nodes)
        painter.setRenderHint(QPainter.Antialiasing)
        painter.setPen(QPen(QColor("#FCA5A5") if problem else QColor("#CBD5E1"), 1))
        painter.setBrush(QColor("#FEF2F2") if problem else QColor("#FFFFFF"))
        painter.drawRoundedRect(box, 6, 6)
        painter.setPen(QColor("#B91C1C") if problem else QColor("#475569"))
        painter.drawText(box.adjusted(12, 8, -12, -8), Qt.TextWordWrap, text)
        painter.restore()


def _snap(value: float) -> float:
    return round(value / SNAP) * SNAP
