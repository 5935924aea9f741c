"""The chain of factors behind an early layer's gradient: why gradients vanish or explode.

For a chain of single neurons the lecture writes

    ∂C/∂b₁ = σ′(z₁)·w₂·σ′(z₂)·w₃·σ′(z₃)·w₄·σ′(z₄)·∂C/∂a₄,

so the first layer's gradient is the last one's multiplied by a slope f′(z) and a weight for
every layer it passes back through.  Factors below 1 make it vanish with depth; factors above 1
make it explode.  In a layer of many neurons the same step is δˡ = f′(zˡ) ⊙ (Wˡ⁺¹)ᵀ δˡ⁺¹, and
its size splits exactly into the two factors of the lecture's chain:

- the weight factor ‖(Wˡ⁺¹)ᵀ δˡ⁺¹‖ / ‖δˡ⁺¹‖: how much the weights stretch the error on its way back;
- the slope factor ‖δˡ‖ / ‖(Wˡ⁺¹)ᵀ δˡ⁺¹‖: how much the activation's slope f′(zˡ) lets through.

For one example ∂C/∂bˡ = δˡ, so ‖∂C/∂b¹‖ is exactly the product of all the factors times
‖∂C/∂bᴸ‖.  Every number comes from the engine's own forward and backward pass: δˡ is the bias
gradient the engine computed for one example, and the weights are the network's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..engine.network import Network


@dataclass(frozen=True)
class ChainLink:
    """One layer's place in the chain: its ‖∂C/∂bˡ‖ for the example, and (except for the output
    layer) the slope factor of its own activation and the weight factor of the next layer's weights."""

    layer: str
    bias_gradient: float
    slope_factor: float | None
    weight_factor: float | None
    #: the next layer, whose weights make the weight factor (None for the output layer)
    next_layer: str | None = None

    @property
    def factor(self) -> float | None:
        """What passing back into this layer multiplies the gradient by: ‖δˡ‖/‖δˡ⁺¹‖."""
        if self.slope_factor is None or self.weight_factor is None:
            return None
        return self.slope_factor * self.weight_factor


def chain_applies(network: Network | None) -> bool:
    """The chain is a sequence of dense layers (after the input): what the lecture's formula is about."""
    if network is None:
        return False
    layers = [layer for layer in network.layers if type(layer).type_id != "input"]
    return len(layers) >= 2 and all(type(layer).type_id == "dense" for layer in layers)


def _ratio(top: float, bottom: float) -> float:
    return top / bottom if bottom > 0 and math.isfinite(bottom) else float("nan")


def gradient_chain(network: Network, x: np.ndarray, target: np.ndarray) -> list[ChainLink]:
    """The chain for one example ``x`` with its ``target`` (one row each), first layer first; the
    network's weights are not changed (its gradients are overwritten)."""
    if not chain_applies(network):
        raise ValueError("the gradient chain is drawn for a stack of dense layers")
    network.loss_and_gradients(np.asarray(x)[None], np.asarray(target)[None])
    layers = network.trainable
    deltas = [layer.grads["bias"].astype(np.float64) for layer in layers]
    links = []
    for index, layer in enumerate(layers):
        norm = float(np.linalg.norm(deltas[index]))
        if index == len(layers) - 1:
            links.append(ChainLink(layer.id, norm, None, None))
            continue
        following = layers[index + 1]
        back = deltas[index + 1] @ following.params["weight"].astype(np.float64)  # (Wˡ⁺¹)ᵀ δˡ⁺¹
        next_norm = float(np.linalg.norm(deltas[index + 1]))
        back_norm = float(np.linalg.norm(back))
        links.append(ChainLink(layer.id, norm, _ratio(norm, back_norm), _ratio(back_norm, next_norm), following.id))
    return links


def chain_product(links: list[ChainLink]) -> float:
    """The product of every factor times the output layer's ‖∂C/∂b‖: ‖∂C/∂b¹‖ again, rebuilt."""
    product = links[-1].bias_gradient
    for link in links[:-1]:
        product *= link.factor
    return product


def times(factor: float) -> str:
    """A factor as people read it: 4.2×, 68×, 5,120×, 3.1e+08×."""
    if factor >= 1e6:
        return f"{factor:.2g}×"
    return f"{factor:,.0f}×" if factor >= 10 else f"{factor:.1f}×"


def chain_sentence(links: list[ChainLink]) -> str:
    """One plain sentence: how many times larger or smaller the first layer's gradient is than the last's."""
    first, last = links[0].bias_gradient, links[-1].bias_gradient
    ratio = _ratio(first, last)
    above = [link.layer for link in links[:-1] if link.factor is not None and link.factor > 1]
    if not math.isfinite(ratio):
        return "The gradient is not a finite number: it has exploded."
    if ratio == 0:
        return f"No gradient reaches {links[0].layer}: a factor on the way back is 0 (dead units)."
    what = f"{times(ratio)} larger" if ratio >= 1 else f"{times(1 / ratio)} smaller"
    factors = f"{len(above)} of the {len(links) - 1} factors are above 1" if above else "every factor is below 1"
    return f"‖∂C/∂b‖ of {links[0].layer} is {what} than that of {links[-1].layer}: {factors}."


__all__ = ["ChainLink", "chain_applies", "chain_product", "chain_sentence", "gradient_chain", "times"]
