"""Small networks and numerical gradients for the engine tests."""

from __future__ import annotations

import os
import subprocess
import sys

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


SEEDED_RUN = """
import hashlib, sys
import numpy as np
from playground.model import with_overrides
from playground.training.families import RunOptions, family_of
from playground.training.lessons import load_lesson
spec = load_lesson(sys.argv[1])
spec.training = with_overrides(spec.training, epochs=1, train_limit=int(sys.argv[2]), seed=3)
run = family_of(spec).start(spec, RunOptions())
for _ in run.trainer.run():
    pass
state = run.model.state()
print(hashlib.sha256(b"".join(np.ascontiguousarray(state[k]).tobytes() for k in sorted(state))).hexdigest())
"""


def seeded_digests(lesson: str, train_limit: int, threads=("2", "1", "2")) -> list[str]:
    """A seeded epoch of ``lesson`` on ``train_limit`` examples in a fresh process per entry of
    ``threads`` (its ``NUMBA_NUM_THREADS``): the digest of each run's trained weights."""
    digests = []
    for count in threads:
        result = subprocess.run(
            [sys.executable, "-c", SEEDED_RUN, lesson, str(train_limit)],
            capture_output=True,
            text=True,
            timeout=600,
            env={**os.environ, "NUMBA_NUM_THREADS": count},
        )
        assert result.returncode == 0, result.stderr[-2000:]
        digests.append(result.stdout.split()[-1])
    return digests
