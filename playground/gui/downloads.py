"""MNIST and Fashion-MNIST one action away: the app's downloader, off the GUI thread,
behind a progress dialog that can be cancelled."""
from __future__ import annotations

from PySide6.QtCore import QThread, QTimer, Qt
from PySide6.QtWidgets import QProgressDialog

from ..datasets import DatasetError, DownloadCancelled, download
from ..datasets.remote import remote_dataset


class DownloadThread(QThread):
    """Runs ``download(name)``; the window polls ``done``/``total`` and sets ``cancelled``."""

    def __init__(self, name: str, parent=None, downloader=download):
        super().__init__(parent)
        self.name = name
        self.downloader = downloader
        self.done = 0
        self.total = 0
        self.cancelled = False
        self.error: str | None = None
        self.was_cancelled = False
        self.folder = None

    def _progress(self, done: int, total: int) -> None:
        self.done, self.total = done, total

    def run(self) -> None:
        try:
            self.folder = self.downloader(self.name, progress=self._progress, cancel=lambda: self.cancelled)
        except DownloadCancelled:
            self.was_cancelled = True
        except DatasetError as error:
            self.error = str(error)
        except Exception as error:  # noqa: BLE001 - shown to the user as one line
            self.error = f"the download failed: {error.__class__.__name__}: {error}"


class DownloadDialog(QProgressDialog):
    """Modal progress for one download; ``result_ok`` says whether the data is now cached."""

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
        self.thread_ = DownloadThread(name, self, downloader)
        self.thread_.finished.connect(self._finished)
        self.canceled.connect(self._cancel)
        self._poll = QTimer(self)
        self._poll.timeout.connect(self._update)
        self._poll.start(100)
        self.thread_.start()

    def _cancel(self) -> None:
        self.thread_.cancelled = True
        self.setLabelText("Cancelling…")

    def _update(self) -> None:
        t = self.thread_
        if t.total:
            self.setValue(int(1000 * t.done / t.total))
            self.setLabelText(f"Downloading {self.title}… {t.done / 1e6:.1f} of {t.total / 1e6:.1f} MB")

    def _finished(self) -> None:
        self._poll.stop()
        self.done(0)

    def stop_and_join(self) -> None:
        self.thread_.cancelled = True
        self.thread_.wait()

    @property
    def error(self) -> str | None:
        return self.thread_.error

    @property
    def result_ok(self) -> bool:
        t = self.thread_
        return not t.isRunning() and t.error is None and not t.was_cancelled and t.folder is not None
