"""Diagnosis from synthetic histories: each flag fires when it should and not otherwise."""

from __future__ import annotations

import numpy as np
import pytest

from playground.engine.dense_stack import BIAS_GRAD, SATURATION, WEIGHT_GRAD, WEIGHT_NORM
from playground.model.project import EpochSummary, MetricHistory
from playground.training.diagnosis import LESSONS, RECENT, diagnose, layer_activations

IDS = ["fc1", "fc2", "out"]
ACTIVATIONS = {"fc1": "sigmoid", "fc2": "sigmoid", "out": "softmax"}


def history(steps=400, losses=None, bias=(1.0, 1.0, 1.0), weight=None, saturation=(0.1, 0.1, np.nan), epochs=()):
    """A healthy run by default: falling loss, layers at the same speed, little saturation."""
    n = steps
    metrics = np.zeros((n, len(IDS), 4), np.float32)
    rng = np.random.default_rng(0)
    for i in range(len(IDS)):
        metrics[:, i, BIAS_GRAD] = np.broadcast_to(bias[i], n) * (1 + 0.1 * rng.random(n))
        metrics[:, i, WEIGHT_GRAD] = metrics[:, i, BIAS_GRAD] if weight is None else np.broadcast_to(weight[i], n)
        metrics[:, i, WEIGHT_NORM] = 5.0
        metrics[:, i, SATURATION] = np.broadcast_to(saturation[i], n)
    if losses is None:
        losses = 2.0 * np.exp(-np.arange(n) / 100) + 0.1 + 0.05 * rng.random(n)
    h = MetricHistory()
    h.append(np.arange(n), np.ones(n), losses, np.full(n, 0.5), IDS, metrics)
    for k, (train, val) in enumerate(epochs, start=1):
        h.add_epoch(EpochSummary(k, k * 100, 1.0 / k, 1.0 / k + 0.1, train, val))
    return h


def kinds(flags):
    return sorted(flag.kind for flag in flags)


def test_a_healthy_run_raises_nothing():
    assert diagnose(history(epochs=[(0.8 + 0.01 * k, 0.79 + 0.01 * k) for k in range(10)]), ACTIVATIONS) == []


def test_vanishing_gradients_above_100x_between_hidden_layers():
    flags = diagnose(history(bias=(0.001, 0.2, 1.0)), ACTIVATIONS)
    assert kinds(flags) == ["vanishing"]
    assert flags[0].layer == "fc1" and "200× slower" in flags[0].message and flags[0].lesson == "vanishing-gradients"
    assert diagnose(history(bias=(0.01, 0.5, 1.0)), ACTIVATIONS) == []  # 50×: slow, not flagged
    # the output layer is left out, as on the Gradients panel
    assert diagnose(history(bias=(1.0, 1.0, 1e-5)), ACTIVATIONS) == []
    # an early layer far faster than a later one is the gradient growing toward the input, not vanishing
    assert diagnose(history(bias=(1.0, 0.001, 1.0)), ACTIVATIONS) == []


def test_exploding_gradients_grow_by_orders_of_magnitude():
    growth = np.logspace(-2, 2, 400)  # 10,000× over the run
    flags = diagnose(history(weight=(growth, 1.0, 1.0)), ACTIVATIONS)
    assert kinds(flags) == ["exploding"] and flags[0].layer == "fc1"
    assert diagnose(history(weight=(np.logspace(-1, 0, 400), 1.0, 1.0)), ACTIVATIONS) == []  # 10×: learning
    broken = np.ones(400)
    broken[-1] = np.inf
    flags = diagnose(history(weight=(broken, broken, 1.0)), ACTIVATIONS)
    assert [flag.kind for flag in flags] == ["exploding"] and flags[0].layers == ("fc1", "fc2")
    assert "layer fc1 and layer fc2 is no longer a finite number" in flags[0].message


def test_saturated_sigmoid_units_above_half():
    flags = diagnose(history(saturation=(0.2, 0.8, np.nan)), ACTIVATIONS)
    assert kinds(flags) == ["saturated"] and flags[0].layer == "fc2" and "80%" in flags[0].message
    assert diagnose(history(saturation=(0.45, 0.5, np.nan)), ACTIVATIONS) == []


