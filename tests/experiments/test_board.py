"""The Experiments view's figures (``experiments.board``), from a real sweep on MNIST: curves and
bands over seeds, the results table, the heat map, and a variant loaded with its trained weights."""

from __future__ import annotations

import numpy as np
import pytest

from playground.engine.config import fields_of
from playground.experiments import Sweep
from playground.experiments.board import Board, grid_experiment, parse_values, varying_fields
from playground.model import build_network
from playground.model.settings import TrainingSettings
from playground.training import evaluate, prepare_data
from playground.training.data import load_run_data
from playground.training.families import RunOptions
from playground.training.lessons import load_lesson

pytest.importorskip("optuna")


def test_the_fields_that_vary_are_the_inspectors_and_values_are_read_as_their_kind():
    fields = varying_fields(load_lesson("hyper-parameters"))
    assert {"learning_rate", "batch_size", "optimizer", "fc1.units", "fc1.activation", "out.units"} <= set(fields)
    assert "seed" not in fields and "in.shape" not in fields
    learning_rate = next(info for info in fields_of(TrainingSettings) if info.name == "learning_rate")
    assert parse_values(learning_rate, "0.025, 0.25,2.5, 0.25") == [0.025, 0.25, 2.5]
    assert parse_values(fields["fc1.units"], "10, 30") == [10, 30]
    assert parse_values(fields["fc1.activation"], "relu, tanh") == ["relu", "tanh"]
    for info, text in ((fields["fc1.units"], "10.5"), (learning_rate, "fast"), (fields["fc1.activation"], "nope")):
        with pytest.raises(ValueError, match=info.name):
            parse_values(info, text)


@pytest.fixture(scope="module")
def swept(mnist_dir):
    spec = load_lesson("hyper-parameters")
    vary = {"learning_rate": [0.025, 2.5], "batch_size": [10, 50], "fc1.units": [10, 30]}
    experiment = grid_experiment(spec, vary, [0, 1], {"epochs": 2, "train_limit": 2000})
    board = Board(experiment)
    Sweep(experiment, workers=2, data_dir=mnist_dir, on_event=board.hear, keep_weights=True).run()
    assert board.take()
    return board, experiment


def test_every_run_has_its_curve_and_each_variant_its_mean_and_band(swept):
    board, experiment = swept
    assert len(board.curves) == 8 * 2 and all(len(points) == 2 for points in board.curves.values())
    for trial in board.labels:
        epochs, mean, low, high = board.band(trial)
        finals = [board.curves[(trial, seed)][-1][1] for seed in (0, 1)]
        assert list(epochs) == [1.0, 2.0]
        assert mean[-1] == pytest.approx(np.mean(finals)) and low[-1] == min(finals) and high[-1] == max(finals)


def test_the_table_sorts_best_first_and_by_any_column(swept):
    board, _ = swept
    rows = board.rows()
    assert len(rows) == 8 and [row.value for row in rows] == sorted((row.value for row in rows), reverse=True)
    assert board.best() is rows[0]
    by_rate = board.rows("learning_rate")
    assert [row.changes["learning_rate"] for row in by_rate] == sorted(row.changes["learning_rate"] for row in rows)
    assert all(row.spread is not None for row in rows)


def test_the_heat_map_holds_the_best_over_the_third_setting(swept):
    board, _ = swept
    heat = board.heat_map()
    assert (heat.x_name, heat.y_name) == ("learning_rate", "batch_size") and "fc1.units" in heat.note
    for i, rate in enumerate(heat.x_values):
        for j, batch in enumerate(heat.y_values):
            values = [
                row.value
                for row in board.rows()
                if row.changes["learning_rate"] == rate and row.changes["batch_size"] == batch
            ]
            assert heat.values[i, j] == pytest.approx(max(values))


def test_a_variant_loads_with_the_weights_its_first_seed_trained(swept, mnist_dir):
    board, experiment = swept
    best = board.best()
    spec, weights = board.variant(best.trial)
    assert spec.training.learning_rate == best.changes["learning_rate"]
    assert spec.node("fc1").config.units == best.changes["fc1.units"]
    network = build_network(spec)
    network.load_state(weights)
    dataset, _ = load_run_data(spec, RunOptions(data_dir=mnist_dir))
    x, t = prepare_data(network, dataset.x_val, dataset.y_val, dataset.task, dataset.n_outputs, dataset.name)
    _, accuracy = evaluate(network, x, t, True)
    assert accuracy == pytest.approx(best.values[0])  # exactly what that run reported
