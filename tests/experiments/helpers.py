"""Small experiments for the tests: the toy-2d lesson (2-8-8-2 on the circle), a few epochs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("optuna", reason='the "experiments" extra is not installed')


def experiment_data(**overrides) -> dict:
    """A 2×2 grid over η and the first layer's units of toy-2d, two seeds, 3 epochs."""
    data = {
        "format": "playground-experiment",
        "format_version": 1,
        "name": "toy-grid",
        "network": "toy-2d",
        "fixed": {"epochs": 3},
        "search": "grid",
        "vary": {"learning_rate": [0.1, 0.5], "fc1.units": [4, 8]},
        "seeds": [0, 1],
        "metric": "val_accuracy",
    }
    data.update(overrides)
    return data


def write_experiment(folder: Path, name: str = "grid.json", **overrides) -> Path:
    path = folder / name
    path.write_text(json.dumps(experiment_data(**overrides)))
    return path


def figures(result) -> dict:
    """(trial's changes, seed) → the run's final figures: what must not depend on where it ran."""
    return {
        (tuple(sorted((k, v) for k, v in row.items() if k in ("learning_rate", "fc1.units"))), row["seed"]): (
            row["status"],
            row.get("final_val_loss"),
            row.get("final_val_accuracy"),
            row.get("final_loss"),
        )
        for row in result.rows
    }
