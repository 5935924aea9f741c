"""The IDX file format (MNIST, Fashion-MNIST and friends) and folders of IDX files.

An IDX file is a tiny header followed by raw big-endian numbers: two zero bytes, a
byte naming the number type, a byte giving the number of dimensions, then each
dimension as a 4-byte big-endian integer. Files are often gzipped; whether a file is
gzipped is decided from its first bytes, not its name, because people unpack files
and keep the old name (or the reverse).

Any folder holding one image file and one label file works, whatever the image size.
When a folder holds both the training and the test split (``train-*`` and
``t10k-*``), the training split is used for training and validation and the test
split becomes the test set, exactly as in Nielsen's book.
"""

from __future__ import annotations

import gzip
import math
import os
import struct
import zlib
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from playground import budgets
from playground.datasets.dataset import Dataset, DatasetError
from playground.inputs import open_input

GZIP_MAGIC = b"\x1f\x8b"

#: IDX type byte -> numpy dtype (IDX numbers are big-endian).
IDX_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

#: The validation set is the last fifth of the training images, capped at Nielsen's 10,000:
#: 60,000 MNIST training images give 50,000 / 10,000, the 10,000 test images 8,000 / 2,000.
MAX_VALIDATION_IMAGES = 10_000


@dataclass(frozen=True)
class IdxHeader:
    dtype: np.dtype
    shape: tuple[int, ...]


@contextmanager
def _reading(path: Path) -> Iterator[None]:
    """Turn any failure to read `path` into a DatasetError that names it."""
    try:
        yield
    except EOFError as exc:  # gzip stream cut off
        raise DatasetError(f"cannot read IDX file {path}: the gzip data is truncated") from exc
    except zlib.error as exc:
        raise DatasetError(f"cannot read IDX file {path}: the gzip data is corrupt ({exc})") from exc
    except OSError as exc:
        raise DatasetError(f"cannot read IDX file {path}: {exc.strerror or exc}") from exc


@contextmanager
def _open(path: Path) -> Iterator[BinaryIO]:
    """The IDX data of ``path``, decompressed as it is read when the file is gzipped.

    Only a regular file is opened (a FIFO or a device is refused), and gzip is read as a
    stream, so a file that inflates to gigabytes costs only what the reader asks of it.
    """
    with open_input(path, DatasetError) as raw:
        is_gzipped = raw.read(len(GZIP_MAGIC)) == GZIP_MAGIC
        raw.seek(0)
        if not is_gzipped:
            yield raw
            return
        with gzip.GzipFile(fileobj=raw, mode="rb") as stream:
            yield stream


def _parse_header(stream: BinaryIO, path: Path) -> IdxHeader:
    prefix = stream.read(4)
    if len(prefix) < 4 or prefix[:2] != b"\x00\x00":
        raise DatasetError(f"{path} is not an IDX file: it does not start with the IDX magic number")
    type_code, n_dims = prefix[2], prefix[3]
    if type_code not in IDX_DTYPES:
        raise DatasetError(f"{path} is not a valid IDX file: unknown number type 0x{type_code:02x}")
    if n_dims == 0:
        raise DatasetError(f"{path} is not a valid IDX file: its header declares no dimensions")
    dims = stream.read(4 * n_dims)
    if len(dims) < 4 * n_dims:
        raise DatasetError(f"{path} is truncated inside its IDX header")
    return IdxHeader(IDX_DTYPES[type_code], struct.unpack(f">{n_dims}I", dims))


def read_idx_header(path: Path) -> IdxHeader:
    """Only the header: enough to tell image files from label files without reading them."""
    with _reading(path), _open(path) as stream:
        return _parse_header(stream, path)


def _check_budget(header: IdxHeader, path: Path) -> None:
    """Refuse a header that claims more than the budgets allow, before anything is allocated.

    The arrays become float32 in memory, so four bytes a number is what a file costs.
    """
    if header.shape[0] > budgets.MAX_EXAMPLES:
        raise DatasetError(
            f"{path}: " + budgets.over_budget(f"its header claims {header.shape[0]:,} examples", "MAX_EXAMPLES")
        )
    claimed = math.prod(header.shape) * max(header.dtype.itemsize, 4)
    if claimed > budgets.MAX_DATASET_BYTES:
        raise DatasetError(
            f"{path}: "
            + budgets.over_budget(
                f"its header claims shape {header.shape}, {claimed:,} bytes in memory", "MAX_DATASET_BYTES"
            )
        )


def read_idx(path: Path) -> np.ndarray:
    """The whole array, checked against the size its header promises.

    The header is checked against the budgets first; then exactly the promised bytes are
    read into an array of that size, and reading stops at the first byte beyond them, so
    a gzip that inflates past its header is refused after one extra byte, not gigabytes.
    """
    with _reading(path), _open(path) as stream:
        header = _parse_header(stream, path)
        _check_budget(header, path)
        expected = math.prod(header.shape) * header.dtype.itemsize
        data = np.empty(expected, np.uint8)
        received = 0
        while received < expected and (count := stream.readinto(memoryview(data)[received:])):
            received += count
        beyond = len(stream.read(1)) if received == expected else 0
        if beyond and not isinstance(stream, gzip.GzipFile):  # a plain file says how much is left
            beyond += os.fstat(stream.fileno()).st_size - stream.tell()
    if received < expected:
        raise DatasetError(
            f"{path} is truncated: its header promises shape {header.shape} ({expected:,} bytes) "
            f"but only {received:,} bytes follow"
        )
    if beyond:
        amount = "more data follows" if beyond == 1 else f"{beyond:,} bytes follow"
        raise DatasetError(
            f"{path} is not a valid IDX file: {amount} the {expected:,} bytes its header (shape {header.shape}) "
            "describes"
        )
    return data.view(header.dtype).reshape(header.shape)


