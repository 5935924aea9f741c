"""MNIST and Fashion-MNIST one action away: the app's downloader, off the GUI thread,
behind a progress dialog that can be cancelled.

The GUI thread never waits on a download: Cancel returns at once, and a download thread
still finishing (the downloader stops within a tenth of a second of a cancel, but a
downloader passed in may not) is kept alive, unowned, until it ends on its own.  While no
data arrives the dialog says so, and a failed download offers to retry or to use a local
folder that already holds the files.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import Qt, QThread, QTimer
from PySide6.QtWidgets import QFileDialog, QMessageBox, QProgressDialog

from .. import budgets
from ..datasets import DatasetError, DownloadCancelled, download, window_message
from ..datasets.remote import remote_dataset

#: After this long without data the dialog says the mirror may be stalled.
STALL_NOTICE_S = 5
#: Threads told to stop but not finished yet; held here so none is destroyed while running.
_finishing: set[QThread] = set()


class DownloadThread(QThread):
    """Runs ``download(name)``; the window polls ``done``/``total`` and sets ``cancelled``."""

    def __init__(self, name: str, parent=None, downloader=download):
        super().__init__(parent)
        self.name = name
        self.downloader = downloader
        self.done = 0
        self.total = 0
        self.last_data = time.monotonic()
        self.cancelled = False
        self.error: str | None = None
        self.was_cancelled = False
        self.folder = None

    def _progress(self, done: int, total: int) -> None:
        if done != self.done:
            self.last_data = time.monotonic()
        self.done, self.total = done, total

    def run(self) -> None:
        try:
            self.folder = self.downloader(self.name, progress=self._progress, cancel=lambda: self.cancelled)
        except DownloadCancelled:
            self.was_cancelled = True
        except DatasetError as error:
            self.error = window_message(error)
        except Exception as error:  # noqa: BLE001 - shown to the user as one line
            self.error = f"the download failed: {error.__class__.__name__}: {error}"


class DownloadDialog(QProgressDialog):
    """Modal progress for one download; ``result_ok`` says whether the data is now cached, and
    ``chosen_folder`` is a local folder of the files the user picked instead."""

    def __init__(self, name: str, parent=None, downloader=download):
        try:
            title = remote_dataset(name).display_name
        except (DatasetError, KeyError):
            title = name
        super().__init__(f"Downloading {title}…", "Cancel", 0, 1000, parent)
        self.setWindowTitle("Download")
        self.setWindowModality(Qt.WindowModal)
        self.setMinimumDuration(0)
        self.setAutoClose(False)
        self.setAutoReset(False)
        self.title = title
        self.name = name
        self.downloader = downloader
        self.chosen_folder: Path | None = None
        self.canceled.connect(self._cancel)
        self._poll = QTimer(self)
        self._poll.timeout.connect(self._update)
        self._start()

    def _start(self) -> None:
        self.thread_ = DownloadThread(self.name, self, self.downloader)
        self.thread_.finished.connect(self._finished)
        self._poll.start(100)
        self.thread_.start()

    def _cancel(self) -> None:
        self.thread_.cancelled = True
        self.setLabelText("Cancelling…")

    def _update(self) -> None:
        t = self.thread_
        text = f"Downloading {self.title}…"
        if t.total:
            self.setValue(int(1000 * t.done / t.total))
            text += f" {t.done / 1e6:.1f} of {t.total / 1e6:.1f} MB"
        quiet = time.monotonic() - t.last_data
        if quiet >= STALL_NOTICE_S:
            text += (
                f"\nNo data for {quiet:.0f} s: the mirror may be stalled "
                f"(it is given up after {budgets.DOWNLOAD_STALL_S} s without data)."
            )
        self.setLabelText(text)

    def _finished(self) -> None:
        if self.sender() is not self.thread_:
            return  # a thread this dialog already let go of
        self._poll.stop()
        if self.thread_.error is not None and self._offer_retry():
            return
        self.done(0)

    def _offer_retry(self) -> bool:
        """Ask what to do about a failed download; True when a retry has started."""
        answer = QMessageBox.warning(
            self,
            "Download failed",
            f"{self.thread_.error}\n\nTry again, or use a folder on this computer that holds the {self.title} files?",
            QMessageBox.Retry | QMessageBox.Open | QMessageBox.Close,
            QMessageBox.Retry,
        )
        if answer == QMessageBox.Retry:
            self._let_go(self.thread_)
            self.setValue(0)
            self._start()
            return True
        if answer == QMessageBox.Open:
            folder = QFileDialog.getExistingDirectory(self, f"Folder with the {self.title} IDX files")
            if folder:
                self.chosen_folder = Path(folder)
                self.thread_.error = None
        elif answer == QMessageBox.Close:
            self.thread_.error = None  # the user has read it: no second dialog with the same words
            self.thread_.was_cancelled = True
        return False

    @staticmethod
    def _let_go(thread: DownloadThread) -> None:
        """Hold a thread that is still running until it finishes, owned by nobody."""
        if thread.isRunning():
            thread.setParent(None)
            _finishing.add(thread)
            thread.finished.connect(lambda: (thread.wait(), _finishing.discard(thread)))

    def stop_and_join(self) -> None:
        """Ask the download to stop and return at once: the GUI thread never waits on it."""
        self.thread_.cancelled = True
        self._poll.stop()
        self._let_go(self.thread_)

    @property
    def error(self) -> str | None:
        return self.thread_.error

    @property
    def result_ok(self) -> bool:
        t = self.thread_
        return not t.isRunning() and t.error is None and not t.was_cancelled and t.folder is not None
