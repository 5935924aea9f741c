"""The visual proof of universal approximation (Nielsen, chapter 4), as numbers: the Bumps view's figures.

A sigmoid neuron with a large weight w on its one input is a step: σ(w·x + b) jumps from 0 to 1
at s = −b/w, and the larger w, the sharper.  Two such neurons stepping at s₁ < s₂, weighted +h
and −h by the output neuron, make a bump of height h on [s₁, s₂].  A linear output neuron adds
its inputs, so a hidden layer of n pairs is n bumps side by side, and with enough narrow bumps
their sum traces any continuous function of x on an interval.

The network is a file's own: input (1) → dense sigmoid with an even number of units → dense
linear with one unit.  Hidden units 2k and 2k + 1 are bump k.  Everything is read from and
written to its weights dict, so the bumps a learner drags are the network Train then trains,
and what a trained network does is drawn the same way: each pair's contribution
v₂ₖσ(w₂ₖx + b₂ₖ) + v₂ₖ₊₁σ(w₂ₖ₊₁x + b₂ₖ₊₁) comes from the engine's forward pass (the hidden
activations times the output weights), and the pairs plus the output bias sum to the engine's
output exactly.  No Qt here: ``gui/dashboard/bumps.py`` draws it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..model import build_network

#: most bumps the view shows handles for: past this the handles crowd the plot
MAX_BUMPS = 10
#: the hidden weight of a step, by default: steep enough that a step over [-1, 1] looks like one
DEFAULT_STEEPNESS = 100.0


@dataclass(frozen=True)
class BumpLayers:
    """Where a network's bumps live: the hidden (steps) and output layers' ids, and the pairs."""

    hidden: str
    output: str
    pairs: int


def bump_layers(spec) -> BumpLayers | None:
    """The layers of a network the Bumps view can take apart: one input, a hidden sigmoid layer of
    2 to 2·``MAX_BUMPS`` units (an even number) and a linear output of one unit; None otherwise."""
    if spec is None or len(spec.nodes) != 3 or spec.state_edges:
        return None
    kinds = {node.type for node in spec.nodes}
    if kinds != {"input", "dense"}:
        return None
    first = next(node for node in spec.nodes if node.type == "input")
    if tuple(first.config.shape) != (1,):
        return None
    following = dict(spec.edges)
    if following.get(first.id) is None or following.get(following[first.id]) is None:
        return None
    hidden = spec.node(following[first.id])
    output = spec.node(following[hidden.id])
    units = hidden.config.units
    if hidden.config.activation != "sigmoid" or units % 2 or not 2 <= units <= 2 * MAX_BUMPS:
        return None
    if output.config.units != 1 or output.config.activation != "linear":
        return None
    return BumpLayers(hidden.id, output.id, units // 2)


def step_positions(weights: dict[str, np.ndarray], layers: BumpLayers) -> np.ndarray:
    """Where each hidden unit steps, s = −b/w (NaN for a unit with w = 0: it never steps)."""
    w = weights[f"{layers.hidden}.weight"][:, 0].astype(np.float64)
    b = weights[f"{layers.hidden}.bias"].astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(w != 0, -b / np.where(w != 0, w, 1.0), np.nan)


def bump_heights(weights: dict[str, np.ndarray], layers: BumpLayers) -> np.ndarray:
    """The output weight of the first unit of each pair: the bump's height when the pair is +h, −h."""
    return weights[f"{layers.output}.weight"][0, 0::2].astype(np.float64)


