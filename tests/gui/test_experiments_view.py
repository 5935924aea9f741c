"""The Experiments view: alone with a fake board, and in the window running a real grid on MNIST
(live curves, the table, the heat map, a row loaded onto the canvas with its weights, Stop and
resume); and the parallelisation lesson's view measuring as the lesson opens."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from playground.gui.dashboard.preview import fake_board, fake_model
from playground.training.lessons import load_lesson


@pytest.fixture
def panel(qtbot):
    from playground.gui.dashboard.experiments import ExperimentsPanel

    panel = ExperimentsPanel()
    qtbot.addWidget(panel)
    panel.resize(900, 700)
    panel.show()
    yield panel
    panel.shutdown()


def test_the_view_draws_a_board_on_its_own(panel, qtbot):
    panel.draw(fake_model())
    board = fake_board()
    panel.show_board(board)
    assert panel.table.rowCount() == 6
    best = board.best()
    assert panel.table.item(0, 0).data(Qt.UserRole) == best.trial  # best first
    assert panel.heat_image.image.shape == (3, 2)
    assert np.nanmax(panel.heat_image.image) == pytest.approx(best.value)
    mean, low, high, band, runs = panel._plotted[best.trial]
    assert len(runs) == 2 and np.allclose(mean.getData()[1], board.band(best.trial)[1])
    assert "6 of 12 runs" not in panel.headline.text and "12 of 12 runs" in panel.headline.text
    # sortable: by the learning rate's column, ascending
    panel.table.sortItems(1, Qt.AscendingOrder)
    rates = [float(panel.table.item(row, 1).text()) for row in range(6)]
    assert rates == sorted(rates)
    with qtbot.waitSignal(panel.variantChosen) as chosen:
        panel._row_clicked(0, 0)
    spec, weights = chosen.args
    assert spec.training.learning_rate == rates[0] and weights is None  # the fake board trained nothing


def test_fields_come_from_the_network_and_bad_values_are_one_line(panel):
    panel.draw(fake_model())
    names = [panel.field_box.itemText(i) for i in range(panel.field_box.count())]
    assert "learning_rate" in names and "fc1.units" in names
    panel.field_box.setCurrentText("fc1.units")
    panel.values_edit.setText("10, thirty")
    panel.add_setting()
    assert "fc1.units" not in panel.vary and "thirty" in panel.status_label.text()
    panel.values_edit.setText("10, 30")
    panel.add_setting()
    assert panel.vary == {"fc1.units": [10, 30]} and panel.settings_list.count() == 1
    assert "2 variants × 2 seeds: 4 runs" in panel.status_label.text()


def test_without_the_extra_the_view_says_what_to_install(qtbot, monkeypatch):
    import playground.gui.dashboard.experiments as experiments

    monkeypatch.setattr(experiments, "extra_installed", lambda: False)
    panel = experiments.ExperimentsPanel()
    qtbot.addWidget(panel)
    assert not panel.run_button.isEnabled() and not panel.extra_label.isHidden()
    text = panel.extra_label.text()
    assert '"experiments" extra' in text and "pip" not in text and "--" not in text


def test_a_grid_runs_in_the_window_and_a_row_loads_the_variant_with_its_weights(qtbot, make_window, mnist_dir):
    pytest.importorskip("optuna")
    window = make_window(load_lesson("hyper-parameters"), data_dir=mnist_dir)
    window.show_panel("experiments")
    panel = window.dashboard.experiments
    assert window.dashboard.current_panel() is panel
    assert set(panel.vary) == {"learning_rate", "batch_size", "fc1.units"}  # the lesson's grid
    # three epochs a run: with one, a loaded machine's GUI thread saw the first run done only after
    # the worker had finished all eight, and the Stop below came too late to stop anything
    panel.load_grid({"learning_rate": [0.025, 0.25], "fc1.units": [10, 30]}, seeds=2, epochs=3)
    assert panel.run()
    qtbot.waitUntil(lambda: panel.board.runs_done >= 1, timeout=60_000)
    panel.toggle()  # Stop
    qtbot.waitUntil(lambda: not panel.running, timeout=60_000)
    panel._pull()
    stopped_at = panel.board.runs_done
    assert stopped_at < 8 and "Run resumes" in panel.headline.text
    assert panel.run()  # resume: the same study goes on
    qtbot.waitUntil(lambda: not panel.running, timeout=120_000)
    panel._pull()
    assert panel.board.runs_done == 8 and panel.table.rowCount() == 4
    assert all(len(row.values) == 2 for row in panel.board.rows())  # nothing run twice
    assert panel.heat_image.image.shape == (2, 2)
    assert len(panel._plotted) == 4
    best = panel.board.best()
    panel._row_clicked(0, 0)
    assert window.document.spec.training.learning_rate == best.changes["learning_rate"]
    assert window.document.spec.node("fc1").config.units == best.changes["fc1.units"]
    weights = panel.board.weights[(best.trial, 0)]
    for key, value in window.network.state().items():
        assert np.array_equal(value, weights[key])


def test_the_parallelisation_lesson_measures_when_it_opens(qtbot, make_window, mnist_dir):
    pytest.importorskip("optuna")
    window = make_window(load_lesson("parallelisation"), data_dir=mnist_dir)
    panel = window.dashboard.parallel
    assert window.dashboard.current_panel() is panel and panel.running
    qtbot.waitUntil(lambda: not panel.running, timeout=120_000)
    panel._pull()
    figures = panel.figures
    assert figures.done and figures.step_one_core > 0 and figures.side_by_side > 0
    heights = panel.step_bars.opts["height"]
    assert list(heights) == [figures.step_one_core, figures.step_all_cores]
    assert "ideal" in panel.words.text() and "GPU" in panel.words.text()
    window.load_lesson("hyper-parameters")
    assert not window.dashboard.isTabVisible(window.dashboard.indexOf(panel))  # the lesson's own tab
