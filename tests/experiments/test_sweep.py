"""Sweeps on this machine: the same figures as training each variant alone, resumed where they stopped,
hopeless variants pruned, and one line where the extra is missing."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from playground.cli import main
from playground.experiments import ExperimentError, RunBegan, RunEnded, Sweep, load_experiment
from playground.model import read_weights

from .helpers import figures, write_experiment


def trained_alone(network, seed: int, folder) -> dict:
    """The last epoch record of ``playground train NETWORK --seed SEED``; its weights in alone-SEED.npz."""
    metrics, weights = folder / f"alone-{seed}.jsonl", folder / f"alone-{seed}.npz"
    options = ["--seed", str(seed), "--metrics-out", str(metrics), "--save-weights", str(weights), "--quiet"]
    assert main(["train", str(network), *options]) == 0
    records = [json.loads(line) for line in metrics.read_text().splitlines()]
    return [record for record in records if record["kind"] == "epoch"][-1]


def test_every_run_gives_the_figures_of_training_that_variant_alone(tmp_path, capsys):
    experiment = load_experiment(write_experiment(tmp_path))
    result = Sweep(experiment, workers=2, folder=tmp_path / "out", keep_weights=True).run()
    assert len(result.rows) == 8 and len(result.variants) == 4
    best = result.best(1)[0]
    assert best.value == max(v.value for v in result.variants)
    for row in (r for r in result.rows if r["trial"] == best.trial):
        alone = trained_alone(tmp_path / "out" / row["network"], row["seed"], tmp_path)
        assert (alone["val_loss"], alone["val_accuracy"], alone["loss"]) == (
            row["final_val_loss"],
            row["final_val_accuracy"],
            row["final_loss"],
        )
        swept = read_weights(tmp_path / "out" / row["weights"])
        alone_weights = read_weights(tmp_path / f"alone-{row['seed']}.npz")
        assert swept.keys() == alone_weights.keys()
        assert all(np.array_equal(swept[key], alone_weights[key]) for key in swept)
        records = (tmp_path / "out" / row["metrics"]).read_text().splitlines()
        assert json.loads(records[-1])["val_accuracy"] == row["final_val_accuracy"]
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["best"][0]["trial"] == best.trial and len(summary["runs"]) == 8
    header = (tmp_path / "out" / "summary.csv").read_text().splitlines()[0].split(",")
    for column in ("learning_rate", "fc1.units", "seed", "final_val_accuracy", "best_val_accuracy", "seconds"):
        assert column in header
    assert "diverged" in header


def test_an_interrupted_sweep_goes_on_where_it_stopped(tmp_path):
    experiment = load_experiment(write_experiment(tmp_path))
    whole = Sweep(experiment, workers=1).run()  # in memory: nothing written

    first_began, ended = [], []

    def stop_after_three(event):
        if isinstance(event, RunBegan):
            first_began.append((event.task.trial, event.task.seed))
        if isinstance(event, RunEnded):
            ended.append((event.outcome.trial, event.outcome.seed))
            if len(ended) == 3:
                sweep.stop()

    sweep = Sweep(experiment, workers=1, folder=tmp_path / "out", on_event=stop_after_three)
    partial = sweep.run()
    assert partial.stopped and len(partial.rows) == 3

    began = []
    again = Sweep(load_experiment(experiment.source), workers=1, folder=tmp_path / "out")
    again.on_event = lambda event: isinstance(event, RunBegan) and began.append((event.task.trial, event.task.seed))
    result = again.run()
    assert not set(began) & set(ended)  # what finished is not trained again
    assert set(began) | set(ended) == {(trial, seed) for trial in range(4) for seed in (0, 1)}
    assert figures(result) == figures(whole) and not result.stopped
    assert len({(row["trial"], row["seed"]) for row in result.rows}) == len(result.rows) == 8


def test_hopeless_variants_are_pruned(tmp_path):
    path = write_experiment(
        tmp_path,
        search="tpe",
        trials=6,
        fixed={"epochs": 6},
        vary={"learning_rate": [1e-6, 1e-5, 0.3, 1.0]},
        seeds=[0],
        metric="val_loss",
        pruning={"warmup_epochs": 1, "startup_trials": 2},
    )
    result = Sweep(load_experiment(path), workers=1).run()
    pruned = [row for row in result.rows if row["status"] == "pruned"]
    assert pruned and all(1 < row["epochs"] < 6 for row in pruned)  # never in the warm-up epoch
    assert result.best(1)[0].changes["learning_rate"] >= 0.3


def test_sweep_on_the_command_line(tmp_path):
    path = write_experiment(tmp_path, seeds=[0])
    result = subprocess.run(
        [sys.executable, "-m", "playground", "sweep", str(path), "--workers", "2", "--out", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert sum(line.startswith("trial ") for line in lines) == 4
    assert lines[-5].startswith("best variants (val_accuracy") and lines[-4].startswith("1. trial ")
    assert (tmp_path / "o" / "summary.csv").exists() and len(list((tmp_path / "o" / "runs").iterdir())) == 4


def test_a_bad_experiment_is_one_line_and_nothing_trains(tmp_path):
    path = write_experiment(tmp_path, vary={"learning_rate": [0.1], "fc1.units": [4, -3]})
    result = subprocess.run(
        [sys.executable, "-m", "playground", "sweep", str(path), "--out", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f'playground: error: {path}: variant "learning_rate=0.1, fc1.units=-3": fc1.units')
    assert not (tmp_path / "o").exists()


def test_without_the_extra_the_sweep_says_which_to_install(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "optuna", None)  # import optuna now raises ImportError
    assert main(["sweep", str(write_experiment(tmp_path))]) == 2
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0 and 'pip install -e ".[experiments]"' in error


def test_a_recurrent_run_held_to_one_core_gives_the_figures_of_one_on_every_core(tmp_path):
    """The LSTM splits its batch into parts, one per core; held to a share of the cores in a sweep it
    still splits the same way (the parts run in turn), so its gradients add up in the same order."""
    path = write_experiment(
        tmp_path,
        network="rnn-vs-lstm",
        fixed={"epochs": 1, "train_limit": 640, "rec.hidden": 8},
        vary={"learning_rate": [0.01, 0.003]},
        seeds=[0],
        metric="val_loss",
    )
    experiment = load_experiment(path)
    sweep = Sweep(experiment, workers=2, folder=tmp_path / "out")
    result = sweep.run()
    assert sweep.executor.engine_threads == max(1, (os.cpu_count() or 1) // 2)
    for row in result.rows:
        alone = trained_alone(tmp_path / "out" / row["network"], row["seed"], tmp_path)
        assert (alone["val_loss"], alone["loss"]) == (row["final_val_loss"], row["final_loss"])


def test_a_folder_holds_the_study_of_one_experiment(tmp_path):
    Sweep(load_experiment(write_experiment(tmp_path, seeds=[0])), workers=2, folder=tmp_path / "out").run()
    other = load_experiment(write_experiment(tmp_path, "other.json", seeds=[0], vary={"learning_rate": [0.2]}))
    with pytest.raises(ExperimentError, match="give the sweep another --out folder"):
        Sweep(other, folder=tmp_path / "out").run()


def test_the_bench_sweep_times_both_ways_and_finds_the_same_figures(mnist_dir):
    from playground.bench.sweep import measure_sweep, sweep_line

    result = measure_sweep(quick=True, data_dir=mnist_dir)
    assert result["variants"] == 8 and result["data"] == "MNIST 8k/2k" and result["same_figures"]
    assert result["sequential_s"] > 0 and result["parallel_s"] > 0
    assert result["ideal"] == round(1 / result["cores"], 3)
    assert f"ratio {result['ratio']:.2f}" in sweep_line(result)
