"""The window's toolbar drives the lab of a network the dashboard does not train."""

import dataclasses

import numpy as np

from playground.model.project import load_project
from playground.model.settings import with_overrides
from playground.training.lessons import load_lesson
from playground.training.rbm_trainer import RBMStack


def test_toolbar_trains_pauses_and_stops_the_sequence_lab(qtbot, make_window):
    window = make_window(load_lesson("rnn-vs-lstm"), warm_up=False)
    lab = window.sequence_lab
    assert window.views.currentWidget() is lab
    assert not window.step_action.isEnabled() and not window.reset_action.isEnabled()
    assert not window.progress_bar.isVisible()  # the lab shows its own progress

    window.train()
    qtbot.waitUntil(lambda: lab.running and window.state == "running", timeout=5000)
    assert window.document.locked and not window.rate_box.isEnabled()
    qtbot.waitUntil(lambda: lab.job.progress.steps > 0, timeout=60000)  # numba may compile first

    window.pause()
    qtbot.waitUntil(lambda: window.state == "paused", timeout=2000)
    assert window.train_action.text() == "Continue"
    window.train()
    qtbot.waitUntil(lambda: window.state == "running", timeout=2000)

    window.stop()
    qtbot.waitUntil(lambda: not lab.running, timeout=10000)
    qtbot.waitUntil(lambda: not window.document.locked, timeout=2000)
    assert window.state == "idle" and window.train_action.isEnabled() and window.rate_box.isEnabled()
    assert len(lab.model.log_time_grads) > 0  # the run's figures reached the lab's views


def test_loading_another_lesson_stops_a_lab_run_and_shows_the_dashboard(qtbot, make_window):
    window = make_window(load_lesson("rnn-vs-lstm"), warm_up=False)
    window.train()
    qtbot.waitUntil(lambda: window.sequence_lab.running, timeout=5000)
    assert window.load_lesson("toy-2d")
    assert not window.sequence_lab.running and not window.sequence_lab.thread.isRunning()
    assert window.views.currentWidget() is window.dashboard_lab.widget  # the diagnosis strip over the dashboard
    assert window.progress_bar.isVisibleTo(window) and window.step_action.isEnabled()
    assert not window.document.locked


def test_an_rbm_lesson_trains_in_the_rbm_lab(qtbot, make_window, mnist_dir):
    window = make_window(load_lesson("rbm-mnist"), warm_up=False, data_dir=mnist_dir)
    assert window.views.currentWidget() is window.rbm_lab
    window.train()
    qtbot.waitUntil(lambda: window.rbm_lab.running, timeout=5000)
    window.stop()
    qtbot.waitUntil(lambda: not window.rbm_lab.running, timeout=30000)
    assert window.state == "idle"


def saved_weights(path):
    with np.load(path, allow_pickle=False) as archive:
        return {name[len("weights/") :]: archive[name] for name in archive.files if name.startswith("weights/")}


def assert_same_weights(got, expected):
    assert got is not None and set(got) == set(expected)
    for key, value in expected.items():
        np.testing.assert_array_equal(got[key], value, err_msg=key)


