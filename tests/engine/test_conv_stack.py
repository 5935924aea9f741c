"""The fused convolutional kernel against the layer-by-layer path: the same maths, composed twice."""

from __future__ import annotations

import numba
import numpy as np
import pytest

from playground.engine import background
from playground.engine.conv_stack import ConvStackRunner, conv_stack_plan
from playground.engine.dense_stack import BIAS_GRAD, FINISHED, NONFINITE, STOPPED, WEIGHT_GRAD, WEIGHT_NORM
from playground.engine.layers import layer_class
from playground.engine.layers.conv2d import im2col
from playground.engine.layers.dropout import seed_kernel_random
from playground.engine.network import Network
from playground.engine.optimizers import Optimizer, OptimizerSettings

from .helpers import dense, one_hot, seeded_digests


def conv(**config):
    return layer_class("conv2d").Config(**config)


def build(shape, middle, head=((6, "relu"),), classes=3, dtype=np.float64, seed=0, reshape=None):
    specs = [("in", "input", layer_class("input").Config(shape=shape))]
    if reshape:
        specs.append(("r", "reshape", layer_class("reshape").Config(shape=reshape)))
    specs += [(f"l{i}", t, c) for i, (t, c) in enumerate(middle)]
    specs += [
        (f"fc{i}", "dense", dense(u, a)) if u else (f"drop{i}", "dropout", layer_class("dropout").Config(rate=a))
        for i, (u, a) in enumerate(head)
    ]
    specs.append(("out", "dense", dense(classes, "softmax")))
    network = Network.from_specs(specs, shape, "log-likelihood", dtype)
    network.initialize("he", seed)
    return network


POOL = ("maxpool2d", layer_class("maxpool2d").Config(size=2))
CASES = {
    "nielsen": (
        (1, 12, 12),
        [("conv2d", conv(filters=4, kernel_size=5)), POOL, ("flatten", layer_class("flatten").Config())],
    ),
    "two-stages": (
        (2, 14, 14),
        [
            ("conv2d", conv(filters=3, kernel_size=3, activation="tanh")),
            POOL,
            ("conv2d", conv(filters=4, kernel_size=2, padding="same", activation="sigmoid")),
            POOL,
        ],
    ),
    "stride-no-pool": (
        (2, 9, 9),
        [
            ("conv2d", conv(filters=3, kernel_size=3, stride=2, activation="leaky_relu")),
            ("conv2d", conv(filters=2, kernel_size=2, activation="linear")),
        ],
    ),
    "pool-3": (
        (1, 12, 12),
        [
            ("conv2d", conv(filters=2, kernel_size=3, padding="same")),
            ("maxpool2d", layer_class("maxpool2d").Config(size=3)),
        ],
    ),
}


def test_pooled_column_order_is_a_permutation_of_im2col():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 9, 8))
    plain, pooled = np.zeros((2 * 9, 8 * 6)), np.zeros((2 * 9, 8 * 6))
    im2col(x, plain, 3, 3, 1, 1, 0, 8, 6, 1, True)
    im2col(x, pooled, 3, 3, 1, 1, 0, 8, 6, 2, True)
    blocks = plain.reshape(18, 4, 2, 3, 2).transpose(0, 2, 4, 1, 3).reshape(18, -1)  # (py,dy,px,dx) → (dy,dx,py,px)
    np.testing.assert_array_equal(pooled, blocks)


