"""State connections on the canvas: an encoder's final state fed to a decoder, made from a
recurrent card's context menu, deleted like an edge, undone, saved, and marked when wrong."""

import dataclasses
import json

import pytest
from PySide6.QtCore import QPointF, Qt

from playground.gui.editor import CanvasView, Document
from playground.gui.editor.items import ERROR, STATE_HINT
from playground.model import encoder_decoder_spec, load_spec, save_spec

from .helpers import mlp


def translator(cell="lstm"):
    """A small encoder-decoder whose state connection the user has yet to draw."""
    spec = encoder_decoder_spec(
        source_vocabulary=5, target_vocabulary=6, source_length=4, target_length=3, hidden=8, dimension=4, cell=cell
    )
    return dataclasses.replace(spec, state_edges=[])


@pytest.fixture
def doc(qapp):
    return Document(translator())


@pytest.fixture
def show(qtbot):
    """Shows a canvas on a document; ``view.messages`` records its status-bar messages."""

    def show(document):
        view = CanvasView(document)
        qtbot.addWidget(view)
        view.messages = []
        view.statusMessage.connect(view.messages.append)
        view.resize(900, 700)
        view.show()
        qtbot.waitExposed(view)
        return view

    return show


@pytest.fixture
def view(show, doc):
    return show(doc)


def centre_of(view, item):
    return QPointF(view.mapFromScene(item.sceneBoundingRect().center()))


def state_entries(view, node_id):
    """The "Feed final state to" submenu of the card's context menu, by target id."""
    menu = view.context_menu(centre_of(view, view.node_item(node_id)))
    submenus = [a.menu() for a in menu.actions() if a.menu() is not None]
    assert [m.title() for m in submenus] == ["Feed final state to"]
    return {action.objectName(): action for action in submenus[0].actions()}


def label_colours(view, edge):
    """The colours drawn around the middle of the edge, where its "state" label sits."""
    image = view.grab().toImage()
    middle = view.mapFromScene(edge.path().pointAtPercent(0.5))
    return {image.pixelColor(middle.x() + dx, middle.y() + dy).name() for dx in range(-8, 9) for dy in range(-10, 11)}


def test_feed_final_state_from_the_context_menu_makes_a_valid_encoder_decoder(view, doc):
    assert any("second input layer" in p.message for p in doc.analysis.problems)
    entries = state_entries(view, "encoder")
    assert list(entries) == ["decoder"]
    entries["decoder"].trigger()
    assert doc.spec.state_edges == [("encoder", "decoder")]
    assert ("encoder", "decoder") not in doc.spec.edges and len(doc.spec.edges) == 5
    assert doc.analysis.ok, doc.analysis.problems
    edge = view.state_edge_item("encoder", "decoder")
    assert edge.problem is None and "final state" in edge.toolTip()
    assert "final state" in view.messages[-1]


def test_a_state_connection_is_one_undo_step(view, doc):
    state_entries(view, "encoder")["decoder"].trigger()
    assert doc.undo_stack.undoText() == "Feed encoder's state to decoder"
    doc.undo()
    assert doc.spec.state_edges == [] and not view._state_edges
    doc.redo()
    assert doc.spec.state_edges == [("encoder", "decoder")] and view.state_edge_item("encoder", "decoder")


def test_recurrent_cards_say_how_to_connect_state_and_others_have_no_entry(view):
    assert STATE_HINT in view.node_item("encoder").toolTip()
    assert STATE_HINT not in view.node_item("words").toolTip()
    menu = view.context_menu(centre_of(view, view.node_item("words")))
    assert all(a.menu() is None for a in menu.actions())


def test_a_refused_state_connection_says_why(view, doc):
    doc.connect("encoder", "decoder", "state")
    entry = state_entries(view, "decoder")["encoder"]
    assert "already has a state connection" in entry.toolTip()
    entry.trigger()
    assert doc.spec.state_edges == [("encoder", "decoder")] and "already has a state connection" in view.messages[-1]
    assert not doc.connect("encoder", "words", "state")
    assert doc.spec.state_edges == [("encoder", "decoder")]


def test_right_click_selects_a_state_edge_and_delete_removes_it(view, doc):
    doc.connect("encoder", "decoder", "state")
    edge = view.state_edge_item("encoder", "decoder")
    menu = view.context_menu(QPointF(view.mapFromScene(edge.path().pointAtPercent(0.25))))
    assert edge.isSelected() and view.action("delete") in menu.actions()
    view.action("delete").trigger()
    assert doc.spec.state_edges == [] and len(doc.spec.edges) == 5 and len(doc.spec.nodes) == 7
    doc.undo()
    assert doc.spec.state_edges == [("encoder", "decoder")]


