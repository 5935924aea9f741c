"""Why the cost function decides how fast an output learns, in numbers the engine computes.

The learning-slowdown lesson trains one sigmoid neuron, a = σ(wx + b), towards y = 0.  With the
quadratic cost the error it learns from is δ = (a − y)·σ′(z); with cross-entropy it is δ = a − y:
σ′(z) cancels.  ``neuron_moment`` gives both for the neuron as it stands, so a view can show the
slope that slows one of them next to the cost curves.  ``softmax_moment`` is Nielsen's softmax
demo with the log-likelihood cost: any output z's, their softmax a, the cost −ln a_y and its
error δ = a − y, again free of an activation's slope.

Every number is the engine's own (its activation and cost kernels), not a second formula.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..engine.activations import SIGMOID, SOFTMAX, activation_backward, activation_forward
from ..engine.costs import CROSS_ENTROPY, LOG_LIKELIHOOD, QUADRATIC, cost_and_delta


def sigmoid_and_slope(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """σ(z) and σ′(z) for every value of ``z`` (float64)."""
    column = np.asarray(z, np.float64).reshape(-1, 1)
    a, slope = np.empty_like(column), np.empty_like(column)
    activation_forward(SIGMOID, column, a, 0.0)
    activation_backward(SIGMOID, column, a, np.ones_like(column), slope, 0.0)
    return a[:, 0], slope[:, 0]


def _output_error(cost: int, z: float, a: float, y: float) -> float:
    """δ = ∂C/∂z of a sigmoid output, as the engine's cost kernel computes it."""
    delta = np.empty((1, 1))
    cost_and_delta(cost, SIGMOID, np.array([[z]]), np.array([[a]]), np.array([[y]]), delta, 0.0)
    return float(delta[0, 0])


@dataclass(frozen=True)
class NeuronMoment:
    """One sigmoid neuron at its example: z = w·x + b, a = σ(z), σ′(z), the target, and the error
    δ = ∂C/∂z it learns from under each cost (∂C/∂b = δ, ∂C/∂w = δ·x)."""

    x: float
    y: float
    z: float
    a: float
    slope: float
    quadratic_delta: float
    cross_entropy_delta: float


def is_one_neuron(spec) -> bool:
    """Whether ``spec`` is Nielsen's single neuron: one input value into one sigmoid unit."""
    nodes = getattr(spec, "nodes", None) or []
    if len(nodes) != 2 or nodes[0].type != "input" or nodes[1].type != "dense":
        return False
    neuron = nodes[1].config
    return tuple(nodes[0].config.shape) == (1,) and neuron.units == 1 and neuron.activation == "sigmoid"


def neuron_moment(spec, weights: dict | None, dataset) -> NeuronMoment | None:
    """The neuron of ``spec`` with ``weights`` at the first training example of ``dataset``; None
    for any other network, or before there are weights and data."""
    if not is_one_neuron(spec) or weights is None or dataset is None or len(dataset.x_train) == 0:
        return None
    out = spec.nodes[1].id
    w, b = float(np.ravel(weights[f"{out}.weight"])[0]), float(np.ravel(weights[f"{out}.bias"])[0])
    x, y = float(np.ravel(dataset.x_train[0])[0]), float(np.ravel(dataset.y_train[0])[0])
    z = w * x + b
    (a,), (slope,) = sigmoid_and_slope(np.array([z]))
    return NeuronMoment(
        x, y, z, float(a), float(slope), _output_error(QUADRATIC, z, a, y), _output_error(CROSS_ENTROPY, z, a, y)
    )


@dataclass(frozen=True)
class SoftmaxMoment:
    """A softmax output layer with inputs ``z``: its activations, the log-likelihood cost of
    class ``target`` and the error δ = a − y the cost sends back."""

    z: np.ndarray
    a: np.ndarray
    target: int
    cost: float
    delta: np.ndarray


def softmax_moment(z, target: int) -> SoftmaxMoment:
    z = np.asarray(z, np.float64).reshape(1, -1)
    if not 0 <= target < z.shape[1]:
        raise ValueError(f"the target class must be one of 0 … {z.shape[1] - 1}, not {target}")
    a, delta = np.empty_like(z), np.empty_like(z)
    activation_forward(SOFTMAX, z, a, 0.0)
    y = np.zeros_like(z)
    y[0, target] = 1.0
    cost = cost_and_delta(LOG_LIKELIHOOD, SOFTMAX, z, a, y, delta, 0.0)
    return SoftmaxMoment(z[0], a[0], target, float(cost), delta[0])


__all__ = [
    "NeuronMoment",
    "SoftmaxMoment",
    "is_one_neuron",
    "neuron_moment",
    "sigmoid_and_slope",
    "softmax_moment",
]
