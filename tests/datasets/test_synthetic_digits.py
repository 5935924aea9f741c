"""The offline synthetic digits: MNIST-like arrays that a linear model can already learn."""

from __future__ import annotations

import numpy as np

from playground.datasets import load_dataset


def test_default_split_and_format():
    data = load_dataset("digits")

    assert data.x_train.shape == (8000, 1, 28, 28) and data.x_val.shape == (2000, 1, 28, 28)
    assert data.x_train.dtype == np.float32 and data.y_train.dtype == np.int64
    assert 0.0 <= data.x_train.min() and data.x_train.max() <= 1.0
    assert (data.n_outputs, data.class_names) == (10, [str(digit) for digit in range(10)])
    counts = np.bincount(np.concatenate([data.y_train, data.y_val]), minlength=10)
    assert (counts == 1000).all()


def test_deterministic_per_seed():
    first, again, other = (load_dataset("digits", n_samples=100, seed=seed) for seed in (5, 5, 6))

    np.testing.assert_array_equal(first.x_train, again.x_train)
    assert not np.array_equal(first.x_train, other.x_train)


def test_images_look_like_mnist():
    """Mostly dark paper with a stroke near the centre, as in MNIST."""
    images = load_dataset("digits", n_samples=500).x_train[:, 0]

    ink = images > 0.5
    assert 0.08 < ink.mean() < 0.3
    assert ink[:, 4:24, 4:24].sum() > 0.93 * ink.sum()  # MNIST: 0.97


def test_softmax_regression_learns_it_well_above_chance():
    """A linear classifier in plain numpy gets far past the 10% of guessing in a fraction of a second."""
    data = load_dataset("digits", n_samples=2000, seed=11)
    x_train, x_val = data.x_train.reshape(len(data.x_train), -1), data.x_val.reshape(len(data.x_val), -1)
    one_hot = np.eye(10, dtype=np.float32)[data.y_train]
    weights, bias = np.zeros((784, 10), np.float32), np.zeros(10, np.float32)
    for _ in range(150):
        logits = x_train @ weights + bias
        probabilities = np.exp(logits - logits.max(axis=1, keepdims=True))
        probabilities /= probabilities.sum(axis=1, keepdims=True)
        gradient = (probabilities - one_hot) / len(x_train)
        weights -= x_train.T @ gradient
        bias -= gradient.sum(axis=0)

    accuracy = ((x_val @ weights + bias).argmax(axis=1) == data.y_val).mean()

    assert accuracy > 0.8
