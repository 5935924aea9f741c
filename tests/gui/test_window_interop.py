"""File › Export to PyTorch / ONNX and File › Import: the window writes what the command writes, says
what it wrote in its own words, refuses in one dialog, and an imported CNN's filters show."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from PySide6.QtWidgets import QFileDialog

from playground.training.lessons import load_lesson

torch = pytest.importorskip("torch")


def _choose_folder(monkeypatch, folder):
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(lambda *a, **k: str(folder)))


def test_export_to_pytorch_writes_the_code_and_weights(make_window, monkeypatch, tmp_path):
    window = make_window(load_lesson("fc-mnist"))
    _choose_folder(monkeypatch, tmp_path)

    window.export_pytorch_action.trigger()

    assert {"model.py", "weights.pt", "train.py"} <= {path.name for path in tmp_path.iterdir()}
    message = window.statusBar().currentMessage()
    assert message.startswith("Wrote model.py, weights.pt, train.py") and "--" not in message
    saved = torch.load(tmp_path / "weights.pt", weights_only=True)
    np.testing.assert_array_equal(saved["fc1.weight"].numpy(), window.network.copy_state()["fc1.weight"])


def test_export_to_onnx_from_the_file_menu(make_window, monkeypatch, tmp_path):
    pytest.importorskip("onnx")
    window = make_window(load_lesson("cnn-mnist"))
    _choose_folder(monkeypatch, tmp_path)

    window.export_onnx_action.trigger()

    assert (tmp_path / "model.onnx").stat().st_size > 10_000


def test_a_training_setting_without_a_twin_writes_the_model_and_says_why_train_py_is_not(
    make_window, dialogs, monkeypatch, tmp_path
):
    """Truncated BPTT changes how the network learns, not what it computes: model.py and the weights
    are written, and the status bar says in one sentence why train.py is not; no dialog."""
    spec = load_lesson("rnn-vs-lstm")
    spec.training = replace(spec.training, bptt_steps=10)
    window = make_window(spec)
    _choose_folder(monkeypatch, tmp_path)

    window.export_to_pytorch()

    assert not dialogs.of("critical")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["model.py", "weights.pt"]
    message = window.statusBar().currentMessage()
    assert "train.py" in message and "bptt_steps" in message and "--" not in message


def test_an_imported_cnn_opens_with_its_filters(make_window, monkeypatch, tmp_path):
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 6, 5), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(6 * 24 * 24, 10)
    )
    torch.save(model.state_dict(), tmp_path / "cnn.pt")
    window = make_window()
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(tmp_path / "cnn.pt"), "")))

    window.import_model_action.trigger()

    assert [node.type for node in window.document.spec.nodes] == ["input", "conv2d", "flatten", "dense"]
    np.testing.assert_array_equal(window.network.copy_state()["layer0.weight"], model[0].weight.detach().numpy())
    board = window.dashboard
    board.show_panel("filters")
    board.refresh(force=True)
    mosaic = board.filters.blocks["layer0"].image.image
    assert np.isfinite(mosaic).any() and np.nanstd(mosaic) > 0
    assert window.statusBar().currentMessage().startswith("Imported cnn.pt")


def test_a_file_that_is_not_a_model_is_one_dialog(make_window, dialogs, tmp_path):
    window = make_window()
    before = [node.id for node in window.document.spec.nodes]
    (tmp_path / "notes.pt").write_bytes(b"not a state_dict")

    assert not window.import_model_file(tmp_path / "notes.pt")

    assert len(dialogs.of("critical")) == 1
    assert [node.id for node in window.document.spec.nodes] == before
