"""The catalogue: one row per data set, which the command line, the file loader and the window read."""

from __future__ import annotations

import pytest

from playground.datasets import DATASET_NAMES
from playground.datasets.catalog import CATALOGUE, DOWNLOADABLE, KINDS, names_of_kind
from playground.datasets.toys import PLANE_PROBLEMS
from playground.engine.config import fields_of
from playground.model.settings import DatasetSettings


def test_every_entry_has_a_known_kind_and_labels():
    for name, entry in CATALOGUE.items():
        assert entry.name == name and entry.kind in KINDS
        assert entry.label and entry.title


def test_load_dataset_loads_exactly_the_entries_with_a_loader():
    assert DATASET_NAMES == tuple(name for name, entry in CATALOGUE.items() if entry.load is not None)
    assert set(CATALOGUE) - set(DATASET_NAMES) == set(names_of_kind("sequence", "pairs"))


def test_kinds_agree_with_the_generators_and_the_downloader():
    assert names_of_kind("plane") == tuple(PLANE_PROBLEMS)
    assert set(DOWNLOADABLE) <= set(names_of_kind("image"))
    assert names_of_kind("pairs") == ("numbers", "copy", "reverse", "pairs")


def test_a_network_file_may_name_every_catalogue_entry_and_nothing_else():
    (name_field,) = [info for info in fields_of(DatasetSettings) if info.name == "name"]
    assert name_field.choices == tuple(CATALOGUE)


def test_an_unknown_kind_is_an_error_not_an_empty_list():
    with pytest.raises(ValueError, match="unknown data set kind"):
        names_of_kind("images")
