"""Seeded toy problems: five 2-D point clouds, n-bit parity and 1-D function fitting.

Each toy isolates one idea a lesson is about (a circle no line can separate, XOR needing
a hidden layer, parity needing capacity, a step needing steep sigmoids), so they are kept
small, deterministic for a given seed, and scaled so that features lie roughly in
[-1, 1]: then a small network trains with a learning rate around 0.1 to 1 without any
input normalisation getting in the way of the lesson.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from playground.datasets.dataset import Dataset, DatasetError, shuffled_split

DEFAULT_N_SAMPLES = 1000
MIN_N_SAMPLES = 10

PointDrawer = Callable[[np.ndarray, np.random.Generator], np.ndarray]


@dataclass(frozen=True)
class PlaneProblem:
    """How to draw the clean points of one 2-D toy, before noise is added."""

    draw: PointDrawer  # (labels, rng) -> points of shape (len(labels), 2)
    default_noise: float
    class_names: tuple[str, str]


def _polar(radius: np.ndarray, angle: np.ndarray) -> np.ndarray:
    return np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])


def _draw_circle(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Class 0 fills a disc of radius 0.5, class 1 a ring from 0.7 to 1.

    The gap makes the classes separable by a circle but by no straight line, which is
    the point of the lesson. Taking the square root of a uniform draw spreads points
    evenly over the area instead of bunching them at the centre.
    """
    n = len(labels)
    inner = 0.5 * np.sqrt(rng.uniform(0.0, 1.0, n))
    outer = np.sqrt(rng.uniform(0.7**2, 1.0, n))
    return _polar(np.where(labels == 0, inner, outer), rng.uniform(0.0, 2 * np.pi, n))


