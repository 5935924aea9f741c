"""Cost functions and the error they send back into the output layer.

Following Nielsen's ``network2.py``, a cost knows two things: its value and the output
error δᴸ = ∂C/∂zᴸ.  Computing δᴸ directly, rather than ∂C/∂a followed by the activation's
derivative, is what lets cross-entropy cancel the sigmoid's σ'(z) (δ = a − y): the point
of the cost-function lesson, and numerically safe where a saturated σ'(z) rounds to 0.

Costs are averaged over the mini-batch: C = (1/n) Σₓ Cₓ.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from .activations import activation_backward

QUADRATIC, CROSS_ENTROPY, LOG_LIKELIHOOD = range(3)


@dataclass(frozen=True)
class CostInfo:
    name: str
    code: int
    formula: str
    #: output activations this cost is defined for (None: any)
    requires_activation: str | None
    #: the cost that matches an output activation when the user names none
    default_for: tuple[str, ...]


COSTS: dict[str, CostInfo] = {
    info.name: info
    for info in (
        CostInfo("quadratic", QUADRATIC, "C = 1/2n Σ‖y − a‖²", None, ("linear", "tanh", "relu", "leaky_relu")),
        CostInfo("cross-entropy", CROSS_ENTROPY, "C = −1/n Σ [y ln a + (1−y) ln(1−a)]", "sigmoid", ("sigmoid",)),
        CostInfo("log-likelihood", LOG_LIKELIHOOD, "C = −1/n Σ ln a_y", "softmax", ("softmax",)),
    )
}


def default_cost_for(output_activation: str) -> str:
    for info in COSTS.values():
        if output_activation in info.default_for:
            return info.name
    return "quadratic"


def check_cost_fits(cost: str, output_activation: str) -> str | None:
    """Why ``cost`` cannot train an output of ``output_activation``, or None if it can."""
    info = COSTS.get(cost)
    if info is None:
        return f'unknown cost "{cost}" (choose from {", ".join(COSTS)})'
    if info.requires_activation and info.requires_activation != output_activation:
        return (
            f"the {cost} cost needs a {info.requires_activation} output layer, "
            f"but the output activation is {output_activation}"
        )
    return None


@njit(nogil=True, cache=True, no_cfunc_wrapper=True, error_model="numpy")
def cost_and_delta(cost, act, z, a, y, delta, alpha):
    """Return Σₓ Cₓ over the batch (not yet divided by n) and write δᴸ = ∂Cₓ/∂zᴸ.

    Plain IEEE arithmetic, no fast-math: with reassociation allowed, the fused kernels' copy of this
    sum loaded from numba's cache gave a loss one float64 ulp from the freshly compiled one's (and
    from the kernel's Python twin's, background.py), the weights being the same.  In strict order
    every build of it sums alike; the logarithms, not the sum, are its cost."""
    n, m = a.shape
    eps = 1e-12
    total = 0.0
    if cost == QUADRATIC:
        for i in range(n):
            for j in range(m):
                diff = a[i, j] - y[i, j]
                total += 0.5 * diff * diff
                delta[i, j] = diff
        # δ = (a − y) ⊙ f'(z): the σ'(z) factor that makes a saturated output learn slowly
        activation_backward(act, z, a, delta, delta, alpha)
        return total
    for i in range(n):
        for j in range(m):
            av = a[i, j]
            yv = y[i, j]
            if cost == CROSS_ENTROPY:
                total -= yv * np.log(max(av, eps)) + (1.0 - yv) * np.log(max(1.0 - av, eps))
            elif yv != 0.0:
                total -= yv * np.log(max(av, eps))
            delta[i, j] = av - yv
    return total


def cost_code(name: str) -> int:
    return COSTS[name].code


__all__ = [
    "COSTS",
    "CostInfo",
    "cost_and_delta",
    "cost_code",
    "default_cost_for",
    "check_cost_fits",
    "QUADRATIC",
    "CROSS_ENTROPY",
    "LOG_LIKELIHOOD",
]