def test_the_plan_recognises_what_it_can_run():
    assert conv_stack_plan(build(*CASES["nielsen"])) is not None
    assert conv_stack_plan(build((784,), CASES["nielsen"][1], reshape=(1, 28, 28))) is not None
    overlapping = [
        ("conv2d", conv(filters=2, kernel_size=3)),
        ("maxpool2d", layer_class("maxpool2d").Config(size=3, stride=2)),
    ]
    assert conv_stack_plan(build((1, 9, 9), overlapping)) is None
    averaged = [("conv2d", conv(filters=2, kernel_size=3)), ("avgpool2d", layer_class("avgpool2d").Config())]
    assert conv_stack_plan(build((1, 8, 8), averaged)) is None


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("optimizer,momentum,l2", [("sgd", 0.0, 0.0), ("sgd", 0.9, 0.01), ("adam", 0.0, 0.01)])
def test_fused_training_equals_the_generic_path(case, optimizer, momentum, l2, fused_way):
    shape, middle = CASES[case]
    rng = np.random.default_rng(1)
    n, batch = 24, 6
    x = rng.standard_normal((n, int(np.prod(shape))))
    y = one_hot(rng.integers(0, 3, n), 3)
    settings = OptimizerSettings(optimizer, momentum)
    head = ((6, "relu"), (0, 0.5)) if case == "nielsen" else ((6, "sigmoid"),)
    generic, fused = build(shape, middle, head), build(shape, middle, head)
    generic_optimizer = Optimizer(settings, generic.slots())
    runner = ConvStackRunner(fused, Optimizer(settings, fused.slots()), batch)
    order = rng.permutation(n).astype(np.int64)

    seed_kernel_random(11)
    generic_metrics = []
    for b in range(n // batch):
        rows = order[b * batch : (b + 1) * batch]
        generic.loss_and_gradients(x[rows], y[rows])
        generic_metrics.append(
            [(r.weight_grad_norm, r.bias_grad_norm, r.weight_norm) for r in generic.reports().values()]
        )
        generic_optimizer.step(0.05, l2, 0.0)
    seed_kernel_random(11)
    done, ended, losses, correct, metrics = runner.run(x, y, order, 0, n // batch, np.array([0.0, 0.05]), l2, 0.0, True)
    assert (done, ended) == (n // batch, FINISHED)
    for key, value in generic.state().items():
        np.testing.assert_allclose(fused.state()[key], value, rtol=1e-9, atol=1e-12, err_msg=key)
    for b, per_layer in enumerate(generic_metrics):
        for i, (weight_grad, bias_grad, weight_norm) in enumerate(per_layer):
            assert metrics[b, i, WEIGHT_GRAD] == pytest.approx(weight_grad, rel=1e-9)
            assert metrics[b, i, BIAS_GRAD] == pytest.approx(bias_grad, rel=1e-9)
            assert metrics[b, i, WEIGHT_NORM] == pytest.approx(weight_norm, rel=1e-9)


def test_float32_fused_training_stays_close_to_the_generic_path(fused_way):
    shape, middle = CASES["nielsen"]
    rng = np.random.default_rng(2)
    x = rng.random((40, 144)).astype(np.float32)
    y = one_hot(rng.integers(0, 3, 40), 3, np.float32)
    generic, fused = build(shape, middle, dtype=np.float32), build(shape, middle, dtype=np.float32)
    generic_optimizer = Optimizer(OptimizerSettings(), generic.slots())
    runner = ConvStackRunner(fused, Optimizer(OptimizerSettings(), fused.slots()), 10)
    order = np.arange(40)
    for b in range(4):
        generic.loss_and_gradients(x[b * 10 : (b + 1) * 10], y[b * 10 : (b + 1) * 10])
        generic_optimizer.step(0.1, 0.0, 0.0)
    runner.run(x, y, order, 0, 4, np.array([0.0, 0.1]), 0.0, 0.0, False)
    for key, value in generic.state().items():
        np.testing.assert_allclose(fused.state()[key], value, rtol=1e-4, atol=1e-5, err_msg=key)


def test_stop_flag_and_divergence(fused_way):
    network = build(
        (1, 12, 12), [("conv2d", conv(filters=4, kernel_size=5, activation="tanh")), POOL], head=((6, "sigmoid"),)
    )
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((20, 144)), one_hot(rng.integers(0, 3, 20), 3)
    runner = ConvStackRunner(network, Optimizer(OptimizerSettings(), network.slots()), 10)
    done, ended, *_ = runner.run(x, y, np.arange(20), 0, 2, np.array([1.0, 0.1]), 0.0, 0.0, False)
    assert (done, ended) == (0, STOPPED)
    before = network.copy_state()
    x[3, 5] = np.nan  # the pool lets it through (ReLU would map it to 0, tanh keeps it)
    done, ended, losses, *_ = runner.run(x, y, np.arange(20), 0, 2, np.array([0.0, 0.1]), 0.0, 0.0, False)
    assert (done, ended) == (0, NONFINITE) and len(losses) == 1
    assert all(np.array_equal(before[k], v) for k, v in network.state().items())  # no update was applied


def train_in_parts(case, parts, batch=7, n=28):
    """float64, SGD with momentum, L2 and (Nielsen's case) dropout: the trained state, the losses and
    the metrics of ``n // batch`` batches with the convolutions' batch split into ``parts`` parts."""
    shape, middle = CASES[case]
    rng = np.random.default_rng(4)
    x = rng.standard_normal((n, int(np.prod(shape))))
    y = one_hot(rng.integers(0, 3, n), 3)
    head = ((6, "relu"), (0, 0.5)) if case == "nielsen" else ((6, "sigmoid"),)
    network = build(shape, middle, head)
    runner = ConvStackRunner(network, Optimizer(OptimizerSettings("sgd", 0.9), network.slots()), batch, parts=parts)
    seed_kernel_random(5)
    control = np.array([0.0, 0.05])
    done, ended, losses, _, metrics = runner.run(x, y, rng.permutation(n), 0, n // batch, control, 0.01, 0.0, True)
    assert (done, ended) == (n // batch, FINISHED)
    return network.state(), losses, metrics, runner


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_batch_split_into_parts_gives_what_one_part_gives(case, fused_way):
    """The convolutions' batch in two uneven parts (3 and 4 examples), their gradients added in
    part order, against the whole batch in one part: the same training to 1e-12 (float64)."""
    whole, losses, metrics, _ = train_in_parts(case, parts=1)
    split, split_losses, split_metrics, _ = train_in_parts(case, parts=2)
    for key, value in whole.items():
        np.testing.assert_allclose(split[key], value, rtol=1e-12, atol=1e-12, err_msg=key)
    np.testing.assert_allclose(split_losses, losses, rtol=1e-12)
    np.testing.assert_allclose(split_metrics, metrics, rtol=1e-12, atol=1e-12)


@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="numba runs one thread here: the parts run in turn")
def test_the_parts_side_by_side_give_what_they_give_in_turn_bit_for_bit(monkeypatch):
    """Side by side (the ``parallel=True`` drivers) or in turn (one numba thread, a busy machine,
    the kernel's Python twin): the same calls on the same rows, so the same numbers exactly."""
    monkeypatch.setattr(background.compiles, "ready", lambda kernel, make_job: True)
    runs, before = {}, numba.get_num_threads()
    try:
        for most in (1, 2):
            numba.set_num_threads(most)
            state, losses, metrics, runner = train_in_parts("two-stages", parts=2)  # one chunk: no load look yet
            assert runner.stages.side_by_side[0] == (most == 2)
            runs[most] = [*(state[key] for key in sorted(state)), losses, metrics]
    finally:
        numba.set_num_threads(before)
    for in_turn, side_by_side in zip(runs[1], runs[2], strict=True):
        assert np.array_equal(side_by_side, in_turn, equal_nan=True)


def test_a_seeded_convolutional_run_repeats_exactly_on_one_thread_or_two():
    """The convolutions split their batch into ``parts.PARTS`` parts whatever the cores: on one
    numba thread the parts run in turn, the same arithmetic, and the trained weights are the same
    bit for bit.  (The first run fills numba's cache, as in the recurrent layers' test.)"""
    _, one_thread, two_threads = seeded_digests("cnn-mnist", 640)
    assert one_thread == two_threads


def test_the_parts_run_in_turn_while_other_processes_keep_a_core_busy(monkeypatch):
    monkeypatch.setattr(background.compiles, "ready", lambda kernel, make_job: True)
    network = build(*CASES["nielsen"])
    runner = ConvStackRunner(network, Optimizer(OptimizerSettings(), network.slots()), 4, parts=2)
    x, y = np.zeros((8, 144)), one_hot(np.arange(8) % 3, 3)
    runner._load.crowded = True
    runner.run(x, y, np.arange(8), 0, 2, np.array([0.0, 0.1]), 0.0, 0.0, False)
    assert not runner.stages.side_by_side[0]
