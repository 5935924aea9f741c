"""Data in the window: the Dataset menu opens a local MNIST folder, any IDX pair, a CSV file (with
its label column) and a sentence-pairs file through file dialogs; the choices are remembered; MNIST
that is not here is asked about once; bad files get the command line's one-line reason in a dialog
and change nothing; and no message talks about command-line options.

Every file dialog is replaced by a function returning the test's answer.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QFileDialog, QInputDialog

import playground.gui as gui_package
from playground.datasets import DatasetError, load_dataset, window_message
from playground.model import sequential_spec, with_overrides
from playground.runs.sequence import ModelBuilt
from playground.training import TrainingControl
from playground.training.data import load_training_data
from playground.training.lessons import load_lesson

#: what a message of the window must never say: the command line's options
CLI_WORDS = re.compile(r"--data-dir|--data-file|--label-column|--dataset|pass --|playground download")


def small_mnist_lesson():
    """vanishing-gradients on 200 images for one epoch: the run ends in a moment."""
    spec = load_lesson("vanishing-gradients")
    spec.training = with_overrides(spec.training, epochs=1, train_limit=200)
    return spec


def choose_folder(monkeypatch, folder):
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(lambda *args, **kwargs: str(folder)))


def choose_file(monkeypatch, file):
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *args, **kwargs: (str(file), "")))


def run_to_the_end(qtbot, window):
    window.train()
    qtbot.waitUntil(lambda: window._tick() is None and window.state == "idle", timeout=60000)


def test_choosing_the_shared_mnist_folder_makes_the_next_run_train_on_real_mnist(
    qtbot, make_window, monkeypatch, mnist_dir, dialogs
):
    window = make_window(small_mnist_lesson(), warm_up=False)
    choose_folder(monkeypatch, mnist_dir)
    assert window.open_data_folder("mnist")
    assert window.document.spec.dataset.name == "mnist"
    assert window.data.folder_for("mnist") == mnist_dir
    run_to_the_end(qtbot, window)
    assert not dialogs.calls  # neither the question nor an error
    label = window.dashboard_lab.data_label.text()
    assert "MNIST" in label and "instead" not in label and "ynthetic" not in label
    assert window.model.dataset.name == "mnist" and window.model.dataset.x_train.shape[1:] == (1, 28, 28)
    assert len(window.model.history) > 0
    # the next window remembers the folder
    settings = QSettings(window.settings.fileName(), QSettings.IniFormat)
    assert Path(settings.value("data/folder/mnist")) == mnist_dir
    again = make_window(small_mnist_lesson(), warm_up=False)
    assert again.data.folder_for("mnist") == mnist_dir


def test_a_folder_without_idx_files_is_refused_with_the_reason_and_nothing_changes(
    qtbot, make_window, monkeypatch, tmp_path, dialogs
):
    window = make_window(warm_up=False)
    before = window.document.spec
    (tmp_path / "empty").mkdir()
    choose_folder(monkeypatch, tmp_path / "empty")
    assert not window.open_data_folder("mnist")
    assert window.document.spec is before and window.data.folders == {}
    [(kind, title, text)] = dialogs.calls
    assert kind == "critical" and "empty" in title
    with pytest.raises(DatasetError) as caught:
        load_dataset("mnist", data_dir=tmp_path / "empty")
    assert text == str(caught.value)  # the command line's reason, word for word
    assert "\n" not in text and not CLI_WORDS.search(text)
    assert not window.settings.value("data/folder/mnist")


def test_any_idx_pair_opens_from_a_folder(qtbot, make_window, monkeypatch, mnist_dir, dialogs):
    window = make_window(small_mnist_lesson(), warm_up=False)
    choose_folder(monkeypatch, mnist_dir)
    assert window.open_data_folder("idx")
    assert window.document.spec.dataset.name == "idx" and not dialogs.calls
    run_to_the_end(qtbot, window)
    assert window.model.dataset.name == "idx" and "IDX" in window.dashboard_lab.data_label.text()


def write_csv(path: Path, rows: int = 60) -> Path:
    lines = ["width,height,kind"]
    for i in range(rows):
        width, height = (i % 7) / 7, (i % 5) / 5
        lines.append(f"{width:.3f},{height:.3f},{'tall' if height > width else 'wide'}")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_csv_file_opens_with_the_label_column_chosen_from_its_header(
    qtbot, make_window, monkeypatch, tmp_path, dialogs
):
    spec = sequential_spec([2, 8, 2], activation="tanh", output="softmax", cost="log-likelihood", initializer="xavier")
    window = make_window(spec, warm_up=False)
    file = write_csv(tmp_path / "shapes.csv")
    choose_file(monkeypatch, file)
    offered = {}

    def pick(parent, title, text, items, current, editable):
        offered["columns"], offered["current"] = list(items), current
        return "kind", True

    monkeypatch.setattr(QInputDialog, "getItem", staticmethod(pick))
    assert window.open_csv_file()
    assert offered["columns"] == ["width", "height", "kind"]
    assert window.document.spec.dataset.name == "csv" and window.document.spec.dataset.label_column == "kind"
    assert window.data.file_for("csv") == file
    run_to_the_end(qtbot, window)
    assert not dialogs.of("critical")
    assert window.model.dataset.name == "csv" and window.model.dataset.class_names == ["tall", "wide"]
    assert "CSV" in window.dashboard_lab.data_label.text()
    assert Path(window.settings.value("data/file/csv")) == file


def test_a_bad_csv_file_gets_one_line_in_a_dialog(qtbot, make_window, monkeypatch, tmp_path, dialogs):
    window = make_window(warm_up=False)
    before = window.document.spec
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b,label\n1,2,x\n3,oops,y\n")
    choose_file(monkeypatch, bad)
    monkeypatch.setattr(QInputDialog, "getItem", staticmethod(lambda *args: ("label", True)))
    assert not window.open_csv_file()
    assert window.document.spec is before and window.data.files == {}
    [(kind, _, text)] = dialogs.calls
    assert kind == "critical" and "line 3" in text and not CLI_WORDS.search(text)


def test_a_sentence_pairs_file_reaches_the_sequence_lab(qtbot, make_window, monkeypatch, tmp_path, dialogs):
    window = make_window(load_lesson("translate-numbers"), warm_up=False)
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("".join(f"{'a b c'[: 1 + i % 5]}\t{'x y z'[: 1 + i % 5]}\n" for i in range(40)))
    choose_file(monkeypatch, pairs)
    assert window.open_pairs_file()
    assert window.document.spec.dataset.name == "pairs" and window.data.file_for("pairs") == pairs
    assert not dialogs.calls
    # the lab's runner reads the chosen file (the family refuses a pairs set without one)
    lab = window.sequence_lab
    assert isinstance(next(iter(lab.runner(lab.chosen_spec(), TrainingControl(0.01)))), ModelBuilt)


def test_mnist_that_is_not_here_is_asked_about_once(qtbot, make_window, dialogs):
    window = make_window(small_mnist_lesson(), warm_up=False)
    dialogs.data_answer = None  # closed: nothing starts
    window.train()
    assert window.state == "idle" and dialogs.calls == [("data source", "MNIST", "")]
    dialogs.data_answer = "digits"
    run_to_the_end(qtbot, window)
    assert len(dialogs.of("data source")) == 2
    assert "instead" in window.dashboard_lab.data_label.text()  # the synthetic digits, said so
    assert not CLI_WORDS.search(window.dashboard_lab.data_label.toolTip())
    run_to_the_end(qtbot, window)
    assert len(dialogs.of("data source")) == 2  # remembered: not asked again
    assert window.settings.value("data/answer/mnist") == "digits"


def test_the_question_can_be_answered_with_a_folder(qtbot, make_window, monkeypatch, mnist_dir, dialogs):
    window = make_window(small_mnist_lesson(), warm_up=False)
    dialogs.data_answer = "folder"
    choose_folder(monkeypatch, mnist_dir)
    run_to_the_end(qtbot, window)
    assert window.model.dataset.name == "mnist" and "instead" not in window.dashboard_lab.data_label.text()


def test_the_window_says_nothing_about_command_line_options(qtbot, make_window, dialogs):
    # a set that needs a folder, trained without one: the run's error is in the window's words
    spec = small_mnist_lesson()
    spec.dataset = with_overrides(spec.dataset, name="idx")
    window = make_window(spec, warm_up=False)
    run_to_the_end(qtbot, window)
    [(_, _, text)] = dialogs.of("critical")
    assert "folder" in text and not CLI_WORDS.search(text)
    _, note = load_training_data(load_lesson("vanishing-gradients").dataset, seed=0, window=True)
    assert "synthetic" in note and not CLI_WORDS.search(note)
    _, cli_note = load_training_data(load_lesson("vanishing-gradients").dataset, seed=0)
    assert "--data-dir" in cli_note  # the command line keeps its own wording
    # and no text in the window's code names an option
    for path in Path(gui_package.__file__).parent.rglob("*.py"):
        if path.name not in ("app.py", "bench.py"):
            assert not CLI_WORDS.search(path.read_text()), path


@pytest.mark.parametrize("name", ["csv", "pairs"])
def test_file_sets_without_a_file_are_explained_in_the_windows_words(name):
    from playground.training.seq2seq import load_pair_corpus

    with pytest.raises(DatasetError) as caught:
        if name == "csv":
            load_dataset("csv")
        else:
            load_pair_corpus(with_overrides(load_lesson("translate-numbers").dataset, name="pairs"), seed=0)
    assert "--data-file" in str(caught.value)
    assert not CLI_WORDS.search(window_message(caught.value)) and "Dataset ▸" in window_message(caught.value)
