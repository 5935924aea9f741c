"""One sigmoid neuron on two inputs, taken apart: the figures behind the window's Neuron view.

The lecture's first picture: a neuron weighs its inputs, adds a bias and squashes the sum,
a = σ(w₁x₁ + w₂x₂ + b).  The view draws that output over the input plane, puts the
perceptron's step (1 where z = w·x + b > 0, else 0) beside it, and shows what a small
change of one weight does to each at one point of the plane: the sigmoid's output moves a
little, the step's stays put or jumps.  That smoothness is what gradient descent needs, so
the view also gives ∂a/∂w₁, ∂a/∂w₂ and ∂a/∂b at the point.

Every number comes from the engine's own Dense layer (float64): its forward pass gives z and
σ(z), its backward pass the gradient.  Nothing here computes a sigmoid of its own, so the
view shows what a network computes.  No Qt here: the view in ``gui/dashboard/neuron.py`` only
draws these arrays, and the tests check them headless.
"""

from __future__ import annotations

import numpy as np

from ..engine.layers import layer_class

#: what the view's sliders span: wide enough for what training reaches on the toy sets
#: (|w| about 3), small enough that a slider step (0.05) is a small change
PARAMETER_LIMIT = 6.0


def is_single_neuron(spec) -> bool:
    """A network of one sigmoid unit on two inputs: what the Neuron view can show in full."""
    if spec is None or len(spec.nodes) != 2:
        return False
    inputs = [node for node in spec.nodes if node.type == "input"]
    dense = [node for node in spec.nodes if node.type == "dense"]
    return (
        len(inputs) == 1
        and tuple(inputs[0].config.shape) == (2,)
        and len(dense) == 1
        and dense[0].config.units == 1
        and dense[0].config.activation == "sigmoid"
    )


def neuron_parameters(weights: dict[str, np.ndarray] | None) -> tuple[str, float, float, float] | None:
    """(layer id, w₁, w₂, b) from a weights dict of a single neuron ("<id>.weight" (1, 2) and
    "<id>.bias" (1,)), or None when the weights are another network's."""
    if not weights:
        return None
    for key, weight in weights.items():
        layer_id, _, name = key.partition(".")
        bias = weights.get(f"{layer_id}.bias")
        if name == "weight" and np.shape(weight) == (1, 2) and bias is not None and np.shape(bias) == (1,):
            return layer_id, float(weight[0, 0]), float(weight[0, 1]), float(bias[0])
    return None


