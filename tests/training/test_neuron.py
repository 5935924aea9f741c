"""sigmoid-neuron: the Neuron view's figures are the engine's, and the lesson's run does what its
panel says (w turns round, b comes back near 0, 20% → 99% of the points right), headless."""

from __future__ import annotations

import re

import numpy as np
import pytest

from playground.cli import main
from playground.datasets import load_dataset
from playground.model import build_network
from playground.training import EpochEvent
from playground.training.evaluation import evaluate_network
from playground.training.families import RunOptions, family_of
from playground.training.lessons import load_lesson
from playground.training.neuron import SingleNeuron, is_single_neuron, neuron_parameters
from playground.training.trainer import evaluate, predicted_classes, prepare_data


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def test_the_neurons_outputs_are_sigmoid_and_step_of_w_x_plus_b():
    neuron = SingleNeuron(1.5, -2.0, 0.25)
    points = np.random.default_rng(0).uniform(-1.5, 1.5, (50, 2))
    z = points @ np.array([1.5, -2.0]) + 0.25
    a, step = neuron.outputs(points)
    np.testing.assert_allclose(a, sigmoid(z), rtol=1e-12)
    np.testing.assert_array_equal(step, (z > 0).astype(float))
    assert {0.0, 1.0} == set(step)


def test_the_heat_maps_run_x1_along_columns_and_x2_up_the_rows():
    neuron = SingleNeuron(0.0, 3.0, 0.0)  # the output grows with x₂ only
    sigmoid_map, step_map = neuron.heat_maps((-1, 1, -2, 2), 30)
    assert sigmoid_map.shape == step_map.shape == (30, 30)
    assert sigmoid_map[0, 0] == pytest.approx(sigmoid(-6.0))  # row 0: the bottom, x₂ = −2
    assert sigmoid_map[-1, 0] == pytest.approx(sigmoid(6.0))
    np.testing.assert_allclose(sigmoid_map[:, 0], sigmoid_map[:, -1])  # nothing changes along x₁
    assert step_map[0].max() == 0.0 and step_map[-1].min() == 1.0


def test_the_gradient_is_the_engines_backward_pass_and_matches_finite_differences():
    neuron = SingleNeuron(0.7, -1.2, 0.3)
    point = np.array([0.4, -0.9])
    gradient = neuron.gradient(point)
    eps = 1e-6
    for which in range(3):
        up, down = list(neuron.parameters), list(neuron.parameters)
        up[which] += eps
        down[which] -= eps
        numeric = (SingleNeuron(*up).outputs(point[None])[0][0] - SingleNeuron(*down).outputs(point[None])[0][0]) / (
            2 * eps
        )
        assert gradient[which] == pytest.approx(numeric, rel=1e-6)
    assert neuron.parameters == pytest.approx((0.7, -1.2, 0.3))  # the backward pass changed no weight


def test_a_small_change_of_a_weight_moves_the_sigmoid_a_little_and_the_step_all_or_nothing():
    neuron = SingleNeuron(1.0, 1.0, -0.99)
    point = (0.5, 0.5)  # z = 0.01: just past the step's edge
    values = np.array([1.0, 0.95])
    sigmoid_values, step_values = neuron.weight_sweep(point, 0, values)
    assert 0 < abs(sigmoid_values[1] - sigmoid_values[0]) < 0.01
    assert step_values.tolist() == [1.0, 0.0]
    assert neuron.parameters == pytest.approx((1.0, 1.0, -0.99))  # the sweep puts the weight back


def test_the_formula_is_filled_in_with_the_current_numbers():
    text = SingleNeuron(2.0, -1.5, 0.3).formula((0.5, 0.2))
    # z = 2×0.5 − 1.5×0.2 + 0.3 = 1.0, σ(1) = 0.731
    assert "2.00×0.50 − 1.50×0.20 + 0.30 = 1.000" in text
    assert "= 0.731" in text and "step(z) = 1" in text


