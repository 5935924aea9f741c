"""The adding problem: two marked numbers in a noisy sequence, the target their sum."""

from __future__ import annotations

import numpy as np
import pytest

from playground.datasets.adding import BASELINE_MSE, adding_problem


def test_each_sequence_marks_one_number_in_each_half_and_the_target_is_their_sum():
    x, y = adding_problem(500, 20, seed=3)
    assert x.shape == (500, 20, 2) and y.shape == (500, 1)
    assert x.dtype == np.float32 and y.dtype == np.float32
    markers = x[:, :, 1]
    assert np.all(markers.sum(axis=1) == 2)
    assert np.all(markers[:, :10].sum(axis=1) == 1) and np.all(markers[:, 10:].sum(axis=1) == 1)
    assert np.allclose(y[:, 0], (x[:, :, 0] * markers).sum(axis=1))
    assert 0.0 <= x[:, :, 0].min() and x[:, :, 0].max() < 1.0


def test_seeded_and_different_seeds_differ():
    a, b = adding_problem(50, 10, seed=1), adding_problem(50, 10, seed=1)
    assert all(np.array_equal(p, q) for p, q in zip(a, b))
    assert not np.array_equal(a[0], adding_problem(50, 10, seed=2)[0])


def test_guessing_the_mean_sum_scores_the_stated_baseline():
    """Predicting the constant 1 gives MSE ≈ 2/12 ≈ 0.167, the bar a net that remembers nothing cannot beat."""
    _, y = adding_problem(40_000, 10, seed=0)
    assert np.mean((y - 1.0) ** 2) == pytest.approx(BASELINE_MSE, rel=0.03)


def test_too_short_a_sequence_is_refused_with_the_reason():
    with pytest.raises(ValueError, match="at least 2 steps, not 1"):
        adding_problem(5, 1, seed=0)
