"""The adding problem (Hochreiter & Schmidhuber, 1997): the classic test of long-range memory.

Each example is a sequence of T steps with two numbers per step: a value drawn uniformly
from [0, 1], and a marker that is 1 at exactly two steps and 0 elsewhere.  The target is
the sum of the two marked values.  One marker lies in the first half of the sequence and
one in the second, so a net must hold the first value for up to T steps while ignoring
the noise in between.  A net that remembers nothing can only predict the mean sum, 1,
whose mean squared error is the variance of a sum of two uniform numbers: 2/12 ≈ 0.167.
"""

from __future__ import annotations

import numpy as np

#: MSE of the best prediction that ignores the inputs (the constant 1): Var(u₁ + u₂) = 2/12
BASELINE_MSE = 2.0 / 12.0


def adding_problem(n: int, length: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` seeded examples: x float32 (n, length, 2) of (value, marker), y float32 (n, 1) the marked sum."""
    if length < 2:
        raise ValueError(f"the adding problem needs sequences of at least 2 steps, not {length}")
    rng = np.random.default_rng(seed)
    x = np.zeros((n, length, 2), np.float32)
    x[:, :, 0] = rng.random((n, length))
    half = length // 2
    first = rng.integers(0, half, n)
    second = rng.integers(half, length, n)
    rows = np.arange(n)
    x[rows, first, 1] = 1.0
    x[rows, second, 1] = 1.0
    y = (x[rows, first, 0] + x[rows, second, 0]).reshape(n, 1)
    return x, y.astype(np.float32)
