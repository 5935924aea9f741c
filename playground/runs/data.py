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

    Used from the worker (a run's first moments) and from the window (the small 2D sets
    its plots draw), so it locks.
    """

    def __init__(self, data_dir: str | Path | None = None):
        self.data_dir = data_dir
        self._lock = threading.Lock()
        self._key = None
        self._value: tuple[Dataset, str | None] | None = None

    def get(
        self, settings: DatasetSettings, seed: int, train_limit: int = 0, *, chosen_by_user: bool = False
    ) -> tuple[Dataset, str | None]:
        # a set downloaded since the last load replaces the synthetic stand-in
        cached = is_cached(settings.name) if settings.name in DOWNLOADABLE else None
        key = (settings, seed, train_limit, str(self.data_dir), chosen_by_user, cached)
        with self._lock:
            if self._key == key and self._value is not None:
                return self._value
            dataset, note = load_training_data(
                settings, seed=seed, data_dir=self.data_dir, chosen_by_user=chosen_by_user
            )
            if train_limit:
                dataset = dataset.limit_train(train_limit)
            self._key, self._value = key, (dataset, note)
            return self._value

    def cached(self, settings: DatasetSettings, seed: int, train_limit: int = 0):
        with self._lock:
            if self._value is not None and self._key[:3] == (settings, seed, train_limit):
                return self._value
        return None
