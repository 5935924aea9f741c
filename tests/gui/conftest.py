"""GUI tests run offscreen: with no display and no platform set, Qt would abort the whole run."""

import os

import pytest

if not os.environ.get("DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(autouse=True)
def empty_clipboard_after_each_test():
    """Clear the clipboard before Qt shuts down: the offscreen platform segfaults at exit
    when the clipboard still owns mime data that a test put there."""
    yield
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is not None:
        app.clipboard().clear()


class Dialogs:
    """Records QMessageBox calls instead of showing them; ``answer`` is what question() returns."""

    def __init__(self):
        from PySide6.QtWidgets import QMessageBox

        self.calls: list[tuple[str, str, str]] = []
        self.answer = QMessageBox.Discard
        #: what the window's "where does MNIST come from?" question returns
        self.data_answer = "digits"

    def install(self, monkeypatch):
        from PySide6.QtWidgets import QMessageBox

        for kind in ("critical", "warning", "information", "about"):
            monkeypatch.setattr(
                QMessageBox,
                kind,
                staticmethod(lambda parent, title, text, *rest, k=kind: self.calls.append((k, title, text))),
            )
        monkeypatch.setattr(
            QMessageBox,
            "question",
            staticmethod(
                lambda parent, title, text, *rest: self.calls.append(("question", title, text)) or self.answer
            ),
        )

        import playground.gui.window_datasets as window_datasets

        monkeypatch.setattr(
            window_datasets,
            "ask_data_source",
            lambda parent, label, megabytes=0.0: self.calls.append(("data source", label, "")) or self.data_answer,
        )

    def of(self, kind):
        return [call for call in self.calls if call[0] == kind]


@pytest.fixture
def dialogs(monkeypatch):
    """No dialog ever blocks a test: each one is recorded instead."""
    recorder = Dialogs()
    recorder.install(monkeypatch)
    return recorder


@pytest.fixture
def make_window(qtbot, tmp_path, dialogs):
    """Builds main windows with their own settings and autosave folder, and at teardown stops
    and joins each one's worker: a running QThread must never be collected."""
    from PySide6.QtCore import QSettings

    from playground.gui.main_window import MainWindow
    from playground.training.lessons import load_lesson

    windows = []

    def make(spec=None, **options):
        settings = QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)
        options.setdefault("autosave_dir", tmp_path / "autosave")
        options.setdefault("offer_recovery", False)
        options.setdefault("warm_up", False)  # compiling each lesson's kernels is tested on its own
        window = MainWindow(spec or load_lesson("toy-2d"), settings=settings, **options)
        qtbot.addWidget(window)
        windows.append(window)
        window.show()
        return window

    yield make
    for window in windows:
        window.shutdown()
        assert not window.thread.isRunning()


@pytest.fixture
def doc(qapp):
    """An editor document holding Nielsen's 784-30-10 network."""
    from playground.gui.editor import Document

    from .helpers import mlp

    return Document(mlp(784, 30, 10))
