"""The editor's Document: every edit is one undoable step, bad edits are refused with a reason
and change nothing, and a locked document refuses everything."""

import json

import pytest

from playground.engine.layers import layer_class
from playground.gui.colors import layer_color
from playground.gui.editor import LOCKED_MESSAGE, Document, layer_colors_for
from playground.model import NetworkSpec, Node
from playground.model.edits import auto_layout, chains

from .helpers import mlp


@pytest.fixture
def refusals(doc):
    found = []
    doc.editRefused.connect(found.append)
    return found


def assert_refused(doc, refusals, edit, *args, reason):
    """The edit is refused with ``reason`` in its message, and nothing changes."""
    before, steps = doc.spec, doc.undo_stack.count()
    edit(*args)
    assert refusals and reason in refusals[-1]
    assert doc.spec is before and doc.undo_stack.count() == steps


def test_add_layer_gets_a_fresh_id_and_undoes(doc):
    changes = []
    doc.changed.connect(lambda: changes.append(1))
    new = doc.add_layer("dense", (50, 400))
    assert new == "fc2"  # fc1 is taken
    assert doc.spec.node("fc2").config == layer_class("dense").Config()
    assert doc.spec.ui["positions"]["fc2"] == [50.0, 400.0]
    assert doc.add_layer("dropout", (0, 0)) == "dropout1"
    assert doc.is_modified() and len(changes) == 2
    doc.undo_stack.undo()
    doc.undo_stack.undo()
    assert [n.id for n in doc.spec.nodes] == ["in", "fc1", "out"]
    doc.undo_stack.redo()
    assert [n.id for n in doc.spec.nodes] == ["in", "fc1", "out", "fc2"]


def test_an_unknown_layer_type_is_refused(doc, refusals):
    assert_refused(doc, refusals, doc.add_layer, "conv9d", (0, 0), reason='no layer type "conv9d"')


def test_connect_and_disconnect_undo(doc):
    doc.remove_layers(["out"])
    new = doc.add_layer("dense", (0, 220))
    assert any(p.node == new for p in doc.analysis.problems)  # not connected yet
    assert doc.connect("fc1", new)
    assert (("fc1", new)) in doc.spec.edges and doc.analysis.order == ["in", "fc1", new]
    doc.undo_stack.undo()
    assert ("fc1", new) not in doc.spec.edges
    doc.undo_stack.redo()
    assert doc.disconnect("fc1", new) and ("fc1", new) not in doc.spec.edges
    doc.undo_stack.undo()
    assert ("fc1", new) in doc.spec.edges


@pytest.mark.parametrize(
    "source, target, reason",
    [
        ("out", "in", "input layer"),
        ("fc1", "fc1", "cannot feed itself"),
        ("in", "fc1", "already feeds"),
        ("loose", "fc1", "already has an input"),
        ("fc1", "loose", "networks here are chains"),
        ("nowhere", "fc1", 'no layer "nowhere"'),
    ],
)
def test_invalid_connections_are_refused_with_their_reason(doc, refusals, source, target, reason):
    doc.add_layer("dense", (300, 0))
    doc.undo_stack.clear()
    spec = doc.spec
    loose = [n.id for n in spec.nodes if n.id not in ("in", "fc1", "out")][0]
    source, target = (loose if end == "loose" else end for end in (source, target))
    assert doc.connection_problem(source, target)
    assert_refused(doc, refusals, doc.connect, source, target, reason=reason)


def test_a_cycle_is_refused(doc, refusals):
    doc.disconnect("in", "fc1")  # fc1 → out is now a loose chain that could be closed
    assert_refused(doc, refusals, doc.connect, "out", "fc1", reason="cycle")


def test_remove_layers_takes_their_edges_in_one_step(doc):
    doc.remove_layers(["fc1"])
    assert [n.id for n in doc.spec.nodes] == ["in", "out"] and doc.spec.edges == []
    assert "fc1" not in doc.spec.ui["positions"]
    assert doc.undo_stack.count() == 1
    doc.undo_stack.undo()
    assert doc.spec.edges == [("in", "fc1"), ("fc1", "out")]


def test_remove_an_edge_with_layers_untouched(doc):
    doc.remove_layers([], [("fc1", "out")])
    assert doc.spec.edges == [("in", "fc1")] and len(doc.spec.nodes) == 3


