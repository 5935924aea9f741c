"""Fake data for the dashboard: every panel runs on its own with it (tests do exactly that).

python -m playground.gui.dashboard.preview [mnist|toy-2d|function|backprop|neuron|bumps]
"""

from __future__ import annotations

import sys

import numpy as np

from ...datasets import load_dataset
from ...model import build_network
from ...model.project import EpochSummary, MetricHistory
from ...training.lessons import load_lesson
from .common import DashboardModel

LESSONS = {
    "mnist": "vanishing-gradients",
    "toy-2d": "toy-2d",
    "function": "universal-approximation",
    "backprop": "backprop",
    "neuron": "sigmoid-neuron",
    "bumps": "universal-approximation-bumps",
}
#: the kinds whose lesson fits a function (no accuracy to fake)
REGRESSION_KINDS = ("function", "bumps")


def fake_history(
    layer_ids: list[str], steps: int, first_step: int = 0, seed: int = 0, classify: bool = True
) -> MetricHistory:
    """Curves shaped like a real run: a falling cost, gradients shrinking towards the input."""
    rng = np.random.default_rng(seed)
    history = MetricHistory(layer_ids)
    add_fake_steps(history, steps, first_step, rng, classify)
    return history


def add_fake_steps(
    history: MetricHistory, steps: int, first_step: int, rng, classify: bool = True, steps_per_epoch: int = 200
) -> None:
    s = np.arange(first_step, first_step + steps)
    ids = history.layer_ids
    L = len(ids)
    losses = 2.3 * np.exp(-s / 800.0) + 0.1 + 0.05 * rng.standard_normal(steps)
    accuracies = np.clip(1.0 - losses / 2.5 + 0.03 * rng.standard_normal(steps), 0, 1) if classify else None
    metrics = np.empty((steps, L, 4), np.float32)
    for i in range(L):
        speed = 0.5 * 4.0 ** -(L - 1 - i)
        metrics[:, i, 0] = speed * 3 * np.exp(0.3 * rng.standard_normal(steps))
        metrics[:, i, 1] = speed * np.exp(0.3 * rng.standard_normal(steps))
        metrics[:, i, 2] = 5.0 + s / 1000.0
        metrics[:, i, 3] = np.clip(0.1 + 0.05 * i + s / 20000.0, 0, 1)
    history.append(s, s // steps_per_epoch + 1, losses, accuracies, ids, metrics)
    done = (first_step + steps) // steps_per_epoch
    while len(history.epochs) < done:
        e = len(history.epochs) + 1
        loss = 2.3 * np.exp(-e * steps_per_epoch / 800.0) + 0.1
        history.add_epoch(
            EpochSummary(
                e,
                e * steps_per_epoch,
                loss,
                loss * 1.1,
                1 - loss / 2.5 if classify else None,
                1 - loss / 2.4 if classify else None,
                1.0,
                50000.0,
            )
        )


def fake_range_test(steps: int = 300, seed: int = 0):
    """A finished learning-rate range test shaped like a real one: flat at tiny rates, a steep fall,
    a minimum near η = 1 and a blow-up beyond, with mini-batch noise."""
    from ...training.lr_finder import RangeTest, RangeTestSettings

    settings = RangeTestSettings(steps=steps)
    rates = np.array([settings.rate(k) for k in range(steps)])
    x = np.log10(rates)
    rng = np.random.default_rng(seed)
    losses = 2.4 - 1.9 / (1 + np.exp(-(x + 2) * 2.5)) + np.where(x > 0, 4 * x**2, 0.0)
    losses = losses + 0.08 * rng.standard_normal(steps)
    return RangeTest(settings, rates.tolist(), losses.tolist(), "completed")


def fake_board(epochs: int = 4, seeds: int = 2):
    """An experiment's board as a finished 3 × 2 grid (η × batch size) of the hyper-parameters lesson
    would leave it, its figures made up: each variant's accuracy rises towards a ceiling that is
    best at η = 0.25 and batch size 10, with a little noise per seed.  No training, no Optuna."""
    from ...experiments import RunBegan, RunEnded, RunEpoch, RunOutcome, RunTask
    from ...experiments.board import Board, grid_experiment

    spec = load_lesson("hyper-parameters")
    experiment = grid_experiment(
        spec, {"learning_rate": [0.025, 0.25, 2.5], "batch_size": [10, 50]}, list(range(seeds)), {"epochs": epochs}
    )
    board = Board(experiment)
    rng = np.random.default_rng(0)
    for trial, changes in enumerate(experiment.grid()):
        label = ", ".join(f"{name}={value}" for name, value in changes.items())
        ceiling = 0.95 - 0.08 * abs(np.log10(changes["learning_rate"] / 0.25)) - 0.02 * (changes["batch_size"] == 50)
        for seed in range(seeds):
            task = RunTask(f"t{trial}-s{seed}", trial, label, changes, seed, {}, "val_accuracy")
            board.hear(RunBegan(task))
            value = 0.0
            for epoch in range(1, epochs + 1):
                value = ceiling - 0.3 * 0.5**epoch + 0.01 * rng.standard_normal()
                board.hear(RunEpoch(task.key, trial, label, seed, {"epoch": epoch, "val_accuracy": value}))
            outcome = RunOutcome(task.key, trial, label, changes, seed, "completed", value=value, seconds=1.0)
            board.hear(RunEnded(outcome))
    board.take()
    return board


def fake_model(kind: str = "mnist", steps: int = 1500) -> DashboardModel:
    """A model as the window would fill it mid-run, for the lesson behind ``kind``."""
    spec = load_lesson(LESSONS[kind])
    network = build_network(spec)
    network.initialize(spec.training.initializer, 0)
    model = DashboardModel()
    model.set_network(spec, network.copy_state())
    ids = [layer.id for layer in network.trainable]
    regression = kind in REGRESSION_KINDS
    model.set_history(fake_history(ids, steps, classify=not regression))
    if kind in ("toy-2d", "backprop"):
        model.set_dataset(load_dataset("circle", seed=0))
    elif regression:
        model.set_dataset(load_dataset("function", seed=0))
    elif kind == "neuron":
        model.set_dataset(load_dataset("gaussians", seed=0))
    return model


def main(argv: list[str] | None = None) -> int:
    import os

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from .dashboard import Dashboard

    kind = (argv or sys.argv[1:] or ["mnist"])[0]
    app = QApplication.instance() or QApplication([])
    model = fake_model(kind)
    dashboard = Dashboard(model)
    dashboard.update_tabs()
    dashboard.lr_finder.load(model.network_spec, fake_range_test())
    dashboard.experiments.show_board(fake_board())
    dashboard.resize(900, 650)
    dashboard.show()
    rng = np.random.default_rng(1)

    def tick():
        add_fake_steps(model.history, 20, model.history.last_step + 1, rng, kind not in REGRESSION_KINDS)
        model.history_changed()
        dashboard.refresh()

    timer = QTimer()
    timer.timeout.connect(tick)
    timer.start(33)
    if os.environ.get("QT_QPA_PLATFORM") == "offscreen":
        QTimer.singleShot(500, app.quit)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
