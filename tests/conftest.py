"""Shared fixtures: the real MNIST test set in ../shared/data/mnist, where it exists."""

from __future__ import annotations

from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED_MNIST = PROJECT_ROOT.parent / "shared" / "data" / "mnist"


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    if not (SHARED_MNIST / "t10k-images-idx3-ubyte.gz").exists():
        pytest.skip(f"the shared MNIST test set is not at {SHARED_MNIST}")
    return SHARED_MNIST


@pytest.fixture(autouse=True)
def isolated_data_home(tmp_path_factory, monkeypatch):
    """Never read or fill the user's real dataset cache from a test."""
    monkeypatch.setenv("PLAYGROUND_DATA_HOME", str(tmp_path_factory.getbasetemp() / "data-home"))