def test_a_move_is_one_step(doc):
    doc.move_layers({"fc1": (40, 120), "out": (40, 230)})
    assert doc.spec.ui["positions"]["fc1"] == [40.0, 120.0]
    assert doc.undo_stack.count() == 1
    doc.undo_stack.undo()
    assert doc.spec.ui["positions"]["fc1"] == [0.0, 110.0] and doc.spec.ui["positions"]["out"] == [0.0, 220.0]
    doc.undo_stack.redo()
    assert doc.spec.ui["positions"]["out"] == [40.0, 230.0]


def test_parameter_change_updates_analysis_and_undoes(doc):
    assert doc.analysis.parameter_counts["fc1"] == 784 * 30 + 30
    assert doc.set_layer_config("fc1", "units", 50)
    assert doc.spec.node("fc1").config.units == 50
    assert doc.analysis.parameter_counts["fc1"] == 784 * 50 + 50
    assert doc.analysis.parameter_counts["out"] == 50 * 10 + 10
    doc.undo_stack.undo()
    assert doc.spec.node("fc1").config.units == 30 and doc.analysis.parameter_counts["fc1"] == 23_550
    doc.undo_stack.redo()
    assert doc.spec.node("fc1").config.units == 50


def test_setting_the_same_value_is_no_step(doc):
    doc.set_layer_config("fc1", "units", 30)
    doc.set_training("learning_rate", 0.5)
    assert doc.undo_stack.count() == 0 and not doc.is_modified()


@pytest.mark.parametrize(
    "field, value, reason",
    [
        ("units", -5, "at least 1"),
        ("units", float("nan"), "whole number"),
        ("units", "many", "whole number"),
        ("activation", "swish", "must be one of"),
        ("alpha", float("nan"), "finite"),
        ("colour", "red", 'no setting "colour"'),
    ],
)
def test_invalid_layer_values_are_refused(doc, refusals, field, value, reason):
    assert_refused(doc, refusals, doc.set_layer_config, "fc1", field, value, reason=reason)
    assert refusals[-1].startswith('Layer "fc1"')


def test_training_and_dataset_settings_are_validated_edits(doc, refusals):
    assert doc.set_training("learning_rate", 1e-4) and doc.spec.training.learning_rate == 1e-4
    assert doc.set_dataset("name", "xor") and doc.spec.dataset.name == "xor"
    assert_refused(doc, refusals, doc.set_training, "learning_rate", float("nan"), reason="finite")
    assert_refused(doc, refusals, doc.set_training, "batch_size", 0, reason="at least 1")
    assert_refused(doc, refusals, doc.set_dataset, "name", "imagenet", reason="must be one of")
    doc.undo_stack.undo()
    assert doc.spec.dataset.name == "digits"


def test_copy_paste_makes_new_ids_and_keeps_inner_edges(doc):
    payload = doc.copy_payload(["fc1", "out"])
    assert json.loads(payload)["edges"] == [{"from": "fc1", "to": "out"}]
    new = doc.paste(payload, (300, 0))
    assert new == ["fc2", "out1"]
    assert ("fc2", "out1") in doc.spec.edges and len(doc.spec.edges) == 3  # in → fc1 not copied
    assert doc.spec.node("fc2").config == doc.spec.node("fc1").config
    assert doc.spec.ui["positions"]["fc2"] == [300.0, 110.0]
    again = doc.paste(payload, (600, 0))
    assert not set(again) & set(new) and len({n.id for n in doc.spec.nodes}) == 7
    doc.undo_stack.undo()
    doc.undo_stack.undo()
    assert [n.id for n in doc.spec.nodes] == ["in", "fc1", "out"]


def test_pasting_garbage_is_refused(doc, refusals):
    assert_refused(doc, refusals, doc.paste, "not json", (0, 0), reason="does not hold layers")
    assert_refused(doc, refusals, doc.paste, json.dumps({"nodes": []}), (0, 0), reason="does not hold layers")


def test_a_locked_document_refuses_every_edit(doc, refusals):
    locks = []
    doc.lockedChanged.connect(locks.append)
    doc.locked = True
    assert locks == [True]
    payload = doc.copy_payload(["fc1"])
    for edit, args in [
        (doc.add_layer, ("dense", (0, 0))),
        (doc.remove_layers, (["fc1"],)),
        (doc.move_layers, ({"fc1": (5, 5)},)),
        (doc.connect, ("out", "fc1")),
        (doc.disconnect, ("in", "fc1")),
        (doc.set_layer_config, ("fc1", "units", 5)),
        (doc.set_training, ("epochs", 3)),
        (doc.set_dataset, ("name", "xor")),
        (doc.paste, (payload, (0, 0))),
        (doc.set_spec, (mlp(2, 2),)),
    ]:
        assert_refused(doc, refusals, edit, *args, reason=LOCKED_MESSAGE)
    doc.locked = False
    assert doc.set_layer_config("fc1", "units", 5)


