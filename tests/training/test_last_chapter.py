"""The last chapter's lessons, headless: Nielsen's three learning rates, the lesson's grid and what
its heat map shows, and the parallelisation lesson's measurements."""

from __future__ import annotations

import numba
import numpy as np
import pytest

from playground.training import EpochRecord, RunStarted
from playground.training.families import RunOptions, family_of
from playground.training.lessons import curriculum, load_lesson


def test_both_lessons_close_the_curriculum():
    assert curriculum()[-1].lessons == ("hyper-parameters", "parallelisation")


@pytest.fixture(scope="module")
def three_rates(mnist_dir):
    """Training cost after each epoch, per compared rate (Nielsen's set-up, on the 8,000-image split)."""
    spec = load_lesson("hyper-parameters")
    run = family_of(spec).start(spec, RunOptions(data_dir=mnist_dir))
    costs: dict[str, list[float]] = {}
    label = None
    for event in run.trainer.run():
        if isinstance(event, RunStarted):
            label = event.label
        elif isinstance(event, EpochRecord):
            costs.setdefault(label, []).append(event.loss)
    return costs


def test_the_three_rates_are_nielsens_and_each_trains_thirty_epochs(three_rates):
    assert list(three_rates) == ["η = 0.025", "η = 0.25", "η = 2.5"]
    assert all(len(costs) == 30 for costs in three_rates.values())


def test_too_small_a_rate_crawls(three_rates):
    slow, good = np.asarray(three_rates["η = 0.025"]), np.asarray(three_rates["η = 0.25"])
    assert slow[0] > 2 * good[0]  # after one epoch it has hardly started
    assert (np.diff(slow[-10:]) < 0).all()  # still falling, steadily, at the end
    assert slow[-1] > good[-1]


def test_too_large_a_rate_oscillates_above_the_good_one(three_rates):
    fast, good = np.asarray(three_rates["η = 2.5"]), np.asarray(three_rates["η = 0.25"])
    rises = int((np.diff(fast) > 0).sum())
    assert rises >= 8  # up and down from epoch to epoch
    assert fast[10:].min() > good[10:].max() * 1.3  # never near the good rate's cost after the start
    assert good[-1] == min(costs[-1] for costs in three_rates.values())


def test_the_lessons_grid_is_a_valid_experiment_and_its_heat_map_has_the_diagonal(mnist_dir):
    pytest.importorskip("optuna")
    from playground.experiments import Sweep
    from playground.experiments.board import Board, grid_experiment

    spec = load_lesson("hyper-parameters")
    grid = spec.lesson["experiment"]
    experiment = grid_experiment(spec, grid["vary"], list(range(grid["seeds"])), {"epochs": grid["epochs"]})
    assert experiment.trials == 12
    board = Board(experiment)
    Sweep(experiment, workers=2, data_dir=mnist_dir, on_event=board.hear).run()
    board.take()
    heat = board.heat_map()
    rates, batches = heat.x_values, heat.y_values
    cell = {(rate, batch): heat.values[i, j] for i, rate in enumerate(rates) for j, batch in enumerate(batches)}
    # a larger mini-batch tolerates a larger η: the best batch size moves with the rate
    assert cell[(0.025, 10)] > cell[(0.025, 50)]
    assert cell[(2.5, 50)] > cell[(2.5, 10)]
    best = board.best()
    assert best.changes["learning_rate"] == 0.25 and best.changes["fc1.units"] == 30
    assert all(row.changes["fc1.units"] == 30 for row in board.rows()[:3])  # more hidden units help here


def test_the_parallel_measurements_fill_in_one_by_one(mnist_dir):
    pytest.importorskip("optuna")
    from playground.experiments.parallel import CLUSTER_SENTENCE, GPU_SENTENCE, measure

    threads_before = numba.get_num_threads()
    seen = []
    for figures in measure(load_lesson("parallelisation"), mnist_dir, step_seconds=0.3):
        seen.append((figures.step_one_core, figures.step_all_cores, figures.one_after_another, figures.side_by_side))
    assert numba.get_num_threads() == threads_before  # the engine's threads are given back
    assert seen[0] == (None, None, None, None) and figures.done
    assert [sum(value is not None for value in step) for step in seen] == [0, 1, 2, 3, 4]
    cores = numba.config.NUMBA_NUM_THREADS
    assert figures.cores == cores and figures.variants == cores
    assert figures.step_one_core > 0 and figures.step_all_cores > 0
    assert figures.step_speedup == pytest.approx(figures.step_all_cores / figures.step_one_core)
    assert figures.variants_ratio == pytest.approx(figures.side_by_side / figures.one_after_another)
    words = " ".join(figures.sentences())
    assert f"ideal {cores}×" in words and f"ideal {1 / cores:.2f}" in words
    assert "GPU" in GPU_SENTENCE and "cluster" in CLUSTER_SENTENCE and "--" not in CLUSTER_SENTENCE
