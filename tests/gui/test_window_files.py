"""Projects, lessons, recent files, autosave and recovery, exports, downloads, and `run_app`."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox

from playground.datasets import DownloadCancelled
from playground.model import save_spec, spec_to_dict
from playground.training.lessons import load_lesson


def _trained(qtbot, window, steps=40):
    window.train()
    qtbot.waitUntil(lambda: len(window.model.history) >= steps, timeout=15000)
    window.stop_training(wait=True)
    return window


def test_save_and_open_round_trip(qtbot, make_window, tmp_path):
    window = _trained(qtbot, make_window())
    weights = window.network.copy_state()
    history = window.model.history
    path = tmp_path / "run.npz"
    assert window.save_to(path)
    assert not window.is_modified() and window.windowTitle().startswith("run.npz")

    other = make_window(load_lesson("vanishing-gradients"))
    assert other.open_path(path)
    assert spec_to_dict(other.document.spec) == spec_to_dict(window.document.spec)
    for key, value in weights.items():
        np.testing.assert_array_equal(other.network.copy_state()[key], value)
    restored = other.model.history
    np.testing.assert_array_equal(restored.steps, history.steps)
    np.testing.assert_allclose(restored.losses, history.losses)
    assert restored.epochs == history.epochs
    assert other.recent_files()[0] == str(path.resolve())
    # training continues the opened run: its steps follow on
    other.train()
    qtbot.waitUntil(lambda: len(other.model.history) > len(history), timeout=15000)
    other.stop_training(wait=True)
    assert np.all(np.diff(other.model.history.steps) > 0)


def test_malformed_file_leaves_work_untouched_with_one_dialog(qtbot, make_window, dialogs, tmp_path):
    window = _trained(qtbot, make_window())
    before_spec = spec_to_dict(window.document.spec)
    before_steps = window.model.history.steps.copy()
    before_weights = window.network.copy_state()
    bad = tmp_path / "broken.npz"
    bad.write_bytes(b"PK\x03\x04 definitely not a project")
    assert not window.open_path(bad)
    hostile = tmp_path / "hostile.npz"
    np.savez(hostile, header=np.array([{"format": "playground-project"}], dtype=object))
    assert not window.open_path(hostile)
    errors = dialogs.of("critical")
    assert len(errors) == 2 and "Python objects" in errors[1][2]
    assert "Traceback" not in errors[0][2]
    assert not dialogs.of("question")  # nothing asked: nothing was about to change
    assert spec_to_dict(window.document.spec) == before_spec
    np.testing.assert_array_equal(window.model.history.steps, before_steps)
    for key, value in before_weights.items():
        np.testing.assert_array_equal(window.network.copy_state()[key], value)


def test_open_plain_network_json(make_window, tmp_path):
    window = make_window()
    spec = load_lesson("parity")
    save_spec(spec, tmp_path / "parity.json")
    assert window.open_path(tmp_path / "parity.json")
    assert window.document.spec.name == "parity"
    assert len(window.model.history) == 0


def test_unsaved_changes_prompt_can_cancel(qtbot, make_window, dialogs):
    window = _trained(qtbot, make_window(), steps=5)
    assert window.is_modified()
    dialogs.answer = QMessageBox.Cancel
    assert not window.load_lesson("parity")
    assert window.document.spec.name == "toy-2d"
    assert len(dialogs.of("question")) == 1
    dialogs.answer = QMessageBox.Discard
    assert window.load_lesson("parity")
    assert window.document.spec.name == "parity"
    assert window.lesson_panel.toPlainText().startswith((load_lesson("parity").lesson or {})["title"][:20])
    assert len(window.model.runs) == 1  # the toy-2d run stays available for comparison


def test_every_lesson_loads(make_window):
    from playground.training.lessons import lesson_names

    window = make_window()
    for name in lesson_names():
        assert window.load_lesson(name)
        lab = window.active_lab()
        if lab is None:  # the dashboard's own trainer builds the network at once
            assert window.network is not None, name
            assert window.views.currentWidget() is window.dashboard_lab.widget, name
        else:  # a lab builds its network when a run starts, from the spec it was given
            assert window.views.currentWidget() is lab, name
            assert lab.spec is window.document.spec, name
        assert window.train_action.isEnabled(), name


def test_autosave_and_recovery(qtbot, make_window, dialogs, tmp_path):
    window = _trained(qtbot, make_window(), steps=10)
    window.autosave()
    window._autosave_thread.join()
    autosaved = tmp_path / "autosave" / "autosave.npz"
    assert autosaved.exists()
    steps = window.model.history.steps.copy()
    window.autosave_enabled = False  # leave the file as a crash would
    dialogs.answer = QMessageBox.Yes
    recovered = make_window(load_lesson("vanishing-gradients"), offer_recovery=True)
    qtbot.waitUntil(lambda: recovered.document.spec.name == "toy-2d", timeout=5000)
    np.testing.assert_array_equal(recovered.model.history.steps, steps)
    assert recovered.is_modified() and recovered.file_path is None
    recovered.prompt_on_close = False
    recovered.close()
    assert not autosaved.exists()  # a clean exit removes it


def test_exports(qtbot, make_window, tmp_path, monkeypatch):
    window = _trained(qtbot, make_window(), steps=10)
    target = {"path": str(tmp_path / "plot.png")}
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (target["path"], "")))
    window.dashboard.show_panel("gradients")
    window.export_plot()
    assert Path(target["path"]).stat().st_size > 1000
    target["path"] = str(tmp_path / "metrics.csv")
    window.export_csv()
    lines = Path(target["path"]).read_text().splitlines()
    assert lines[0].startswith("kind,epoch,step,loss,accuracy")
    assert "fc1_grad_bias" in lines[0]
    assert len(lines) > 10


def test_dataset_download_with_progress_and_cancel(make_window, dialogs, tmp_path):
    window = make_window()

    def fake_download(name, progress=None, cancel=None):
        for done in range(0, 101, 25):
            progress(done, 100)
        return tmp_path

    assert window.download_dataset("mnist", downloader=fake_download)

    def cancelled(name, progress=None, cancel=None):
        raise DownloadCancelled("download cancelled")

    assert not window.download_dataset("mnist", downloader=cancelled)
    assert not dialogs.of("critical")  # cancelling is not an error

    def offline(name, progress=None, cancel=None):
        from playground.datasets import DatasetUnavailable

        raise DatasetUnavailable("no network: could not reach any mirror")

    assert not window.download_dataset("fashion-mnist", downloader=offline)
    assert dialogs.of("critical")[-1][2] == "no network: could not reach any mirror"


def test_choose_dataset_changes_the_document(make_window):
    window = make_window()
    window.choose_dataset("spiral")
    assert window.document.spec.dataset.name == "spiral"
    window.document.undo()
    assert window.document.spec.dataset.name == "circle"


def test_run_app_bad_lesson_exits_2(capsys):
    from playground.gui.app import run_app

    assert run_app(lesson="no-such-lesson") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no lesson called" in err


def test_run_app_screenshot(qtbot, tmp_path):
    from playground.gui.app import run_app

    path = tmp_path / "shot.png"
    assert run_app(lesson="toy-2d", train_seconds=0.5, screenshot=path) == 0
    assert path.stat().st_size > 10_000


def test_ctrl_y_redoes(qtbot, make_window):
    window = make_window()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=3000)
    window.canvas.setFocus()
    window.document.set_layer_config("fc1", "units", 5)
    qtbot.keyClick(window.canvas, "z", Qt.ControlModifier)
    assert window.document.spec.node("fc1").config.units != 5
    qtbot.keyClick(window.canvas, "y", Qt.ControlModifier)
    assert window.document.spec.node("fc1").config.units == 5
    qtbot.keyClick(window.canvas, "z", Qt.ControlModifier)
    qtbot.keyClick(window.canvas, "z", Qt.ControlModifier | Qt.ShiftModifier)  # the platform's Redo still works
    assert window.document.spec.node("fc1").config.units == 5


def test_new_is_an_empty_canvas_that_the_window_copes_with(qtbot, make_window, tmp_path, dialogs):
    window = make_window()
    window.new_project()
    spec = window.document.spec
    assert [node.type for node in spec.nodes] == ["input"] and spec.edges == []
    assert not window.train_action.isEnabled() and not window.step_action.isEnabled()
    assert not window.reset_action.isEnabled()
    assert "Cannot train" in window.problem_label.text() and "dense layer" in window.problem_label.text()
    window.toggle_action.trigger()  # Space does nothing, and nothing breaks
    assert window.state == "idle" and not dialogs.calls
    assert window.save_to(tmp_path / "empty.json") and not window.is_modified()
    # the user builds a network: its cost fits the default output, and Train comes on
    layer = window.document.add_layer("dense", (0, 110))
    window.document.set_layer_config(layer, "units", 10)
    window.document.connect("in", layer)
    assert not window.document.analysis.problems and window.train_action.isEnabled()
    window.document.undo()
    assert not window.train_action.isEnabled() and window.document.spec.edges == []
    window.document.redo()
    assert window.save_to(tmp_path / "new.npz")
    other = make_window()
    assert other.open_path(tmp_path / "new.npz")
    assert [node.type for node in other.document.spec.nodes] == ["input", "dense"]


def test_a_recent_file_whose_name_is_not_utf8_reopens_from_the_menu(qtbot, make_window, dialogs, tmp_path):
    """QSettings keeps text only; a name with an undecodable byte must survive it unchanged."""
    window = make_window()
    path = tmp_path / os.fsdecode(b"caf\xe9.npz")
    assert window.save_to(path)
    assert os.fsencode(window.recent_files()[0]) == os.fsencode(str(path.resolve()))

    other = make_window(load_lesson("vanishing-gradients"))  # the same settings file, read afresh
    other._fill_recent_menu()
    action = other.recent_menu.actions()[0]
    assert "caf\ufffd.npz" in action.text()  # shown with a replacement character, not dropped
    action.trigger()
    assert other.file_path == path and not dialogs.of("critical")
    assert spec_to_dict(other.document.spec) == spec_to_dict(window.document.spec)
