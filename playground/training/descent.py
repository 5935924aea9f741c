"""Gradient descent made visible: how noisy a mini-batch's gradient is, and the path an optimiser
takes over a loss surface small enough to draw.

Two measurements for the ``gradient-descent`` lesson, both made with the engine itself:

- ``gradient_noise``: a mini-batch's gradient is an estimate of the full training set's.  The
  angle between the two says how good an estimate it is: near 0° the step goes where full-batch
  gradient descent would, near 90° it is mostly noise.  Small batches buy many cheap, noisy steps;
  the full set one exact, dear step.
- ``TwoParameterModel``: a linear neuron a = w·x + b under the quadratic cost has only two
  parameters, so its whole loss surface can be drawn as contours, and every step of an optimiser
  as a point on it.  The steps are taken by the engine's ``Optimizer`` on the gradient the
  engine's backpropagation computes: the picture is what training does, not a sketch of it.  The
  curvature of the surface (the Hessian's eigenvalues λ) sets the learning rates worth showing:
  plain gradient descent converges for η < 2/λ_max and diverges beyond it, and where λ_max and
  λ_min are far apart (a narrow valley) it zig-zags across the valley and crawls along it, which
  momentum cures.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..engine.layers import layer_class
from ..engine.network import Network
from ..engine.optimizers import Optimizer, OptimizerSettings


def gradient_vector(network: Network) -> np.ndarray:
    """Every parameter's gradient, as computed last, in one float64 vector."""
    return np.concatenate([grad.reshape(-1).astype(np.float64) for _, grad, _ in network.slots()])


def angle_between(a: np.ndarray, b: np.ndarray) -> float:
    """The angle between two vectors in degrees (NaN where either is zero or not finite)."""
    norms = float(np.linalg.norm(a) * np.linalg.norm(b))
    if not (math.isfinite(norms) and norms > 0):
        return float("nan")
    return math.degrees(math.acos(float(np.clip(np.dot(a, b) / norms, -1.0, 1.0))))


@dataclass(frozen=True)
class GradientNoise:
    """How far mini-batches of ``batch_size`` point from the full gradient: the mean and the
    spread of the angle over ``draws`` random batches, and the mean of ‖g_batch − g_full‖/‖g_full‖."""

    batch_size: int
    mean_angle: float
    angle_spread: float
    relative_error: float
    draws: int


def gradient_noise(
    network: Network, inputs: np.ndarray, targets: np.ndarray, batch_sizes, draws: int = 20, seed: int = 0
) -> list[GradientNoise]:
    """For each batch size, ``draws`` random mini-batches' gradients against the full gradient of
    ``inputs``, all at the network's current weights (which are not changed).  A batch size of the
    whole set (or more) is the full gradient itself: angle 0."""
    rng = np.random.default_rng(seed)
    n = len(inputs)
    network.loss_and_gradients(inputs, targets)
    full = gradient_vector(network)
    full_norm = float(np.linalg.norm(full))
    found = []
    for batch_size in batch_sizes:
        if batch_size >= n:
            found.append(GradientNoise(int(batch_size), 0.0, 0.0, 0.0, 1))
            continue
        angles, errors = [], []
        for _ in range(draws):
            rows = rng.choice(n, int(batch_size), replace=False)
            network.loss_and_gradients(inputs[rows], targets[rows])
            estimate = gradient_vector(network)
            angles.append(angle_between(estimate, full))
            errors.append(float(np.linalg.norm(estimate - full)) / full_norm if full_norm > 0 else math.nan)
        found.append(
            GradientNoise(int(batch_size), float(np.mean(angles)), float(np.std(angles)), float(np.mean(errors)), draws)
        )
    return found


# --- two parameters: the loss surface and an optimiser's path over it -----------------------------
@dataclass(frozen=True)
class Surface:
    """The cost on a grid: ``losses[i, j]`` at weight ``weights[j]`` and bias ``biases[i]``."""

    weights: np.ndarray
    biases: np.ndarray
    losses: np.ndarray


