"""The download dialog never makes the window wait, says when a mirror has stalled, and
offers to retry or to use a local folder after a failure."""

import threading
import time

from PySide6.QtWidgets import QFileDialog, QMessageBox

from playground.datasets import DatasetError
from playground.gui import downloads
from playground.gui.downloads import DownloadDialog


def test_cancel_returns_at_once_while_the_download_is_blocked(qtbot):
    release = threading.Event()

    def blocked(name, progress=None, cancel=None):
        release.wait(10)  # a read that ignores cancel, as a stuck socket would
        return None

    dialog = DownloadDialog("mnist", downloader=blocked)
    qtbot.addWidget(dialog)
    started = time.perf_counter()
    dialog.cancel()
    dialog.stop_and_join()
    assert time.perf_counter() - started < 0.5
    assert not dialog.result_ok
    thread = dialog.thread_
    assert thread in downloads._finishing  # kept alive, owned by nobody, until it ends
    release.set()
    qtbot.waitUntil(lambda: thread not in downloads._finishing, timeout=5000)


def test_the_dialog_says_when_no_data_arrives(qtbot, monkeypatch):
    release = threading.Event()
    monkeypatch.setattr(downloads, "STALL_NOTICE_S", 0.2)

    def silent(name, progress=None, cancel=None):
        progress(100, 1000)
        release.wait(10)
        return None

    dialog = DownloadDialog("mnist", downloader=silent)
    qtbot.addWidget(dialog)
    try:
        qtbot.waitUntil(lambda: "may be stalled" in dialog.labelText(), timeout=5000)
        assert "No data for" in dialog.labelText()
    finally:
        release.set()
        dialog.thread_.wait(5000)


def test_a_failure_offers_retry_and_retrying_can_succeed(qtbot, monkeypatch, tmp_path):
    answers = [QMessageBox.Retry]
    asked = []
    monkeypatch.setattr(
        QMessageBox, "warning", staticmethod(lambda parent, title, text, *rest: asked.append(text) or answers.pop(0))
    )
    attempts = []

    def flaky(name, progress=None, cancel=None):
        attempts.append(name)
        if len(attempts) == 1:
            raise DatasetError("the mirror stalled")
        return tmp_path

    dialog = DownloadDialog("mnist", downloader=flaky)
    qtbot.addWidget(dialog)
    dialog.exec()
    dialog.stop_and_join()
    assert len(attempts) == 2 and "the mirror stalled" in asked[0] and "Try again" in asked[0]
    assert dialog.result_ok and dialog.error is None


def test_a_failure_can_be_answered_with_a_local_folder(qtbot, monkeypatch, tmp_path):
    monkeypatch.setattr(QMessageBox, "warning", staticmethod(lambda *args: QMessageBox.Open))
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(lambda *args: str(tmp_path)))

    def offline(name, progress=None, cancel=None):
        raise DatasetError("no mirror reachable")

    dialog = DownloadDialog("mnist", downloader=offline)
    qtbot.addWidget(dialog)
    dialog.exec()
    dialog.stop_and_join()
    assert dialog.chosen_folder == tmp_path and dialog.error is None


def test_the_window_uses_the_chosen_folder(make_window, monkeypatch, mnist_dir):
    monkeypatch.setattr(QMessageBox, "warning", staticmethod(lambda *args: QMessageBox.Open))
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(lambda *args: str(mnist_dir)))
    window = make_window()

    def offline(name, progress=None, cancel=None):
        raise DatasetError("no mirror reachable")

    assert window.download_dataset("mnist", downloader=offline)
    assert window.data.folder_for("mnist") == mnist_dir
