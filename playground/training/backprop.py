"""Backpropagation explained: every number of one forward and backward pass, with its formula.

For a network made of Dense layers, on one example, the explainer shows what Nielsen's
chapter 2 derives: the forward pass (every zˡ and aˡ), then the four equations of
backpropagation layer by layer,

    δᴸ = ∇ₐC ⊙ σ′(zᴸ)                 (BP1, the output error)
    δˡ = ((wˡ⁺¹)ᵀ δˡ⁺¹) ⊙ σ′(zˡ)       (BP2, the error one layer down)
    ∂C/∂bⱼˡ = δⱼˡ                      (BP3)
    ∂C/∂wⱼₖˡ = aₖˡ⁻¹ δⱼˡ               (BP4)

each with the current numbers substituted, and a finite-difference check of every gradient.

The numbers are the engine's: z, a, δ and the gradients come from ``DenseStackPass``, the fused
training kernel's own forward, cost and backward steps, run in float64 on a copy of the
network.  What is computed here is only the *substitution*: the factors a formula shows (the
weighted sum, ∂C/∂a, σ′(z)), whose product a test checks against the engine's result.  The
finite-difference estimate calls the same engine pass for the cost, with one parameter moved.

The example is the data set's first training example (one example: the cost is that
example's, and so are the gradients).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..engine.activations import SOFTMAX, activation_backward
from ..engine.costs import CROSS_ENTROPY, LOG_LIKELIHOOD, QUADRATIC
from ..engine.dense_stack import DenseStackPass
from ..model import analyse, build_network

#: which example every explanation uses, in words
EXAMPLE_NAME = "the first training example"
#: the finite-difference estimate of ∂C/∂θ: centred, fourth order (the two-point (C(θ + h) − C(θ − h)) / 2h
#: extrapolated with the same at 2h, which cancels its h² error), so h can be large enough for rounding
#: not to matter.  Measured on the backprop lesson, seeds 0–5, before and after its 30 epochs: the
#: largest relative error was 1.8e-8 at h = 1e-3; the two-point formula reached 1.6e-6 at h = 1e-5
#: (a gradient of 2.6e-7, below the rounding noise ε·C/h of that formula) and 3.5e-7 at its best h.
FINITE_DIFFERENCE = "(8[C(θ + h) − C(θ − h)] − [C(θ + 2h) − C(θ − 2h)]) / 12h"
FINITE_DIFFERENCE_STEP = 1e-3
#: gradients below this size count as zero when their relative error is taken
ZERO_GRADIENT = 1e-10
#: the largest network "Explain this number" takes: a float64 copy and one pass of one example
MAX_EXPLAINED_PARAMETERS = 2_000_000
#: a formula writes out its sum term by term up to this many terms, and as "Σ of n products" beyond
MAX_TERMS_WRITTEN = 4

_SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
_SUBSCRIPT = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
#: the name each activation goes by in a formula
_FUNCTION = {
    "sigmoid": "σ",
    "tanh": "tanh",
    "relu": "ReLU",
    "leaky_relu": "LReLU",
    "linear": "id",
    "softmax": "softmax",
}


def number(value: float) -> str:
    """Four significant digits, with a real minus sign."""
    return f"{value:.4g}".replace("-", "−")


def factor(value: float) -> str:
    """A number as a factor of a product: negative ones in brackets."""
    text = number(value)
    return f"({text})" if value < 0 else text


def sup(layer: int) -> str:
    return str(layer).translate(_SUPERSCRIPT)


def sub(*indices: int) -> str:
    return "".join(str(i + 1).translate(_SUBSCRIPT) for i in indices)


def dense_units(spec) -> list[int] | None:
    """Units per layer, the input first, of a valid network made of an input and Dense layers with
    element-wise hidden activations (softmax only at the output); None for any other network.
    Read from the description, without building anything."""
    if spec is None or spec.state_edges:
        return None
    analysis = analyse(spec)
    if analysis.problems:
        return None
    nodes = [spec.node(node_id) for node_id in analysis.order]
    if nodes[0].type != "input" or len(nodes) < 2 or any(node.type != "dense" for node in nodes[1:]):
        return None
    if any(node.config.activation == "softmax" for node in nodes[1:-1]):
        return None
    return [int(np.prod(analysis.output_shapes[nodes[0].id]))] + [node.config.units for node in nodes[1:]]


def why_not_explained(spec) -> str | None:
    """Why "Explain this number" cannot take this network, in one sentence; None when it can."""
    if spec is None or analyse(spec).problems:
        return "The network has problems to fix first (they are marked on the canvas)."
    units = dense_units(spec)
    if units is None:
        return (
            "Explain this number works on networks of Dense layers only (no dropout, convolution or recurrence, "
            "softmax only at the output)."
        )
    parameters = sum((below + 1) * above for below, above in zip(units, units[1:]))
    if parameters > MAX_EXPLAINED_PARAMETERS:
        return f"Explain this number takes networks of up to {MAX_EXPLAINED_PARAMETERS:,} parameters."
    return None


def _first_rows(arrays) -> list[np.ndarray]:
    """Copies of the one example's rows of the engine's (examples, units) buffers."""
    return [array[0].copy() for array in arrays]


@dataclass(frozen=True)
class Quantity:
    """One number of the pass: which it is (``kind`` z, a, delta, bias_grad or weight_grad, of
    ``layer`` (1 is the first Dense layer), ``unit`` j and, for a weight, ``source`` k), the
    engine's ``value``, its ``formula`` with numbers substituted, and ``substituted``: the
    value of the substituted expression at full precision (equal to ``value`` up to rounding)."""

    kind: str
    layer: int
    unit: int
    source: int | None
    value: float
    formula: str
    substituted: float


@dataclass
class Step:
    """One stop of the step-through: its kind, a title, the equation in symbols, the quantities it computes,
    the nodes (layer, unit) and edges (layer, unit, source) it involves, and how far the pass has
    got (the layers whose a, and whose δ, are known once this step is shown)."""

    kind: str  # forward, cost, BP1, BP2, BP3 or BP4
    title: str
    equation: str
    quantities: list[Quantity]
    nodes: set[tuple[int, int]] = field(default_factory=set)
    edges: set[tuple[int, int, int]] = field(default_factory=set)
    forward_known: int = 0
    delta_known_from: int | None = None


@dataclass(frozen=True)
class GradientCheckRow:
    """A parameter's gradient by backpropagation and by central differences, and their relative error."""

    name: str
    backprop: float
    numerical: float

    @property
    def relative_error(self) -> float:
        scale = max(abs(self.backprop), abs(self.numerical))
        return 0.0 if scale < ZERO_GRADIENT else abs(self.backprop - self.numerical) / scale


