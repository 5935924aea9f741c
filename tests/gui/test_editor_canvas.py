"""The canvas and palette, driven the way a user drives them: drops built from the palette's
own mime data, mouse drags on the viewport, and the actions' shortcuts."""

import dataclasses

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent, QKeySequence, QWheelEvent
from PySide6.QtWidgets import QApplication, QGraphicsItem

from playground.engine.config import option
from playground.engine.layers import LAYER_TYPES, Layer, register_layer
from playground.gui.editor import LAYER_MIME, LOCKED_MESSAGE, CanvasView, PaletteWidget
from playground.gui.editor.items import ERROR
from playground.model import sequential_spec
from playground.model.edits import NODE_WIDTH


@pytest.fixture
def view(qtbot, doc):
    view = CanvasView(doc)
    qtbot.addWidget(view)
    view.resize(800, 700)
    view.show()
    qtbot.waitExposed(view)
    return view


@pytest.fixture
def messages(view):
    found = []
    view.statusMessage.connect(found.append)
    return found


def at(view, scene_point) -> QPoint:
    """Viewport coordinates of a scene point."""
    return view.mapFromScene(scene_point)


def drag(qtbot, view, start: QPoint, end: QPoint, steps: int = 5):
    viewport = view.viewport()
    qtbot.mousePress(viewport, Qt.LeftButton, pos=start)
    for i in range(1, steps + 1):
        qtbot.mouseMove(viewport, start + (end - start) * (i / steps))
    qtbot.mouseRelease(viewport, Qt.LeftButton, pos=end)


