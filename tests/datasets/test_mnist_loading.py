"""MNIST from a local folder: the shared 10k test split, and the full 60k layout's 50k/10k/10k split."""

from __future__ import annotations

import numpy as np
import pytest

from playground.datasets import DatasetUnavailable, load_dataset
from playground.datasets.idx import read_idx


@pytest.fixture
def isolated_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_DATA_HOME", str(tmp_path / "data-home"))


def test_test_only_folder_trains_on_first_8000_and_validates_on_last_2000(mnist_dir):
    data = load_dataset("mnist", data_dir=mnist_dir)

    assert data.x_train.shape == (8000, 1, 28, 28) and data.x_val.shape == (2000, 1, 28, 28)
    assert data.x_train.dtype == np.float32 and data.y_train.dtype == np.int64
    assert data.x_train.min() == 0.0 and data.x_train.max() == 1.0
    assert set(np.unique(data.y_train)) == set(range(10))
    assert (data.n_outputs, data.task, data.input_shape) == (10, "classification", (1, 28, 28))
    assert data.x_test is None
    raw_images = read_idx(mnist_dir / "t10k-images-idx3-ubyte.gz")
    raw_labels = read_idx(mnist_dir / "t10k-labels-idx1-ubyte.gz")
    np.testing.assert_array_equal(data.x_train[:, 0], raw_images[:8000] / np.float32(255))
    np.testing.assert_array_equal(data.x_val[:, 0], raw_images[8000:] / np.float32(255))
    np.testing.assert_array_equal(data.y_val, raw_labels[8000:])
    assert "first 8,000 train, last 2,000 validate" in data.source


def test_the_same_folder_loads_as_plain_idx(mnist_dir):
    data = load_dataset("idx", data_dir=mnist_dir)

    assert data.x_train.shape == (8000, 1, 28, 28) and data.n_outputs == 10


def test_full_layout_holds_out_last_10000_of_train_and_tests_on_t10k(tmp_path, write_idx):
    """Nielsen's split, checked with tiny 2x2 images so the 60,000 of them cost nothing."""
    train_labels = (np.arange(60_000) % 10).astype(np.uint8)
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", np.zeros((60_000, 2, 2), dtype=np.uint8))
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", train_labels)
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", np.full((10_000, 2, 2), 255, dtype=np.uint8))
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.zeros(10_000, dtype=np.uint8))

    data = load_dataset("mnist", data_dir=tmp_path)

    assert (len(data.x_train), len(data.x_val), len(data.x_test)) == (50_000, 10_000, 10_000)
    np.testing.assert_array_equal(data.y_val, train_labels[50_000:])
    assert data.x_test.max() == 1.0


def test_fashion_mnist_has_clothing_class_names(mnist_dir):
    data = load_dataset("fashion-mnist", data_dir=mnist_dir)

    assert data.class_names[0] == "T-shirt/top" and len(data.class_names) == 10
    assert data.source.startswith("Fashion-MNIST")


@pytest.mark.parametrize("name, shown", [("mnist", "MNIST"), ("fashion-mnist", "Fashion-MNIST")])
def test_not_cached_and_no_download_allowed_says_how_to_get_it(isolated_cache, name, shown):
    with pytest.raises(DatasetUnavailable) as error:
        load_dataset(name)

    message = str(error.value)
    assert message == f"{shown} is not downloaded yet: run `playground download {name}` or pass --data-dir DIR"


def test_limit_train_keeps_the_first_examples(mnist_dir):
    data = load_dataset("mnist", data_dir=mnist_dir)

    limited = data.limit_train(100)

    np.testing.assert_array_equal(limited.x_train, data.x_train[:100])
    assert len(limited.x_val) == 2000 and "first 100" in limited.source
