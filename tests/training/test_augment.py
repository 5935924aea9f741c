"""Data augmentation: each transformation alone, its own seed, training batches only, the file entry."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from playground.datasets import load_dataset
from playground.model import (
    AugmentationSettings,
    NetworkFileError,
    build_network,
    sequential_spec,
    spec_from_dict,
    spec_to_dict,
)
from playground.training import DataMismatch, EpochRecord, FeedForwardTrainer
from playground.training.augment import Augmenter, augmentation_grid


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits", seed=0)


def shifted(image, dx, dy):
    out = np.zeros_like(image)
    h, w = image.shape
    out[max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = image[
        max(-dy, 0) : h - max(dy, 0), max(-dx, 0) : w - max(dx, 0)
    ]
    return out


def test_shifts_move_whole_pixels_within_the_limit(digits):
    images = digits.x_train[:20]
    out = Augmenter(AugmentationSettings(shift=2), (1, 28, 28)).apply(images)
    moved = 0
    for original, result in zip(images[:, 0], out[:, 0]):
        matches = [
            (dx, dy)
            for dx in range(-2, 3)
            for dy in range(-2, 3)
            if np.allclose(shifted(original, dx, dy), result, atol=1e-6)
        ]
        assert matches
        moved += (0, 0) not in matches
    assert moved > 10


def test_rotation_and_scale_keep_the_digit_roughly_in_place(digits):
    images = digits.x_train[:50]
    for settings in (AugmentationSettings(rotation=15), AugmentationSettings(scale=0.15)):
        out = Augmenter(settings, (1, 28, 28)).apply(images)
        assert out.shape == images.shape and out.dtype == np.float32
        assert not np.allclose(out, images)
        # the ink moves a little but mostly stays: overlap with the original is high
        overlap = (out * images).sum(axis=(1, 2, 3)) / np.sqrt(
            (out**2).sum(axis=(1, 2, 3)) * (images**2).sum(axis=(1, 2, 3))
        )
        assert overlap.mean() > 0.6


def test_elastic_distortion_is_smooth_and_bounded(digits):
    images = digits.x_train[:30]
    out = Augmenter(AugmentationSettings(elastic=34, elastic_sigma=4), (1, 28, 28)).apply(images)
    assert not np.allclose(out, images)
    assert np.all(out >= -1e-6) and np.all(out <= 1 + 1e-6)  # bilinear interpolation never overshoots


def test_noise_has_the_asked_standard_deviation(digits):
    images = digits.x_train[:200]
    out = Augmenter(AugmentationSettings(noise=0.2), (1, 28, 28)).apply(images)
    assert (out - images).std() == pytest.approx(0.2, rel=0.02)
    assert abs((out - images).mean()) < 0.01


def test_each_transformation_has_its_own_seed(digits):
    images = digits.x_train[:10]
    base = AugmentationSettings(shift=2, rotation=10, noise=0.1)
    first = Augmenter(base, (1, 28, 28)).apply(images)
    assert np.array_equal(first, Augmenter(base, (1, 28, 28)).apply(images))  # reproducible
    # a new seed for a transformation that is off changes nothing
    assert np.array_equal(first, Augmenter(dataclasses.replace(base, scale_seed=99), (1, 28, 28)).apply(images))
    # a new noise seed changes the noise and nothing else
    other = Augmenter(dataclasses.replace(base, noise_seed=99), (1, 28, 28)).apply(images)
    assert not np.array_equal(first, other)
    assert (first - other).std() == pytest.approx(0.1 * np.sqrt(2), rel=0.1)
    # and every call draws afresh
    augmenter = Augmenter(base, (1, 28, 28))
    assert not np.array_equal(augmenter.apply(images), augmenter.apply(images))


def test_preview_grid_shows_the_original_then_variants(digits):
    grid = augmentation_grid(digits.x_train[:3], AugmentationSettings(rotation=10, shift=1), variants=4)
    assert grid.shape == (3 * 29 - 1, 5 * 29 - 1)
    np.testing.assert_array_equal(grid[:28, :28], digits.x_train[0, 0])
    assert np.isnan(grid[28]).all()


def network_for(dataset_shape, units=10):
    spec = sequential_spec(
        [int(np.prod(dataset_shape)), 16, units],
        activation="sigmoid",
        output="softmax",
        cost="log-likelihood",
        initializer="xavier",
    )
    network = build_network(spec)
    network.initialize("xavier", 0)
    return spec, network


def test_trainer_augments_training_batches_only(digits):
    spec, network = network_for((784,))
    settings = dataclasses.replace(spec.training, epochs=2, batch_size=50)
    original = digits.x_train.copy()
    trainer = FeedForwardTrainer(network, digits, settings, augmentation=AugmentationSettings(shift=2, noise=0.3))
    events = list(trainer.run())
    assert np.array_equal(digits.x_train, original)
    assert not np.allclose(trainer._inputs, trainer.x_train)  # the last epoch trained on fabricated images
    plain_loss, plain_accuracy = (lambda r: (r.loss, r.train_accuracy))(
        [e for e in events if isinstance(e, EpochRecord)][-1]
    )
    from playground.training import evaluate

    assert evaluate(network, trainer.x_train[:10_000], trainer.t_train[:10_000], True) == pytest.approx(
        (plain_loss, plain_accuracy)
    )  # train figures come from the original images


def test_augmentation_needs_images():
    circle = load_dataset("circle", seed=0)
    spec = sequential_spec([2, 4, 2], activation="tanh", output="softmax", cost="log-likelihood", initializer="xavier")
    with pytest.raises(DataMismatch, match="augmentation needs images"):
        FeedForwardTrainer(build_network(spec), circle, spec.training, augmentation=AugmentationSettings(noise=0.1))


def test_the_network_file_carries_the_augmentation():
    spec = sequential_spec(
        [784, 10], activation="sigmoid", output="softmax", cost="log-likelihood", initializer="xavier"
    )
    assert "augmentation" not in spec_to_dict(spec)["training"]  # off: not written
    spec.augmentation = AugmentationSettings(shift=2, rotation=8.0, elastic=20.0, elastic_seed=7)
    data = spec_to_dict(spec)
    assert data["training"]["augmentation"]["rotation"] == 8.0
    assert spec_from_dict(data).augmentation == spec.augmentation
    data["training"]["augmentation"]["rotation"] = -3
    with pytest.raises(NetworkFileError, match='training: augmentation: "rotation" must be at least 0.0'):
        spec_from_dict(data)
    data["training"]["augmentation"] = {"shear": 1}
    with pytest.raises(NetworkFileError, match='unknown setting "shear"'):
        spec_from_dict(data)
