"""Forward and backward parity with the equivalent torch modules, float64, 1e-5 relative."""

from __future__ import annotations

import numpy as np
import pytest

from .helpers import mlp, one_hot, relative_error

torch = pytest.importorskip("torch")

TORCH_ACTIVATIONS = {
    "sigmoid": torch.nn.Sigmoid,
    "tanh": torch.nn.Tanh,
    "relu": torch.nn.ReLU,
    "leaky_relu": lambda: torch.nn.LeakyReLU(0.01),
    "linear": torch.nn.Identity,
}
TORCH_COSTS = {
    "quadratic": lambda out, y, labels: 0.5 * ((out - y) ** 2).sum(dim=1).mean(),
    "cross-entropy": lambda out, y, labels: torch.nn.functional.binary_cross_entropy(out, y, reduction="sum") / len(y),
    "log-likelihood": lambda out, y, labels: torch.nn.functional.nll_loss(torch.log(out), labels),
}


def torch_twin(network):
    """torch.nn.Sequential with the engine's weights: Linear uses the same (out, in) layout."""
    modules = []
    for layer in network.layers[1:]:
        linear = torch.nn.Linear(layer.n_in, layer.config.units).double()
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(layer.params["weight"]))
            linear.bias.copy_(torch.from_numpy(layer.params["bias"]))
        modules.append(linear)
        name = layer.config.activation
        modules.append(torch.nn.Softmax(dim=1) if name == "softmax" else TORCH_ACTIVATIONS[name]())
    return torch.nn.Sequential(*modules)


@pytest.mark.parametrize("hidden", sorted(TORCH_ACTIVATIONS))
@pytest.mark.parametrize(
    "output,cost",
    [("sigmoid", "quadratic"), ("linear", "quadratic"), ("sigmoid", "cross-entropy"), ("softmax", "log-likelihood")],
)
def test_dense_network_matches_torch(hidden, output, cost):
    rng = np.random.default_rng(0)
    network = mlp([6, 5, 4, 3], activation=hidden, output=output, cost=cost, initializer="xavier")
    x = rng.standard_normal((8, 6))
    labels = rng.integers(0, 3, 8)
    targets = one_hot(labels, 3)
    loss, output_values = network.loss_and_gradients(x, targets)

    model = torch_twin(network)
    tx = torch.from_numpy(x)
    t_out = model(tx)
    t_loss = TORCH_COSTS[cost](t_out, torch.from_numpy(targets), torch.from_numpy(labels))
    t_loss.backward()

    assert relative_error(output_values, t_out.detach().numpy()) < 1e-5
    assert loss == pytest.approx(t_loss.item(), rel=1e-5)
    linears = [m for m in model if isinstance(m, torch.nn.Linear)]
    for layer, linear in zip(network.layers[1:], linears):
        assert relative_error(layer.grads["weight"], linear.weight.grad.numpy()) < 1e-5, layer.id
        assert relative_error(layer.grads["bias"], linear.bias.grad.numpy()) < 1e-5, layer.id


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_optimiser_steps_match_torch(optimizer):
    """Three steps with L2: the engine's (λ/n)·w term is torch's weight_decay on the weights only."""
    from playground.engine.optimizers import Optimizer, OptimizerSettings

    rng = np.random.default_rng(1)
    network = mlp([4, 3, 2], output="sigmoid", cost="quadratic")
    model = torch_twin(network)
    weights = [m.weight for m in model if isinstance(m, torch.nn.Linear)]
    biases = [m.bias for m in model if isinstance(m, torch.nn.Linear)]
    decay = 0.01
    groups = [{"params": weights, "weight_decay": decay}, {"params": biases, "weight_decay": 0.0}]
    if optimizer == "adam":
        settings, t_opt = OptimizerSettings("adam"), torch.optim.Adam(groups, lr=0.05, eps=1e-8)
    else:
        momentum = 0.9 if optimizer == "momentum" else 0.0
        settings, t_opt = OptimizerSettings("sgd", momentum), torch.optim.SGD(groups, lr=0.05, momentum=momentum)
    ours = Optimizer(settings, network.slots())
    for _ in range(3):
        x, y = rng.standard_normal((5, 4)), rng.random((5, 2))
        network.loss_and_gradients(x, y)
        ours.step(0.05, decay, 0.0)
        t_opt.zero_grad()
        TORCH_COSTS["quadratic"](model(torch.from_numpy(x)), torch.from_numpy(y), None).backward()
        t_opt.step()
    for layer, weight, bias in zip(network.layers[1:], weights, biases):
        assert relative_error(layer.params["weight"], weight.detach().numpy()) < 1e-5
        assert relative_error(layer.params["bias"], bias.detach().numpy()) < 1e-5
