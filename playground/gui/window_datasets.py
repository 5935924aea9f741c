"""The window's Dataset menu: choose the data a network trains on, download MNIST-like sets.

A mixin of ``MainWindow`` (like ``window_files``): it uses the window's ``document``, ``data``
(the ``DataStore``), ``state``, ``show_error`` and status bar.  A download runs in a
cancellable dialog; a set that is not downloaded is offered for download when chosen.
"""

from __future__ import annotations

from PySide6.QtGui import QAction, QActionGroup

from ..datasets import is_cached
from ..datasets.catalog import CATALOGUE, DOWNLOADABLE, names_of_kind
from . import actions
from .downloads import DownloadDialog

#: the Dataset menu, in order (None: a separator); each entry's text is the catalogue's title
DATASET_MENU = (*DOWNLOADABLE, None, "digits", *names_of_kind("plane", "bits", "function"))


class WindowDatasets:
    """The Dataset menu and the downloads it starts."""

    def _add_dataset_menu(self, menu) -> None:
        self.dataset_menu = menu
        self.dataset_group = QActionGroup(self)
        self.dataset_actions = {}
        for name in DATASET_MENU:
            if name is None:
                menu.addSeparator()
                continue
            action = QAction(CATALOGUE[name].title, self)
            action.setCheckable(True)
            action.triggered.connect(lambda _=False, n=name: self.choose_dataset(n))
            self.dataset_group.addAction(action)
            menu.addAction(action)
            self.dataset_actions[name] = action
        menu.addSeparator()
        self.download_actions = {
            name: actions.make_action(
                self, f"Download {CATALOGUE[name].label}…", lambda n=name: self.download_dataset(n)
            )
            for name in DOWNLOADABLE
        }
        menu.addActions(list(self.download_actions.values()))
        menu.aboutToShow.connect(self._update_dataset_menu)

    def _update_dataset_menu(self) -> None:
        current = self.document.spec.dataset.name
        for name, action in self.dataset_actions.items():
            action.setChecked(name == current)
            if name in DOWNLOADABLE:
                title = CATALOGUE[name].title
                action.setText(title if is_cached(name) else f"{title} (download…)")

    def choose_dataset(self, name: str) -> None:
        if self.state != "idle":
            self.statusBar().showMessage("Stop training before changing the dataset.", 5000)
            self._update_dataset_menu()
            return
        missing = name in DOWNLOADABLE and not is_cached(name) and self.data.data_dir is None
        if missing and not self.download_dataset(name):
            self._update_dataset_menu()
            return
        if self.document.set_dataset("name", name):
            self.statusBar().showMessage(
                f"Dataset: {name}. The network's input and output must fit it "
                f"(a mismatch is reported when training starts).",
                6000,
            )

    def download_dataset(self, name: str, downloader=None) -> bool:
        """Download with a cancellable progress dialog; True when the data is then cached."""
        kwargs = {} if downloader is None else {"downloader": downloader}
        dialog = DownloadDialog(name, self, **kwargs)
        self._download = dialog
        dialog.exec()
        dialog.stop_and_join()
        self._download = None
        if dialog.chosen_folder is not None:  # the user's own copy of the files, chosen after a failure
            self.data.data_dir = dialog.chosen_folder
            return True
        if dialog.error:
            self.show_error("Download failed", dialog.error)
            return False
        if dialog.result_ok:
            self.statusBar().showMessage(f"{dialog.title} downloaded; it now loads from the cache.", 6000)
            return True
        self.statusBar().showMessage("Download cancelled.", 4000)
        return False
