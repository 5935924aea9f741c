"""The RBM's arithmetic checked against exact enumeration of a tiny machine's states."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from playground.engine.layers import ShapeError, layer_class
from playground.engine.layers.dropout import seed_kernel_random
from playground.engine.rbm_kernels import CDRunner, free_energy, gibbs, reconstruct

from .helpers import numerical_gradient

N_VISIBLE, N_HIDDEN = 6, 4


def tiny_rbm(seed=0, visible="bernoulli", **config):
    cls = layer_class("rbm")
    layer = cls("rbm", cls.Config(units=N_HIDDEN, visible=visible, **config), (N_VISIBLE,), np.float64)
    rng = np.random.default_rng(seed)
    layer.params["weight"][...] = rng.normal(0, 0.8, (N_HIDDEN, N_VISIBLE))
    layer.params["bias"][...] = rng.normal(0, 0.5, N_HIDDEN)
    layer.params["visible_bias"][...] = rng.normal(0, 0.5, N_VISIBLE)
    return layer


def all_states(n):
    return np.array(list(itertools.product([0.0, 1.0], repeat=n)))


def energy(layer, v, h):
    """E(v, h) = −bᵀv − cᵀh − hᵀWv for every pair of rows of v and h: (len(v), len(h))."""
    w, c, b = layer.params["weight"], layer.params["bias"], layer.params["visible_bias"]
    return -(v @ b)[:, None] - (h @ c)[None, :] - v @ w.T @ h.T


def joint(layer):
    """p(v, h) over all 2⁶ × 2⁴ states, by enumeration."""
    vs, hs = all_states(N_VISIBLE), all_states(N_HIDDEN)
    unnormalised = np.exp(-energy(layer, vs, hs))
    return vs, hs, unnormalised / unnormalised.sum()


def exact_gradient(layer, data):
    """∂ mean log p(v)/∂W = ⟨h vᵀ⟩_data − ⟨h vᵀ⟩_model, the model's expectation by enumeration of all states."""
    vs, hs, p = joint(layer)
    model = np.einsum("vh,hj,vi->ji", p, hs, vs)
    hidden = 1 / (1 + np.exp(-(data @ layer.params["weight"].T + layer.params["bias"])))
    return hidden.T @ data / len(data) - model


def log_likelihood(layer, data):
    vs = all_states(N_VISIBLE)
    log_z = np.log(np.exp(-free_energy(layer, vs)).sum())
    return float((-free_energy(layer, data) - log_z).mean())


def training_data():
    rng = np.random.default_rng(5)
    return (rng.random((12, N_VISIBLE)) < 0.4).astype(np.float64)


def test_free_energy_matches_its_closed_form_and_the_sum_over_hidden_states():
    layer = tiny_rbm()
    vs = all_states(N_VISIBLE)
    w, c, b = layer.params["weight"], layer.params["bias"], layer.params["visible_bias"]
    closed_form = -vs @ b - np.log1p(np.exp(vs @ w.T + c)).sum(axis=1)
    summed_over_h = -np.log(np.exp(-energy(layer, vs, all_states(N_HIDDEN))).sum(axis=1))
    computed = free_energy(layer, vs)
    np.testing.assert_allclose(computed, closed_form, rtol=1e-10)
    np.testing.assert_allclose(computed, summed_over_h, rtol=1e-10)


def test_gaussian_free_energy_has_the_quadratic_visible_term():
    layer = tiny_rbm(visible="gaussian")
    v = np.random.default_rng(1).normal(size=(5, N_VISIBLE))
    w, c, b = layer.params["weight"], layer.params["bias"], layer.params["visible_bias"]
    expected = 0.5 * ((v - b) ** 2).sum(axis=1) - np.log1p(np.exp(v @ w.T + c)).sum(axis=1)
    np.testing.assert_allclose(free_energy(layer, v), expected, rtol=1e-10)