def test_dead_relus_above_half_over_the_recent_batches():
    relu = {"fc1": "relu", "fc2": "relu", "out": "softmax"}
    dying = np.concatenate([np.zeros(400 - RECENT), np.full(RECENT, 0.9)])
    flags = diagnose(history(saturation=(0.0, dying, np.nan)), relu)
    assert (
        kinds(flags) == ["dead-relu"]
        and flags[0].layers == ("fc2",)
        and "90% of the units of layer fc2 output 0" in flags[0].message
    )
    # several layers: one flag naming each
    both = diagnose(history(saturation=(0.7, dying, np.nan)), relu)
    assert kinds(both) == ["dead-relu"] and both[0].layers == ("fc1", "fc2")
    assert "70% of the units of layer fc1 and 90% of layer fc2 output" in both[0].message
    assert flags[0].lesson == LESSONS["dead-relu"]
    # dead long ago but alive over the recent batches: not flagged
    recovered = np.concatenate([np.full(400 - RECENT, 0.9), np.zeros(RECENT)])
    assert diagnose(history(saturation=(0.0, recovered, np.nan)), relu) == []
    # the same figure on a sigmoid layer is saturation, not death
    assert kinds(diagnose(history(saturation=(0.0, dying, np.nan)), ACTIVATIONS)) == ["saturated"]


def test_learning_rate_too_high_when_the_loss_rises():
    falling_then_rising = np.concatenate([np.linspace(2.0, 0.5, 200), np.linspace(0.5, 3.0, 200)])
    flags = diagnose(history(losses=falling_then_rising), ACTIVATIONS)
    assert kinds(flags) == ["learning-rate"] and flags[0].lesson == "toy-2d"
    assert "risen" in flags[0].message
    blown = np.linspace(2.0, 1.0, 400)
    blown[-1] = np.inf
    assert kinds(diagnose(history(losses=blown), ACTIVATIONS)) == ["learning-rate"]
    # a loss near 0 that doubles in the noise of small batches: nothing
    small = np.concatenate([np.linspace(2.3, 0.02, 300), np.full(80, 0.02), np.full(20, 0.05)])
    assert diagnose(history(losses=small), ACTIVATIONS) == []
    # noisy but falling: nothing
    noisy = np.linspace(2.0, 0.5, 400) * (1 + 0.3 * np.random.default_rng(1).random(400))
    assert diagnose(history(losses=noisy), ACTIVATIONS) == []


def test_learning_rate_too_high_when_the_epoch_loss_oscillates():
    h = history()
    for k, loss in enumerate([1.0, 0.5, 1.0, 0.5, 1.1, 0.5, 1.0], start=1):
        h.add_epoch(EpochSummary(k, k * 100, loss, loss + 0.05, None, None))
    assert "goes up and down" in diagnose(h, ACTIVATIONS)[0].message
    calm = history()
    for k, loss in enumerate([1.0, 0.8, 0.82, 0.7, 0.72, 0.65, 0.66], start=1):
        calm.add_epoch(EpochSummary(k, k * 100, loss, loss + 0.05, None, None))
    assert diagnose(calm, ACTIVATIONS) == []
    # converged: a loss near its floor that wobbles by half of itself is not unstable
    converged = history()
    for k, loss in enumerate([0.7, 0.3, 0.06, 0.04, 0.06, 0.04, 0.06, 0.04], start=1):
        converged.add_epoch(EpochSummary(k, k * 100, loss, loss + 0.01, None, None))
    assert diagnose(converged, ACTIVATIONS) == []


def test_overfitting_when_the_gap_grows_for_several_epochs():
    growing = [(0.80 + 0.03 * k, 0.80 + 0.005 * k) for k in range(8)]  # the gap widens by 2.5 points an epoch
    flags = diagnose(history(epochs=growing), ACTIVATIONS)
    assert kinds(flags) == ["overfitting"] and flags[0].lesson == "overfitting" and flags[0].layer is None
    steady = [(0.9 + 0.01 * k, 0.85 + 0.01 * k) for k in range(8)]  # a gap, but not growing
    assert diagnose(history(epochs=steady), ACTIVATIONS) == []
    assert diagnose(history(epochs=growing[:4]), ACTIVATIONS) == []  # too few epochs to say
    # growing, but still under 3 points: not yet overfitting worth a flag
    slight = [(0.95 + 0.004 * k, 0.955 + 0.0005 * k) for k in range(8)]  # −0.5 → +2.0 points
    assert diagnose(history(epochs=slight), ACTIVATIONS) == []


def test_overfitting_for_regression_uses_the_losses():
    h = history()
    for k in range(1, 8):
        h.add_epoch(EpochSummary(k, k * 100, 1.0 / k, 0.5 + 0.05 * k, None, None))
    assert kinds(diagnose(h, ACTIVATIONS)) == ["overfitting"]


def test_layer_activations_from_a_spec():
    from playground.model import sequential_spec

    spec = sequential_spec([4, 3, 2], activation="relu", output="softmax", cost="log-likelihood", initializer="he")
    assert layer_activations(spec) == {"fc1": "relu", "out": "softmax"}


@pytest.mark.parametrize("steps", [0, 1, 5])
def test_short_histories_raise_nothing(steps):
    h = MetricHistory()
    if steps:
        h = history(steps=steps)
    assert diagnose(h, ACTIVATIONS) == []