def test_undo_actions_are_off_while_locked(doc, refusals):
    undo = doc.create_undo_action(None)
    assert not undo.isEnabled()
    doc.set_layer_config("fc1", "units", 5)
    assert undo.isEnabled() and "Set fc1 units" in undo.text()
    doc.locked = True
    assert not undo.isEnabled()
    doc.undo()
    assert doc.spec.node("fc1").config.units == 5 and refusals[-1] == LOCKED_MESSAGE
    doc.locked = False
    undo.trigger()
    assert doc.spec.node("fc1").config.units == 30
    redo = doc.create_redo_action(None)
    assert redo.isEnabled()
    redo.trigger()
    assert doc.spec.node("fc1").config.units == 5


def test_set_spec_clears_history_and_counts_as_saved(doc):
    replaced = []
    doc.replaced.connect(lambda: replaced.append(1))
    doc.set_layer_config("fc1", "units", 5)
    assert doc.is_modified()
    doc.mark_saved()
    assert not doc.is_modified()
    doc.set_layer_config("fc1", "units", 6)
    doc.set_spec(mlp(2, 8, 1))
    assert replaced == [1] and doc.undo_stack.count() == 0 and not doc.is_modified()
    assert doc.analysis.output_shapes["fc1"] == (8,)


def test_layers_without_positions_are_laid_out(qapp):
    spec = mlp(4, 3, 2)
    spec.ui = {}
    doc = Document(spec)
    assert doc.spec.ui["positions"] == {"in": [0.0, 0.0], "fc1": [0.0, 110.0], "out": [0.0, 220.0]}
    assert spec.ui == {}  # the caller's spec is not changed


def test_auto_layout_puts_chains_in_columns(doc):
    doc.disconnect("fc1", "out")
    doc.add_layer("dropout", (900, 900))
    assert chains(doc.spec) == [["in", "fc1"], ["out"], ["dropout1"]]
    layout = auto_layout(doc.spec)
    assert layout["fc1"] == (0.0, 110.0) and layout["out"][1] == 0.0 and layout["dropout1"][0] > layout["out"][0]


def test_chains_survive_a_cycle_in_a_loaded_file(qapp):
    dense = layer_class("dense").Config()
    spec = NetworkSpec([Node("a", "dense", dense), Node("b", "dense", dense)], [("a", "b"), ("b", "a")])
    assert chains(spec) == [["a", "b"]]
    assert Document(spec).connection_problem("a", "a")


def test_layer_colours_follow_feed_forward_order_of_trainable_layers(doc):
    assert layer_colors_for(doc) == {"fc1": layer_color(0), "out": layer_color(1)}  # "in" has no parameters
    doc.remove_layers([], [("in", "fc1"), ("fc1", "out")])
    doc.connect("in", "out")  # fc1 is loose now: no colour, and out takes the first
    assert layer_colors_for(doc) == {"out": layer_color(0)}


def test_a_new_output_layer_gets_a_cost_that_fits_it(qapp):
    """The old File › New network (softmax, log-likelihood): its output replaced by a dense
    layer from the palette (sigmoid) trains with cross-entropy, not a cost that cannot fit."""
    from playground.model import sequential_spec

    doc = Document(
        sequential_spec([784, 30, 10], activation="sigmoid", output="softmax", cost="log-likelihood", initializer="he")
    )
    doc.remove_layers(["out"])  # fc1, a sigmoid layer, gives the output now
    assert "cost: cross-entropy" in doc.undo_stack.undoText()
    layer = doc.add_layer("dense", (0, 220))
    doc.connect("fc1", layer)
    assert doc.spec.training.cost == "cross-entropy" and not doc.analysis.problems
    doc.set_layer_config(layer, "activation", "softmax")
    assert doc.spec.training.cost == "log-likelihood" and not doc.analysis.problems
    doc.set_layer_config(layer, "activation", "linear")
    assert doc.spec.training.cost == "quadratic" and not doc.analysis.problems
    doc.undo()
    assert doc.spec.training.cost == "log-likelihood"
    # a cost the user sets is theirs, even one that does not fit: the canvas says why
    doc.set_training("cost", "cross-entropy")
    assert doc.spec.training.cost == "cross-entropy" and doc.analysis.problems
    doc.set_layer_config("fc1", "units", 20)  # an edit elsewhere leaves it alone
    assert doc.spec.training.cost == "cross-entropy"