def test_a_saved_project_keeps_what_the_rbm_lab_trained(qtbot, make_window, mnist_dir, tmp_path):
    spec = load_lesson("rbm-mnist")
    spec.training = with_overrides(spec.training, train_limit=300, epochs=1)
    spec.pretraining = with_overrides(spec.pretraining, epochs=1, monitor_examples=100)
    window = make_window(spec, warm_up=False, data_dir=mnist_dir)
    lab = window.rbm_lab
    assert lab.trained_state() is None  # nothing trained, nothing to save
    window.train()
    qtbot.waitUntil(lambda: lab.running, timeout=5000)
    qtbot.waitUntil(lambda: not lab.running, timeout=30000)
    trained = lab.trained_state()
    initial = RBMStack(spec)
    initial.initialize(spec.training.initializer, spec.training.seed)
    assert any(not np.array_equal(trained[key], value) for key, value in initial.state().items())

    assert window.save_to(tmp_path / "rbm.npz")
    saved = saved_weights(tmp_path / "rbm.npz")
    assert_same_weights(saved, trained)
    reopened = make_window(warm_up=False, data_dir=mnist_dir)
    assert reopened.open_path(tmp_path / "rbm.npz", ask=False)
    assert reopened.views.currentWidget() is reopened.rbm_lab
    assert_same_weights(reopened.rbm_lab.trained_state(), trained)
    shown = reopened.rbm_lab.model.first_rbm  # the filters draw the opened stack
    np.testing.assert_array_equal(shown.params["weight"], trained[f"{shown.id}.weight"])
    # the stack Fine-tune continues from (its runner keeps a stack built for the lab's spec)
    assert reopened.rbm_lab.stack_runner.stack.spec is reopened.rbm_lab.spec
    assert reopened.save_to(tmp_path / "again.npz")  # saving again loses nothing either
    assert_same_weights(saved_weights(tmp_path / "again.npz"), trained)


def test_a_saved_project_keeps_what_the_sequence_lab_trained(qtbot, make_window, tmp_path):
    spec = load_lesson("rnn-vs-lstm")
    spec = dataclasses.replace(spec, dataset=dataclasses.replace(spec.dataset, n_samples=1200))
    window = make_window(spec, warm_up=False)
    lab = window.sequence_lab
    window.train()
    qtbot.waitUntil(lambda: lab.running, timeout=5000)
    assert lab.trained_state() is None  # the trainer owns the weights while it runs
    qtbot.waitUntil(lambda: not lab.running or lab.job.progress.steps > 2, timeout=60000)
    window.stop()
    qtbot.waitUntil(lambda: not lab.running, timeout=10000)
    trained = lab.trained_state()
    assert trained is not None

    assert window.save_to(tmp_path / "sequence.npz")
    reopened = make_window(warm_up=False)
    assert reopened.open_path(tmp_path / "sequence.npz", ask=False)
    assert reopened.views.currentWidget() is reopened.sequence_lab
    assert_same_weights(reopened.sequence_lab.trained_state(), trained)
    assert reopened.save_to(tmp_path / "again.npz")
    assert_same_weights(load_project(tmp_path / "again.npz").weights, trained)


def test_after_the_rnn_lstm_comparison_save_keeps_the_lesson_s_lstm(qtbot, make_window, tmp_path):
    """The comparison trains the file's LSTM, then a SimpleRNN twin: Save keeps the LSTM, the
    network on the canvas, and the status line says so."""
    from playground.model.build import build_network

    spec = load_lesson("rnn-vs-lstm")
    spec = dataclasses.replace(spec, dataset=dataclasses.replace(spec.dataset, n_samples=400))
    spec.training = with_overrides(spec.training, epochs=1)
    window = make_window(spec, warm_up=False)
    window.pace_box.set_pace(None)
    lab = window.sequence_lab
    assert lab.compares()
    window.train()
    qtbot.waitUntil(lambda: lab.running, timeout=5000)
    qtbot.waitUntil(lambda: not lab.running, timeout=240_000)  # a cold numba cache compiles both networks
    assert [kept.name for kept in lab.model.kept][-1].startswith("LSTM")
    assert lab.model.run_name.startswith("SimpleRNN")  # the last network trained was the twin
    shapes = {key: value.shape for key, value in lab.trained_state().items()}
    assert shapes == {key: value.shape for key, value in build_network(spec).state().items()}
    hidden = 32
    assert any(4 * hidden in shape for shape in shapes.values())  # an LSTM's four gates, not a SimpleRNN
    assert "Save keeps the LSTM, the network on the canvas" in lab.status.text()
    assert window.save_to(tmp_path / "compared.npz")
    assert_same_weights(load_project(tmp_path / "compared.npz").weights, lab.trained_state())
