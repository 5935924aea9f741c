"""The window's toolbar drives the lab of a network the dashboard does not train."""
from playground.training.lessons import load_lesson


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
    assert len(lab.model.time_grads) > 0  # the run's figures reached the lab's views


def test_loading_another_lesson_stops_a_lab_run_and_shows_the_dashboard(qtbot, make_window):
    window = make_window(load_lesson("rnn-vs-lstm"), warm_up=False)
    window.train()
    qtbot.waitUntil(lambda: window.sequence_lab.running, timeout=5000)
    assert window.load_lesson("toy-2d")
    assert not window.sequence_lab.running and not window.sequence_lab.thread.isRunning()
    assert window.views.currentWidget() is window.dashboard
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
