"""Conv2D, MaxPool2D and AvgPool2D against torch.nn, forward and backward, float64, 1e-5 relative."""

from __future__ import annotations

import numpy as np
import pytest

from playground.engine.layers import layer_class

from .helpers import relative_error

torch = pytest.importorskip("torch")


def run_both(layer, module, x, dy):
    """Our forward/backward and torch's on the same input and upstream gradient."""
    out = layer.forward(x, training=True).copy()
    dx = layer.backward(dy).copy()
    tx = torch.from_numpy(x).requires_grad_(True)
    t_out = module(tx)
    t_out.backward(torch.from_numpy(dy))
    return out, dx, t_out.detach().numpy(), tx.grad.numpy()


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
@pytest.mark.parametrize(
    "kernel,stride,padding,channels",
    [
        (5, 1, "valid", (1, 20)),
        (3, 1, "same", (3, 4)),
        (3, 2, "valid", (2, 5)),
        (4, 1, "same", (2, 3)),
        (3, 2, "same", (2, 3)),
    ],
)
def test_conv2d_matches_torch(kernel, stride, padding, channels):
    rng = np.random.default_rng(0)
    c_in, c_out = channels
    shape = (c_in, 11, 12)
    config = layer_class("conv2d").Config(
        filters=c_out, kernel_size=kernel, stride=stride, padding=padding, activation="linear"
    )
    layer = layer_class("conv2d")("c", config, shape, np.float64)
    layer.initialize("xavier", rng)
    if padding == "same" and stride > 1:
        # torch's padding="same" takes stride 1 only; pad explicitly as "same" does (extra zero after)
        from playground.engine.layers.geometry import output_size

        _, top, bottom = output_size(11, kernel, stride, "same")
        _, left, right = output_size(12, kernel, stride, "same")
        conv = torch.nn.Conv2d(c_in, c_out, kernel, stride=stride).double()
        module = lambda t: conv(torch.nn.functional.pad(t, (left, right, top, bottom)))  # noqa: E731
    else:
        conv = torch.nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=padding).double()
        module = conv
    with torch.no_grad():
        conv.weight.copy_(torch.from_numpy(layer.params["weight"]))  # the same (out, in, kh, kw) layout
        conv.bias.copy_(torch.from_numpy(layer.params["bias"]))
    x = rng.standard_normal((4,) + shape)
    dy = rng.standard_normal((4,) + layer.output_shape)
    out, dx, t_out, t_dx = run_both(layer, module, x, dy)
    assert out.shape == t_out.shape
    assert relative_error(out, t_out) < 1e-5
    assert relative_error(dx, t_dx) < 1e-5
    assert relative_error(layer.grads["weight"], conv.weight.grad.numpy()) < 1e-5
    assert relative_error(layer.grads["bias"], conv.bias.grad.numpy()) < 1e-5


@pytest.mark.parametrize(
    "activation,torch_activation", [("relu", torch.relu), ("sigmoid", torch.sigmoid), ("tanh", torch.tanh)]
)
def test_conv2d_activation_matches_torch(activation, torch_activation):
    rng = np.random.default_rng(1)
    config = layer_class("conv2d").Config(filters=3, kernel_size=3, activation=activation)
    layer = layer_class("conv2d")("c", config, (2, 8, 8), np.float64)
    layer.initialize("he", rng)
    conv = torch.nn.Conv2d(2, 3, 3).double()
    with torch.no_grad():
        conv.weight.copy_(torch.from_numpy(layer.params["weight"]))
        conv.bias.copy_(torch.from_numpy(layer.params["bias"]))
    x = rng.standard_normal((3, 2, 8, 8))
    dy = rng.standard_normal((3, 3, 6, 6))
    out, dx, t_out, t_dx = run_both(layer, lambda t: torch_activation(conv(t)), x, dy)
    assert relative_error(out, t_out) < 1e-5 and relative_error(dx, t_dx) < 1e-5
    assert relative_error(layer.grads["weight"], conv.weight.grad.numpy()) < 1e-5


@pytest.mark.parametrize("kind,torch_module", [("maxpool2d", torch.nn.MaxPool2d), ("avgpool2d", torch.nn.AvgPool2d)])
@pytest.mark.parametrize("size,stride,side", [(2, 2, 12), (3, 3, 12), (3, 1, 9), (3, 2, 11), (2, 1, 7)])
def test_pools_match_torch(kind, torch_module, size, stride, side):
    rng = np.random.default_rng(2)
    shape = (3, side, side)
    layer = layer_class(kind)("p", layer_class(kind).Config(size=size, stride=stride), shape, np.float64)
    x = rng.standard_normal((4,) + shape)
    dy = rng.standard_normal((4,) + layer.output_shape)
    out, dx, t_out, t_dx = run_both(layer, torch_module(size, stride=stride), x, dy)
    assert relative_error(out, t_out) < 1e-5
    assert relative_error(dx, t_dx) < 1e-5
