"""Datasets shared between runs: loaded once, handed to every later run that asks for the same."""

from __future__ import annotations

import threading
from pathlib import Path

from ..datasets import Dataset, is_cached
from ..datasets.catalog import DOWNLOADABLE
from ..model.settings import DatasetSettings
from ..training.data import load_training_data


class DataStore:
    """Loads a lesson's dataset once and hands the same arrays to later runs.

    Where the data comes from is the window's choice: ``data_dir`` (the ``--data-dir`` the
    window was started with) serves every folder-based set, a folder chosen for one set
    (``folders["mnist"]``, ``folders["idx"]``) takes precedence for that set, and
    ``files["csv"]`` / ``files["pairs"]`` are the files chosen for the file-based sets.

    Used from the worker (a run's first moments) and from the window (the small 2D sets
    its plots draw), so it locks.
    """

    def __init__(self, data_dir: str | Path | None = None):
        self.data_dir = data_dir
        #: a folder chosen for one data set (the Dataset menu's), by the set's name
        self.folders: dict[str, Path] = {}
        #: the file chosen for a file-based data set ("csv", "pairs"), by the set's name
        self.files: dict[str, Path] = {}
        self._lock = threading.Lock()
        self._key = None
        self._value: tuple[Dataset, str | None] | None = None

    def folder_for(self, name: str) -> Path | None:
        """The folder the data set called ``name`` is read from (None: the cache, or none)."""
        folder = self.folders.get(name, self.data_dir)
        return None if folder is None else Path(folder)

    def file_for(self, name: str) -> Path | None:
        return self.files.get(name)

    def get(
        self, settings: DatasetSettings, seed: int, train_limit: int = 0, *, chosen_by_user: bool = False
    ) -> tuple[Dataset, str | None]:
        # a set downloaded since the last load replaces the synthetic stand-in
        cached = is_cached(settings.name) if settings.name in DOWNLOADABLE else None
        folder, file = self.folder_for(settings.name), self.file_for(settings.name)
        key = (settings, seed, train_limit, str(folder), str(file), chosen_by_user, cached)
        with self._lock:
            if self._key == key and self._value is not None:
                return self._value
            dataset, note = load_training_data(
                settings, seed=seed, data_dir=folder, data_file=file, chosen_by_user=chosen_by_user, window=True
            )
            if train_limit:
                dataset = dataset.limit_train(train_limit)
            self._key, self._value = key, (dataset, note)
            return self._value

    def run_data(self, spec, options=None) -> tuple[Dataset, list[str]]:
        """The data ``spec`` trains on, from this store, with its note (if any) as a list: what
        ``RunOptions.load_data`` asks for, so a family's own ``start`` loads through the window."""
        dataset, note = self.get(spec.dataset, spec.training.seed, spec.training.train_limit)
        return dataset, [note] if note else []

    def cached(self, settings: DatasetSettings, seed: int, train_limit: int = 0):
        with self._lock:
            if self._value is not None and self._key[:3] == (settings, seed, train_limit):
                return self._value
        return None