class BackpropExplainer:
    """Every quantity of one forward and backward pass of a Dense network on one example, read
    from the engine, and the formulas that produce them.

    ``weights`` (keyed "<layer_id>.<param>", of any dtype) are loaded into a float64 network
    built from ``spec``, so the gradient check is not limited by float32.  ``x`` is one example,
    ``target`` the output row it should give (one-hot for a class).
    """

    def __init__(self, spec, weights: dict[str, np.ndarray], x: np.ndarray, target: np.ndarray):
        problem = why_not_explained(spec)
        if problem:
            raise ValueError(problem)
        network = build_network(spec, np.float64)
        network.load_state(weights)
        self.network = network
        self.engine = DenseStackPass(network)
        self.layers = self.engine.layers
        self.layer_ids = [layer.id for layer in self.layers]
        self.activation_names = [layer.config.activation for layer in self.layers]
        self.x = np.asarray(x, np.float64).reshape(-1)
        self.target = np.asarray(target, np.float64).reshape(-1)
        self.cost = self.engine.run(self.x[None], self.target[None])
        #: a[0] is the input; z, a, δ, ∂C/∂b of layer l are at index l (index 0 of z, δ unused: None)
        self.a = [self.x.copy()] + _first_rows(self.engine.activations)
        self.z = [None] + _first_rows(self.engine.zs)
        self.delta = [None] + _first_rows(self.engine.deltas)
        self.weights = [None] + [layer.params["weight"].copy() for layer in self.layers]
        self.weight_grads = [None] + [grad.copy() for grad in self.engine.weight_grads]
        self.bias_grads = [None] + [grad.copy() for grad in self.engine.bias_grads]
        #: f′(zˡ) per layer, from the engine's own activation derivative (None for softmax)
        self.derivative = [None] + [
            self._derivative(layer, z, a) for layer, z, a in zip(self.layers, self.z[1:], self.a[1:])
        ]

    @classmethod
    def for_dataset(cls, spec, weights, dataset) -> BackpropExplainer:
        """The explainer on the data set's first training example (``EXAMPLE_NAME``)."""
        x = np.asarray(dataset.x_train[0], np.float64).reshape(-1)
        if dataset.task == "classification":
            target = np.zeros(dataset.n_outputs)
            target[int(dataset.y_train[0])] = 1.0
        else:
            target = np.asarray(dataset.y_train[0], np.float64).reshape(-1)
        return cls(spec, weights, x, target)

    @staticmethod
    def _derivative(layer, z: np.ndarray, a: np.ndarray) -> np.ndarray | None:
        """f′(z) element by element, from the engine's activation derivative (None for softmax,
        whose derivative is a matrix)."""
        if layer.activation_code == SOFTMAX:
            return None
        out = np.empty((1, z.size))
        activation_backward(layer.activation_code, z[None], a[None], np.ones((1, z.size)), out, layer.config.alpha)
        return out[0]

    # --- sizes ----------------------------------------------------------------------------
    @property
    def depth(self) -> int:
        """L, the number of Dense layers (the output layer is layer L)."""
        return len(self.layers)

    @property
    def sizes(self) -> list[int]:
        """Units per layer, the input first."""
        return [self.x.size] + [layer.config.units for layer in self.layers]

    def _f(self, layer: int) -> str:
        return _FUNCTION.get(self.activation_names[layer - 1], "f")

    # --- the quantities, one formula each ---------------------------------------------------
    def z_of(self, layer: int, j: int) -> Quantity:
        w, a_below, b = self.weights[layer][j], self.a[layer - 1], self.layers[layer - 1].params["bias"][j]
        products = w * a_below
        if w.size <= MAX_TERMS_WRITTEN:
            terms = " + ".join(f"{factor(wk)}·{factor(ak)}" for wk, ak in zip(w, a_below))
        else:
            terms = f"(Σ of {w.size} products = {number(products.sum())})"
        s = f"{sup(layer)}"
        formula = (
            f"z{sub(j)}{s} = Σₖ w{sub(j)}ₖ{s} aₖ{sup(layer - 1)} + b{sub(j)}{s} = {terms} + {factor(b)}"
            f" = {number(self.z[layer][j])}"
        )
        return Quantity("z", layer, j, None, float(self.z[layer][j]), formula, float(products.sum() + b))

    def a_of(self, layer: int, j: int) -> Quantity:
        value = float(self.a[layer][j])
        if layer == 0:
            return Quantity("a", 0, j, None, value, f"a{sub(j)}⁰ = x{sub(j)} = {number(value)}", value)
        s, f, z = sup(layer), self._f(layer), self.z[layer]
        if self.activation_names[layer - 1] == "softmax":
            formula = f"a{sub(j)}{s} = e^z{sub(j)}{s} / Σᵢ e^zᵢ{s} = e^{factor(z[j])} / {number(np.exp(z).sum())}"
            substituted = float(np.exp(z[j]) / np.exp(z).sum())
        else:
            formula = f"a{sub(j)}{s} = {f}(z{sub(j)}{s}) = {f}({number(z[j])})"
            substituted = value  # the activation itself is the engine's kernel; nothing further is substituted
        return Quantity("a", layer, j, None, value, formula + f" = {number(value)}", substituted)

    def cost_gradient(self) -> np.ndarray:
        """∇ₐC of the example's cost at the output, the factor BP1 multiplies by σ′(zᴸ)."""
        a, y = self.a[-1], self.target
        if self.network.cost_code == CROSS_ENTROPY:
            return (a - y) / (a * (1.0 - a))
        if self.network.cost_code == LOG_LIKELIHOOD:
            return -np.where(y != 0, y / a, 0.0)
        return a - y  # QUADRATIC

    def delta_of(self, layer: int, j: int) -> Quantity:
        value = float(self.delta[layer][j])
        sj, s, f = sub(j), sup(layer), self._f(layer)
        fprime = self.derivative[layer]
        if layer == self.depth:
            a, y = self.a[layer][j], self.target[j]
            if fprime is None:  # softmax with log-likelihood: the Jacobian and ∇ₐC combine to a − y
                formula = f"δ{sj}{s} = a{sj}{s} − y{sj} = {number(a)} − {number(y)} = {number(value)}"
                return Quantity("delta", layer, j, None, value, formula, float(a - y))
            grad_a = self.cost_gradient()[j]
            shown = f"({number(a)} − {number(y)})" if self.network.cost_code == QUADRATIC else factor(grad_a)
            formula = f"δ{sj}{s} = ∂C/∂a{sj}{s} · {f}′(z{sj}{s}) = {shown} · {factor(fprime[j])} = {number(value)}"
            return Quantity("delta", layer, j, None, value, formula, float(grad_a * fprime[j]))
        above = self.weights[layer + 1][:, j]
        deltas_above = self.delta[layer + 1]
        total = float(above @ deltas_above)
        n = sup(layer + 1)
        if above.size <= MAX_TERMS_WRITTEN:
            terms = " + ".join(f"{factor(w)}·{factor(d)}" for w, d in zip(above, deltas_above))
        else:
            terms = f"Σ of {above.size} products = {number(total)}"
        formula = (
            f"δ{sj}{s} = (Σᵢ wᵢ{sj}{n} δᵢ{n}) · {f}′(z{sj}{s}) = ({terms}) · {factor(fprime[j])} = {number(value)}"
        )
        return Quantity("delta", layer, j, None, value, formula, total * float(fprime[j]))

    def bias_grad_of(self, layer: int, j: int) -> Quantity:
        value = float(self.bias_grads[layer][j])
        sj, s = sub(j), sup(layer)
        formula = f"∂C/∂b{sj}{s} = δ{sj}{s} = {number(value)}"
        return Quantity("bias_grad", layer, j, None, value, formula, float(self.delta[layer][j]))

    def weight_grad_of(self, layer: int, j: int, k: int) -> Quantity:
        value = float(self.weight_grads[layer][j, k])
        a, d = float(self.a[layer - 1][k]), float(self.delta[layer][j])
        s = sup(layer)
        formula = (
            f"∂C/∂w{sub(j, k)}{s} = a{sub(k)}{sup(layer - 1)} · δ{sub(j)}{s} = {factor(a)} · {factor(d)}"
            f" = {number(value)}"
        )
        return Quantity("weight_grad", layer, j, k, value, formula, a * d)

    # --- the step-through -----------------------------------------------------------------
    def steps(self) -> list[Step]:
        """The forward pass layer by layer, the cost, then BP1 (or BP2), BP3 and BP4 for each layer
        from the output down."""
        L = self.depth
        steps = []
        for layer in range(1, L + 1):
            units, below = range(self.sizes[layer]), range(self.sizes[layer - 1])
            s, f = sup(layer), self._f(layer)
            steps.append(
                Step(
                    "forward",
                    f"Forward pass, layer {layer} ({self.layer_ids[layer - 1]})",
                    f"z{s} = w{s} a{sup(layer - 1)} + b{s},   a{s} = {f}(z{s})",
                    [q for j in units for q in (self.z_of(layer, j), self.a_of(layer, j))],
                    {(layer, j) for j in units} | {(layer - 1, k) for k in below},
                    {(layer, j, k) for j in units for k in below},
                    forward_known=layer,
                )
            )
        outputs = range(self.sizes[L])
        steps.append(
            Step(
                "cost",
                "The cost of this example",
                f"C = {self._cost_formula()}",
                [],
                {(L, j) for j in outputs},
                forward_known=L,
            )
        )
        steps[-1].equation += f" = {number(self.cost)}"
        for layer in range(L, 0, -1):
            units, below = range(self.sizes[layer]), range(self.sizes[layer - 1])
            s, f = sup(layer), self._f(layer)
            if layer == L:
                kind, title = "BP1", "BP1: the output error"
                equation = (
                    "δᴸ = aᴸ − y  (softmax with log-likelihood)"
                    if self.derivative[L] is None
                    else f"δᴸ = ∇ₐC ⊙ {f}′(zᴸ),  ∇ₐC = {self._cost_gradient_formula()}"
                )
                nodes, edges = {(L, j) for j in units}, set()
            else:
                n = sup(layer + 1)
                kind, title = "BP2", f"BP2: the error of layer {layer}, from layer {layer + 1}'s"
                equation = f"δ{s} = ((w{n})ᵀ δ{n}) ⊙ {f}′(z{s})"
                above = range(self.sizes[layer + 1])
                nodes = {(layer, j) for j in units} | {(layer + 1, i) for i in above}
                edges = {(layer + 1, i, j) for i in above for j in units}
            steps.append(
                Step(
                    kind,
                    title,
                    equation,
                    [self.delta_of(layer, j) for j in units],
                    nodes,
                    edges,
                    L,
                    layer,
                )
            )
            steps.append(
                Step(
                    "BP3",
                    f"BP3: the gradient of layer {layer}'s biases",
                    f"∂C/∂bⱼ{s} = δⱼ{s}",
                    [self.bias_grad_of(layer, j) for j in units],
                    {(layer, j) for j in units},
                    set(),
                    L,
                    layer,
                )
            )
            steps.append(
                Step(
                    "BP4",
                    f"BP4: the gradient of layer {layer}'s weights",
                    f"∂C/∂wⱼₖ{s} = aₖ{sup(layer - 1)} δⱼ{s}",
                    [self.weight_grad_of(layer, j, k) for j in units for k in below],
                    {(layer, j) for j in units} | {(layer - 1, k) for k in below},
                    {(layer, j, k) for j in units for k in below},
                    L,
                    layer,
                )
            )
        return steps

    def _cost_formula(self) -> str:
        return {
            QUADRATIC: "½ Σⱼ (aⱼᴸ − yⱼ)²",
            CROSS_ENTROPY: "−Σⱼ [yⱼ ln aⱼᴸ + (1 − yⱼ) ln(1 − aⱼᴸ)]",
            LOG_LIKELIHOOD: "−ln aᵧᴸ",
        }[self.network.cost_code]

    def _cost_gradient_formula(self) -> str:
        return {
            QUADRATIC: "aᴸ − y",
            CROSS_ENTROPY: "(aᴸ − y) / (aᴸ(1 − aᴸ))",
            LOG_LIKELIHOOD: "−y / aᴸ",
        }[self.network.cost_code]

    # --- one number explained ---------------------------------------------------------------
    def explain_unit(self, layer: int, j: int) -> list[Quantity]:
        """Unit j of layer l: its z, a, δ and ∂C/∂b, each with its formula."""
        return [self.z_of(layer, j), self.a_of(layer, j), self.delta_of(layer, j), self.bias_grad_of(layer, j)]

    def explain_weight(self, layer: int, j: int, k: int) -> list[Quantity]:
        """Weight wⱼₖ of layer l (from unit k below to unit j): the activation it multiplies, the
        error it feeds and its gradient."""
        return [self.a_of(layer - 1, k), self.delta_of(layer, j), self.weight_grad_of(layer, j, k)]

    # --- the gradient check ----------------------------------------------------------------
    def gradient_check(self, step: float = FINITE_DIFFERENCE_STEP) -> list[GradientCheckRow]:
        """Every parameter's backprop gradient against the centred estimate ``FINITE_DIFFERENCE``,
        each C from the engine's forward pass and cost with that one parameter moved (and put back)."""
        rows = []
        x, y = self.x[None], self.target[None]

        def cost_at(param, index, value):
            param[index] = value
            return self.engine.run(x, y, backward=False)

        for layer_index, layer in enumerate(self.layers, start=1):
            for name, grads in (("weight", self.weight_grads[layer_index]), ("bias", self.bias_grads[layer_index])):
                param = layer.params[name]
                for index in np.ndindex(param.shape):
                    kept = param[index]
                    near = cost_at(param, index, kept + step) - cost_at(param, index, kept - step)
                    far = cost_at(param, index, kept + 2 * step) - cost_at(param, index, kept - 2 * step)
                    param[index] = kept
                    estimate = (8 * near - far) / (12 * step)
                    rows.append(GradientCheckRow(self.parameter_name(layer_index, name, index), grads[index], estimate))
        self.engine.run(x, y)  # leave the engine's buffers describing the unmoved network
        return rows

    def parameter_name(self, layer: int, name: str, index: tuple[int, ...]) -> str:
        s = sup(layer)
        return f"w{sub(*index)}{s}" if name == "weight" else f"b{sub(*index)}{s}"


