import numpy as np
import pytest

from playground.engine.activations import LEAKY_RELU, RELU, SIGMOID, TANH, activation_forward, saturated_fraction


def test_saturation_counts_units_whose_derivative_is_below_one_percent_of_its_peak():
    z = np.array([[0.0, 3.0, 6.0, -6.0]], np.float64)  # σ'(6) ≈ 0.0025 = 1% of 1/4: the threshold
    a = np.empty_like(z)
    activation_forward(SIGMOID, z, a, 0.0)
    assert saturated_fraction(SIGMOID, a) == pytest.approx(0.5)
    activation_forward(TANH, np.array([[0.0, 3.0]]), a[:, :2], 0.0)
    assert saturated_fraction(TANH, a[:, :2].copy()) == pytest.approx(0.5)  # tanh'(3) ≈ 0.0099
    assert saturated_fraction(LEAKY_RELU, a) == 0.0


def test_a_relu_counts_as_saturated_when_it_is_zero_for_every_example_of_the_batch():
    a = np.array([[0.0, 0.5, 0.0, 0.0], [0.0, 0.0, 2.0, 0.0], [0.0, 0.0, 0.0, 0.0]])
    assert saturated_fraction(RELU, a) == pytest.approx(0.5)  # units 0 and 3 are dead; 1 and 2 live once
    assert saturated_fraction(RELU, np.zeros((0, 4))) == 0.0


def test_sigmoid_never_overflows_in_float32():
    z = np.array([[-1000.0, 1000.0]], np.float32)
    a = np.empty_like(z)
    with np.errstate(all="raise"):
        activation_forward(SIGMOID, z, a, 0.0)
    assert a.tolist() == [[0.0, 1.0]]


def test_the_float32_exponential_is_within_a_few_ulps_of_the_exact_one():
    """``exp_of_nonpositive`` in float32 is a polynomial (vectorisable) form: checked against
    float64's exp over its whole range, and 0 where float32 would go subnormal."""
    from numba import njit

    from playground.engine.numeric import exp_of_nonpositive

    @njit
    def apply(x, out):
        for i in range(x.size):
            out[i] = exp_of_nonpositive(x[i])

    x = -np.linspace(0.0, 87.3, 500_001).astype(np.float32)
    out = np.empty_like(x)
    apply(x, out)
    exact = np.exp(x.astype(np.float64))
    assert np.max(np.abs(out - exact) / exact) < 8 * 2.0**-24
    assert out[0] == 1.0
    tails = np.array([-87.5, -1000.0, -np.inf], np.float32)
    apply(tails, out[:3])
    assert out[:3].tolist() == [0.0, 0.0, 0.0]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_keeps_its_relative_precision_in_both_tails(dtype):
    z = np.linspace(-80.0, 80.0, 100_001).astype(dtype).reshape(1, -1)
    a = np.empty_like(z)
    activation_forward(SIGMOID, z, a, 0.0)
    exact = 1.0 / (1.0 + np.exp(-z.astype(np.float64)))
    tolerance = 8 * 2.0**-24 if dtype == np.float32 else 1e-15
    assert np.max(np.abs(a - exact) / exact) < tolerance