def test_the_likelihood_gradient_formula_matches_exact_enumeration():
    """⟨h vᵀ⟩_data − ⟨h vᵀ⟩_model (model expectation over all 2¹⁰ states) is the derivative of
    the exact mean log-likelihood, taken by central differences."""
    layer = tiny_rbm()
    data = training_data()
    analytic = exact_gradient(layer, data)
    numeric = numerical_gradient(lambda: log_likelihood(layer, data), layer.params["weight"])
    np.testing.assert_allclose(analytic, numeric, atol=1e-7)
    assert np.abs(analytic).max() > 0.05  # a real gradient, not two zeros agreeing


def cd_estimate(layer, data, k, copies, method="cd"):
    """The CD-k weight gradient (over many copies of the data) read off one update with η = 1, no
    momentum and no weight cost: ΔW = ∂/B."""
    cls = layer_class("rbm")
    layer.config = cls.Config(units=N_HIDDEN, cd_k=k, method=method, learning_rate=1.0, weight_cost=0.0)
    before = layer.params["weight"].copy()
    batch = len(data) * copies
    runner = CDRunner(layer, batch)
    seed_kernel_random(11)
    runner.run(np.tile(data, (copies, 1)), np.arange(batch, dtype=np.int64), 0, 1, np.zeros(2), 0.0)
    return layer.params["weight"] - before


def test_cd_with_a_long_chain_approaches_the_exact_gradient():
    """A long chain samples the model: CD-50 over 24,000 chains agrees with the exact expectation
    of its estimator (the last step uses visible means, Hinton's recipe) within sampling noise, and
    stays close to the true likelihood gradient."""
    layer = tiny_rbm()
    data = training_data()
    exact = exact_gradient(layer, data)
    _, hs, p = joint(layer)
    p_h = p.sum(axis=0)
    w, c, b = layer.params["weight"], layer.params["bias"], layer.params["visible_bias"]
    means = 1 / (1 + np.exp(-(hs @ w + b)))  # E[v | h] for every h
    hidden_of_means = 1 / (1 + np.exp(-(means @ w.T + c)))
    data_part = 1 / (1 + np.exp(-(data @ w.T + c)))
    estimator_target = data_part.T @ data / len(data) - np.einsum("h,hj,hi->ji", p_h, hidden_of_means, means)
    estimate = cd_estimate(layer, data, k=50, copies=2000)
    np.testing.assert_allclose(estimate, estimator_target, atol=0.02)
    assert np.abs(estimate - exact).max() < 0.1
    one_step = cd_estimate(tiny_rbm(), data, k=1, copies=2000)
    assert np.abs(one_step - exact).max() > np.abs(estimate - exact).max()  # CD-1 is the biased one


def test_a_seeded_run_reproduces_exactly():
    data = (np.random.default_rng(3).random((200, N_VISIBLE)) < 0.5).astype(np.float64)
    results = []
    for _ in range(2):
        layer = tiny_rbm(seed=4)
        layer.config = layer_class("rbm").Config(units=N_HIDDEN, method="pcd", cd_k=2)
        runner = CDRunner(layer, 10)
        seed_kernel_random(123)
        runner.start_chains(data)
        errors = runner.run(data, np.random.default_rng(0).permutation(200).astype(np.int64), 0, 20, np.zeros(2), 0.5)
        results.append((errors, layer.params["weight"].copy()))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])


def test_training_lowers_reconstruction_error_and_stop_is_honoured():
    rng = np.random.default_rng(0)
    prototypes = (rng.random((3, N_VISIBLE * 4)) < 0.5).astype(np.float32)
    data = prototypes[rng.integers(0, 3, 600)]
    cls = layer_class("rbm")
    layer = cls("rbm", cls.Config(units=8, learning_rate=0.1), (N_VISIBLE * 4,))
    layer.initialize("xavier", rng)
    before = reconstruct(layer, data)[1]
    runner = CDRunner(layer, 10)
    seed_kernel_random(0)
    order = np.arange(600, dtype=np.int64)
    for _ in range(5):
        runner.run(data, order, 0, 60, np.zeros(2), 0.5)
    assert reconstruct(layer, data)[1] < 0.25 * before
    assert len(runner.run(data, order, 0, 60, np.array([1.0, 0.0]), 0.5)) == 0


