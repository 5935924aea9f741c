"""The learning-rate finder's tab: alone with fake data, and in the window on real MNIST."""

from __future__ import annotations

import math

import numpy as np
import pytest

from playground.gui.dashboard.preview import fake_model, fake_range_test
from playground.training.lessons import load_lesson


def test_the_finder_panel_draws_a_range_test_on_its_own(qtbot):
    from playground.gui.dashboard.lr_finder import LearningRateFinderPanel

    panel = LearningRateFinderPanel()
    qtbot.addWidget(panel)
    panel.resize(800, 600)
    panel.show()
    model = fake_model()
    test = fake_range_test()
    panel.load(model.network_spec, test)
    suggestion = test.suggestion()
    x, y = panel.smoothed.getData()
    assert len(x) == len(test.rates) and np.allclose(y, test.smoothed)
    assert panel.range.isVisible()
    low, high = panel.range.getRegion()
    assert (low, high) == pytest.approx((math.log10(suggestion.low), math.log10(suggestion.high)))
    assert "Suggested η from" in panel.headline.text
    assert panel.use_button.isEnabled()
    with qtbot.waitSignal(panel.rateChosen) as chosen:
        panel.use_button.click()
    assert chosen.args == [pytest.approx(suggestion.high, rel=0.05)]
    panel.shutdown()


def test_find_learning_rate_in_the_window_tests_a_copy_and_use_sets_the_rate(qtbot, make_window, mnist_dir):
    window = make_window(load_lesson("hyper-parameters"), data_dir=mnist_dir)
    before = {key: value.copy() for key, value in window.network.state().items()}
    window.find_lr_action.trigger()
    finder = window.dashboard.lr_finder
    assert window.dashboard.current_panel() is finder and finder.running
    qtbot.waitUntil(lambda: not finder.running, timeout=60_000)
    assert finder.test.ended == "completed" and len(finder.test.rates) == finder.settings.steps
    suggestion = finder.test.suggestion()
    assert suggestion is not None and finder.range.isVisible()
    assert "Suggested η from" in finder.headline.text
    for key, value in window.network.state().items():  # the canvas's network did not train
        assert np.array_equal(value, before[key])
    finder.use_button.click()
    assert window.rate_box.value() == pytest.approx(suggestion.high, rel=0.05)
    assert window.document.spec.training.learning_rate == pytest.approx(suggestion.high, rel=0.05)


def test_the_finder_can_be_stopped_and_says_so(qtbot, make_window, mnist_dir):
    window = make_window(load_lesson("hyper-parameters"), data_dir=mnist_dir)
    window.find_learning_rate()
    finder = window.dashboard.lr_finder
    qtbot.waitUntil(lambda: finder.test is not None and len(finder.test.rates) > 5, timeout=60_000)
    finder.start_button.click()  # "Stop" while it runs
    qtbot.waitUntil(lambda: not finder.running, timeout=10_000)
    assert finder.test.ended in ("stopped", "completed")
    assert finder.start_button.text() == "Find learning rate"


def test_a_sequence_network_is_refused_in_one_line(make_window):
    window = make_window(load_lesson("rnn-vs-lstm"))
    window.find_learning_rate()
    assert "feed-forward" in window.statusBar().currentMessage()
    assert not window.dashboard.lr_finder.running


def test_compare_three_rates_starts_an_experiment_at_the_suggested_rates(qtbot, make_window, mnist_dir):
    pytest.importorskip("optuna")
    window = make_window(load_lesson("hyper-parameters"), data_dir=mnist_dir)
    finder, experiments = window.dashboard.lr_finder, window.dashboard.experiments
    window.show_panel("lr-finder")
    test = fake_range_test()
    finder.load(window.dashboard.model.network_spec, test)
    experiments.epochs_box.setValue(1)
    experiments.seeds_box.setValue(1)
    finder.compare_button.click()
    rates = [float(f"{rate:.2g}") for rate in test.suggestion().rates()]
    assert window.dashboard.current_panel() is experiments and experiments.running
    assert experiments.vary == {"learning_rate": rates}
    qtbot.waitUntil(lambda: not experiments.running, timeout=120_000)
    experiments._pull()
    assert sorted(row.changes["learning_rate"] for row in experiments.board.rows()) == sorted(rates)
