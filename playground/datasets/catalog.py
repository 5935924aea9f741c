"""`load_dataset`: one entry point from a data set's name and options to a `Dataset`.

The CLI and the GUI offer the same options for every data set, but each data set uses
only some of them. Rather than ignoring, say, ``--noise`` on MNIST (and leaving the
learner wondering why nothing changed), an option that does not apply is an error.
Which options a data set accepts is read from its loader's keyword parameters, so
the list can never drift from the code that uses it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from functools import partial
from pathlib import Path

from playground.datasets.csv_import import load_csv
from playground.datasets.dataset import Dataset, DatasetError, DatasetUnavailable
from playground.datasets.digits import make_digits
from playground.datasets.idx import load_idx_folder
from playground.datasets.remote import Cancel, Progress, cache_dir, download, is_cached, remote_dataset
from playground.datasets.toys import make_function, make_parity, make_plane_dataset


def load_mnist_family(
    name: str,
    *,
    data_dir: str | Path | None = None,
    allow_download: bool = False,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> Dataset:
    """MNIST or Fashion-MNIST from `data_dir`, else from the cache, else (if allowed) downloaded."""
    remote = remote_dataset(name)
    if data_dir is not None:
        folder = Path(data_dir)
    elif is_cached(name):
        folder = cache_dir() / name
    elif allow_download:
        folder = download(name, progress=progress, cancel=cancel)
    else:
        raise DatasetUnavailable(
            f"{remote.display_name} is not downloaded yet: run `playground download {name}` or pass --data-dir DIR"
        )
    return load_idx_folder(folder, name=name, display_name=remote.display_name, class_names=list(remote.class_names))


def load_idx_dataset(*, data_dir: str | Path | None = None) -> Dataset:
    """Any folder holding an IDX image file and its label file."""
    if data_dir is None:
        raise DatasetError(
            "the idx data set needs a folder: pass --data-dir DIR holding an IDX image file and label file"
        )
    return load_idx_folder(Path(data_dir), name="idx", display_name="IDX")


LOADERS: dict[str, Callable[..., Dataset]] = {
    "mnist": partial(load_mnist_family, "mnist"),
    "fashion-mnist": partial(load_mnist_family, "fashion-mnist"),
    "idx": load_idx_dataset,
    "digits": make_digits,
    **{name: partial(make_plane_dataset, name) for name in ("circle", "xor", "gaussians", "spiral", "moons")},
    "parity": make_parity,
    "function": make_function,
    "csv": load_csv,
}

DATASET_NAMES = tuple(LOADERS)


def load_dataset(
    name: str,
    *,
    data_dir: str | Path | None = None,
    data_file: str | Path | None = None,
    label_column: str | None = None,
    seed: int = 0,
    n_samples: int | None = None,
    noise: float | None = None,
    n_bits: int | None = None,
    function: str | None = None,
    allow_download: bool = False,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> Dataset:
    """Load the data set called `name` (one of `DATASET_NAMES`).

    Options left at None mean "the data set's default". `seed`, `allow_download`,
    `progress` and `cancel` go to the data sets that use them and are otherwise
    ignored, since a GUI passes them whatever the data set.
    """
    accepted = accepted_options(name)
    loader = LOADERS[name]
    chosen = {
        "data_dir": data_dir,
        "data_file": data_file,
        "label_column": label_column,
        "n_samples": n_samples,
        "noise": noise,
        "n_bits": n_bits,
        "function": function,
    }
    misplaced = [option for option, value in chosen.items() if value is not None and option not in accepted]
    if misplaced:
        raise DatasetError(f"the {name} data set does not use the option(s) {', '.join(misplaced)}")
    everything = {**chosen, "seed": seed, "allow_download": allow_download, "progress": progress, "cancel": cancel}
    return loader(**{option: value for option, value in everything.items() if option in accepted and value is not None})


def accepted_options(name: str) -> set[str]:
    """The options (``n_samples``, ``noise``, ...) that the data set called ``name`` uses."""
    if name not in LOADERS:
        raise DatasetError(f"unknown data set {name!r}; choose one of: {', '.join(DATASET_NAMES)}")
    return set(inspect.signature(LOADERS[name]).parameters)