def test_clamped_gibbs_sampling_keeps_the_known_units():
    layer = tiny_rbm()
    v = (np.random.default_rng(2).random((50, N_VISIBLE)) < 0.5).astype(np.float64)
    clamped = np.zeros_like(v, dtype=bool)
    clamped[:, :3] = True
    seed_kernel_random(1)
    sample, means = gibbs(layer, v, 5, clamped)
    np.testing.assert_array_equal(sample[:, :3], v[:, :3])
    np.testing.assert_array_equal(means[:, :3], v[:, :3])
    assert set(np.unique(sample[:, 3:])) <= {0.0, 1.0} and (sample[:, 3:] != v[:, 3:]).any()


def test_a_visible_size_that_does_not_chain_is_refused_with_its_reason():
    cls = layer_class("rbm")
    with pytest.raises(ShapeError, match="expects 500 visible units but its input gives 784"):
        cls.infer_output_shape(cls.Config(units=100, visible_units=500), (784,))
    assert cls.infer_output_shape(cls.Config(units=100, visible_units=784), (1, 28, 28)) == (100,)


def test_linear_hidden_free_energy_is_the_integral_over_gaussian_hidden_units():
    """Linear hidden units, p(h | v) = N(Wv + c, 1): E(v, h) = −bᵀv − cᵀh − hᵀWv + ½‖h‖², so
    F(v) = −bᵀv − ½‖Wv + c‖² up to a constant; checked against the integral over h, numerically."""
    layer = tiny_rbm(hidden="linear")
    vs = all_states(N_VISIBLE)
    w, c, b = layer.params["weight"], layer.params["bias"], layer.params["visible_bias"]
    x = vs @ w.T + c
    grid = np.linspace(-30, 30, 60001)
    integrals = np.trapezoid(np.exp(x[:, :, None] * grid - 0.5 * grid**2), grid, axis=2)
    numerical = -vs @ b - np.log(integrals).sum(axis=1)
    constant = 0.5 * N_HIDDEN * np.log(2 * np.pi)
    np.testing.assert_allclose(free_energy(layer, vs) - constant, numerical, rtol=1e-8)


def test_linear_hidden_means_are_minus_the_free_energy_gradient():
    """E[h | v] = −∂F/∂c, the positive statistics CD uses, by finite differences; and the layer
    a feed-forward network sees is a = Wv + c, with the backward pass of the identity."""
    from playground.engine.rbm_kernels import hidden_means

    layer = tiny_rbm(hidden="linear")
    v = np.random.default_rng(2).random((5, N_VISIBLE))
    bias = layer.params["bias"]
    eps = 1e-6
    for j in range(N_HIDDEN):
        bias[j] += eps
        up = free_energy(layer, v)
        bias[j] -= 2 * eps
        down = free_energy(layer, v)
        bias[j] += eps
        np.testing.assert_allclose(-(up - down) / (2 * eps), hidden_means(layer, v)[:, j], rtol=1e-6)
    out = layer.forward(v, training=True)
    np.testing.assert_allclose(out, v @ layer.params["weight"].T + bias, rtol=1e-12)
    dy = np.random.default_rng(3).normal(size=out.shape)
    dx = layer.backward(dy)
    np.testing.assert_allclose(dx, dy @ layer.params["weight"], rtol=1e-10)
    np.testing.assert_allclose(layer.grads["weight"], dy.T @ v, rtol=1e-10)


def test_cd_trains_linear_hidden_units():
    """CD-1 with linear hidden units lowers the reconstruction error of the training data."""
    cls = layer_class("rbm")
    layer = cls("rbm", cls.Config(units=3, hidden="linear", learning_rate=0.01), (N_VISIBLE,), np.float64)
    layer.initialize(None, np.random.default_rng(0))
    data = np.tile(training_data(), (50, 1))
    before = reconstruct(layer, data)[1]
    runner = CDRunner(layer, 10)
    seed_kernel_random(5)
    order = np.arange(len(data), dtype=np.int64)
    for _ in range(50):
        runner.run(data, order, 0, len(data) // 10, np.zeros(2), 0.5)
    after = reconstruct(layer, data)[1]
    assert np.isfinite(after) and after < 0.7 * before
