"""The seeded toy generators: shapes, determinism, balance, and the parity and function rules."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from playground.datasets import DatasetError, load_dataset
from playground.datasets.dataset import shuffled_split
from playground.datasets.toys import PLANE_PROBLEMS, TARGET_FUNCTIONS

PLANE_NAMES = sorted(PLANE_PROBLEMS)


@pytest.mark.parametrize("name", PLANE_NAMES)
def test_plane_toys_have_the_promised_shape_and_scale(name):
    data = load_dataset(name)

    assert data.x_train.shape == (800, 2) and data.x_val.shape == (200, 2)
    assert data.x_train.dtype == np.float32 and data.y_train.dtype == np.int64
    assert (data.input_shape, data.n_outputs, data.task) == ((2,), 2, "classification")
    assert len(data.class_names) == 2
    assert np.abs(data.x_train).max() < 1.6  # roughly [-1, 1], so lr 0.1-1 works unnormalised


@pytest.mark.parametrize("name", PLANE_NAMES)
def test_plane_toys_are_deterministic_per_seed(name):
    first, again, other = (load_dataset(name, seed=seed, n_samples=200) for seed in (3, 3, 4))

    np.testing.assert_array_equal(first.x_train, again.x_train)
    np.testing.assert_array_equal(first.y_val, again.y_val)
    assert not np.array_equal(first.x_train, other.x_train)


@pytest.mark.parametrize("name", PLANE_NAMES)
def test_plane_toys_are_balanced_in_both_splits(name):
    data = load_dataset(name, n_samples=2000)

    assert 0.4 < data.y_train.mean() < 0.6 and 0.4 < data.y_val.mean() < 0.6


def test_noise_and_size_options():
    clean = load_dataset("circle", noise=0.0, n_samples=300)
    radius = np.linalg.norm(np.concatenate([clean.x_train, clean.x_val]), axis=1)
    labels = np.concatenate([clean.y_train, clean.y_val])

    assert len(radius) == 300
    assert radius[labels == 0].max() <= 0.5 + 1e-6 and radius[labels == 1].min() >= 0.7 - 1e-6
    with pytest.raises(DatasetError, match="noise must be zero or positive"):
        load_dataset("moons", noise=-1)
    with pytest.raises(DatasetError, match="n_samples must be at least 10, not 3"):
        load_dataset("xor", n_samples=3)


def test_small_parity_trains_and_validates_on_every_string():
    data = load_dataset("parity")

    assert data.x_train.shape == (256, 8) and data.input_shape == (8,)
    assert len({tuple(row) for row in data.x_train}) == 256
    np.testing.assert_array_equal(data.x_train, data.x_val)
    np.testing.assert_array_equal(data.y_train, data.x_train.sum(axis=1) % 2)
    assert set(np.unique(data.x_train)) == {0.0, 1.0}
    assert "both training and validation" in data.source


def test_large_parity_samples_distinct_strings_and_splits_them():
    data = load_dataset("parity", n_bits=16, n_samples=1000, seed=2)

    everything = np.concatenate([data.x_train, data.x_val])
    assert (len(data.x_train), len(data.x_val)) == (800, 200)
    assert len({tuple(row) for row in everything}) == 1000
    np.testing.assert_array_equal(data.y_val, data.x_val.sum(axis=1) % 2)


@pytest.mark.parametrize(
    "options, message", [({"n_bits": 0}, "between 1 and"), ({"n_samples": 50}, "leave n_samples unset")]
)
def test_parity_rejects_bad_options(options, message):
    with pytest.raises(DatasetError, match=message):
        load_dataset("parity", **options)


@pytest.mark.parametrize("function", sorted(TARGET_FUNCTIONS))
def test_function_targets_lie_where_a_sigmoid_reaches(function):
    data = load_dataset("function", function=function, n_samples=400)

    assert (data.task, data.n_outputs, data.input_shape) == ("regression", 1, (1,))
    assert data.x_train.shape == (320, 1) and data.y_train.shape == (320, 1) and data.y_train.dtype == np.float32
    assert np.abs(data.x_train).max() <= 1.0
    assert 0.1 - 1e-6 <= data.y_train.min() and data.y_train.max() <= 0.9 + 1e-6
    np.testing.assert_allclose(data.y_val, TARGET_FUNCTIONS[function](data.x_val), atol=1e-6)


def test_function_noise_is_added_unclipped():
    data = load_dataset("function", function="sine", noise=0.2, n_samples=2000)

    residual = data.y_train - TARGET_FUNCTIONS["sine"](data.x_train)
    assert residual.std() == pytest.approx(0.2, rel=0.1)
    assert data.y_train.min() < 0.0 and data.y_train.max() > 1.0  # nothing piles up on 0 and 1
    assert "noise of std 0.2" in data.source
    with pytest.raises(DatasetError, match="unknown function 'cosine'"):
        load_dataset("function", function="cosine")


@given(n=st.integers(2, 500), seed=st.integers(0, 2**32 - 1))
def test_shuffled_split_keeps_every_row_once_and_both_sides_non_empty(n, seed):
    x = np.arange(n)
    x_train, y_train, x_val, y_val = shuffled_split(x, -x, seed)

    assert len(x_train) >= 1 and len(x_val) >= 1
    assert sorted(np.concatenate([x_train, x_val])) == list(range(n))
    np.testing.assert_array_equal(y_train, -x_train)
