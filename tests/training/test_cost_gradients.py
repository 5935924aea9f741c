"""The numbers the Cost view shows are the engine's, and they are right: σ′(z) is the sigmoid's
slope, each cost's δ is its derivative (finite differences), and the neuron read from weights is
the one the lesson trains."""

from __future__ import annotations

import numpy as np
import pytest

from playground.datasets import load_dataset
from playground.training.cost_gradients import is_one_neuron, neuron_moment, sigmoid_and_slope, softmax_moment
from playground.training.lessons import load_lesson

STEP = 1e-6


def test_sigmoid_slope_is_the_derivative():
    z = np.linspace(-8, 8, 33)
    a, slope = sigmoid_and_slope(z)
    assert np.allclose(a, 1 / (1 + np.exp(-z)))
    numeric = (sigmoid_and_slope(z + STEP)[0] - sigmoid_and_slope(z - STEP)[0]) / (2 * STEP)
    assert np.allclose(slope, numeric, atol=1e-8)


@pytest.mark.parametrize(("w", "b"), [(2.0, 2.0), (0.6, 0.9), (-1.0, 0.3)])
def test_the_neuron_s_errors_are_each_cost_s_derivative(w, b):
    spec = load_lesson("learning-slowdown")
    assert is_one_neuron(spec) and not is_one_neuron(load_lesson("toy-2d"))
    weights = {"out.weight": np.array([[w]]), "out.bias": np.array([b])}
    moment = neuron_moment(spec, weights, load_dataset("one-example"))
    assert (moment.x, moment.y, moment.z) == (1.0, 0.0, pytest.approx(w + b))

    def costs(z):
        a = 1 / (1 + np.exp(-z))
        return 0.5 * a * a, -np.log(1 - a)  # y = 0

    plus, minus = costs(moment.z + STEP), costs(moment.z - STEP)
    assert moment.quadratic_delta == pytest.approx((plus[0] - minus[0]) / (2 * STEP), rel=1e-5)
    assert moment.cross_entropy_delta == pytest.approx((plus[1] - minus[1]) / (2 * STEP), rel=1e-5)
    # the point of the lesson: the quadratic cost's error is the cross-entropy's times σ′(z)
    assert moment.quadratic_delta == pytest.approx(moment.cross_entropy_delta * moment.slope)
    assert neuron_moment(spec, None, load_dataset("one-example")) is None


def test_softmax_log_likelihood_error_is_its_derivative():
    z = np.array([2.5, -1.0, 3.2, 0.5])
    moment = softmax_moment(z, 3)
    assert moment.a.sum() == pytest.approx(1.0) and moment.cost == pytest.approx(-np.log(moment.a[3]))
    for j in range(4):
        bump = np.zeros(4)
        bump[j] = STEP
        numeric = (softmax_moment(z + bump, 3).cost - softmax_moment(z - bump, 3).cost) / (2 * STEP)
        assert moment.delta[j] == pytest.approx(numeric, abs=1e-7)
    with pytest.raises(ValueError, match="target class"):
        softmax_moment(z, 4)
