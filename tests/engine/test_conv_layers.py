"""Convolution, pooling, flatten and reshape: float64 gradient checks on the cases the
generic registry check does not reach, shape inference and its refusals."""

from __future__ import annotations

import numpy as np
import pytest

from playground.engine.layers import ShapeError, layer_class
from playground.engine.network import Network

from .helpers import dense, one_hot
from .test_gradients import TOLERANCE, check_network_gradients, input_gradient_matches


def conv(**config):
    return layer_class("conv2d").Config(**config)


def pool(kind="maxpool2d", **config):
    return layer_class(kind).Config(**config)


def image_network(shape, layers, classes=3, seed=1, dtype=np.float64):
    specs = [("in", "input", layer_class("input").Config(shape=shape))]
    specs += [(f"l{i}", type_id, config) for i, (type_id, config) in enumerate(layers)]
    specs.append(("out", "dense", dense(classes, "softmax")))
    network = Network.from_specs(specs, shape, "log-likelihood", dtype)
    network.initialize("xavier", seed)
    return network


def check(network, batch=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch,) + network.input_shape)
    targets = one_hot(rng.integers(0, 3, batch), 3)
    check_network_gradients(network, x, targets)
    assert input_gradient_matches(network, x, targets) < TOLERANCE


@pytest.mark.parametrize(
    "config",
    [
        dict(filters=3, kernel_size=3, stride=2, activation="tanh"),
        dict(filters=2, kernel_size=3, padding="same", activation="sigmoid"),
        dict(filters=2, kernel_size=4, padding="same", activation="linear"),  # even kernel: uneven padding
        dict(filters=3, kernel_size=3, stride=2, padding="same", activation="leaky_relu"),
        dict(filters=4, kernel_size=2, stride=3, activation="sigmoid"),  # stride > kernel: skipped pixels
        dict(filters=1, kernel_size=1, activation="linear"),
    ],
    ids=["stride2", "same", "same-even", "same-stride2", "stride3", "1x1"],
)
def test_conv_gradients(config):
    check(image_network((3, 7, 6), [("conv2d", conv(**config))]))


def test_conv_pool_conv_pool_stack_with_many_channels():
    """Nielsen's second network in miniature: two convolutions, each with its pool."""
    network = image_network(
        (2, 10, 10),
        [
            ("conv2d", conv(filters=4, kernel_size=3, activation="tanh")),
            ("maxpool2d", pool(size=2)),
            ("conv2d", conv(filters=3, kernel_size=2, activation="sigmoid")),
            ("avgpool2d", pool("avgpool2d", size=3)),
            ("flatten", layer_class("flatten").Config()),
        ],
    )
    assert network.layers[-2].output_shape == (3,)
    check(network)


@pytest.mark.parametrize("kind", ["maxpool2d", "avgpool2d"])
@pytest.mark.parametrize("size,stride", [(2, 2), (3, 1), (3, 2), (2, 1)])
def test_pool_gradients_including_overlapping_windows(kind, size, stride):
    side = 8 if (size, stride) == (3, 2) else 7  # the conv gives side − 1, which the pool must divide
    network = image_network(
        (2, side, side),
        [("conv2d", conv(filters=2, kernel_size=2, activation="tanh")), (kind, pool(kind, size=size, stride=stride))],
    )
    check(network)


def test_maxpool_routes_the_gradient_to_the_winner_only():
    layer = layer_class("maxpool2d")("p", pool(size=2), (1, 2, 4), np.float64)
    x = np.array([[[[1.0, 5.0, 2.0, 0.0], [3.0, 4.0, 7.0, 6.0]]]])
    out = layer.forward(x, training=True)
    np.testing.assert_array_equal(out, [[[[5.0, 7.0]]]])
    dx = layer.backward(np.array([[[[10.0, 20.0]]]]))
    np.testing.assert_array_equal(dx, [[[[0, 10, 0, 0], [0, 0, 20, 0]]]])


def test_maxpool_lets_nan_through():
    layer = layer_class("maxpool2d")("p", pool(size=2), (1, 2, 2), np.float32)
    x = np.array([[[[1.0, np.nan], [3.0, 4.0]]]], np.float32)
    assert np.isnan(layer.forward(x, training=False)).all()


def test_conv_matches_the_definition_in_float32_and_float64():
    rng = np.random.default_rng(3)
    for dtype in (np.float32, np.float64):
        layer = layer_class("conv2d")(
            "c", conv(filters=2, kernel_size=3, stride=2, padding="same", activation="linear"), (3, 6, 5), dtype
        )
        layer.initialize("xavier", rng)
        x = rng.standard_normal((2, 3, 6, 5)).astype(dtype)
        out = layer.forward(x, training=False)
        assert out.shape == (2, 2, 3, 3) and out.dtype == dtype
        padded = np.zeros((2, 3, 7, 7))
        padded[:, :, :6, 1:6] = x  # total pad 1 rows (0 before, 1 after), 2 columns (1 before, 1 after)
        w, b = layer.params["weight"].astype(np.float64), layer.params["bias"].astype(np.float64)
        expected = np.zeros((2, 2, 3, 3))
        for oy in range(3):
            for ox in range(3):
                window = padded[:, :, 2 * oy : 2 * oy + 3, 2 * ox : 2 * ox + 3]
                expected[:, :, oy, ox] = np.einsum("bcij,fcij->bf", window, w) + b
        np.testing.assert_allclose(out, expected, rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-5)


