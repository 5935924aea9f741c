"""The learning-rate finder: Smith's range test through the family's own trainer, on real MNIST."""

from __future__ import annotations

import math

import numpy as np
import pytest

from playground.training import Finished
from playground.training.families import RunOptions, family_of
from playground.training.lessons import load_lesson
from playground.training.lr_finder import (
    LearningRateFinder,
    RangeTestSettings,
    find_learning_rate,
    smooth,
    suggest,
)


def test_smoothing_is_a_centred_moving_average_that_keeps_the_ends():
    losses = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    smoothed = smooth(losses, 3)
    assert smoothed == pytest.approx([1.5, 2.0, 3.0, 4.0, 5.0, 5.5])
    assert smooth(np.array([]), 5).size == 0


def test_the_suggestion_runs_from_the_steepest_fall_to_a_third_of_the_minimum():
    rates = np.logspace(-5, 1, 300)
    x = np.log10(rates)
    # falls steepest at η = 1e-2, bottoms out near η = 1, then explodes
    losses = 2.0 - 1.5 / (1 + np.exp(-(x + 2) * 3)) + np.where(x > 0, 10 * x**2, 0.0)
    suggestion = suggest(rates, losses, 30)
    assert suggestion.steepest == pytest.approx(1e-2, rel=0.1)
    assert 0.5 < suggestion.minimum < 1.5
    assert suggestion.high == pytest.approx(suggestion.minimum / 3)
    assert suggestion.low == suggestion.steepest
    low, middle, high = suggestion.rates()
    assert low < middle < high and middle == pytest.approx(math.sqrt(low * high))


def test_a_late_steep_fall_gives_a_decade_below_the_minimum_and_a_flat_curve_gives_nothing():
    rates = np.logspace(-5, 1, 300)
    x = np.log10(rates)
    cliff = 2.0 - 1.5 / (1 + np.exp(-(x + 0.2) * 30)) + np.where(x > 0.3, 10 * x**2, 0.0)
    suggestion = suggest(rates, cliff, 10)
    assert suggestion.steepest > suggestion.minimum / 3
    assert suggestion.low == pytest.approx(suggestion.minimum / 10)
    rng = np.random.default_rng(0)
    assert suggest(rates, 1.0 + 0.001 * rng.standard_normal(300), 30) is None


def test_bad_settings_are_refused_in_one_sentence():
    for bad in ({"start": 0.0}, {"start": 1.0, "end": 0.1}, {"steps": 3}, {"divergence": 1.0}):
        with pytest.raises(ValueError):
            RangeTestSettings(**bad)


@pytest.fixture(scope="module")
def mnist_range_test(mnist_dir):
    spec = load_lesson("hyper-parameters")
    rates_before = spec.training.learning_rate
    test = find_learning_rate(spec, RunOptions(data_dir=mnist_dir))
    assert spec.training.learning_rate == rates_before  # the finder trains a copy
    return test


def test_the_rate_rises_exponentially_one_rate_per_mini_batch(mnist_range_test):
    test = mnist_range_test
    assert test.ended == "completed" and len(test.rates) == test.settings.steps
    ratios = np.asarray(test.rates[1:]) / np.asarray(test.rates[:-1])
    assert ratios == pytest.approx(test.settings.factor)
    assert test.rates[0] == pytest.approx(1e-5) and test.rates[-1] == pytest.approx(10.0)


def _validation_accuracy(rate: float, mnist_dir) -> float:
    spec = load_lesson("hyper-parameters")
    run = family_of(spec).start(spec, RunOptions(data_dir=mnist_dir, learning_rate=rate, epochs=1, compare=False))
    finished = [event for event in run.trainer.run() if isinstance(event, Finished)][0]
    return finished.history[-1].val_accuracy if finished.history else 0.0


def test_the_suggested_range_brackets_a_rate_that_trains_well_and_rates_outside_it_do_worse(
    mnist_range_test, mnist_dir
):
    suggestion = mnist_range_test.suggestion()
    assert suggestion is not None, mnist_range_test.summary()
    inside = max(_validation_accuracy(rate, mnist_dir) for rate in suggestion.rates())
    too_small = _validation_accuracy(suggestion.low / 30, mnist_dir)
    too_large = _validation_accuracy(suggestion.high * 30, mnist_dir)
    assert inside > 0.9  # one epoch on 8,000 images
    assert inside > too_small + 0.1
    assert inside > too_large + 0.02


def test_huge_rates_end_the_test_as_diverged_and_stop_ends_it_at_once(mnist_dir):
    spec = load_lesson("hyper-parameters")
    test = find_learning_rate(spec, RunOptions(data_dir=mnist_dir), RangeTestSettings(1e-3, 1e6, steps=200))
    assert test.ended == "diverged" and len(test.rates) < 200
    assert "blew up" in test.summary()
    finder = LearningRateFinder(spec, RunOptions(data_dir=mnist_dir))
    for progress in finder.run():
        if len(progress.rates) == 20:
            finder.control.stop()
    assert finder.result.ended == "stopped" and len(finder.result.rates) == 20
