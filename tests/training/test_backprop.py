"""The backprop explainer: every number it shows is the engine's, the substituted formulas give those
numbers, the steps cover the forward pass and the four equations, and the gradient check agrees with
backpropagation to 1e-6 relative in float64."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from playground.datasets import load_dataset
from playground.model import build_network, sequential_spec
from playground.training import FeedForwardTrainer
from playground.training.backprop import (
    EXAMPLE_NAME,
    BackpropExplainer,
    gradient_check_figure,
    number,
    why_not_explained,
)
from playground.training.lessons import load_lesson

#: (sizes, hidden activation, output activation, cost): the lesson's network and the other kinds of
#: Dense network the explainer takes (cross-entropy's δ, softmax's, ReLU's kink, three layers)
NETWORKS = [
    ([2, 3, 2], "sigmoid", "sigmoid", "quadratic"),
    ([3, 4, 2], "sigmoid", "sigmoid", "cross-entropy"),
    ([4, 5, 3], "tanh", "softmax", "log-likelihood"),
    ([3, 5, 4, 2], "relu", "linear", "quadratic"),
    ([6, 7, 3], "leaky_relu", "sigmoid", "quadratic"),
]


def network_and_example(sizes, hidden, output, cost, seed=0):
    spec = sequential_spec(sizes, activation=hidden, output=output, cost=cost, initializer="xavier")
    network = build_network(spec, np.float64)
    network.initialize("xavier", seed)
    rng = np.random.default_rng(seed + 1)
    for layer in network.trainable:  # non-zero biases, so every term of z shows
        layer.params["bias"][...] = rng.normal(0, 0.5, layer.params["bias"].shape)
    x = rng.normal(0, 1, sizes[0])
    target = np.eye(sizes[-1])[1] if output != "linear" else rng.normal(0, 1, sizes[-1])
    return spec, network, x, target


def engine_reference(network, x, target):
    """The engine's other path (layer by layer, ``Network.loss_and_gradients``) on the same example:
    z and a cached by each layer, δ of the hidden layers (``Dense.dz``), every gradient."""
    cost, _ = network.loss_and_gradients(x[None], target[None])
    layers = network.trainable
    return {
        "cost": cost,
        "z": [layer.z[0].copy() for layer in layers],
        "a": [layer.a[0].copy() for layer in layers],
        "delta": [layer.dz[0].copy() for layer in layers[:-1]] + [layers[-1].grads["bias"].copy()],
        "bias_grad": [layer.grads["bias"].copy() for layer in layers],
        "weight_grad": [layer.grads["weight"].copy() for layer in layers],
    }


def reference_value(reference, quantity, x):
    if quantity.kind == "a" and quantity.layer == 0:
        return x[quantity.unit]
    array = reference[quantity.kind][quantity.layer - 1]
    return array[quantity.unit] if quantity.source is None else array[quantity.unit, quantity.source]


@pytest.mark.parametrize("sizes,hidden,output,cost", NETWORKS)
def test_every_displayed_quantity_is_the_engines(sizes, hidden, output, cost):
    spec, network, x, target = network_and_example(sizes, hidden, output, cost)
    explainer = BackpropExplainer(spec, network.copy_state(), x, target)
    reference = engine_reference(network, x, target)
    assert explainer.cost == pytest.approx(reference["cost"], rel=1e-12)
    shown = [q for step in explainer.steps() for q in step.quantities]
    units = range(1, len(sizes))
    shown += [q for layer in units for j in range(sizes[layer]) for q in explainer.explain_unit(layer, j)]
    shown += [
        q
        for layer in units
        for j in range(sizes[layer])
        for k in range(sizes[layer - 1])
        for q in explainer.explain_weight(layer, j, k)
    ]
    for quantity in shown:
        expected = reference_value(reference, quantity, x)
        assert quantity.value == pytest.approx(expected, rel=1e-10, abs=1e-14), quantity.formula
        # the numbers substituted into the formula give the engine's number, and the formula ends with it
        assert quantity.substituted == pytest.approx(quantity.value, rel=1e-10, abs=1e-14), quantity.formula
        assert quantity.formula.endswith(f"= {number(quantity.value)}"), quantity.formula


@pytest.mark.parametrize("sizes,hidden,output,cost", NETWORKS)
def test_gradient_check_agrees_with_backpropagation_to_1e_6(sizes, hidden, output, cost):
    spec, network, x, target = network_and_example(sizes, hidden, output, cost, seed=3)
    explainer = BackpropExplainer(spec, network.copy_state(), x, target)
    rows = explainer.gradient_check()
    assert len(rows) == network.parameter_count() == len({row.name for row in rows})
    assert max(row.relative_error for row in rows) <= 1e-6
    # the backprop column is the engine's gradient, parameter by parameter
    reference = engine_reference(network, x, target)
    backprop = np.concatenate(
        [np.append(w.ravel(), b) for w, b in zip(reference["weight_grad"], reference["bias_grad"])]
    )
    assert np.array([row.backprop for row in rows]) == pytest.approx(backprop, rel=1e-10, abs=1e-14)
    # and the numerical column is an estimate of its own, not a copy of it
    assert any(row.numerical != row.backprop for row in rows)


def test_gradients_match_torch_autograd():
    torch = pytest.importorskip("torch")
    spec, network, x, target = network_and_example([2, 3, 2], "sigmoid", "sigmoid", "quadratic", seed=5)
    explainer = BackpropExplainer(spec, network.copy_state(), x, target)
    params = [
        torch.tensor(layer.params[name], requires_grad=True)
        for layer in network.trainable
        for name in ("weight", "bias")
    ]
    a = torch.tensor(x)
    for weight, bias in zip(params[::2], params[1::2]):
        a = torch.sigmoid(weight @ a + bias)
    cost = 0.5 * ((a - torch.tensor(target)) ** 2).sum()
    cost.backward()
    assert explainer.cost == pytest.approx(cost.item(), rel=1e-12)
    for layer in range(1, 3):
        assert explainer.weight_grads[layer] == pytest.approx(params[2 * layer - 2].grad.numpy(), rel=1e-10)
        assert explainer.bias_grads[layer] == pytest.approx(params[2 * layer - 1].grad.numpy(), rel=1e-10)


def test_the_steps_run_forward_then_the_four_equations_from_the_output_down():
    spec, network, x, target = network_and_example([3, 5, 4, 2], "sigmoid", "sigmoid", "quadratic")
    explainer = BackpropExplainer(spec, network.copy_state(), x, target)
    steps = explainer.steps()
    assert [step.kind for step in steps] == [
        *["forward"] * 3,
        "cost",
        *["BP1", "BP3", "BP4"],
        *["BP2", "BP3", "BP4"] * 2,
    ]
    assert [step.forward_known for step in steps[:3]] == [1, 2, 3]
    assert [step.delta_known_from for step in steps[4:]] == [3, 3, 3, 2, 2, 2, 1, 1, 1]
    # every gradient is shown exactly once, by BP3 or BP4
    gradients = [(q.kind, q.layer, q.unit, q.source) for step in steps for q in step.quantities if "grad" in q.kind]
    assert len(gradients) == len(set(gradients)) == network.parameter_count()
    # BP2 of layer 1 lights layer 2's units and every edge between them; BP4 of layer 2 the edges into it
    bp2 = steps[10]
    assert bp2.nodes == {(1, j) for j in range(5)} | {(2, i) for i in range(4)}
    assert bp2.edges == {(2, i, j) for i in range(4) for j in range(5)}
    assert steps[9].edges == {(2, j, k) for j in range(4) for k in range(5)}
    assert "((w²)ᵀ δ²) ⊙ σ′(z¹)" in bp2.equation


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_lesson_trains_and_its_gradients_still_check_after_training(seed):
    """Seed 1 leaves a gradient of 2.6e-7 after training, which a two-point difference at h = 1e-5
    estimated only to 2e-6: the check's fourth-order estimate holds 1e-6 there too."""
    spec = load_lesson("backprop")
    spec.training = dataclasses.replace(spec.training, seed=seed)
    assert [node.config.units for node in spec.nodes if node.type == "dense"] == [3, 2]
    network = build_network(spec)
    network.initialize(spec.training.initializer, spec.training.seed)
    dataset = load_dataset(spec.dataset.name, seed=seed)
    figure = gradient_check_figure(spec, network, dataset)
    before = figure("before training")
    assert EXAMPLE_NAME in before[0] and len(before) == 1 + 1 + 17 + 1
    records = [e for e in FeedForwardTrainer(network, dataset, spec.training).run() if hasattr(e, "val_accuracy")]
    assert records[-1].val_accuracy > 0.9  # the 2-3-2 network separates the circle
    explainer = BackpropExplainer.for_dataset(spec, network.copy_state(), dataset)
    assert max(row.relative_error for row in explainer.gradient_check()) <= 1e-6
    assert explainer.x == pytest.approx(dataset.x_train[0])
    assert explainer.target == pytest.approx(np.eye(2)[dataset.y_train[0]])


@pytest.mark.parametrize(
    "lesson,reason",
    [
        ("cnn-mnist", "Dense layers only"),
        ("overfitting-dropout", "Dense layers only"),
        ("rnn-vs-lstm", "Dense layers only"),
        ("backprop", None),
        ("vanishing-gradients", None),
    ],
)
def test_only_plain_dense_networks_are_explained(lesson, reason):
    problem = why_not_explained(load_lesson(lesson))
    assert problem is None if reason is None else reason in problem
    wide = sequential_spec(
        [5000, 500, 10], activation="sigmoid", output="sigmoid", cost="quadratic", initializer="xavier"
    )
    assert "up to 2,000,000 parameters" in why_not_explained(wide)
    with pytest.raises(ValueError, match="Dense layers only"):
        BackpropExplainer(load_lesson("cnn-mnist"), {}, np.zeros(784), np.zeros(10))