@dataclass(frozen=True)
class DescentPath:
    """Where an optimiser went: (w, b) before each step and the cost there.  ``diverged``: the cost
    grew past ``DIVERGED_GROWTH`` times where it started (or stopped being a number)."""

    label: str
    learning_rate: float
    momentum: float
    points: np.ndarray  # (steps + 1, 2): w, b
    losses: np.ndarray
    diverged: bool


#: a path whose cost grows this many times above its start has diverged: it is stopped there
DIVERGED_GROWTH = 100.0


class TwoParameterModel:
    """A single linear neuron a = w·x + b with the quadratic cost on 1-D data (x, y): the engine's
    own dense layer, in float64, so the surface, the gradients and the steps are the engine's.

    ``shift`` moves every input by a constant: inputs far from 0 (raw pixel values, say) make the
    weight and the bias pull the same way, and the round bowl becomes a long, narrow valley."""

    def __init__(self, x: np.ndarray, y: np.ndarray, shift: float = 0.0):
        self.x = np.asarray(x, np.float64).reshape(-1, 1) + shift
        self.y = np.asarray(y, np.float64).reshape(-1, 1)
        dense = layer_class("dense")
        config = dense.Config(units=1, activation="linear")
        self.network = Network([dense("neuron", config, (1,), np.float64)], "quadratic")
        self.layer = self.network.layers[0]

    def set(self, w: float, b: float) -> None:
        self.layer.params["weight"][0, 0] = w
        self.layer.params["bias"][0] = b

    def parameters(self) -> tuple[float, float]:
        return float(self.layer.params["weight"][0, 0]), float(self.layer.params["bias"][0])

    def loss_and_gradient(self, w: float, b: float) -> tuple[float, np.ndarray]:
        """The cost at (w, b) and its gradient (∂C/∂w, ∂C/∂b), by the engine's backpropagation."""
        self.set(w, b)
        loss, _ = self.network.loss_and_gradients(self.x, self.y)
        return loss, np.array([self.layer.grads["weight"][0, 0], self.layer.grads["bias"][0]])

    def minimum(self) -> tuple[float, float]:
        """The least-squares (w, b): where the gradient is zero, found by one Newton step (exact, as
        the cost is quadratic in w and b)."""
        _, gradient = self.loss_and_gradient(0.0, 0.0)
        return tuple(float(v) for v in -np.linalg.solve(self.hessian(), gradient))

    def hessian(self, h: float = 1e-3) -> np.ndarray:
        """∂²C/∂(w, b)², by central differences of the engine's gradients (exact for this quadratic)."""
        columns = []
        for k in range(2):
            step = np.zeros(2)
            step[k] = h
            plus = self.loss_and_gradient(*step)[1]
            minus = self.loss_and_gradient(*(-step))[1]
            columns.append((plus - minus) / (2 * h))
        hessian = np.array(columns).T
        return (hessian + hessian.T) / 2

    def curvatures(self) -> tuple[float, float]:
        """(λ_min, λ_max) of the Hessian: the surface's flattest and steepest directions."""
        low, high = np.linalg.eigvalsh(self.hessian())
        return float(low), float(high)

    def surface(self, weights: np.ndarray, biases: np.ndarray) -> Surface:
        losses = np.empty((len(biases), len(weights)))
        for i, b in enumerate(biases):
            for j, w in enumerate(weights):
                losses[i, j] = self.loss_and_gradient(float(w), float(b))[0]
        return Surface(np.asarray(weights, np.float64), np.asarray(biases, np.float64), losses)

    def path(
        self, start: tuple[float, float], learning_rate: float, steps: int, momentum: float = 0.0, label: str = ""
    ) -> DescentPath:
        """``steps`` steps of the engine's SGD optimiser (with ``momentum``) from ``start``, each on
        the full data's gradient; stopped early where the cost explodes."""
        self.set(*start)
        optimizer = Optimizer(OptimizerSettings("sgd", momentum), self.network.slots())
        points, losses = [], []
        diverged = False
        for _ in range(steps + 1):
            loss, _ = self.network.loss_and_gradients(self.x, self.y)
            points.append(self.parameters())
            losses.append(loss)
            if not math.isfinite(loss) or loss > DIVERGED_GROWTH * max(losses[0], 1e-12):
                diverged = True
                break
            if len(points) <= steps:
                optimizer.step(learning_rate, 0.0, 0.0)
        return DescentPath(label, learning_rate, momentum, np.array(points), np.array(losses), diverged)