def test_flatten_and_reshape_keep_nchw_order():
    x = np.arange(2 * 12, dtype=np.float64).reshape(2, 3, 2, 2)
    flatten = layer_class("flatten")("f", layer_class("flatten").Config(), (3, 2, 2), np.float64)
    flat = flatten.forward(x, training=True)
    np.testing.assert_array_equal(flat, x.reshape(2, 12))
    assert flatten.backward(flat).shape == (2, 3, 2, 2)
    reshape = layer_class("reshape")("r", layer_class("reshape").Config(shape=(3, 2, 2)), (12,), np.float64)
    np.testing.assert_array_equal(reshape.forward(flat, training=True), x)
    assert reshape.backward(x).shape == (2, 12)


# --- shape inference --------------------------------------------------------------------
def reason(type_id, config, input_shape) -> str:
    with pytest.raises(ShapeError) as caught:
        layer_class(type_id).infer_output_shape(config, input_shape)
    return str(caught.value)


def test_shapes_and_parameter_counts():
    cls = layer_class("conv2d")
    assert cls.infer_output_shape(conv(filters=20, kernel_size=5), (1, 28, 28)) == (20, 24, 24)
    assert cls.parameter_count(conv(filters=20, kernel_size=5), (1, 28, 28)) == 20 * 25 + 20
    assert cls.infer_output_shape(conv(filters=8, kernel_size=3, padding="same"), (3, 28, 28)) == (8, 28, 28)
    assert cls.infer_output_shape(conv(filters=8, kernel_size=3, padding="same", stride=2), (3, 28, 27)) == (8, 14, 14)
    assert cls.infer_output_shape(conv(filters=8, kernel_size=3, stride=2), (3, 28, 28)) == (8, 13, 13)
    assert cls.parameter_count(conv(filters=40, kernel_size=5), (20, 12, 12)) == 40 * 20 * 25 + 40
    assert layer_class("maxpool2d").infer_output_shape(pool(size=2), (20, 24, 24)) == (20, 12, 12)
    assert layer_class("avgpool2d").infer_output_shape(pool("avgpool2d", size=3, stride=1), (2, 5, 5)) == (2, 3, 3)
    assert layer_class("flatten").infer_output_shape(layer_class("flatten").Config(), (20, 12, 12)) == (2880,)


def test_shared_weights_against_a_dense_layer_with_the_same_outputs():
    cls = layer_class("conv2d")
    config = conv(filters=20, kernel_size=5)
    assert cls.dense_equivalent_count(config, (1, 28, 28)) == 784 * 11520 + 11520
    assert cls.parameter_count(config, (1, 28, 28)) == 520


def test_refusals_give_the_reason():
    assert (
        reason("conv2d", conv(), (100,))
        == "a convolution expects an image input [channels, height, width] but gets [100]"
    )
    assert reason("conv2d", conv(kernel_size=5), (1, 4, 9)) == "a 5×5 kernel is larger than its 4×9 input"
    assert reason("maxpool2d", pool(size=2), (20, 25, 25)) == "a 2×2 pool with stride 2 does not divide a 25×25 input"
    assert (
        reason("avgpool2d", pool("avgpool2d", size=3, stride=2), (1, 6, 6))
        == "a 3×3 pool with stride 2 does not divide a 6×6 input"
    )
    assert reason("maxpool2d", pool(size=4), (1, 3, 3)) == "a 4×4 pool is larger than its 3×3 input"
    assert reason("maxpool2d", pool(), (30,)) == "a pool expects an image input [channels, height, width] but gets [30]"
    assert (
        reason("reshape", layer_class("reshape").Config(shape=(1, 28, 28)), (100,))
        == "cannot reshape [100] (100 values) into [1, 28, 28] (784 values): the sizes must match"
    )


@pytest.mark.parametrize("size,stride", [(2, 2), (3, 1), (3, 2)])
def test_maxpool_evaluation_gives_the_training_values(size, stride):
    """Evaluation skips tracking the winners; the maxima must not change."""
    rng = np.random.default_rng(5)
    side = 9 if (size, stride) != (2, 2) else 8
    layer = layer_class("maxpool2d")("p", pool(size=size, stride=stride), (3, side, side), np.float32)
    x = rng.standard_normal((4, 3, side, side)).astype(np.float32)
    x[0, 0, 0, 0] = np.nan
    trained = layer.forward(x, training=True).copy()
    evaluated = layer.forward(x, training=False)
    np.testing.assert_array_equal(trained, evaluated)
    assert np.isnan(evaluated[0, 0, 0, 0])
