"""universal-approximation-bumps: the Bumps view's figures are the engine's network, and the lesson's
effect holds headless: the proof's bumps approximate the target, and gradient descent from them
does far better from soft steps than from sharp ones."""

from __future__ import annotations

import re

import numpy as np
import pytest

from playground.cli import main
from playground.model import build_network
from playground.training.bumps import (
    BumpNetwork,
    bump_heights,
    bump_layers,
    even_bumps,
    heights_from_data,
    proof_interval,
    step_positions,
    with_height,
    with_steepness,
    with_step_at,
)
from playground.training.families import RunOptions, family_of
from playground.training.lessons import load_lesson

LESSON = "universal-approximation-bumps"


@pytest.fixture
def lesson():
    spec = load_lesson(LESSON)
    network = build_network(spec)
    network.initialize(spec.training.initializer, 0)
    return spec, bump_layers(spec), network.copy_state()


def test_only_a_hidden_layer_of_sigmoid_pairs_on_one_input_is_taken_apart():
    assert bump_layers(load_lesson(LESSON)).pairs == 5
    assert bump_layers(load_lesson("universal-approximation")) is None  # 15 pairs: too many handles
    assert bump_layers(load_lesson("toy-2d")) is None
    assert bump_layers(load_lesson("sigmoid-neuron")) is None


def test_even_bumps_step_where_the_proof_puts_them_and_each_pair_adds_a_bump(lesson):
    spec, layers, weights = lesson
    weights = even_bumps(weights, layers, -1.0, 1.0, steepness=1000.0)
    np.testing.assert_allclose(step_positions(weights, layers), [-1, -0.6, -0.6, -0.2, -0.2, 0.2, 0.2, 0.6, 0.6, 1])
    weights = with_height(weights, layers, 2, 0.7)  # the middle bump, on [−0.2, 0.2]
    bumps = BumpNetwork(spec, layers)
    bumps.load(weights)
    x = np.array([-0.5, -0.1, 0.0, 0.1, 0.5])
    contributions = bumps.contributions(x)
    np.testing.assert_allclose(contributions[:, 2], [0, 0.7, 0.7, 0.7, 0], atol=1e-12)
    np.testing.assert_allclose(np.delete(contributions, 2, axis=1), 0, atol=1e-12)
    # the pairs and the output bias sum to the engine's output, whatever the weights
    weights[f"{layers.output}.bias"][0] = 0.25
    weights[f"{layers.hidden}.weight"][:, 0] = np.linspace(-3, 4, 10)
    bumps.load(weights)
    xs = np.linspace(-1, 1, 57)
    np.testing.assert_allclose(bumps.contributions(xs).sum(axis=1) + 0.25, bumps.output(xs), rtol=1e-12)


def test_each_handle_edits_only_its_own_weights(lesson):
    _, layers, weights = lesson
    weights = even_bumps(weights, layers, -1.0, 1.0)
    moved = with_step_at(weights, layers, 3, 0.05)
    positions = step_positions(moved, layers)
    assert positions[3] == pytest.approx(0.05)
    np.testing.assert_allclose(np.delete(positions, 3), np.delete(step_positions(weights, layers), 3))
    raised = with_height(weights, layers, 1, -0.4)
    assert bump_heights(raised, layers)[1] == pytest.approx(-0.4)
    assert raised[f"{layers.output}.weight"][0, 3] == pytest.approx(0.4)
    softer = with_steepness(weights, layers, 20.0)
    np.testing.assert_allclose(np.abs(softer[f"{layers.hidden}.weight"]), 20.0)
    np.testing.assert_allclose(step_positions(softer, layers), step_positions(weights, layers))
    assert weights[f"{layers.hidden}.weight"][0, 0] == pytest.approx(100.0)  # edits return copies


def _rms_after_training(spec, layers, steepness):
    """(RMS of the proof's bumps, RMS after the lesson's 60 epochs from them)."""
    run = family_of(spec).start(spec, RunOptions())
    network, dataset = run.model, run.trainer.dataset
    x, y = dataset.x_train, dataset.y_train
    laid_out = even_bumps(network.copy_state(), layers, *proof_interval(x), steepness)
    network.load_state(heights_from_data(laid_out, layers, x, y))
    bumps = BumpNetwork(spec, layers)
    bumps.load(network.state())
    before = bumps.rms(x, y)
    for _ in run.trainer.run():
        pass
    bumps.load(network.state())
    return before, bumps.rms(x, y)


def test_the_proofs_bumps_fit_and_gradient_descent_refines_soft_steps_far_better_than_sharp_ones():
    spec = load_lesson(LESSON)
    layers = bump_layers(spec)
    proof, sharp = _rms_after_training(spec, layers, 100.0)
    by_hand_soft, soft = _rms_after_training(spec, layers, 20.0)
    assert 0.05 < proof < 0.1  # a staircase of five steps: close, not exact (the panel says about 0.09)
    assert sharp < proof and sharp > 0.05  # σ′ ≈ 0 off the edges: gradient descent barely moves the steps
    assert by_hand_soft < proof and soft < 0.01  # from soft steps it reshapes them into the curve


def test_train_prints_the_proofs_bumps_against_gradient_descent(capsys):
    assert main(["train", LESSON]) == 0
    out = capsys.readouterr().out
    proof = float(re.search(r"the proof's 5 bumps .*: RMS ([0-9.]+)", out).group(1))
    trained = float(re.search(r"the network after training: RMS ([0-9.]+)", out).group(1))
    assert 0.05 < proof < 0.1 and trained < 0.05