def drop(view, mime, pos: QPoint):
    viewport = view.viewport()
    enter = QDragEnterEvent(pos, Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(viewport, enter)
    assert enter.isAccepted()
    QApplication.sendEvent(viewport, QDragMoveEvent(pos, Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier))
    QApplication.sendEvent(viewport, QDropEvent(QPointF(pos), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier))


def test_drop_from_the_palette_adds_the_layer_where_it_fell(qtbot, view, doc):
    palette = PaletteWidget()
    qtbot.addWidget(palette)
    target = QPointF(400, 300)
    drop(view, palette.mime_data_for("dropout"), at(view, target))
    assert "dropout1" in view.selected_ids()
    x, y = doc.spec.ui["positions"]["dropout1"]
    card = view.node_item("dropout1").sceneBoundingRect()
    assert card.contains(target) and abs(x - (target.x() - 100)) <= 10
    doc.undo_stack.undo()
    assert "dropout1" not in [n.id for n in doc.spec.nodes]
    with pytest.raises(KeyError):
        view.node_item("dropout1")


def test_a_drop_of_something_else_is_ignored(view):
    from PySide6.QtCore import QMimeData

    mime = QMimeData()
    mime.setText("hello")
    enter = QDragEnterEvent(QPoint(10, 10), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(view.viewport(), enter)
    assert not enter.isAccepted()


def test_connect_by_dragging_from_an_output_port_to_an_input_port(qtbot, view, doc):
    doc.remove_layers([], [("fc1", "out")])
    start = at(view, view.node_item("fc1").out_port.scenePos())
    end = at(view, view.node_item("out").in_port.scenePos())
    drag(qtbot, view, start, end)
    assert ("fc1", "out") in doc.spec.edges
    assert view.edge_item("fc1", "out").isVisible()
    assert not [i for i in view.scene().items() if i.__class__.__name__ == "QGraphicsPathItem"]  # wire gone
    doc.undo_stack.undo()
    assert ("fc1", "out") not in doc.spec.edges


def test_dragging_backwards_from_an_input_port_connects_too(qtbot, view, doc):
    doc.remove_layers([], [("fc1", "out")])
    drag(
        qtbot,
        view,
        at(view, view.node_item("out").in_port.scenePos()),
        at(view, view.node_item("fc1").sceneBoundingRect().center()),
    )  # anywhere on the card
    assert ("fc1", "out") in doc.spec.edges


def test_a_refused_connection_says_why_and_changes_nothing(qtbot, view, doc, messages):
    new = doc.add_layer("dense", (300, 0))
    before, steps = doc.spec, doc.undo_stack.count()
    drag(
        qtbot,
        view,
        at(view, view.node_item(new).out_port.scenePos()),
        at(view, view.node_item("fc1").in_port.scenePos()),
    )
    assert doc.spec is before and doc.undo_stack.count() == steps
    assert messages and "already has an input" in messages[-1]
    assert view.node_item("fc1").in_port.brush().color() != ERROR  # the mark is cleared


def test_a_wire_dropped_on_the_input_card_is_refused_with_its_reason(qtbot, view, doc, messages):
    drag(
        qtbot,
        view,
        at(view, view.node_item("out").out_port.scenePos()),
        at(view, view.node_item("in").sceneBoundingRect().center()),
    )
    assert messages[-1] == '"in" is an input layer: nothing can feed it.' and doc.undo_stack.count() == 0


def test_a_click_on_a_port_does_nothing(qtbot, view, doc, messages):
    port = at(view, view.node_item("out").out_port.scenePos())
    drag(qtbot, view, port, port + QPoint(2, 2))
    assert not messages and doc.undo_stack.count() == 0 and not view.selected_ids()


def test_moving_a_card_is_one_undo_step(qtbot, view, doc):
    item = view.node_item("out")
    start_pos = item.pos()
    grab = at(view, item.sceneBoundingRect().center())
    drag(qtbot, view, grab, grab + QPoint(120, 40))
    moved = doc.spec.ui["positions"]["out"]
    assert moved[0] - start_pos.x() > 60 and moved[1] - start_pos.y() > 10
    assert item.pos() == QPointF(*moved)
    assert doc.undo_stack.count() == 1
    doc.undo_stack.undo()
    assert item.pos() == start_pos and doc.spec.ui["positions"]["out"] == [start_pos.x(), start_pos.y()]
    assert view.edge_item("fc1", "out").path().pointAtPercent(1).y() < start_pos.y()  # the edge followed


def test_rubber_band_selects_and_delete_removes_layers_with_their_edges(qtbot, view, doc):
    first = view.node_item("in").sceneBoundingRect()
    second = view.node_item("fc1").sceneBoundingRect()
    drag(qtbot, view, at(view, first.topLeft() - QPointF(20, 20)), at(view, second.bottomRight() + QPointF(20, 5)))
    assert view.selected_ids() == ["in", "fc1"]
    view.setFocus()
    qtbot.keyClick(view.viewport(), Qt.Key_Delete)
    assert [n.id for n in doc.spec.nodes] == ["out"] and doc.spec.edges == []
    doc.undo_stack.undo()
    assert len(doc.spec.edges) == 2 and view.edge_item("in", "fc1")


def test_a_selected_edge_can_be_deleted(view, doc):
    view.edge_item("fc1", "out").setSelected(True)
    view.action("delete").trigger()
    assert doc.spec.edges == [("in", "fc1")] and len(doc.spec.nodes) == 3


def test_copy_paste_through_the_clipboard(view, doc):
    view.action("select_all").trigger()
    assert view.selected_ids() == ["in", "fc1", "out"]
    view.action("copy").trigger()
    view.action("paste").trigger()
    new = view.selected_ids()
    assert len(new) == 3 and not set(new) & {"in", "fc1", "out"}
    assert len(doc.spec.edges) == 4
    old_pos, new_pos = doc.spec.ui["positions"]["fc1"], doc.spec.ui["positions"][new[1]]
    assert new_pos[0] >= old_pos[0] + NODE_WIDTH and new_pos[1] == old_pos[1]  # beside the original
    assert any("second input layer" in p.message for p in doc.analysis.problems)


def test_paste_overlaps_nothing_and_says_pasted(view, doc, messages):
    view.select(["fc1", "out"])
    view.action("copy").trigger()
    assert messages[-1] == "Copied 2 layers"
    for _ in range(2):
        view.action("paste").trigger()
        assert messages[-1] == "Pasted 2 layers"
    assert len(doc.spec.nodes) == 7
    cards = [view.node_item(node.id).sceneBoundingRect() for node in doc.spec.nodes]
    for i, card in enumerate(cards):
        assert not any(card.intersects(other) for other in cards[i + 1 :])
    pasted = [view.node_item(node_id) for node_id in view.selected_ids()]
    assert all(view.mapToScene(view.viewport().rect()).boundingRect().intersects(c.sceneBoundingRect()) for c in pasted)


def test_live_validation_marks_problems(view, doc):
    loose = doc.add_layer("dense", (300, 0))
    card = view.node_item(loose)
    assert card.problems and "not connected" in card.toolTip()
    doc.set_spec(sequential_spec([4, 3, 2], activation="relu", output="relu", cost="cross-entropy", initializer="he"))
    out = view.node_item("out")
    assert "cross-entropy cost needs a sigmoid output" in out.toolTip() and out.problems
    assert not view.node_item("fc1").problems
    doc.set_training("cost", "quadratic")
    assert not out.problems and not view._banner
    doc.remove_layers(["in"])
    assert view._banner == "the network has no input layer"


def test_a_shape_problem_marks_the_layer_and_its_edge(view, doc):
    doc.set_layer_config("in", "shape", (1,))  # still fine: dense flattens anything
    assert not view.node_item("fc1").problems
    doc.remove_layers([], [("in", "fc1")])
    dropout = doc.add_layer("dropout", (300, 0))
    doc.set_spec(dataclasses.replace(doc.spec, edges=[("in", "fc1"), ("fc1", "out"), (dropout, "fc1")]))
    edge = view.edge_item(dropout, "fc1")
    assert edge.problem and "a layer takes exactly one" in edge.toolTip()
    assert "2 inputs" in view.node_item("fc1").toolTip()


def test_cards_show_shape_and_parameter_count(view, doc):
    assert view.node_item("in").lines() == ["in", "Input", "784", "no params"]
    assert view.node_item("fc1").lines() == ["fc1", "Dense · sigmoid", "30", "23,550 params"]
    doc.set_layer_config("fc1", "units", 50)
    assert view.node_item("fc1").lines()[2:] == ["50", "39,250 params"]
    assert view.node_item("out").lines()[3] == "510 params"


def test_header_colours_match_the_plots(view, doc):
    from playground.gui.colors import layer_color

    assert view.node_item("fc1").header_colour == layer_color(0)
    assert view.node_item("out").header_colour == layer_color(1)


def test_locked_canvas_refuses_drops_and_wires(qtbot, view, doc, messages):
    palette = PaletteWidget()
    qtbot.addWidget(palette)
    doc.locked = True
    assert not view.action("delete").isEnabled() and not view.action("paste").isEnabled()
    assert not view.node_item("fc1").flags() & QGraphicsItem.ItemIsMovable
    drop(view, palette.mime_data_for("dense"), QPoint(50, 50))
    drag(qtbot, view, at(view, view.node_item("fc1").out_port.scenePos()), QPoint(10, 10))
    assert messages == [LOCKED_MESSAGE, LOCKED_MESSAGE] and len(doc.spec.nodes) == 3


def test_auto_layout_is_one_move(view, doc):
    doc.move_layers({"fc1": (500, 30), "out": (-200, 400)})
    view.action("auto_layout").trigger()
    assert doc.spec.ui["positions"] == {"in": [0.0, 0.0], "fc1": [0.0, 110.0], "out": [0.0, 220.0]}
    doc.undo_stack.undo()
    assert doc.spec.ui["positions"]["fc1"] == [500.0, 30.0]


def test_zoom_and_fit(view, doc):
    view.resetTransform()
    view.action("zoom_in").trigger()
    assert view.zoom() == pytest.approx(1.25)
    view.action("zoom_out").trigger()
    view.action("zoom_out").trigger()
    assert view.zoom() == pytest.approx(0.8)
    for _ in range(30):
        view.action("zoom_out").trigger()
    assert view.zoom() == pytest.approx(0.2)
    doc.move_layers({"out": (3000, 3000)})
    view.action("fit").trigger()
    visible = view.mapToScene(view.viewport().rect()).boundingRect()
    for node_id in ("in", "out"):
        assert visible.contains(view.node_item(node_id).sceneBoundingRect())


def test_ctrl_wheel_zooms_and_middle_drag_pans(qtbot, view, doc):
    view.resetTransform()
    centre = QPointF(view.viewport().rect().center())
    wheel = QWheelEvent(
        centre,
        QPointF(view.mapToGlobal(centre.toPoint())),
        QPoint(),
        QPoint(0, 240),
        Qt.NoButton,
        Qt.ControlModifier,
        Qt.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(view.viewport(), wheel)
    assert view.zoom() > 1.3
    scroll = view.horizontalScrollBar().value(), view.verticalScrollBar().value()
    viewport = view.viewport()
    qtbot.mousePress(viewport, Qt.MiddleButton, pos=QPoint(300, 300))
    qtbot.mouseMove(viewport, QPoint(250, 260))
    qtbot.mouseRelease(viewport, Qt.MiddleButton, pos=QPoint(250, 260))
    assert (view.horizontalScrollBar().value(), view.verticalScrollBar().value()) == (scroll[0] + 50, scroll[1] + 40)
    assert doc.undo_stack.count() == 0


def test_actions_carry_standard_shortcuts(view):
    names = [a.objectName() for a in view.actions()]
    assert names == ["delete", "copy", "paste", "select_all", "auto_layout", "zoom_in", "zoom_out", "fit"]
    assert view.action("copy").shortcut() == QKeySequence(QKeySequence.Copy)
    assert view.action("delete").shortcutContext() == Qt.WidgetWithChildrenShortcut
    assert QKeySequence("Ctrl+-") in view.action("zoom_out").shortcuts()


def test_selection_is_announced_in_network_order(view):
    seen = []
    view.selectionChangedTo.connect(seen.append)
    view.node_item("out").setSelected(True)
    view.node_item("in").setSelected(True)
    assert seen[-1] == ["in", "out"]


@pytest.fixture
def extra_layer_type():
    """A layer type registered for one test, as a new layer file would register it."""

    @dataclasses.dataclass(frozen=True)
    class ScaleConfig:
        factor: float = option(2.0, help="What to multiply by.", minimum=0.0)
        mode: str = option("fast", help="How.", choices=("fast", "exact"))

    @register_layer
    class Scale(Layer):
        type_id = "scale_test"
        category = "Experimental"
        Config = ScaleConfig
        formula = "a = k·x"
        when_to_use = "Never: it exists for a test."

    yield "scale_test"
    del LAYER_TYPES["scale_test"]


def test_palette_lists_every_registered_type_with_its_formula(qtbot, extra_layer_type):
    palette = PaletteWidget()
    qtbot.addWidget(palette)
    assert sorted(palette.type_ids()) == sorted(LAYER_TYPES)
    groups = [palette.tree.topLevelItem(i).text(0) for i in range(palette.tree.topLevelItemCount())]
    assert "Experimental" in groups and "Regularisation" in groups
    [dense] = palette.tree.findItems("Dense", Qt.MatchRecursive)
    assert "a = f(W·x + b)" in dense.toolTip(0) and "multilayer perceptrons" in dense.toolTip(0)
    mime = palette.tree.mimeData([dense])
    assert bytes(mime.data(LAYER_MIME)) == b"dense"


def test_a_new_layer_type_needs_no_canvas_code(qtbot, view, doc, extra_layer_type):
    new = view.add_layer_in_view(extra_layer_type)
    assert new == "scale_test1" and view.node_item(new).lines()[1] == "Scale test · fast"