def _draw_xor(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Class 1 where both coordinates share a sign (quadrants I and III), class 0 elsewhere.

    Coordinates keep a margin of 0.1 from the axes so that, without noise, the classes
    do not touch.
    """
    n = len(labels)
    sign_x = rng.choice([-1.0, 1.0], n)
    sign_y = np.where(labels == 1, sign_x, -sign_x)
    return np.column_stack([sign_x, sign_y]) * rng.uniform(0.1, 1.0, (n, 2))


def _draw_gaussians(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Two round blobs (std 0.25) centred at (-0.5, -0.5) and (0.5, 0.5): linearly separable."""
    centres = np.where(labels[:, None] == 0, -0.5, 0.5)
    return centres + 0.25 * rng.standard_normal((len(labels), 2))


def _draw_spiral(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Two interleaved arms of one and a half turns each, the second rotated by half a turn."""
    progress = rng.uniform(0.0, 1.0, len(labels))
    return _polar(0.05 + 0.95 * progress, 3 * np.pi * progress + np.pi * labels)


def _draw_moons(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Two interlocking half circles (the familiar "moons"), rescaled to x in [-1, 1].

    The upper moon is the half circle of radius 1 around (0, 0); the lower one is the
    mirrored half circle around (1, 0.5). Centring on (0.5, 0.25) and dividing by 1.5
    maps that [-1, 2] x [-0.5, 1] picture into [-1, 1] x [-0.5, 0.5].
    """
    angle = rng.uniform(0.0, np.pi, len(labels))
    upper = np.column_stack([np.cos(angle), np.sin(angle)])
    lower = np.column_stack([1.0 - np.cos(angle), 0.5 - np.sin(angle)])
    return (np.where(labels[:, None] == 0, upper, lower) - [0.5, 0.25]) / 1.5


PLANE_PROBLEMS: dict[str, PlaneProblem] = {
    "circle": PlaneProblem(_draw_circle, 0.05, ("inside", "ring")),
    "xor": PlaneProblem(_draw_xor, 0.05, ("opposite signs", "same signs")),
    "gaussians": PlaneProblem(_draw_gaussians, 0.1, ("lower left", "upper right")),
    "spiral": PlaneProblem(_draw_spiral, 0.02, ("arm A", "arm B")),
    "moons": PlaneProblem(_draw_moons, 0.1, ("upper moon", "lower moon")),
}


def _checked_n_samples(n_samples: int | None, default: int) -> int:
    n = default if n_samples is None else n_samples
    if n < MIN_N_SAMPLES:
        raise DatasetError(f"n_samples must be at least {MIN_N_SAMPLES}, not {n}")
    return n


def _checked_noise(noise: float | None, default: float) -> float:
    level = default if noise is None else noise
    if not level >= 0:  # also rejects NaN
        raise DatasetError(f"noise must be zero or positive, not {level}")
    return level


def _split_description(n_train: int, n_val: int) -> str:
    return f"shuffled: {n_train:,} train, {n_val:,} validate"


def make_plane_dataset(
    name: str, *, seed: int = 0, n_samples: int | None = None, noise: float | None = None
) -> Dataset:
    """Draw one of the 2-D toys: half the points per class, Gaussian jitter of std `noise`."""
    problem = PLANE_PROBLEMS[name]
    n = _checked_n_samples(n_samples, DEFAULT_N_SAMPLES)
    noise = _checked_noise(noise, problem.default_noise)
    rng = np.random.default_rng(seed)
    labels = (np.arange(n) >= n // 2).astype(np.int64)
    points = problem.draw(labels, rng) + noise * rng.standard_normal((n, 2))
    x_train, y_train, x_val, y_val = shuffled_split(points.astype(np.float32), labels, seed)
    return Dataset(
        name=name,
        x_train=x_train,
        y_train=y_train,
        x_val=x_val,
        y_val=y_val,
        input_shape=(2,),
        n_outputs=2,
        task="classification",
        source=f"{name}: {n:,} generated points (noise {noise:g}, seed {seed}), "
        + _split_description(len(x_train), len(x_val)),
        class_names=list(problem.class_names),
    )


DEFAULT_PARITY_BITS = 8
MAX_PARITY_BITS = 24
#: Up to this many bits every string is used for training *and* validation.
EXHAUSTIVE_PARITY_BITS = 10
DEFAULT_PARITY_SAMPLES = 4096


def _parity_examples(codes: np.ndarray, n_bits: int) -> tuple[np.ndarray, np.ndarray]:
    """Each integer as a row of 0/1 floats (most significant bit first) and its parity."""
    shifts = np.arange(n_bits - 1, -1, -1)
    bits = ((codes[:, None] >> shifts) & 1).astype(np.float32)
    return bits, bits.sum(axis=1).astype(np.int64) % 2


def make_parity(*, seed: int = 0, n_samples: int | None = None, n_bits: int | None = None) -> Dataset:
    """Label each n-bit string by its parity (1 when it holds an odd number of ones).

    Parity is the classic test of representational capacity: flipping any single bit
    flips the answer, so no input is informative alone. Up to `EXHAUSTIVE_PARITY_BITS`
    bits the lesson is whether a network *can* represent the function, so it trains and
    validates on all 2**n strings. Beyond that, `n_samples` distinct strings are drawn
    and split 80/20, and validation measures generalisation instead.
    """
    n_bits = DEFAULT_PARITY_BITS if n_bits is None else n_bits
    if not 1 <= n_bits <= MAX_PARITY_BITS:
        raise DatasetError(f"n_bits must be between 1 and {MAX_PARITY_BITS}, not {n_bits}")
    n_strings = 2**n_bits
    if n_bits <= EXHAUSTIVE_PARITY_BITS:
        if n_samples is not None:
            raise DatasetError(
                f"parity with n_bits up to {EXHAUSTIVE_PARITY_BITS} always uses all "
                f"{n_strings:,} strings, so leave n_samples unset"
            )
        x, y = _parity_examples(np.arange(n_strings), n_bits)
        x_train, y_train, x_val, y_val = x, y, x.copy(), y.copy()
        split = (
            f"all {n_strings:,} strings used for both training and validation, "
            "because the lesson is whether the network can represent parity at all"
        )
    else:
        n = _checked_n_samples(n_samples, DEFAULT_PARITY_SAMPLES)
        if n > n_strings:
            raise DatasetError(f"n_samples must be at most 2**{n_bits} = {n_strings:,}, not {n:,}")
        codes = np.random.default_rng(seed).choice(n_strings, size=n, replace=False)
        x_train, y_train, x_val, y_val = shuffled_split(*_parity_examples(codes, n_bits), seed)
        split = f"{n:,} distinct random strings (seed {seed}), " + _split_description(len(x_train), len(x_val))
    return Dataset(
        name="parity",
        x_train=x_train,
        y_train=y_train,
        x_val=x_val,
        y_val=y_val,
        input_shape=(n_bits,),
        n_outputs=2,
        task="classification",
        source=f"parity of {n_bits} bits: {split}",
        class_names=["even", "odd"],
    )


#: Targets stay within [0.1, 0.9] so a sigmoid output reaches them without saturating
#: and a linear output reaches them trivially; noise, when asked for, is added unclipped.
TARGET_FUNCTIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "sine": lambda x: 0.5 + 0.4 * np.sin(np.pi * x),  # one full period over [-1, 1]
    "abs": lambda x: 0.1 + 0.8 * np.abs(x),
    "step": lambda x: np.where(x < 0.0, 0.1, 0.9),
    # Nielsen's "bump" (chapter 4): a rectangle, i.e. two opposite steps side by side.
    "bump": lambda x: np.where(np.abs(x) < 0.3, 0.9, 0.1),
}
DEFAULT_FUNCTION = "sine"


def make_function(
    *, seed: int = 0, n_samples: int | None = None, noise: float | None = None, function: str | None = None
) -> Dataset:
    """Sample a 1-D target function at uniform random x in [-1, 1] for a regression lesson."""
    function = DEFAULT_FUNCTION if function is None else function
    if function not in TARGET_FUNCTIONS:
        raise DatasetError(f"unknown function {function!r}; choose one of: {', '.join(TARGET_FUNCTIONS)}")
    n = _checked_n_samples(n_samples, DEFAULT_N_SAMPLES)
    noise = _checked_noise(noise, 0.0)
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 1.0, (n, 1))
    # noise is not clipped: a clipped target would pile points on 0 and 1 that the function never reaches
    y = TARGET_FUNCTIONS[function](x) + noise * rng.standard_normal((n, 1))
    x_train, y_train, x_val, y_val = shuffled_split(x.astype(np.float32), y.astype(np.float32), seed)
    return Dataset(
        name="function",
        x_train=x_train,
        y_train=y_train,
        x_val=x_val,
        y_val=y_val,
        input_shape=(1,),
        n_outputs=1,
        task="regression",
        source=f"{function} on [-1, 1] with values in [0.1, 0.9]"
        + (f" plus Gaussian noise of std {noise:g}" if noise else "")
        + f": {n:,} random points (seed {seed}), "
        + _split_description(len(x_train), len(x_val)),
    )


def make_one_example(*, seed: int = 0) -> Dataset:
    """Nielsen's toy problem of chapter 3: a single neuron should turn the input 1 into the
    output 0.  One example is the whole training set, and the validation set is the same
    example, so the cost the views draw is exactly the cost the neuron is trained on (``seed``
    is accepted as every loader's is, and changes nothing)."""
    x = np.ones((1, 1), np.float32)
    y = np.zeros((1, 1), np.float32)
    return Dataset(
        name="one-example",
        x_train=x,
        y_train=y,
        x_val=x.copy(),
        y_val=y.copy(),
        input_shape=(1,),
        n_outputs=1,
        task="regression",
        source="one example: input 1, target 0 (Nielsen, chapter 3), for training and validation alike",
    )
