"""The public surface others code against: names, the Dataset class, option checking, the cache folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import platformdirs
import pytest

import playground.datasets as datasets
from playground.datasets import DATASET_NAMES, Dataset, DatasetError, cache_dir, load_dataset


def test_dataset_names_are_the_documented_ones():
    assert DATASET_NAMES == (
        "mnist",
        "fashion-mnist",
        "idx",
        "digits",
        "circle",
        "xor",
        "gaussians",
        "spiral",
        "moons",
        "parity",
        "function",
        "one-example",
        "csv",
    )
    assert set(datasets.__all__) >= {"Dataset", "DatasetError", "DatasetUnavailable", "download", "is_cached"}


def test_limit_train_rejects_less_than_one_and_tolerates_more_than_available():
    data = load_dataset("xor", n_samples=50)

    with pytest.raises(DatasetError, match="--train-limit must be at least 1, not 0"):
        data.limit_train(0)
    assert len(data.limit_train(10_000).x_train) == 40
    assert len(data.limit_train(5).y_train) == 5


def test_dataset_rejects_inconsistent_arrays():
    x, y = np.zeros((4, 2), np.float32), np.zeros(4, np.int64)
    with pytest.raises(ValueError, match="x_val has shape"):
        Dataset("bad", x, y, np.zeros((4, 3), np.float32), y, (2,), 2, "classification", "made up")
    with pytest.raises(ValueError, match="task"):
        Dataset("bad", x, y, x, y, (2,), 2, "ranking", "made up")


def test_options_a_dataset_does_not_use_are_errors():
    with pytest.raises(DatasetError, match="the circle data set does not use the option\\(s\\) n_bits, function"):
        load_dataset("circle", n_bits=4, function="sine")
    with pytest.raises(DatasetError, match="unknown data set 'cifar'; choose one of: mnist, "):
        load_dataset("cifar")


def test_cache_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("PLAYGROUND_DATA_HOME", str(tmp_path))
    assert cache_dir() == tmp_path

    monkeypatch.delenv("PLAYGROUND_DATA_HOME")
    assert cache_dir() == Path(platformdirs.user_data_dir("playground"))
