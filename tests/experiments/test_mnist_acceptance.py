"""Acceptance: a 2×2×2 grid (η, mini-batch size, hidden units) of the 784-30-10 MLP on the 8k/2k MNIST
split; the best variant's figures are those of training it alone with ``playground train``."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

from playground.model import save_spec, sequential_spec

from .helpers import experiment_data


def test_the_best_variant_of_a_mnist_grid_is_what_training_it_alone_gives(tmp_path, mnist_dir):
    spec = sequential_spec(
        [784, 30, 10], activation="sigmoid", output="sigmoid", cost="cross-entropy", initializer="normal-scaled"
    )
    save_spec(dataclasses.replace(spec, dataset=dataclasses.replace(spec.dataset, name="mnist")), tmp_path / "net.json")
    experiment = experiment_data(
        name="mnist-grid",
        network="net.json",
        fixed={"epochs": 2, "train_limit": 8000},
        vary={"learning_rate": [0.5, 3.0], "batch_size": [10, 20], "fc1.units": [30, 60]},
        seeds=[0],
    )
    (tmp_path / "grid.json").write_text(json.dumps(experiment))

    def playground(*args):
        result = subprocess.run(
            [sys.executable, "-m", "playground", *args, "--data-dir", str(mnist_dir)],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    out = tmp_path / "out"
    printed = playground("sweep", str(tmp_path / "grid.json"), "--out", str(out))
    summary = json.loads((out / "summary.json").read_text())
    assert len(summary["runs"]) == 8 and all(run["status"] == "completed" for run in summary["runs"])
    best = summary["best"][0]
    assert f"1. trial {best['trial']}  {best['label']}  val_accuracy {best['value']:.4f}" in printed
    assert best["value"] == max(run["final_val_accuracy"] for run in summary["runs"]) > 0.85
    row = next(run for run in summary["runs"] if run["trial"] == best["trial"])
    playground("train", str(out / row["network"]), "--metrics-out", str(tmp_path / "alone.jsonl"), "--quiet")
    records = [json.loads(line) for line in (tmp_path / "alone.jsonl").read_text().splitlines()]
    epochs = [record for record in records if record["kind"] == "epoch"]
    assert len(epochs) == 2
    assert (epochs[-1]["val_accuracy"], epochs[-1]["val_loss"], epochs[-1]["loss"]) == (
        row["final_val_accuracy"],
        row["final_val_loss"],
        row["final_loss"],
    )
