"""A failed open, of any kind, leaves the current work exactly as it was.

The sequence that once destroyed a user's project: open a trained project, open a network
that cannot be built, then Save as a dialog advised.  Every way an open can fail is tried
here, and after each the project file must still be byte-for-byte what it was, and the
window must still show its network, its file name, its weights and its history.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtWidgets import QFileDialog

from playground.model import save_spec, sequential_spec, spec_to_dict
from playground.model.project import ProjectError, open_file


def _trained_project(qtbot, window, path):
    window.train()
    qtbot.waitUntil(lambda: len(window.model.history) >= 30, timeout=15000)
    window.stop_training(wait=True)
    assert window.save_to(path)
    return path.read_bytes()


def _snapshot(window):
    return (
        spec_to_dict(window.document.spec),
        window.file_path,
        window.windowTitle(),
        {key: value.copy() for key, value in window.network.copy_state().items()},
        window.model.history.steps.copy(),
    )


def _assert_unchanged(window, before):
    spec, file_path, title, weights, steps = _snapshot(window)
    assert spec == before[0]
    assert file_path == before[1] and title == before[2]
    assert weights.keys() == before[3].keys()
    for key, value in weights.items():
        np.testing.assert_array_equal(value, before[3][key])
    np.testing.assert_array_equal(steps, before[4])
    assert not window.is_modified()


def _bad_files(tmp_path):
    """Files whose reading fails: (name, path)."""
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"PK\x03\x04 not a project")
    malformed = tmp_path / "malformed.json"
    malformed.write_text('{"format": "playground-network", "nodes": [')
    nested = tmp_path / "nested.json"
    nested.write_text("[" * 200_000 + "]" * 200_000)
    missing = tmp_path / "missing.npz"
    return [broken, malformed, nested, missing]


def _fail_with(error):
    def fail(*_args, **_kwargs):
        raise error

    return fail


# every way building or loading the opened network can fail, including errors of unexpected types
BUILD_FAILURES = [
    MemoryError("Unable to allocate 37.3 GiB"),
    ValueError("a weight of the wrong shape"),
    RuntimeError("something nobody expected"),
    KeyError("fc1.weight"),
]


def test_every_failed_open_leaves_the_project_untouched(qtbot, make_window, dialogs, tmp_path, monkeypatch):
    window = make_window()
    project = tmp_path / "mywork.npz"
    saved = _trained_project(qtbot, window, project)
    before = _snapshot(window)

    failures = 0
    for path in _bad_files(tmp_path):
        assert not window.open_path(path), path
        failures += 1
        _assert_unchanged(window, before)

    good = tmp_path / "good.json"
    save_spec(
        sequential_spec([2, 4, 2], activation="tanh", output="softmax", cost="log-likelihood", initializer="xavier"),
        good,
    )
    import playground.gui.dashboard_lab as dashboard_lab
    import playground.gui.window_files as window_files

    for error in BUILD_FAILURES:
        with monkeypatch.context() as patch:
            patch.setattr(dashboard_lab, "fresh_network", _fail_with(error))
            assert not window.open_path(good), error
        failures += 1
        _assert_unchanged(window, before)
    with monkeypatch.context() as patch:  # the reader itself raising something unforeseen
        patch.setattr(window_files, "open_file", _fail_with(OSError("Input/output error")))
        assert not window.open_path(good)
    failures += 1
    _assert_unchanged(window, before)

    errors = dialogs.of("critical")
    assert len(errors) == failures
    for _kind, _title, text in errors:
        assert "Traceback" not in text and "internal error" not in text.lower()
        assert "save it now" not in text.lower()
    assert any("not enough memory" in text for *_rest, text in errors)
    assert any("MAX_JSON_DEPTH" in text for *_rest, text in errors)  # refused before parsing

    assert project.read_bytes() == saved  # nothing wrote to it
    # Save, as a user would after the dialogs: the same network, weights and history go back
    assert window.save() and window.file_path == project
    reopened = open_file(project)
    assert spec_to_dict(reopened.spec) == before[0]
    for key, value in before[3].items():
        np.testing.assert_array_equal(reopened.weights[key], value)
    np.testing.assert_array_equal(reopened.history.steps, before[4])


def test_network_too_large_for_the_machine_cannot_overwrite_the_project(
    qtbot, make_window, dialogs, tmp_path, monkeypatch
):
    """The reported sequence: a network whose layers each pass but which needs 37 GB in all."""
    window = make_window()
    project = tmp_path / "mywork.npz"
    saved = _trained_project(qtbot, window, project)
    wide = tmp_path / "wide.json"
    save_spec(
        sequential_spec(
            [784, 100000, 100000, 10], activation="sigmoid", output="sigmoid", cost="quadratic", initializer="xavier"
        ),
        wide,
    )
    assert window.open_path(wide)  # it opens, as a network that cannot train, and says why
    assert "parameter budget" in window.document.analysis.problems[0].message
    assert not window.train_action.isEnabled()
    assert window.network is None
    assert not dialogs.of("critical")
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *args, **kwargs: ("", "")))
    window.save()  # Ctrl+S: the wide network is not mywork.npz's, so it asks for a name (cancelled)
    assert project.read_bytes() == saved


@pytest.mark.parametrize("error", [MemoryError(), RecursionError()])
def test_reader_exhaustion_is_a_project_error(tmp_path, monkeypatch, error):
    import playground.model.project as project_module

    monkeypatch.setattr(project_module, "load_project", _fail_with(error))
    with pytest.raises(ProjectError, match="hostile.npz"):
        project_module.open_file(tmp_path / "hostile.npz")
