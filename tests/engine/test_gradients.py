"""Finite-difference gradient checks in float64 for every layer type and every cost."""

from __future__ import annotations

import numpy as np
import pytest

from playground.engine.activations import ACTIVATIONS
from playground.engine.costs import COSTS
from playground.engine.layers import LAYER_TYPES, layer_class
from playground.engine.layers.dropout import seed_kernel_random
from playground.engine.network import Network

from .helpers import dense, numerical_gradient, one_hot, relative_error

TOLERANCE = 1e-6


def check_network_gradients(network, x, targets, seed=7):
    """Compare backprop with central differences for every parameter and for the input."""

    def loss():
        seed_kernel_random(seed)  # the same dropout mask at every evaluation
        value, _ = network.loss_and_gradients(x, targets)
        return value

    loss()
    analytic = {f"{layer.id}.{name}": grad.copy() for layer in network.trainable for name, grad in layer.grads.items()}
    for key, param in network.state().items():
        numeric = numerical_gradient(loss, param)
        assert relative_error(analytic[key], numeric) < TOLERANCE, key


def input_gradient_matches(network, x, targets):
    """∂C/∂x from backward against central differences (checks every layer's dx)."""
    out_layer = network.layers[-1]

    def loss():
        value, _ = network.loss_and_gradients(x, targets)
        return value

    seed_kernel_random(3)
    output = network.forward(x, training=True)
    from playground.engine.costs import cost_and_delta

    delta = np.empty_like(output)
    cost_and_delta(
        network.cost_code, out_layer.activation_code, out_layer.z, output, targets, delta, out_layer.config.alpha
    )
    delta /= len(x)
    dy = out_layer.backward_from_delta(delta)
    for layer in reversed(network.layers[:-1]):
        dy = layer.backward(dy)

    def loss_fixed_mask():
        seed_kernel_random(3)
        return loss()

    numeric = numerical_gradient(loss_fixed_mask, x)
    return relative_error(dy, numeric)


@pytest.mark.parametrize("type_id", sorted(LAYER_TYPES))
def test_every_registered_layer_type_passes_a_gradient_check(type_id):
    """The generic check every layer type gets for free: Input → layer → Dense(3, softmax)."""
    cls = layer_class(type_id)
    rng = np.random.default_rng(0)
    shape = cls.example_input_shape
    specs = [("in", "input", layer_class("input").Config(shape=shape))]
    if type_id != "input":
        specs.append(("layer", type_id, cls.Config()))
    specs.append(("out", "dense", dense(3, "softmax")))
    network = Network.from_specs(specs, shape, "log-likelihood", np.float64)
    network.initialize("xavier", 1)
    targets = one_hot(rng.integers(0, 3, 4), 3)
    if getattr(cls, "token_input", False):
        # token ids (whole numbers) have no gradient of their own: check the parameters only
        x = rng.integers(0, cls.Config().vocabulary, (4,) + shape).astype(np.float64)
        check_network_gradients(network, x, targets)
        return
    x = rng.standard_normal((4,) + shape)
    check_network_gradients(network, x, targets)
    assert input_gradient_matches(network, x, targets) < TOLERANCE


@pytest.mark.parametrize("activation", sorted(a for a in ACTIVATIONS if a != "softmax"))
def test_dense_gradients_for_each_hidden_activation(activation):
    rng = np.random.default_rng(1)
    specs = [
        ("in", "input", layer_class("input").Config(shape=(5,))),
        ("hidden", "dense", dense(4, activation)),
        ("out", "dense", dense(3, "sigmoid")),
    ]
    network = Network.from_specs(specs, (5,), "quadratic", np.float64)
    network.initialize("xavier", 2)
    # keep inputs away from ReLU's kink, where the derivative is undefined
    x = rng.standard_normal((6, 5))
    targets = rng.random((6, 3))
    check_network_gradients(network, x, targets)
    assert input_gradient_matches(network, x, targets) < TOLERANCE


COST_OUTPUTS = [
    (cost, activation)
    for cost, info in COSTS.items()
    for activation in (
        [info.requires_activation] if info.requires_activation else ["linear", "sigmoid", "tanh", "softmax"]
    )
]


@pytest.mark.parametrize("cost,output", COST_OUTPUTS)
def test_every_cost_with_its_output_activations(cost, output):
    rng = np.random.default_rng(2)
    specs = [("in", "input", layer_class("input").Config(shape=(4,))), ("out", "dense", dense(3, output))]
    network = Network.from_specs(specs, (4,), cost, np.float64)
    network.initialize("normal", 3)
    x = rng.standard_normal((5, 4))
    targets = one_hot(rng.integers(0, 3, 5), 3) if output in ("softmax", "sigmoid") else rng.standard_normal((5, 3))
    check_network_gradients(network, x, targets)


def test_cost_values_follow_their_formulas():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((5, 4))
    labels = rng.integers(0, 3, 5)
    targets = one_hot(labels, 3)
    for cost, output, formula in [
        ("quadratic", "sigmoid", lambda a: 0.5 * ((targets - a) ** 2).sum(axis=1).mean()),
        (
            "cross-entropy",
            "sigmoid",
            lambda a: -(targets * np.log(a) + (1 - targets) * np.log(1 - a)).sum(axis=1).mean(),
        ),
        ("log-likelihood", "softmax", lambda a: -np.log(a[np.arange(5), labels]).mean()),
    ]:
        specs = [("in", "input", layer_class("input").Config(shape=(4,))), ("out", "dense", dense(3, output))]
        network = Network.from_specs(specs, (4,), cost, np.float64)
        network.initialize("normal", 0)
        loss, output_values = network.loss_and_gradients(x, targets)
        assert loss == pytest.approx(formula(output_values), rel=1e-12)


def test_cross_entropy_cancels_the_sigmoid_derivative_where_it_saturates():
    """δ = a − y for cross-entropy, even where σ'(z) rounds to 0 (the point of the cost lesson)."""
    specs = [("in", "input", layer_class("input").Config(shape=(1,))), ("out", "dense", dense(1, "sigmoid"))]
    network = Network.from_specs(specs, (1,), "cross-entropy", np.float32)
    out = network.layers[-1]
    out.params["weight"][...] = 50.0
    out.params["bias"][...] = 0.0
    network.loss_and_gradients(np.array([[1.0]], np.float32), np.array([[0.0]], np.float32))
    assert out.grads["bias"][0] == pytest.approx(1.0)  # a − y with a ≈ 1, not 0