def gradient_check_lines(rows: list[GradientCheckRow]) -> list[str]:
    """The gradient check as a table for the terminal: each parameter, both gradients, their relative error."""
    lines = [f"{'parameter':<10} {'backprop':>14} {'numerical':>14} {'relative error':>15}"]
    for row in rows:
        lines.append(f"{row.name:<10} {row.backprop:>14.6e} {row.numerical:>14.6e} {row.relative_error:>15.1e}")
    worst = max((row.relative_error for row in rows), default=0.0)
    lines.append(f"largest relative error {worst:.1e} over {len(rows)} parameters")
    return lines


def gradient_check_figure(spec, network, dataset):
    """The backprop lesson's figure for the terminal: the gradient check of ``network``'s current
    weights on ``EXAMPLE_NAME``, as ``figure(moment)``; None for a network the explainer cannot take."""
    if why_not_explained(spec):
        return None

    def figure(moment: str) -> list[str]:
        explainer = BackpropExplainer.for_dataset(spec, network.copy_state(), dataset)
        title = (
            f"Gradient check {moment}, on {EXAMPLE_NAME} (cost {explainer.cost:.6g}): backpropagation against "
            f"{FINITE_DIFFERENCE} with h = {FINITE_DIFFERENCE_STEP:g}, in float64"
        )
        return [title, *gradient_check_lines(explainer.gradient_check())]

    return figure
