"""Variants: changes to a network, checked as the editor checks them, and a lesson's comparison."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from playground.model import build_network, initialise, sequential_spec
from playground.model.variants import VariantError, apply_changes, lesson_variants, variant_specs
from playground.training.families import RunOptions, family_of
from playground.training.lessons import curriculum, load_lesson
from playground.training.protocol import Finished, RunStarted


def small_net(sizes=(2, 3, 2)):
    return sequential_spec(
        list(sizes), activation="sigmoid", output="sigmoid", cost="cross-entropy", initializer="normal-scaled"
    )


def test_changes_reach_training_fields_layer_fields_and_layer_types():
    spec = small_net()
    hidden = spec.nodes[1].id
    changed = apply_changes(spec, {"learning_rate": 0.25, "batch_size": 7, f"{hidden}.activation": "tanh"})
    assert changed.training.learning_rate == 0.25 and changed.training.batch_size == 7
    assert changed.node(hidden).config.activation == "tanh"
    assert spec.training.learning_rate != 0.25 and spec.node(hidden).config.activation == "sigmoid"  # untouched
    lstm = load_lesson("rnn-vs-lstm")
    rnn = apply_changes(lstm, {"rec.type": "simple_rnn"})
    assert rnn.node("rec").type == "simple_rnn" and rnn.node("rec").config.hidden == lstm.node("rec").config.hidden


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"learning_rate": -1}, "learning_rate"),
        ({"no_such_setting": 1}, "no_such_setting"),
        ({"ghost.units": 3}, 'no layer "ghost"'),
        ({"HIDDEN.units": 0}, "units"),
        ({"HIDDEN.type": "teleporter"}, "teleporter"),
        ({"cost": "log-likelihood"}, "softmax"),
    ],
)
def test_an_impossible_variant_is_one_line_naming_it(changes, words):
    spec = small_net()
    changes = {key.replace("HIDDEN", spec.nodes[1].id): value for key, value in changes.items()}
    with pytest.raises(VariantError) as raised:
        apply_changes(spec, changes, "too bold")
    message = str(raised.value)
    assert message.startswith('variant "too bold"') and words in message and "\n" not in message


def test_a_variant_that_breaks_the_network_is_refused_before_training():
    spec = load_lesson("cnn-mnist")
    conv = next(node.id for node in spec.nodes if node.type == "conv2d")
    with pytest.raises(VariantError, match="makes the network invalid"):
        apply_changes(spec, {f"{conv}.kernel_size": 40}, "huge kernel")


def test_lesson_comparisons_are_well_formed():
    """Every lesson's comparison makes valid networks (a bad one would fail when a learner trains)."""
    for chapter in curriculum():
        for name in chapter.lessons:
            for label, variant in variant_specs(load_lesson(name)):
                assert label and variant.nodes


@pytest.mark.parametrize("compare", [{"layer": "rec"}, [{"changes": {}}], [{"label": "a"}, {"label": "a"}]], ids=str)
def test_a_malformed_compare_entry_is_refused(compare):
    spec = dataclasses.replace(small_net(), lesson={"title": "t", "compare": compare})
    with pytest.raises(VariantError, match="compare"):
        lesson_variants(spec)


def test_a_comparison_trains_every_variant_in_turn_at_its_own_rate():
    """Family.start chains the variants: a RunStarted each, each at its own learning rate, one Finished."""
    spec = small_net((2, 4, 2))
    spec.training = dataclasses.replace(spec.training, epochs=1, batch_size=10)
    spec.dataset = dataclasses.replace(spec.dataset, name="moons", n_samples=200)
    spec.lesson = {
        "title": "rates",
        "compare": [
            {"label": "slow", "changes": {"learning_rate": 0.01}},
            {"label": "fast", "changes": {"learning_rate": 3.0}},
        ],
    }
    run = family_of(spec).start(spec, RunOptions())
    assert list(run.parts) == ["slow", "fast"]
    rates, events = [], []
    for event in run.trainer.run():
        events.append(event)
        if not isinstance(event, RunStarted | Finished):
            rates.append((run.trainer.current.label, run.trainer.control.learning_rate))
    assert [e.label for e in events if isinstance(e, RunStarted)] == ["slow", "fast"]
    assert isinstance(events[-1], Finished) and events[-1].reason == "completed"
    assert sum(isinstance(e, Finished) for e in events) == 1
    assert {rate for label, rate in rates if label == "slow"} == {0.01}
    assert {rate for label, rate in rates if label == "fast"} == {3.0}
    alone = family_of(spec).start(spec, RunOptions(compare=False))
    assert not alone.parts and alone.current() is alone


def test_a_variant_starts_its_parameters_where_the_lesson_says_and_draws_the_rest():
    spec = load_lesson("learning-slowdown")
    run = family_of(spec).start(spec)
    starts = {label: part.model.state() for label, part in run.parts.items()}
    assert float(starts["quadratic, w=0.6 b=0.9"]["out.weight"][0, 0]) == pytest.approx(0.6)
    assert float(starts["quadratic, w=0.6 b=0.9"]["out.bias"][0]) == pytest.approx(0.9)
    assert float(starts["cross-entropy, w=2 b=2"]["out.weight"][0, 0]) == 2.0
    # a parameter the variant leaves alone keeps the initialiser's draw
    net = small_net()
    hidden = net.nodes[1].id
    net.lesson = {"compare": [{"label": "fixed bias", "changes": {}, "parameters": {"out.bias": [0.5, -0.5]}}]}
    ((label, variant),) = variant_specs(net)
    drawn, fixed = build_network(net), build_network(variant)
    initialise(drawn, net)
    initialise(fixed, variant)
    drawn, fixed = drawn.state(), fixed.state()
    assert np.array_equal(fixed["out.bias"], np.array([0.5, -0.5], np.float32))
    assert np.array_equal(fixed[f"{hidden}.weight"], drawn[f"{hidden}.weight"])
    assert net.starting_parameters == {}  # the base network is untouched


@pytest.mark.parametrize(
    ("parameters", "words"),
    [
        ({"out.weight": [0.6]}, 'layer "out": "weight" has shape [1]'),
        ({"out.gain": [[1.0]]}, 'no parameter "out.gain"'),
        ({"out.bias": [float("nan")]}, "finite"),
        ({"out.bias": ["two"]}, "two"),
        ([0.6, 0.9], '"parameters" must be an object'),
    ],
)
def test_starting_parameters_that_do_not_fit_are_refused_naming_the_variant(parameters, words):
    spec = load_lesson("learning-slowdown")
    spec.lesson["compare"] = [{"label": "odd start", "changes": {}, "parameters": parameters}]
    with pytest.raises(VariantError) as raised:
        variant_specs(spec)
    message = str(raised.value)
    assert message.startswith('variant "odd start"') and words in message and "\n" not in message