def test_the_lesson_is_one_sigmoid_neuron_and_its_weights_are_found():
    spec = load_lesson("sigmoid-neuron")
    assert is_single_neuron(spec)
    assert not is_single_neuron(load_lesson("toy-2d"))
    network = build_network(spec)
    network.initialize(spec.training.initializer, spec.training.seed)
    layer_id, w1, w2, b = neuron_parameters(network.state())
    assert layer_id == "neuron"
    assert (w1, w2, b) == pytest.approx((-1.74, -1.34, -1.36), abs=0.01)  # the start the panel text names
    assert neuron_parameters(build_network(load_lesson("toy-2d")).state()) is None


def test_one_sigmoid_unit_learns_two_classes_its_target_the_label():
    spec = load_lesson("sigmoid-neuron")
    network = build_network(spec)
    network.initialize("normal", 0)
    data = load_dataset("gaussians", seed=0)
    inputs, targets = prepare_data(network, data.x_val, data.y_val, data.task, data.n_outputs, data.name)
    assert targets.shape == (len(data.y_val), 1)
    np.testing.assert_array_equal(targets[:, 0], data.y_val)
    assert predicted_classes(np.array([[0.2], [0.7]])).tolist() == [0, 1]
    _, accuracy = evaluate(network, inputs, targets, True)
    evaluation = evaluate_network(network, data)
    assert evaluation.outputs.shape == (len(data.y_val), 2) and evaluation.probabilistic
    assert evaluation.accuracy == pytest.approx(accuracy)  # the matrix's diagonal is the epoch's accuracy


def test_the_lesson_turns_w_round_and_fits_the_clouds():
    spec = load_lesson("sigmoid-neuron")
    run = family_of(spec).start(spec, RunOptions())
    trainer, network = run.trainer, run.model
    assert trainer.uses_fast_path  # the fused kernel's accuracy count takes one output too
    _, start_accuracy = evaluate(network, trainer.x_val, trainer.t_val, True)
    start = neuron_parameters(network.copy_state())[1:]
    path = [start]
    records = []
    for event in trainer.run():
        if isinstance(event, EpochEvent):
            records.append(event)
            path.append(neuron_parameters(network.copy_state())[1:])
    assert start_accuracy < 0.3
    assert records[-1].val_accuracy >= 0.97 and records[-1].train_accuracy >= 0.97
    (w1, w2, b), (w1_end, w2_end, b_end) = start, path[-1]
    assert w1 + w2 < -2 and w1_end + w2_end > 4  # w points from the orange cloud to the blue one
    assert abs(b) > 1 and abs(b_end) < 0.2
    # the weights move at every epoch: something to watch for the whole run
    steps = np.abs(np.diff(np.array(path), axis=0)).max(axis=1)
    assert (steps > 0.05).all()


def test_train_prints_w_and_b_every_epoch(capsys):
    assert main(["train", "sigmoid-neuron"]) == 0
    captured = capsys.readouterr()
    lines = [line for line in captured.out.splitlines() if line.startswith("epoch")]
    assert len(lines) == 10
    found = [re.search(r"neuron: w = \[(\S+), (\S+)\] b = \[(\S+)\]", line) for line in lines]
    assert all(found)
    w1, w2, b = (float(v) for v in found[-1].groups())
    assert w1 > 2 and w2 > 2 and abs(b) < 0.2
    assert "val 99.00%" in lines[-1]
    out = captured.out
    assert "the neuron before training: w = (-1.74, -1.34), b = -1.36, 20.5% of the 200 validation points" in out
    assert "the neuron after training: w = (2.64, 2.75), b = -0.00, 99.0% of the 200 validation points" in out


def test_the_fused_kernel_and_the_layer_by_layer_path_count_one_units_hits_alike():
    from playground.training.trainer import StepChunk

    spec = load_lesson("sigmoid-neuron")
    accuracies = []
    for fused in (True, False):
        run = family_of(spec).start(spec, RunOptions(epochs=1))
        if not fused:
            run.trainer._runner = None  # every batch through the layers' own forward and backward
        chunks = [event for event in run.trainer.run() if isinstance(event, StepChunk)]
        accuracies.append(np.concatenate([chunk.accuracies for chunk in chunks]))
    assert len(accuracies[0]) == 80
    np.testing.assert_allclose(accuracies[0], accuracies[1])
    assert accuracies[0].min() < accuracies[0].max()  # hits counted, not a constant