@dataclass(frozen=True)
class IdxPair:
    """An image file and its label file; `role` is "train", "test" or "other" (by name)."""

    images: Path
    labels: Path
    role: str

    def describe(self) -> str:
        if self.role == "other":
            return f"files {self.images.name} and {self.labels.name}"
        return f"{'training' if self.role == 'train' else 'test'} set"


def _role(file_name: str) -> str:
    lowered = file_name.lower()
    if lowered.startswith("train"):
        return "train"
    if lowered.startswith(("t10k", "test")):
        return "test"
    return "other"


def _listed(paths: list[Path]) -> str:
    return ", ".join(path.name for path in paths)


def find_idx_pairs(folder: Path) -> tuple[IdxPair, IdxPair | None]:
    """Pick the pair to train and validate on, and the test pair if there is one.

    Candidates are the visible files whose name contains "idx" (the official names all
    do, and a hidden ``.part`` file is a download in progress); a file holding a 1-D
    array is a label file, anything else an image file. When a file is present both
    gzipped and unpacked, the unpacked copy is used. Anything ambiguous is refused,
    since silently training on the wrong file would be worse than asking.
    """
    if not folder.is_dir():
        raise DatasetError(f"data folder {folder} does not exist")
    candidates = sorted(
        path
        for path in folder.iterdir()
        if path.is_file() and "idx" in path.name.lower() and not path.name.startswith(".")
    )
    files: dict[tuple[str, str], list[Path]] = defaultdict(list)
    for path in candidates:
        if path.suffix == ".gz" and path.with_suffix("") in candidates:
            continue
        kind = "labels" if len(read_idx_header(path).shape) == 1 else "images"
        files[_role(path.name), kind].append(path)
    for (_, kind), paths in files.items():
        if len(paths) > 1:
            raise DatasetError(
                f"cannot tell which IDX {kind} file in {folder} to use ({_listed(paths)}): "
                "keep only one, or name them train-* and t10k-*"
            )
    pairs: dict[str, IdxPair] = {}
    for role in ("train", "test", "other"):
        images, labels = files.get((role, "images")), files.get((role, "labels"))
        if images and labels:
            pairs[role] = IdxPair(images[0], labels[0], role)
        elif images or labels:
            missing = "labels" if images else "images"
            raise DatasetError(f"{(images or labels)[0]} has no matching IDX {missing} file in {folder}")
    if not pairs:
        raise DatasetError(f"{folder} holds no IDX image and label files (looked for file names containing 'idx')")
    if "other" in pairs and len(pairs) > 1:
        raise DatasetError(
            f"cannot tell which IDX files in {folder} to use ({_listed(candidates)}): "
            "keep one image/label pair, or name them train-* and t10k-*"
        )
    fit = next(iter(pairs.values()))  # "train" comes first when present
    test = pairs.get("test") if fit.role == "train" else None
    return fit, test


def _read_pair(pair: IdxPair) -> tuple[np.ndarray, np.ndarray]:
    """Images as float32 in [0, 1] with a channel axis, shape (n, 1, rows, columns); int64 labels."""
    images, labels = read_idx(pair.images), read_idx(pair.labels)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise DatasetError(
            f"{pair.images} holds {images.dtype} values of shape {images.shape}; "
            "expected 8-bit images of shape (count, rows, columns)"
        )
    if labels.dtype.kind not in "iu":
        raise DatasetError(f"{pair.labels} holds {labels.dtype} values; labels must be integers")
    if len(images) != len(labels):
        raise DatasetError(f"{pair.images} holds {len(images):,} images but {pair.labels} holds {len(labels):,} labels")
    if len(labels) and labels.min() < 0:
        raise DatasetError(f"{pair.labels} holds the negative label {labels.min()}")
    pixels = images[:, None].astype(np.float32)
    pixels /= 255.0
    return pixels, labels.astype(np.int64)


def load_idx_folder(folder: Path, *, name: str, display_name: str, class_names: list[str] | None = None) -> Dataset:
    """Load a folder of IDX files; `class_names` fixes the classes, else labels 0..max are used."""
    fit, test = find_idx_pairs(folder)
    x, y = _read_pair(fit)
    if len(x) < 2:
        raise DatasetError(f"{fit.images} holds {len(x)} image(s); at least 2 are needed to train and validate")
    n_val = min(MAX_VALIDATION_IMAGES, max(1, len(x) // 5))
    x_test, y_test = _read_pair(test) if test else (None, None)
    if x_test is not None and x_test.shape[1:] != x.shape[1:]:
        raise DatasetError(f"{test.images} holds images of shape {x_test.shape[2:]} but {fit.images} {x.shape[2:]}")
    all_labels = y if y_test is None else np.concatenate([y, y_test])
    if class_names is None:
        class_names = [str(label) for label in range(int(all_labels.max()) + 1)]
    if all_labels.max() >= len(class_names):
        raise DatasetError(
            f"{folder} holds the label {all_labels.max()} but {display_name} has only {len(class_names)} classes"
        )
    n_train = len(x) - n_val
    if test:
        source = (
            f"{display_name} from {folder}: first {n_train:,} of the training set train, "
            f"its last {n_val:,} validate, the {len(x_test):,} test-set images test"
        )
    else:
        source = f"{display_name} {fit.describe()} from {folder}: first {n_train:,} train, last {n_val:,} validate"
    return Dataset(
        name=name,
        x_train=x[:n_train],
        y_train=y[:n_train],
        x_val=x[n_train:],
        y_val=y[n_train:],
        input_shape=x.shape[1:],
        n_outputs=len(class_names),
        task="classification",
        source=source,
        class_names=list(class_names),
        x_test=x_test,
        y_test=y_test,
    )
