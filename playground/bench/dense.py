"""The dense workloads: multilayer perceptrons through the engine's fused dense-stack kernel,
against the textbook vectorised numpy float32 step and ``torch.nn.Linear`` layers."""

from __future__ import annotations

import numpy as np

from ..engine.dense_stack import DenseStackRunner
from ..engine.network import Network
from ..engine.optimizers import Optimizer, OptimizerSettings
from ..model import build_network, sequential_spec
from .feedforward import LEARNING_RATE, Workload, random_images, stack_epoch, torch_epoch
from .harness import Benchmark

WORKLOADS = (
    Workload(
        "mlp_nielsen",
        (784, 30, 10),
        "sigmoid",
        "quadratic",
        10,
        False,
        1.5,
        "784-30-10 sigmoid, quadratic, SGD mini-batch 10",
    ),
    Workload(
        "mlp_softmax",
        (784, 100, 10),
        "softmax",
        "log-likelihood",
        64,
        False,
        1.2,
        "784-100-10, softmax log-likelihood, mini-batch 64",
    ),
    Workload(
        "deep_sigmoid",
        (784, 30, 30, 30, 30, 10),
        "sigmoid",
        "cross-entropy",
        10,
        True,
        1.5,
        "784-30×4-10 sigmoid, cross-entropy, mini-batch 10, per-layer norms on (references take them too)",
    ),
)


def _engine_network(w: Workload) -> Network:
    spec = sequential_spec(
        list(w.sizes), activation="sigmoid", output=w.output, cost=w.cost, initializer="normal-scaled"
    )
    network = build_network(spec)
    network.initialize("normal-scaled", 0)
    return network


def engine_epoch(w: Workload, x, y, instrument: bool | None = None):
    """A closure training one pass over ``x`` in the trainer's chunks."""
    network = _engine_network(w)
    runner = DenseStackRunner(network, Optimizer(OptimizerSettings(), network.slots()), w.batch)
    return stack_epoch(w, runner, x, y, instrument)


def numpy_epoch(w: Workload, x, y):
    """The reference: the textbook vectorised numpy step, float32, allocating as numpy does."""
    rng = np.random.default_rng(0)
    sizes = w.sizes
    weights = [(rng.standard_normal((o, i)) / np.sqrt(i)).astype(np.float32) for i, o in zip(sizes[:-1], sizes[1:])]
    biases = [rng.standard_normal(o).astype(np.float32) for o in sizes[1:]]
    order = np.random.default_rng(1).permutation(len(x))
    lr = np.float32(LEARNING_RATE)

    def sigmoid(z):
        return 1.0 / (1.0 + np.exp(-z))

    def run():
        for start in range(0, len(x) - w.batch + 1, w.batch):
            rows = order[start : start + w.batch]
            xb, yb = x[rows], y[rows]
            activations = [xb]
            for layer, (weight, bias) in enumerate(zip(weights, biases)):
                z = activations[-1] @ weight.T + bias
                if layer == len(weights) - 1 and w.output == "softmax":
                    e = np.exp(z - z.max(axis=1, keepdims=True))
                    activations.append(e / e.sum(axis=1, keepdims=True))
                else:
                    activations.append(sigmoid(z))
            out = activations[-1]
            delta = (out - yb) * out * (1 - out) if w.cost == "quadratic" else out - yb
            delta /= w.batch
            for layer in range(len(weights) - 1, -1, -1):
                grad_w = delta.T @ activations[layer]
                grad_b = delta.sum(axis=0)
                if w.instrument:
                    np.linalg.norm(grad_w), np.linalg.norm(grad_b)
                if layer:
                    a = activations[layer]
                    delta = (delta @ weights[layer]) * a * (1 - a)
                weights[layer] -= lr * grad_w
                biases[layer] -= lr * grad_b

    return run


def _torch_layers(w: Workload, nn) -> list:
    """``nn.Linear`` layers with sigmoids between them, and on the output where the workload has one."""
    layers = []
    for i, (n_in, n_out) in enumerate(zip(w.sizes[:-1], w.sizes[1:])):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(w.sizes) - 2 or w.output == "sigmoid":
            layers.append(nn.Sigmoid())
    return layers


def dense_flops(sizes: tuple[int, ...]) -> int:
    """Floating-point operations of one sample's forward and backward pass, counted in the matrix
    products (2 per multiply-add; the element-wise work is a few percent and not counted): per
    layer of n_in·n_out weights, the forward product, the weight gradient, and the delta passed
    down, which the first layer skips (nothing needs the input's gradient)."""
    products = [n_in * n_out for n_in, n_out in zip(sizes[:-1], sizes[1:])]
    return 2 * (3 * sum(products) - products[0])


def dense_benchmark(w: Workload) -> Benchmark:
    """The engine, numpy and torch on ``w`` (and, for an instrumented workload, the engine with its
    instrumentation off, whose figure gives the instrumentation's cost)."""

    def data(n: int):
        return random_images(n, w.sizes[-1])

    contenders = {
        "engine": lambda n: engine_epoch(w, *data(n)),
        "numpy": lambda n: numpy_epoch(w, *data(n)),
        "torch": lambda n: torch_epoch(w, *data(n), lambda nn: _torch_layers(w, nn)),
    }
    if w.instrument:
        contenders["engine-uninstrumented"] = lambda n: engine_epoch(w, *data(n), instrument=False)
    return Benchmark(w.id, w.description, w.target, 16000, 4000, dense_flops(w.sizes), contenders)
