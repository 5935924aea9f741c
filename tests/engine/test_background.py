"""Big kernels compile on a thread of their own while their Python twins train (background.py):
the twin must compute what the kernel computes, bit for bit, or a seeded run would depend on
when the kernel arrived."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest
from numba import njit

from playground.engine import background
from playground.engine.conv_stack import ConvStackRunner
from playground.engine.dense_stack import DenseStackRunner
from playground.engine.layers.dropout import seed_kernel_random
from playground.engine.optimizers import Optimizer, OptimizerSettings

from .helpers import mlp, one_hot
from .test_conv_stack import CASES, build


@njit(nogil=True, cache=False)
def _leaf(values, factor):
    out = 0.0
    for value in values:
        out += value * factor
    return out


@njit(nogil=True, cache=False, inline="always")
def _helper(values, factor):
    return _leaf(values, factor) + 1.0


@njit(nogil=True, cache=False)
def _composer(values, factor):
    return _helper(values, factor) * 2.0


def test_the_twin_runs_its_inlined_helpers_as_python_and_calls_the_other_kernels_compiled():
    values = np.arange(5.0)
    assert background.python_twin(_composer)(values, 0.5) == _composer(values, 0.5) == 12.0
    assert _leaf.signatures  # compiled, as the twin called it
    assert not _helper.signatures  # inlined into the kernel, run as Python by the twin


def _switching(monkeypatch, twin_chunks: int):
    """``compiles.ready`` that answers False for the first ``twin_chunks`` calls, then True."""
    calls = []

    def ready(kernel, make_job):
        calls.append(kernel)
        return len(calls) > twin_chunks

    monkeypatch.setattr(background.compiles, "ready", ready)


def _train(runner, x, y, chunks, batches, l2, l1):
    """Seeded chunks of ``batches`` mini-batches: every chunk's figures."""
    seed_kernel_random(3)
    order = np.random.default_rng(4).permutation(len(x)).astype(np.int64)
    control = np.array([0.0, 0.05])
    return [runner.run(x, y, order, c * batches, batches, control, l2, l1, True) for c in range(chunks)]


def _assert_same_bits(first, second, network_a, network_b):
    for got, expected in zip(first, second, strict=True):
        assert got[:2] == expected[:2]
        for a, b in zip(got[2:], expected[2:], strict=True):
            assert np.array_equal(a, b, equal_nan=True)
    for key, value in network_a.state().items():
        assert np.array_equal(network_b.state()[key], value), key


DENSE = {
    "sigmoid, cross-entropy": dict(activation="sigmoid", output="sigmoid", cost="cross-entropy"),
    "relu, softmax, dropout": dict(activation="relu", output="softmax", cost="log-likelihood", dropout_after="fc1"),
    "tanh, quadratic": dict(activation="tanh", output="linear", cost="quadratic"),
    "leaky relu, softmax": dict(activation="leaky_relu", output="softmax", cost="log-likelihood"),
}


@pytest.mark.parametrize("name", sorted(DENSE))
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_a_dense_run_is_the_same_whenever_its_kernel_arrives(monkeypatch, name, optimizer):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((48, 8)).astype(np.float32)
    y = one_hot(rng.integers(0, 3, 48), 3, np.float32)
    figures, networks = [], []
    for twin_chunks in (0, 2):
        _switching(monkeypatch, twin_chunks)
        network = mlp([8, 6, 5, 3], dtype=np.float32, **DENSE[name])
        settings = OptimizerSettings(optimizer, 0.9 if optimizer == "sgd" else 0.0)
        runner = DenseStackRunner(network, Optimizer(settings, network.slots()), 4)
        figures.append(_train(runner, x, y, 4, 3, 0.01, 0.001))
        networks.append(network)
    _assert_same_bits(*figures, *networks)


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_convolutional_run_is_the_same_whenever_its_kernel_arrives(monkeypatch, case):
    shape, middle = CASES[case]
    rng = np.random.default_rng(1)
    x = rng.standard_normal((24, int(np.prod(shape)))).astype(np.float32)
    y = one_hot(rng.integers(0, 3, 24), 3, np.float32)
    figures, networks = [], []
    for twin_chunks in (0, 1):
        _switching(monkeypatch, twin_chunks)
        network = build(shape, middle, ((6, "relu"), (0, 0.5)), dtype=np.float32)
        runner = ConvStackRunner(network, Optimizer(OptimizerSettings("adam"), network.slots()), 4)
        figures.append(_train(runner, x, y, 3, 2, 0.01, 0.0))
        networks.append(network)
    _assert_same_bits(*figures, *networks)


def test_a_runner_uses_its_kernel_once_it_is_compiled(monkeypatch):
    """The real thing: the first chunks run the twin, settling compiles the kernel, the next chunk runs it."""
    monkeypatch.setattr(background, "compiles", background.BackgroundCompiles())
    monkeypatch.setattr(background, "QUIET_COMPILER_S", 60.0)
    network = mlp([8, 5, 3], dtype=np.float32)
    runner = DenseStackRunner(network, Optimizer(OptimizerSettings(), network.slots()), 4)
    x, y = np.ones((8, 8), np.float32), np.ones((8, 3), np.float32)
    for _ in range(2):
        runner.run(x, y, np.arange(8), 0, 2, np.array([0.0, 0.1]), 0.0, 0.0, False)
    assert runner._kernel_fields is None  # not yet the time: numba must be quiet for a minute here
    background.settle()
    runner.run(x, y, np.arange(8), 0, 2, np.array([0.0, 0.1]), 0.0, 0.0, False)
    assert runner._kernel_fields is not None
    assert runner.kernel.signatures


def test_a_kernel_waiting_for_its_compilation_keeps_no_data_alive(monkeypatch):
    """The compile job keeps the first call's argument types: the data set may be large, and a
    window that loads another one must be able to let it go."""
    monkeypatch.setattr(background, "compiles", background.BackgroundCompiles())
    monkeypatch.setattr(background, "QUIET_COMPILER_S", 60.0)
    network = mlp([8, 5, 3], dtype=np.float32)
    runner = DenseStackRunner(network, Optimizer(OptimizerSettings(), network.slots()), 4)
    x, y = np.ones((8, 8), np.float32), np.ones((8, 3), np.float32)
    data = weakref.ref(x)
    runner.run(x, y, np.arange(8), 0, 2, np.array([0.0, 0.1]), 0.0, 0.0, False)
    del x
    gc.collect()
    assert data() is None