@dataclass(frozen=True)
class DescentScene:
    """One picture of the lesson: a surface, its minimum, its curvatures and the paths drawn on it."""

    title: str
    surface: Surface
    minimum: tuple[float, float]
    curvatures: tuple[float, float]
    paths: list[DescentPath]
    #: the cost at the minimum: the least any path can reach
    least_cost: float = 0.0


#: steps each path takes on the bowl: enough for the right rate to arrive and the small one not to
DESCENT_STEPS = 40
#: steps in the valley: momentum's velocity needs a few dozen steps to build up along the floor
VALLEY_STEPS = 80
#: the start of every path, away from the minimum in both parameters
DESCENT_START = (-2.0, 2.0)


def _scene(model: TwoParameterModel, title: str, runs, steps: int, span: float = 3.5, size: int = 61) -> DescentScene:
    """The scene for ``runs`` of (label, η, μ), ``steps`` each; the grid covers the start, the
    minimum and ``span`` around them."""
    w_min, b_min = model.minimum()
    low, high = model.curvatures()
    paths = [model.path(DESCENT_START, eta, steps, mu, label) for label, eta, mu in runs]
    ws = [DESCENT_START[0], w_min]
    bs = [DESCENT_START[1], b_min]
    pad = 0.4 * span
    weights = np.linspace(min(ws) - pad, max(ws) + pad, size)
    biases = np.linspace(min(bs) - pad, max(bs) + pad, size)
    least = model.loss_and_gradient(w_min, b_min)[0]
    return DescentScene(title, model.surface(weights, biases), (w_min, b_min), (low, high), paths, least)


def learning_rate_scene(x: np.ndarray, y: np.ndarray) -> DescentScene:
    """Three learning rates on the round bowl of centred inputs, chosen from its steepest curvature
    λ_max: a twentieth of 1/λ_max (too small: it crawls), 1/λ_max (about right) and 2.1/λ_max (past
    the limit 2/λ_max, every step overshoots further: it diverges)."""
    model = TwoParameterModel(x, y)
    _, high = model.curvatures()
    runs = [
        ("η too small (0.05/λ_max)", 0.05 / high, 0.0),
        ("η about right (1/λ_max)", 1.0 / high, 0.0),
        ("η too large (2.1/λ_max)", 2.1 / high, 0.0),
    ]
    return _scene(model, "Learning rates, round bowl", runs, DESCENT_STEPS)


#: how far the inputs move to make the narrow valley, and the momentum that crosses it
VALLEY_SHIFT = 3.0
VALLEY_MOMENTUM = 0.9


#: the valley's learning rate, in units of 1/λ_max: large enough that plain steps bounce between the walls
VALLEY_RATE = 1.8


def momentum_scene(x: np.ndarray, y: np.ndarray) -> DescentScene:
    """Plain gradient descent against momentum, both at η = 1.8/λ_max, on the narrow valley that
    inputs far from 0 make: the plain steps bounce between the walls and barely move along the
    floor; momentum's velocity adds up along the floor and cancels across it."""
    model = TwoParameterModel(x, y, shift=VALLEY_SHIFT)
    _, high = model.curvatures()
    eta = VALLEY_RATE / high
    runs = [("plain SGD", eta, 0.0), (f"momentum μ = {VALLEY_MOMENTUM}", eta, VALLEY_MOMENTUM)]
    return _scene(model, f"Momentum, narrow valley (x + {VALLEY_SHIFT:g})", runs, VALLEY_STEPS)


__all__ = [
    "DESCENT_START",
    "DESCENT_STEPS",
    "VALLEY_STEPS",
    "DescentPath",
    "DescentScene",
    "GradientNoise",
    "Surface",
    "TwoParameterModel",
    "angle_between",
    "gradient_noise",
    "gradient_vector",
    "learning_rate_scene",
    "momentum_scene",
]
