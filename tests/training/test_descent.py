"""The gradient-descent lesson: gradient noise per batch size, and the two-parameter surface's paths,
measured with the engine's own gradients and optimiser."""

from __future__ import annotations

import numpy as np
import pytest

from playground.cli import main
from playground.datasets import load_dataset
from playground.datasets.toys import make_function
from playground.engine.optimizers import Optimizer, OptimizerSettings
from playground.model import build_network
from playground.training.descent import (
    TwoParameterModel,
    angle_between,
    gradient_noise,
    gradient_vector,
    learning_rate_scene,
    momentum_scene,
)
from playground.training.families import RunOptions, family_of
from playground.training.lesson_figures import lesson_figure
from playground.training.lessons import load_lesson
from playground.training.trainer import EpochRecord


@pytest.fixture(scope="module")
def sine():
    data = make_function(seed=0)
    return data.x_train, data.y_train


def test_the_two_parameter_gradient_is_the_least_squares_gradient(sine):
    x, y = sine
    model = TwoParameterModel(x, y)
    loss, gradient = model.loss_and_gradient(0.7, -0.3)
    residual = 0.7 * x[:, 0].astype(np.float64) - 0.3 - y[:, 0]
    assert loss == pytest.approx(0.5 * np.mean(residual**2), rel=1e-12)
    assert gradient == pytest.approx([np.mean(residual * x[:, 0]), np.mean(residual)], rel=1e-10)


def test_the_minimum_and_curvatures_are_those_of_least_squares(sine):
    x, y = sine
    model = TwoParameterModel(x, y, shift=3.0)
    shifted = x[:, 0].astype(np.float64) + 3.0
    slope, intercept = np.polyfit(shifted, y[:, 0].astype(np.float64), 1)
    assert model.minimum() == pytest.approx((slope, intercept), rel=1e-6)
    expected = np.array([[np.mean(shifted**2), np.mean(shifted)], [np.mean(shifted), 1.0]])
    assert model.hessian() == pytest.approx(expected, rel=1e-6)
    low, high = model.curvatures()
    assert high / low > 100  # moving the inputs away from 0 makes a narrow valley


def test_a_path_is_the_engines_optimiser_stepping_on_the_engines_gradient(sine):
    x, y = sine
    model = TwoParameterModel(x, y)
    path = model.path((-2.0, 2.0), 0.3, 5, momentum=0.5)
    # replay it by hand with the engine's optimiser on a second model: the same points
    other = TwoParameterModel(x, y)
    other.set(-2.0, 2.0)
    optimizer = Optimizer(OptimizerSettings("sgd", 0.5), other.network.slots())
    for point in path.points:
        assert other.parameters() == pytest.approx(tuple(point), rel=1e-12)
        other.loss_and_gradient(*other.parameters())
        optimizer.step(0.3, 0.0, 0.0)


def test_learning_rates_crawl_arrive_and_diverge(sine):
    scene = learning_rate_scene(*sine)
    small, right, large = scene.paths
    least = scene.least_cost
    assert least <= scene.surface.losses.min()
    assert not small.diverged and not right.diverged and large.diverged
    assert right.losses[-1] < least * 1.01  # arrived
    assert small.losses[-1] > 10 * right.losses[-1]  # still on its way after the same steps
    assert large.losses[-1] > 100 * large.losses[0] * 0.99  # every step overshoots further
    assert large.learning_rate > 2 / scene.curvatures[1] > right.learning_rate


def test_momentum_runs_along_the_narrow_valley_where_plain_steps_crawl(sine):
    scene = momentum_scene(*sine)
    plain, momentum = scene.paths
    assert plain.learning_rate == momentum.learning_rate
    w_min, b_min = scene.minimum
    plain_left = np.hypot(*(plain.points[-1] - (w_min, b_min)))
    momentum_left = np.hypot(*(momentum.points[-1] - (w_min, b_min)))
    assert momentum_left < plain_left / 5
    assert momentum.losses[-1] < plain.losses[-1] / 3


def test_a_mini_batch_gradient_is_the_mean_of_its_examples_gradients(mnist_dir):
    spec = load_lesson("gradient-descent")
    network = build_network(spec)
    network.initialize("he", 0)
    data = load_dataset("mnist", data_dir=mnist_dir)
    x = data.x_train[:5].reshape(5, -1)
    t = np.eye(10, dtype=np.float32)[data.y_train[:5]]
    network.loss_and_gradients(x, t)
    batch = gradient_vector(network)
    singles = []
    for k in range(5):
        network.loss_and_gradients(x[k : k + 1], t[k : k + 1])
        singles.append(gradient_vector(network))
    assert batch == pytest.approx(np.mean(singles, axis=0), rel=1e-3, abs=1e-6)
    assert angle_between(batch, batch) == pytest.approx(0.0, abs=1e-3)
    assert angle_between(batch, -batch) == pytest.approx(180.0, abs=1e-3)


def test_small_batches_point_further_from_the_full_gradient(mnist_dir):
    spec = load_lesson("gradient-descent")
    network = build_network(spec)
    network.initialize("he", 0)
    data = load_dataset("mnist", data_dir=mnist_dir)
    x = data.x_train[:2000].reshape(2000, -1)
    t = np.eye(10, dtype=np.float32)[data.y_train[:2000]]
    before = network.copy_state()
    one, ten, hundred, full = gradient_noise(network, x, t, (1, 10, 100, 2000), draws=30)
    assert one.mean_angle > ten.mean_angle + 5 > hundred.mean_angle + 10 > 10
    assert full.mean_angle == 0.0
    assert one.relative_error > ten.relative_error > hundred.relative_error
    for key, value in network.state().items():  # measuring does not train
        assert np.array_equal(value, before[key])


def test_the_lesson_compares_batch_sizes_by_examples_seen_and_computing_time(mnist_dir):
    spec = load_lesson("gradient-descent")
    run = family_of(spec).start(spec, RunOptions(data_dir=mnist_dir, epochs=2))
    assert list(run.parts) == ["batch 1", "batch 10", "batch 100", "full batch"]
    figure = lesson_figure("gradient-descent", run)
    for event in run.trainer.run():
        figure.observe(event)
    epochs = {label: record.epochs for label, record in figure.variants.items()}
    for label, records in epochs.items():
        assert [e.examples for e in records] == [2000, 4000], label
        assert 0 < records[0].compute_seconds < records[1].compute_seconds
        assert all(isinstance(e, EpochRecord) for e in records)
    steps = {label: records[-1].step for label, records in epochs.items()}
    assert steps == {"batch 1": 4000, "batch 10": 400, "batch 100": 40, "full batch": 2}
    loss = {label: records[0].loss for label, records in epochs.items()}
    # after the same 2,000 examples: the many small steps are far ahead of the one full step
    assert loss["batch 1"] < loss["full batch"] / 2 and loss["batch 10"] < loss["full batch"] / 2
    assert loss["batch 10"] < loss["batch 100"] < loss["full batch"]
    lines = "\n".join(figure.lines())
    assert "Angle between a mini-batch's gradient" in lines and "momentum μ = 0.9" in lines


def test_train_gradient_descent_prints_the_figure(mnist_dir, capsys):
    assert main(["train", "gradient-descent", "--data-dir", str(mnist_dir), "--epochs", "1", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "Training loss after the same number of examples seen:" in out
    assert "Training loss after the same computing time" in out
    assert "batch     1:" in out and "(diverged)" in out
