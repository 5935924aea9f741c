"""Small networks and numerical gradients for the engine tests."""

from __future__ import annotations

import numpy as np

from playground.engine.layers import layer_class
from playground.engine.network import Network


def dense(units, activation="sigmoid"):
    return layer_class("dense").Config(units=units, activation=activation)


def mlp(
    sizes,
    activation="sigmoid",
    output="sigmoid",
    cost="quadratic",
    dtype=np.float64,
    seed=0,
    initializer="normal-scaled",
    dropout_after=None,
):
    """A Dense stack ``sizes[0] -> ... -> sizes[-1]``, optionally with Dropout after one hidden layer."""
    specs = [("in", "input", layer_class("input").Config(shape=(sizes[0],)))]
    for index, units in enumerate(sizes[1:], start=1):
        last = index == len(sizes) - 1
        specs.append(("out" if last else f"fc{index}", "dense", dense(units, output if last else activation)))
        if dropout_after == f"fc{index}":
            specs.append(("drop", "dropout", layer_class("dropout").Config(rate=0.5)))
    network = Network.from_specs(specs, (sizes[0],), cost, dtype)
    network.initialize(initializer, seed)
    return network


def one_hot(labels, classes, dtype=np.float64):
    out = np.zeros((len(labels), classes), dtype)
    out[np.arange(len(labels)), labels] = 1.0
    return out


def numerical_gradient(loss_of, array, eps=1e-6):
    """Central differences of ``loss_of()`` with respect to every entry of ``array`` (changed in place)."""
    grad = np.zeros_like(array)
    for index in np.ndindex(array.shape):
        old = array[index]
        array[index] = old + eps
        plus = loss_of()
        array[index] = old - eps
        minus = loss_of()
        array[index] = old
        grad[index] = (plus - minus) / (2 * eps)
    return grad


def relative_error(a, b):
    return float(np.abs(a - b).max() / max(np.abs(a).max(), np.abs(b).max(), 1e-12))
