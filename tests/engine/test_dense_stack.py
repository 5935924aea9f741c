"""The fused dense-stack kernel against the layer-by-layer path: the same maths, composed twice."""

from __future__ import annotations

import numpy as np
import pytest

from playground.engine.dense_stack import (
    BIAS_GRAD,
    FINISHED,
    NONFINITE,
    STOPPED,
    WEIGHT_GRAD,
    WEIGHT_NORM,
    DenseStackPass,
    DenseStackRunner,
    dense_stack_layers,
)
from playground.engine.layers.dropout import seed_kernel_random
from playground.engine.optimizers import Optimizer, OptimizerSettings

from .helpers import mlp, one_hot


def data(n=60, features=8, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, features)), one_hot(rng.integers(0, classes, n), classes)


@pytest.mark.parametrize(
    "optimizer,momentum,l2,l1,dropout",
    [
        ("sgd", 0.0, 0.0, 0.0, None),
        ("sgd", 0.9, 0.01, 0.0, None),
        ("sgd", 0.0, 0.0, 0.01, None),
        ("adam", 0.0, 0.01, 0.0, None),
        ("sgd", 0.0, 0.0, 0.0, "fc1"),
    ],
)
def test_fused_training_equals_the_generic_path(optimizer, momentum, l2, l1, dropout, fused_way):
    x, y = data()
    settings = OptimizerSettings(optimizer, momentum)
    generic = mlp([8, 6, 5, 3], output="softmax", cost="log-likelihood", dropout_after=dropout)
    fused = mlp([8, 6, 5, 3], output="softmax", cost="log-likelihood", dropout_after=dropout)
    generic_optimizer = Optimizer(settings, generic.slots())
    runner = DenseStackRunner(fused, Optimizer(settings, fused.slots()), batch_size=10)
    order = np.random.default_rng(5).permutation(60).astype(np.int64)

    seed_kernel_random(11)
    generic_metrics = []
    for b in range(6):
        rows = order[b * 10 : (b + 1) * 10]
        generic.loss_and_gradients(x[rows], y[rows])
        generic_metrics.append(
            {k: (r.weight_grad_norm, r.bias_grad_norm, r.weight_norm) for k, r in generic.reports().items()}
        )
        generic_optimizer.step(0.1, l2, l1)
    seed_kernel_random(11)
    done, ended, losses, correct, metrics = runner.run(x, y, order, 0, 6, np.array([0.0, 0.1]), l2, l1, True)

    assert (done, ended) == (6, FINISHED)
    for key, value in generic.state().items():
        np.testing.assert_allclose(fused.state()[key], value, rtol=1e-10, atol=1e-12, err_msg=key)
    for b, per_layer in enumerate(generic_metrics):
        for i, (weight_grad, bias_grad, weight_norm) in enumerate(per_layer.values()):
            assert metrics[b, i, WEIGHT_GRAD] == pytest.approx(weight_grad, rel=1e-9)
            assert metrics[b, i, BIAS_GRAD] == pytest.approx(bias_grad, rel=1e-9)
            assert metrics[b, i, WEIGHT_NORM] == pytest.approx(weight_norm, rel=1e-9)


def test_stop_flag_is_read_between_batches(fused_way):
    x, y = data()
    network = mlp([8, 4, 3], output="softmax", cost="log-likelihood")
    runner = DenseStackRunner(network, Optimizer(OptimizerSettings(), network.slots()), 10)
    done, ended, *_ = runner.run(x, y, np.arange(60), 0, 6, np.array([1.0, 0.1]), 0.0, 0.0, False)
    assert (done, ended) == (0, STOPPED)


def test_a_nonfinite_batch_is_not_applied(fused_way):
    x, y = data()
    x[13] = np.nan
    network = mlp([8, 4, 3], output="softmax", cost="log-likelihood")
    runner = DenseStackRunner(network, Optimizer(OptimizerSettings(), network.slots()), 10)
    runner.run(x, y, np.arange(60), 0, 1, np.array([0.0, 0.1]), 0.0, 0.0, False)
    good = network.copy_state()
    done, ended, *_ = runner.run(x, y, np.arange(60), 1, 5, np.array([0.0, 0.1]), 0.0, 0.0, False)
    assert (done, ended) == (0, NONFINITE)
    for key, value in good.items():
        np.testing.assert_array_equal(network.state()[key], value)


def test_only_dense_and_dropout_stacks_take_the_fast_path():
    assert dense_stack_layers(mlp([4, 3, 2])) is not None
    assert [rate for _, rate in dense_stack_layers(mlp([4, 3, 3, 2], dropout_after="fc1"))] == [0.5, 0.0, 0.0]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dense_stack_pass_keeps_what_the_generic_path_computes(dtype):
    """The explainers' pass: the fused kernel's forward, cost and backward on a few examples gives
    the layer-by-layer path's z, a, δ and gradients, and sees a parameter changed in place."""
    x, y = data(n=4)
    network = mlp([8, 6, 5, 3], output="softmax", cost="log-likelihood", dtype=dtype)
    engine = DenseStackPass(network, examples=4)
    cost = engine.run(x, y)
    zs, activations, deltas = engine.zs, engine.activations, engine.deltas
    grads = [g.copy() for g in engine.weight_grads + engine.bias_grads]
    reference_cost, _ = network.loss_and_gradients(x.astype(dtype), y.astype(dtype))
    tolerance = 1e-4 if dtype == np.float32 else 1e-12
    assert cost == pytest.approx(reference_cost, rel=tolerance)
    layers = network.trainable
    for index, layer in enumerate(layers):
        assert zs[index] == pytest.approx(layer.z, rel=tolerance, abs=tolerance)
        assert activations[index] == pytest.approx(layer.a, rel=tolerance, abs=tolerance)
        if index < len(layers) - 1:  # a hidden layer's δ = ∂C/∂z, as Dense.backward leaves it
            assert deltas[index] == pytest.approx(layer.dz, rel=tolerance, abs=tolerance)
    expected = [layer.grads["weight"] for layer in layers] + [layer.grads["bias"] for layer in layers]
    for mine, theirs in zip(grads, expected):
        assert mine == pytest.approx(theirs, rel=tolerance, abs=tolerance)
    layers[0].params["bias"][0] += 1.0
    assert engine.run(x, y, backward=False) != pytest.approx(cost)


def test_dense_stack_pass_refuses_dropout():
    with pytest.raises(ValueError, match="plain dense stack"):
        DenseStackPass(mlp([8, 6, 3], dropout_after="fc1"))