def test_the_delete_key_removes_a_selected_state_edge(qtbot, view, doc):
    doc.connect("encoder", "decoder", "state")
    view.state_edge_item("encoder", "decoder").setSelected(True)
    view.setFocus()
    qtbot.keyClick(view.viewport(), Qt.Key_Delete)
    assert doc.spec.state_edges == []
    doc.undo()
    assert doc.spec.state_edges == [("encoder", "decoder")]


def test_deleting_a_layer_takes_its_state_connection_with_it(view, doc):
    doc.connect("encoder", "decoder", "state")
    view.select(["decoder"])
    view.action("delete").trigger()
    assert doc.spec.state_edges == [] and "decoder" not in view._nodes
    doc.undo()
    assert view.state_edge_item("encoder", "decoder")


def test_a_user_made_state_edge_survives_save_and_load(view, doc, tmp_path):
    state_entries(view, "encoder")["decoder"].trigger()
    path = tmp_path / "translator.json"
    save_spec(doc.spec, path)
    saved = json.loads(path.read_text())["edges"]
    assert {"from": "encoder", "to": "decoder", "kind": "state"} in saved
    loaded = load_spec(path)
    assert loaded.state_edges == [("encoder", "decoder")] and loaded.edges == doc.spec.edges
    doc.set_spec(loaded)
    assert view.state_edge_item("encoder", "decoder") and doc.analysis.ok


def test_an_impossible_state_edge_is_marked_with_its_reason(view, doc):
    doc.set_spec(dataclasses.replace(doc.spec, state_edges=[("encoder", "words")]))  # as a hand-edited file may
    edge = view.state_edge_item("encoder", "words")
    assert "joins two recurrent layers" in edge.problem and edge.toolTip() == edge.problem
    assert edge.problem in view.node_item("words").toolTip()
    assert ERROR.name() in label_colours(view, edge)
    doc.set_spec(dataclasses.replace(doc.spec, state_edges=[("encoder", "decoder")]))
    assert ERROR.name() not in label_colours(view, view.state_edge_item("encoder", "decoder"))


def test_a_mismatched_state_edge_made_in_the_menu_is_marked_and_fixable(show):
    """LSTM encoder, SimpleRNN decoder: the menu offers it (a layer setting away from valid),
    analyse explains it, and the mark goes when the connection goes."""
    spec = translator()
    rnn = translator("simple_rnn").node("decoder")
    spec = dataclasses.replace(spec, nodes=[rnn if n.id == "decoder" else n for n in spec.nodes])
    doc = Document(spec)
    view = show(doc)
    state_entries(view, "encoder")["decoder"].trigger()
    edge = view.state_edge_item("encoder", "decoder")
    assert "same kind of recurrent layer" in edge.problem
    doc.disconnect("encoder", "decoder", "state")
    assert not view._state_edges and not any(p.edge == ("encoder", "decoder") for p in doc.analysis.problems)


def test_a_second_input_from_the_palette_until_the_encoder_decoder_is_valid(view, doc):
    """Build the decoder's side by hand: each step's remaining problem is named, none at the end."""
    start = translator()
    encoder_side = ["source", "source_embedding", "encoder"]
    doc.set_spec(
        dataclasses.replace(
            start,
            nodes=[start.node(i) for i in encoder_side],
            edges=[("source", "source_embedding"), ("source_embedding", "encoder")],
        )
    )
    target = view.add_layer_in_view("input")
    assert target and target != "source" and [n.type for n in doc.spec.nodes].count("input") == 2
    assert any("a second input layer" in p.message for p in doc.analysis.problems)
    doc.set_layer_config(target, "shape", (3,))
    embedding = doc.add_layer("embedding", (300, 110))
    decoder = doc.add_layer("lstm", (300, 220))
    words = doc.add_layer("time_dense", (300, 330))
    for source_id, target_id in [(target, embedding), (embedding, decoder), (decoder, words)]:
        assert doc.connect(source_id, target_id)
    assert view.feed_state("encoder", decoder)

    def problems():
        return " | ".join(p.message for p in doc.analysis.problems)

    assert "hidden size" in problems()
    doc.set_layer_config(decoder, "hidden", 8)
    assert "return_sequences" in problems()
    doc.set_layer_config(decoder, "return_sequences", "yes")
    doc.set_layer_config(embedding, "vocabulary", 6)
    doc.set_layer_config(embedding, "dimension", 4)
    assert doc.analysis.ok, problems()
    doc.set_training("cost", "quadratic")
    assert "log-likelihood" in problems() and words in problems()
    assert [tuple(e) for e in doc.spec.state_edges] == [("encoder", decoder)]


def test_plain_networks_are_untouched(show):
    doc = Document(mlp(4, 3, 2))
    view = show(doc)
    assert doc.connection_problem("fc1", "out", "state").startswith('"fc1" is a dense layer')
    assert not view._state_edges and doc.spec.state_edges == []
