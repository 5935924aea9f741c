"""Experiment files: read strictly, every bad one refused in one line naming the setting or the variant."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from playground import budgets
from playground.experiments import ExperimentError, experiment_from_dict, load_experiment

from .helpers import experiment_data, write_experiment


def refusal(tmp_path, **overrides) -> str:
    path = write_experiment(tmp_path, **overrides)
    with pytest.raises(ExperimentError) as caught:
        load_experiment(path)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(str(path))
    return message


def test_a_grid_is_every_combination_in_the_files_order(tmp_path):
    experiment = load_experiment(write_experiment(tmp_path))
    assert experiment.trials == 4 and experiment.seeds == (0, 1) and experiment.direction == "maximize"
    assert experiment.grid() == [
        {"learning_rate": 0.1, "fc1.units": 4},
        {"learning_rate": 0.1, "fc1.units": 8},
        {"learning_rate": 0.5, "fc1.units": 4},
        {"learning_rate": 0.5, "fc1.units": 8},
    ]
    assert experiment.base.training.epochs == 3  # the fixed changes
    assert experiment.variant({"fc1.units": 4}).node("fc1").config.units == 4


def test_the_network_can_be_a_file_beside_the_experiment_or_inline(tmp_path):
    from playground.model import save_spec, spec_to_dict
    from playground.training.lessons import load_lesson

    save_spec(load_lesson("toy-2d"), tmp_path / "net.json")
    from_file = load_experiment(write_experiment(tmp_path, network="net.json"))
    inline = experiment_from_dict(experiment_data(network=spec_to_dict(load_lesson("toy-2d"))), "inline")
    assert from_file.base_network["nodes"] == inline.base_network["nodes"]


@pytest.mark.parametrize(
    "overrides, words",
    [
        ({"varry": {}}, 'unknown field "varry"'),
        ({"format": "playground-network"}, "not an experiment file"),
        ({"format_version": 2}, "format_version 2 is not supported"),
        ({"vary": {"learning_rate": []}}, 'vary "learning_rate": the list of values is empty'),
        ({"vary": {}}, "vary must name at least one setting"),
        ({"vary": {"learning_rate": [0.1, -1.0]}}, 'variant "learning_rate=-1": learning_rate = -1.0'),
        ({"vary": {"fc1.units": [4, 0]}}, 'variant "fc1.units=0": fc1.units = 0'),
        ({"vary": {"fc9.units": [4]}}, 'there is no layer "fc9"'),
        ({"vary": {"fc1.type": ["conv2d"]}}, 'variant "fc1.type=conv2d" makes the network invalid'),
        ({"vary": {"learning_rate": {"low": 0.1, "high": 1.0}}}, "a grid needs a list of values"),
        ({"search": "random", "trials": 3, "vary": {"l2": {"low": 0, "high": 1, "log": True}}}, "must start above 0"),
        ({"search": "tpe", "vary": {"l2": [0.0, 1.0]}}, "trials must be a whole number"),
        ({"vary": {"seed": [1, 2]}}, 'in "seeds", not in "vary"'),
        ({"seeds": []}, "seeds must be a non-empty list"),
        ({"metric": "accuracy"}, "metric must be one of"),
        ({"pruning": {"patience": 2}}, 'pruning: unknown field "patience"'),
        ({"network": "no-such-lesson"}, "no lesson has that name"),
        ({"fixed": {"epochs": 0}}, 'variant "fixed": epochs = 0'),
    ],
)
def test_bad_files_are_refused_in_one_line(tmp_path, overrides, words):
    assert words in refusal(tmp_path, **overrides)


def test_a_sampled_search_checks_each_value_and_both_ends_of_each_range(tmp_path):
    message = refusal(tmp_path, search="random", trials=5, vary={"batch_size": {"low": 0, "high": 20}})
    assert 'variant "batch_size=0"' in message


def test_an_experiment_over_the_run_budget_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(budgets, "MAX_EXPERIMENT_RUNS", 7)
    assert "MAX_EXPERIMENT_RUNS = 7" in refusal(tmp_path)  # 4 variants × 2 seeds


def test_hostile_files_are_refused_before_parsing(tmp_path):
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100 + "]" * 100)
    with pytest.raises(ExperimentError, match="MAX_JSON_DEPTH"):
        load_experiment(deep)
    with pytest.raises(ExperimentError, match="no such file"):
        load_experiment(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text(json.dumps(experiment_data())[:-3])
    with pytest.raises(ExperimentError, match="not valid JSON"):
        load_experiment(tmp_path / "bad.json")


def test_a_fifo_is_refused_instead_of_blocking(tmp_path):
    import os

    fifo = tmp_path / "grid.json"
    os.mkfifo(fifo)
    with pytest.raises(ExperimentError, match="named pipe"):
        load_experiment(fifo)


_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 100) | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)


@settings(max_examples=40, deadline=None)
@given(st.dictionaries(st.sampled_from(["vary", "fixed", "seeds", "trials", "pruning", "metric", "search"]), _values))
def test_any_mangled_field_is_an_experiment_error_or_an_experiment(changes):
    """Whatever a field holds, reading the file ends in an experiment or in ExperimentError, never another error."""
    try:
        experiment_from_dict({**experiment_data(), **changes}, "fuzz")
    except ExperimentError as error:
        assert "\n" not in str(error)
