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
