"""IDX reading and IDX folders: any image size, raw or gzipped, and clear errors for bad files."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from playground.datasets import DatasetError, load_dataset
from playground.datasets.idx import read_idx


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(7)


def test_raw_idx_pair_loads_through_idx(tmp_path, write_idx, rng):
    images = rng.integers(0, 256, (50, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, 50, dtype=np.uint8)
    write_idx(tmp_path / "train-images-idx3-ubyte", images)
    write_idx(tmp_path / "train-labels-idx1-ubyte", labels)

    data = load_dataset("idx", data_dir=tmp_path)

    assert data.input_shape == (1, 28, 28)
    assert (len(data.x_train), len(data.x_val)) == (40, 10)
    np.testing.assert_allclose(data.x_train[:, 0], images[:40] / 255, rtol=1e-6)
    np.testing.assert_array_equal(data.y_val, labels[40:])
    assert data.x_test is None


def test_non_28x28_images_with_any_names_and_wide_labels(tmp_path, write_idx, rng):
    images = rng.integers(0, 256, (30, 12, 9), dtype=np.uint8)
    labels = rng.integers(0, 4, 30).astype(">i4")
    write_idx(tmp_path / "letters-images.idx3-ubyte.gz", images)
    write_idx(tmp_path / "letters-labels.idx1-ubyte.gz", labels)

    data = load_dataset("idx", data_dir=str(tmp_path))

    assert data.input_shape == (1, 12, 9)
    assert data.x_train.shape == (24, 1, 12, 9) and data.x_val.shape == (6, 1, 12, 9)
    assert data.n_outputs == int(labels.max()) + 1
    assert data.y_train.dtype == np.int64
    assert "letters-images.idx3-ubyte.gz" in data.source


def test_a_file_kept_both_gzipped_and_unpacked_is_not_ambiguous(tmp_path, write_idx, rng):
    images = rng.integers(0, 256, (10, 5, 5), dtype=np.uint8)
    for name in ("t10k-images-idx3-ubyte", "t10k-images-idx3-ubyte.gz"):
        write_idx(tmp_path / name, images)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.zeros(10, dtype=np.uint8))

    assert load_dataset("idx", data_dir=tmp_path).input_shape == (1, 5, 5)


def test_train_and_test_files_give_a_test_set(tmp_path, write_idx, rng):
    write_idx(tmp_path / "train-images-idx3-ubyte", rng.integers(0, 256, (100, 4, 4), dtype=np.uint8))
    write_idx(tmp_path / "train-labels-idx1-ubyte", rng.integers(0, 3, 100, dtype=np.uint8))
    write_idx(tmp_path / "t10k-images-idx3-ubyte", rng.integers(0, 256, (7, 4, 4), dtype=np.uint8))
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", rng.integers(0, 3, 7, dtype=np.uint8))

    data = load_dataset("idx", data_dir=tmp_path)

    assert (len(data.x_train), len(data.x_val), len(data.x_test)) == (80, 20, 7)


def _good_images(write_idx, path, rng):
    return write_idx(path, rng.integers(0, 256, (20, 6, 6), dtype=np.uint8))


def test_bad_magic_number_names_the_file(tmp_path):
    bad = tmp_path / "train-images-idx3-ubyte"
    bad.write_bytes(b"\x12\x34\x08\x03" + bytes(100))

    with pytest.raises(DatasetError, match="train-images-idx3-ubyte.*magic number"):
        read_idx(bad)


def test_truncated_raw_file_names_the_file(tmp_path, write_idx, rng):
    path = _good_images(write_idx, tmp_path / "train-images-idx3-ubyte", rng)
    path.write_bytes(path.read_bytes()[:-5])

    with pytest.raises(DatasetError, match=r"train-images-idx3-ubyte is truncated.*\(20, 6, 6\)"):
        read_idx(path)


def test_truncated_gzip_file_names_the_file(tmp_path, write_idx, rng):
    path = _good_images(write_idx, tmp_path / "train-images-idx3-ubyte.gz", rng)
    path.write_bytes(path.read_bytes()[:-30])

    with pytest.raises(DatasetError, match="train-images-idx3-ubyte.gz.*truncated"):
        read_idx(path)


def test_header_cut_short_and_trailing_bytes_are_reported(tmp_path, write_idx, rng):
    cut = tmp_path / "cut-idx"
    cut.write_bytes(b"\x00\x00\x08\x03\x00\x00")
    with pytest.raises(DatasetError, match="cut-idx is truncated inside its IDX header"):
        read_idx(cut)

    padded = _good_images(write_idx, tmp_path / "padded-idx", rng)
    padded.write_bytes(padded.read_bytes() + b"extra")
    with pytest.raises(DatasetError, match="padded-idx.*5 bytes follow"):
        read_idx(padded)


def test_a_malformed_file_in_a_folder_is_named_by_load_dataset(tmp_path, write_idx, rng):
    _good_images(write_idx, tmp_path / "train-images-idx3-ubyte", rng)
    (tmp_path / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(b"\x01\x02\x03\x04"))

    with pytest.raises(DatasetError, match="train-labels-idx1-ubyte.gz is not an IDX file"):
        load_dataset("idx", data_dir=tmp_path)


def test_ambiguous_folder_is_refused_naming_the_files(tmp_path, write_idx, rng):
    for name in ("a-images-idx3", "b-images-idx3"):
        _good_images(write_idx, tmp_path / name, rng)
    write_idx(tmp_path / "a-labels-idx1", np.zeros(20, dtype=np.uint8))

    with pytest.raises(DatasetError, match="a-images-idx3, b-images-idx3"):
        load_dataset("idx", data_dir=tmp_path)


def test_inconsistent_pairs_are_refused(tmp_path, write_idx, rng):
    _good_images(write_idx, tmp_path / "train-images-idx3-ubyte", rng)
    with pytest.raises(DatasetError, match="no matching IDX labels file"):
        load_dataset("idx", data_dir=tmp_path)

    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(19, dtype=np.uint8))
    with pytest.raises(DatasetError, match="20 images but .*train-labels-idx1-ubyte holds 19 labels"):
        load_dataset("idx", data_dir=tmp_path)


def test_empty_or_missing_folder(tmp_path):
    with pytest.raises(DatasetError, match="holds no IDX image and label files"):
        load_dataset("idx", data_dir=tmp_path)
    with pytest.raises(DatasetError, match="does not exist"):
        load_dataset("idx", data_dir=tmp_path / "nowhere")
    with pytest.raises(DatasetError, match="--data-dir"):
        load_dataset("idx")
