"""Network files: round trips, strict loading and messages that name the layer."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest

from playground.engine.layers import LAYER_TYPES, layer_class
from playground.model import (
    NetworkFileError,
    Node,
    analyse,
    build_network,
    load_spec,
    save_spec,
    sequential_spec,
    spec_from_dict,
    spec_to_dict,
)
from playground.training.lessons import LESSONS, lesson_names


def mlp_dict(**training):
    spec = sequential_spec(
        [4, 3, 2], activation="sigmoid", output="softmax", cost="log-likelihood", initializer="xavier"
    )
    data = spec_to_dict(spec)
    data["training"].update(training)
    return data


@pytest.mark.parametrize("name", lesson_names())
def test_every_preset_makes_the_round_trip(name, tmp_path):
    spec = load_spec(LESSONS / f"{name}.json")
    save_spec(spec, tmp_path / "copy.json")
    again = load_spec(tmp_path / "copy.json")
    assert spec_to_dict(again) == spec_to_dict(spec)


@pytest.mark.parametrize("type_id", sorted(t for t in LAYER_TYPES if t not in ("input", "dense")))
def test_every_layer_type_makes_the_round_trip(type_id, tmp_path):
    cls = layer_class(type_id)
    shape = cls.example_input_shape
    nodes = [
        Node("in", "input", layer_class("input").Config(shape=shape)),
        Node("x", type_id, cls.Config()),
        Node("out", "dense", layer_class("dense").Config(units=2, activation="softmax")),
    ]
    spec = sequential_spec([2, 2], activation="sigmoid", output="softmax", cost="log-likelihood", initializer="he")
    spec.nodes, spec.edges = nodes, [("in", "x"), ("x", "out")]
    save_spec(spec, tmp_path / "n.json")
    assert spec_to_dict(load_spec(tmp_path / "n.json")) == spec_to_dict(spec)


def test_file_layout_keeps_meaning_apart_from_positions():
    data = mlp_dict()
    assert data["format"] == "playground-network" and data["format_version"] == 1
    assert {"id", "type", "version", "config"} == set(data["nodes"][1])
    assert data["edges"][0] == {"from": "in", "to": "fc1"}
    assert set(data["ui"]) == {"positions"}
    for key in ("cost", "optimizer", "learning_rate", "batch_size", "epochs", "l2", "initializer", "seed", "dataset"):
        assert key in data["training"]
    moved = copy.deepcopy(data)
    moved["ui"]["positions"]["fc1"] = [500, 500]
    net_a, net_b = build_network(spec_from_dict(data)), build_network(spec_from_dict(moved))
    net_a.initialize("xavier", 0)
    net_b.initialize("xavier", 0)
    assert all(np.array_equal(net_a.state()[k], net_b.state()[k]) for k in net_a.state())


def problem_of(data) -> str:
    with pytest.raises(NetworkFileError) as caught:
        build_network(spec_from_dict(data))
    return str(caught.value)


def test_errors_name_the_layer_and_the_reason():
    data = mlp_dict()
    data["nodes"][1]["config"]["units"] = float("nan")
    assert problem_of(data) == 'layer "fc1": "units" must be a whole number, not nan'

    data = mlp_dict()
    data["nodes"][1]["type"] = "densse"
    assert problem_of(data).startswith("layer \"fc1\": unknown type 'densse'")

    data = mlp_dict()
    data["nodes"][2]["config"]["activation"] = "sigmoid"
    assert problem_of(data) == (
        'layer "out": the log-likelihood cost needs a softmax output layer, but the output activation is sigmoid'
    )

    data = mlp_dict()
    data["edges"].append({"from": "out", "to": "fc1"})
    assert 'layer "fc1": has 2 inputs' in problem_of(data)

    data = mlp_dict()
    data["edges"] = data["edges"][:1]
    assert problem_of(data) == 'layer "out": is not connected to the input'

    data = mlp_dict()
    data["nodes"][1]["config"]["bogus"] = 1
    assert problem_of(data) == 'layer "fc1": unknown setting "bogus" (known: units, activation, alpha)'

    data = mlp_dict(learning_rate="fast")
    assert problem_of(data) == "training: \"learning_rate\" must be a number, not 'fast'"

    data = mlp_dict()
    data["nodes"].append(dict(data["nodes"][1]))
    assert problem_of(data) == 'layer "fc1": the id is used by more than one layer'

    data = mlp_dict()
    data["nodes"][0]["config"]["shape"] = [0]
    assert "positive whole numbers" in problem_of(data)


def test_a_cycle_is_reported_on_its_layer():
    data = mlp_dict()
    data["nodes"].insert(1, {"id": "loop", "type": "dense", "config": {"units": 3}})
    data["edges"] = [{"from": "in", "to": "fc1"}, {"from": "fc1", "to": "loop"}, {"from": "loop", "to": "fc1"}]
    analysis = analyse(spec_from_dict(data))
    messages = [p.message for p in analysis.problems]
    assert any("cycle" in m or "has 2 inputs" in m for m in messages)


def test_analysis_reports_shapes_and_parameter_counts():
    analysis = analyse(spec_from_dict(mlp_dict()))
    assert analysis.ok
    assert analysis.output_shapes == {"in": (4,), "fc1": (3,), "out": (2,)}
    assert analysis.parameter_counts == {"in": 0, "fc1": 15, "out": 8}


@pytest.mark.parametrize(
    "text,expected",
    [
        ("{", "not valid JSON (line 1, column 2"),
        ("[]", "a network file must hold a JSON object"),
        ('{"format": "other"}', "not a network file"),
        ('{"nodes": []}', '"nodes" must be a non-empty list'),
        ('{"format_version": 99, "nodes": []}', "format_version 99 is not supported"),
    ],
)
def test_malformed_files_get_one_clear_message(tmp_path, text, expected):
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(NetworkFileError, match=expected.replace("(", r"\(")):
        load_spec(path)
    with pytest.raises(NetworkFileError, match="no such file"):
        load_spec(tmp_path / "missing.json")


def test_a_save_that_fails_leaves_the_old_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "net.json"
    spec = spec_from_dict(mlp_dict())
    save_spec(spec, path)
    before = path.read_text()

    def fail(*args):
        raise OSError("disk full")

    monkeypatch.setattr("os.replace", fail)
    spec.name = "changed"
    with pytest.raises(OSError):
        save_spec(spec, path)
    assert path.read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["net.json"]  # no temporary left behind
    assert json.loads(before)["name"] == ""


def test_a_network_over_the_parameter_budget_is_refused_before_anything_is_allocated():
    from playground.budgets import MAX_PARAMETERS
    from playground.model import analyse, build_network

    wide = sequential_spec(
        [784, 100000, 100000, 10], activation="sigmoid", output="sigmoid", cost="quadratic", initializer="xavier"
    )
    assert sum(analyse(wide).parameter_counts.values()) > MAX_PARAMETERS
    problem = analyse(wide).problems[0]
    assert problem.node == "fc2" and "parameter budget" in problem.message
    with pytest.raises(NetworkFileError, match="parameter budget"):
        build_network(wide)


def test_a_lesson_names_the_panel_it_opens_on_and_keeps_it(tmp_path):
    data = mlp_dict()
    data["lesson"] = {"title": "A lesson", "panel": "gradients"}
    save_spec(spec_from_dict(data), tmp_path / "lesson.json")
    assert load_spec(tmp_path / "lesson.json").lesson["panel"] == "gradients"
    for name in lesson_names():
        assert load_spec(LESSONS / f"{name}.json").lesson["panel"], name


def test_an_unknown_panel_in_a_lesson_is_named_on_loading(tmp_path):
    data = mlp_dict()
    data["lesson"] = {"title": "A lesson", "panel": "gradient"}
    (tmp_path / "lesson.json").write_text(json.dumps(data))
    with pytest.raises(NetworkFileError, match=r"lesson\.json: lesson: unknown panel 'gradient' \(choose from loss, "):
        load_spec(tmp_path / "lesson.json")


def test_looking_a_layer_up_by_id_follows_changes_to_the_list():
    """``node`` remembers where each id sits; a list changed in place must still answer right."""
    spec = sequential_spec([4, 3, 3, 2], activation="sigmoid", output="softmax", cost="quadratic", initializer="xavier")
    assert spec.node("fc2").id == "fc2"
    replacement = Node("fc2", "dense", layer_class("dense").Config(units=7))
    spec.nodes[2] = replacement
    assert spec.node("fc2") is replacement
    spec.nodes.remove(spec.node("fc1"))
    assert spec.node("out") is spec.nodes[-1] and spec.node("fc2") is replacement
    with pytest.raises(KeyError):
        spec.node("fc1")
    spec.nodes.append(Node("extra", "dense", layer_class("dense").Config(units=1)))
    assert spec.node("extra") is spec.nodes[-1]
