"""The catalogue of data sets, and `load_dataset`: one entry point from a data set's name and options
to a `Dataset`.

Every data set a network file can name has one row in `CATALOGUE`: its name, its kind (what its
examples are, which decides where it can be used and which views can draw it), a short label for
messages and a longer title for menus, and how to load it.  The file loader's check, the command
line's choices, the inspector's and the dashboard all read this table, so a new data set is one
row here (and its loader).

The CLI and the GUI offer the same options for every data set, but each data set uses
only some of them. Rather than ignoring, say, ``--noise`` on MNIST (and leaving the
learner wondering why nothing changed), an option that does not apply is an error.
Which options a data set accepts is read from its loader's keyword parameters, so
the list can never drift from the code that uses it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from playground.datasets.csv_import import load_csv
from playground.datasets.dataset import Dataset, DatasetError, DatasetUnavailable
from playground.datasets.digits import make_digits
from playground.datasets.idx import load_idx_folder
from playground.datasets.remote import REMOTE_DATASETS, Cancel, Progress, cache_dir, download, is_cached, remote_dataset
from playground.datasets.toys import make_function, make_one_example, make_parity, make_plane_dataset


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
            f"{remote.display_name} is not downloaded yet: run `playground download {name}` or pass --data-dir DIR",
            window=f"{remote.display_name} is not downloaded yet: download it, or open a folder that holds its "
            f"files (Dataset menu)",
        )
    return load_idx_folder(folder, name=name, display_name=remote.display_name, class_names=list(remote.class_names))


def load_idx_dataset(*, data_dir: str | Path | None = None) -> Dataset:
    """Any folder holding an IDX image file and its label file."""
    if data_dir is None:
        raise DatasetError(
            "the idx data set needs a folder: pass --data-dir DIR holding an IDX image file and label file",
            window="the IDX data set needs a folder: choose one that holds an IDX image file and its label file "
            "(Dataset ▸ Open IDX folder…)",
        )
    return load_idx_folder(Path(data_dir), name="idx", display_name="IDX")


#: What a data set's examples are.  Sequences and pairs are not `Dataset`s: the recurrent and
#: encoder-decoder trainers build them from the file's settings.
KINDS = (
    "image",  # pictures with a class each: the image views and augmentation apply
    "plane",  # points in 2D with two classes: the decision boundary can be drawn
    "bits",  # bit vectors with a class each (parity)
    "function",  # 1-D regression: the fitted curve can be drawn
    "table",  # a user's CSV table
    "sequence",  # number sequences, one target each, for a recurrent network
    "pairs",  # source and target token sequences for an encoder-decoder
)


@dataclass(frozen=True)
class CatalogEntry:
    """One data set as every part of the playground names, shows and loads it."""

    name: str  # as a network file's ``dataset.name`` and ``--dataset`` spell it
    kind: str  # one of KINDS
    label: str  # short, for messages: "MNIST"
    title: str  # a menu's line: "MNIST handwritten digits"
    load: Callable[..., Dataset] | None = None  # None: the data is built by its family's trainer


def _plane(name: str, label: str) -> CatalogEntry:
    return CatalogEntry(name, "plane", label, f"{label} (2D)", partial(make_plane_dataset, name))


#: Every data set, by name, in the order menus and choices list them.
CATALOGUE: dict[str, CatalogEntry] = {
    entry.name: entry
    for entry in (
        CatalogEntry("mnist", "image", "MNIST", "MNIST handwritten digits", partial(load_mnist_family, "mnist")),
        CatalogEntry(
            "fashion-mnist",
            "image",
            "Fashion-MNIST",
            "Fashion-MNIST clothes",
            partial(load_mnist_family, "fashion-mnist"),
        ),
        CatalogEntry("idx", "image", "IDX", "Any IDX image and label files (a folder)", load_idx_dataset),
        CatalogEntry("digits", "image", "Synthetic digits", "Synthetic digits (built in, offline)", make_digits),
        _plane("circle", "Circle"),
        _plane("xor", "XOR"),
        _plane("gaussians", "Two Gaussians"),
        _plane("spiral", "Spiral"),
        _plane("moons", "Moons"),
        CatalogEntry("parity", "bits", "Parity", "Parity of bits", make_parity),
        CatalogEntry("function", "function", "Function", "Function to fit (1-D regression)", make_function),
        CatalogEntry("one-example", "function", "Input 1 → 0", "One example: input 1, target 0", make_one_example),
        CatalogEntry("csv", "table", "CSV", "A CSV table (a file)", load_csv),
        CatalogEntry("adding", "sequence", "Adding problem", "The adding problem (sequences)"),
        CatalogEntry("numbers", "pairs", "Number words", "Czech → English number words"),
        CatalogEntry("copy", "pairs", "Copy", "Copy a sequence of symbols"),
        CatalogEntry("reverse", "pairs", "Reverse", "Reverse a sequence of symbols"),
        CatalogEntry("pairs", "pairs", "Sentence pairs", "Sentence pairs (a TSV file)"),
    )
}

#: The sets that are downloaded (`download`, the Dataset menu) rather than built in or the user's own.
DOWNLOADABLE = tuple(REMOTE_DATASETS)


def names_of_kind(*kinds: str) -> tuple[str, ...]:
    """The names of the data sets of these kinds, in the catalogue's order."""
    unknown = set(kinds) - set(KINDS)
    if unknown:
        raise ValueError(f"unknown data set kind(s) {sorted(unknown)}; the kinds are {', '.join(KINDS)}")
    return tuple(name for name, entry in CATALOGUE.items() if entry.kind in kinds)


#: The data sets `load_dataset` loads, each with its loader.
LOADERS: dict[str, Callable[..., Dataset]] = {name: entry.load for name, entry in CATALOGUE.items() if entry.load}

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
