"""Weight initialisers, seeded and reproducible.

The choice matters to the lessons: N(0, 1) weights make a sigmoid unit's input z so wide
that the unit saturates and learns slowly; scaling by 1/√n_in (Nielsen's default) keeps
z near 1 and the units responsive.  Glorot and He keep the variance of activations
(Glorot, for tanh/sigmoid) or of ReLU outputs (He) roughly constant across layers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class InitializerInfo:
    name: str
    description: str


INITIALIZERS: dict[str, InitializerInfo] = {
    info.name: info
    for info in (
        InitializerInfo("normal", "weights and biases N(0, 1): the large initialisation that saturates sigmoid units"),
        InitializerInfo("normal-scaled", "weights N(0, 1/n_in), biases N(0, 1): Nielsen's default"),
        InitializerInfo("xavier", "weights N(0, 2/(n_in + n_out)) (Glorot), biases 0"),
        InitializerInfo("he", "weights N(0, 2/n_in) (He), biases 0: for ReLU layers"),
    )
}


def initial_weight(
    name: str, shape: tuple[int, ...], fan_in: int, fan_out: int, rng: np.random.Generator, dtype
) -> np.ndarray:
    if name == "normal":
        std = 1.0
    elif name == "normal-scaled":
        std = 1.0 / np.sqrt(fan_in)
    elif name == "xavier":
        std = np.sqrt(2.0 / (fan_in + fan_out))
    elif name == "he":
        std = np.sqrt(2.0 / fan_in)
    else:
        raise ValueError(f'unknown initialiser "{name}" (choose from {", ".join(INITIALIZERS)})')
    return (rng.standard_normal(shape) * std).astype(dtype)


def initial_bias(name: str, shape: tuple[int, ...], rng: np.random.Generator, dtype) -> np.ndarray:
    if name in ("normal", "normal-scaled"):
        return rng.standard_normal(shape).astype(dtype)
    return np.zeros(shape, dtype=dtype)