def _copied(weights: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {key: np.array(value, copy=True) for key, value in weights.items()}


def with_step_at(weights: dict[str, np.ndarray], layers: BumpLayers, unit: int, position: float):
    """``weights`` with hidden unit ``unit`` stepping at ``position``: b = −w·s, its w kept."""
    out = _copied(weights)
    out[f"{layers.hidden}.bias"][unit] = -out[f"{layers.hidden}.weight"][unit, 0] * position
    return out


def with_height(weights: dict[str, np.ndarray], layers: BumpLayers, pair: int, height: float):
    """``weights`` with bump ``pair`` of height ``height``: output weights +h and −h on its two steps."""
    out = _copied(weights)
    out[f"{layers.output}.weight"][0, 2 * pair] = height
    out[f"{layers.output}.weight"][0, 2 * pair + 1] = -height
    return out


def with_steepness(weights: dict[str, np.ndarray], layers: BumpLayers, steepness: float):
    """``weights`` with every hidden weight of magnitude ``steepness`` (its sign kept, a 0 made
    positive), each step staying where it was (a unit that never stepped steps at 0)."""
    positions = np.nan_to_num(step_positions(weights, layers))
    out = _copied(weights)
    w = out[f"{layers.hidden}.weight"]
    signs = np.where(w[:, 0] < 0, -1.0, 1.0)
    w[:, 0] = signs * steepness
    out[f"{layers.hidden}.bias"][...] = -w[:, 0] * positions
    return out


def even_bumps(
    weights: dict[str, np.ndarray], layers: BumpLayers, low: float, high: float, steepness: float = DEFAULT_STEEPNESS
):
    """``weights`` laid out as the proof lays them: the pairs' bumps side by side over [low, high],
    each step rising (w = +steepness), heights 0 and no output bias, so a learner starts from a
    flat line and raises each bump to the target."""
    edges = np.linspace(low, high, layers.pairs + 1)
    positions = np.column_stack([edges[:-1], edges[1:]]).ravel()
    out = _copied(weights)
    out[f"{layers.hidden}.weight"][:, 0] = steepness
    out[f"{layers.hidden}.bias"][...] = -steepness * positions
    out[f"{layers.output}.weight"][...] = 0.0
    out[f"{layers.output}.bias"][...] = 0.0
    return out


def proof_interval(x: np.ndarray) -> tuple[float, float]:
    """Where the proof lays its bumps for inputs ``x``: their range widened by 5% on each side, so
    the first and last steps sit outside the data and no point falls on a step's slope at the ends."""
    low, high = float(np.min(x)), float(np.max(x))
    margin = 0.05 * (high - low) + 1e-6
    return low - margin, high + margin


def heights_from_data(weights: dict[str, np.ndarray], layers: BumpLayers, x: np.ndarray, y: np.ndarray):
    """The proof's recipe for the heights: each bump as high as the target's mean over its interval
    (from its first step to its second), less the output bias; bumps with no point keep theirs."""
    positions = step_positions(weights, layers)
    bias = float(weights[f"{layers.output}.bias"][0])
    out = weights
    x, y = np.ravel(x), np.ravel(y)
    for pair in range(layers.pairs):
        left, right = sorted(positions[2 * pair : 2 * pair + 2])
        inside = (x >= left) & (x < right)
        if inside.any():
            out = with_height(out, layers, pair, float(y[inside].mean()) - bias)
    return out


class BumpNetwork:
    """The network, built by the engine in float64, for one weights dict at a time."""

    def __init__(self, spec, layers: BumpLayers):
        self.layers = layers
        self.network = build_network(spec, np.float64)
        self.hidden = next(layer for layer in self.network.layers if layer.id == layers.hidden)

    def load(self, weights: dict[str, np.ndarray]) -> None:
        self.network.load_state(weights)

    def output(self, x: np.ndarray) -> np.ndarray:
        """The network's output at each x, from the engine's forward pass."""
        return self.network.predict(np.asarray(x, np.float64).reshape(-1, 1))[:, 0]

    def contributions(self, x: np.ndarray) -> np.ndarray:
        """(len(x), pairs): what each pair of hidden units adds to the output at each x, the
        engine's hidden activations times the output weights; plus the output bias, they sum to
        ``output(x)``."""
        self.network.forward(np.asarray(x, np.float64).reshape(-1, 1))
        weight = self.network.state()[f"{self.layers.output}.weight"][0]
        terms = self.hidden.a * weight  # (n, units)
        return terms.reshape(len(terms), self.layers.pairs, 2).sum(axis=2)

    def steps(self, x: np.ndarray) -> np.ndarray:
        """(len(x), units): each hidden unit's output σ(w·x + b), its step."""
        self.network.forward(np.asarray(x, np.float64).reshape(-1, 1))
        return self.hidden.a.copy()

    def rms(self, x: np.ndarray, y: np.ndarray) -> float:
        """Root-mean-square error of the output against targets ``y`` at ``x``."""
        return float(np.sqrt(np.mean((self.output(x) - np.ravel(y)) ** 2)))


def proof_figure(spec, network, dataset):
    """The lesson's figure for the terminal, as ``figure(moment)``: the proof's bumps, laid out on
    ``dataset``'s inputs with the heights the recipe gives, against the network as it is at that
    moment (its starting weights before training, gradient descent's after); None for a network
    the Bumps view cannot take apart, or data that is not a function of one input."""
    layers = bump_layers(spec)
    if layers is None or dataset.task != "regression" or dataset.input_shape != (1,):
        return None
    x, y = dataset.x_train[:, 0].astype(np.float64), dataset.y_train[:, 0].astype(np.float64)
    proof = BumpNetwork(spec, layers)
    laid_out = even_bumps(network.copy_state(), layers, *proof_interval(x))
    proof.load(heights_from_data(laid_out, layers, x, y))
    by_hand = proof.rms(x, y)

    def figure(moment: str) -> list[str]:
        current = BumpNetwork(spec, layers)
        current.load(network.state())
        line = f"the network {moment}: RMS {current.rms(x, y):.4f} on the training points"
        if moment != "before training":
            return [f"{line}, against the proof's {by_hand:.4f}"]
        recipe = f"even steps with w = {DEFAULT_STEEPNESS:g}, each as high as the target's mean over it"
        return [f"the proof's {layers.pairs} bumps ({recipe}): RMS {by_hand:.4f} on the training points", line]

    return figure