class SingleNeuron:
    """σ(w₁x₁ + w₂x₂ + b) computed by the engine's Dense layer: outputs, the step, the gradient."""

    def __init__(self, w1: float = 0.0, w2: float = 0.0, b: float = 0.0):
        dense = layer_class("dense")
        self.layer = dense("neuron", dense.Config(units=1, activation="sigmoid"), (2,), np.float64)
        self.set(w1, w2, b)

    def set(self, w1: float, w2: float, b: float) -> None:
        self.layer.params["weight"][0] = (w1, w2)
        self.layer.params["bias"][0] = b

    @property
    def parameters(self) -> tuple[float, float, float]:
        """(w₁, w₂, b)"""
        weight = self.layer.params["weight"][0]
        return float(weight[0]), float(weight[1]), float(self.layer.params["bias"][0])

    def state(self, layer_id: str) -> dict[str, np.ndarray]:
        """The parameters as a network's weights dict, for the network named ``layer_id``."""
        return {f"{layer_id}.{name}": value.copy() for name, value in self.layer.params.items()}

    def forward(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(z, σ(z)) for each row of ``points`` (n, 2), from the engine's forward pass."""
        a = self.layer.forward(np.asarray(points, np.float64).reshape(-1, 2), False)
        return self.layer.z[:, 0].copy(), a[:, 0].copy()

    def outputs(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(sigmoid, step) outputs for each point: σ(z), and the perceptron's 1 where z > 0."""
        z, a = self.forward(points)
        return a, (z > 0).astype(np.float64)

    def heat_maps(self, bounds: tuple[float, float, float, float], resolution: int = 120):
        """The sigmoid's and the step's outputs over the rectangle ``bounds`` = (x₁ from, x₁ to, x₂ from,
        x₂ to), each (resolution, resolution) with x₂ along the rows (row 0 at the bottom) and x₁
        along the columns, as an image drawn in that rectangle shows them."""
        x0, x1, y0, y1 = bounds
        gx, gy = np.meshgrid(np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution))
        sigmoid, step = self.outputs(np.column_stack([gx.ravel(), gy.ravel()]))
        return sigmoid.reshape(resolution, resolution), step.reshape(resolution, resolution)

    def gradient(self, point) -> tuple[float, float, float]:
        """(∂a/∂w₁, ∂a/∂w₂, ∂a/∂b) at ``point``: the engine's backward pass from ∂a = 1, i.e.
        σ′(z)·x₁, σ′(z)·x₂ and σ′(z).  The step's would be 0 everywhere but on its edge."""
        self.forward(np.asarray(point, np.float64)[None])
        self.layer.backward(np.ones((1, 1)))
        grads = self.layer.grads
        return float(grads["weight"][0, 0]), float(grads["weight"][0, 1]), float(grads["bias"][0])

    def weight_sweep(self, point, which: int, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The sigmoid's and the step's output at ``point`` as parameter ``which`` (0: w₁, 1: w₂,
        2: b) takes each of ``values``, the others as they are: a cut through both neurons along
        one slider."""
        kept = self.parameters
        sigmoid, step = np.empty(len(values)), np.empty(len(values))
        try:
            for k, value in enumerate(values):
                chosen = list(kept)
                chosen[which] = float(value)
                self.set(*chosen)
                sigmoid[k], step[k] = (out[0] for out in self.outputs(np.asarray(point, np.float64)[None]))
        finally:
            self.set(*kept)
        return sigmoid, step

    def accuracy(self, points: np.ndarray, labels: np.ndarray) -> float:
        """The fraction of ``points`` on their label's side: class 1 where σ(z) > 0.5."""
        sigmoid, _ = self.outputs(points)
        return float(((sigmoid > 0.5).astype(np.int64) == np.asarray(labels)).mean()) if len(points) else float("nan")

    def formula(self, point) -> str:
        """The formula at ``point`` with every number filled in, as plain text (minus signs as −)."""
        w1, w2, b = self.parameters
        x1, x2 = (float(v) for v in point)
        z, a = (v[0] for v in self.forward(np.asarray(point, np.float64)[None]))
        text = (
            f"z = w₁x₁ + w₂x₂ + b = {w1:.2f}×{x1:.2f} + {w2:.2f}×{x2:.2f} + {b:.2f} = {z:.3f};   "
            f"σ(z) = 1/(1 + e^(−z)) = {a:.3f};   step(z) = {int(z > 0)}"
        )
        return text.replace("-", "−").replace("+ −", "− ")


def neuron_figure(spec, network, dataset):
    """The lesson's figure for the terminal, as ``figure(moment)``: the neuron's w and b at that
    moment and the share of the validation points on their side of σ = 0.5; None for a network
    that is not one sigmoid neuron on two inputs, or data that is not two classes in the plane."""
    if not is_single_neuron(spec) or dataset.task != "classification" or dataset.input_shape != (2,):
        return None

    def figure(moment: str) -> list[str]:
        _, w1, w2, b = neuron_parameters(network.state())
        neuron = SingleNeuron(w1, w2, b)
        accuracy = neuron.accuracy(dataset.x_val.astype(np.float64), dataset.y_val)
        return [
            f"the neuron {moment}: w = ({w1:.2f}, {w2:.2f}), b = {b:.2f}, {100 * accuracy:.1f}% of the "
            f"{len(dataset.y_val)} validation points on their side of σ = 0.5"
        ]

    return figure
