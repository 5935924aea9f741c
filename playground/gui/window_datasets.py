"""The window's Dataset menu: choose the data a network trains on, download MNIST-like sets, and
open the learner's own data (a folder of IDX files, a CSV file, a sentence-pairs file).

A mixin of ``MainWindow`` (like ``window_files``): it uses the window's ``document``, ``data``
(the ``DataStore``), ``settings``, ``state``, ``show_error`` and status bar.  A download runs in
a cancellable dialog; a set that is not downloaded is offered for download when chosen.  A
folder or file chosen here is read at once: a bad one gets the same one-line reason the command
line gives, in a dialog, and nothing changes.  The window remembers the chosen folders and files
(QSettings) for the next session.  No message here talks about command-line options.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QApplication, QFileDialog, QInputDialog, QMessageBox

from ..datasets import DatasetError, is_cached, load_pairs_tsv, window_message
from ..datasets.catalog import CATALOGUE, DOWNLOADABLE, names_of_kind
from ..datasets.csv_import import csv_columns
from ..datasets.remote import remote_dataset
from . import actions
from .downloads import DownloadDialog

#: the Dataset menu, in order (None: a separator); each entry's text is the catalogue's title
DATASET_MENU = (*DOWNLOADABLE, None, "digits", *names_of_kind("plane", "bits", "function"))
#: the sets read from a folder the learner chooses, and those read from a file
FOLDER_SETS = (*DOWNLOADABLE, "idx")
FILE_SETS = ("csv", "pairs")
#: the file dialogs' filters
FILE_FILTERS = {
    "csv": "CSV files (*.csv *.tsv *.txt);;All files (*)",
    "pairs": "Sentence pairs, source<TAB>target (*.tsv *.txt);;All files (*)",
}
#: the QSettings keys
FOLDER_KEY, FILE_KEY, LAST_DIR_KEY, ANSWER_KEY = "data/folder/", "data/file/", "data/last_folder", "data/answer/"


def ask_data_source(parent, label: str, megabytes: float = 0.0) -> str | None:
    """Ask how to get ``label`` (MNIST) that is neither downloaded nor chosen: "download",
    "folder", "digits", or None when the question is closed.  (Tests replace this function.)"""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Question)
    box.setWindowTitle(f"{label} is not on this computer")
    box.setText(f"This lesson trains on {label}, which is not on this computer yet.")
    box.setInformativeText(
        f"Download it (about {megabytes:.0f} MB, once), open a folder that already holds the {label} files, or "
        f"train on the built-in synthetic digits (far easier than {label}; the Dataset menu changes "
        f"this later)."
    )
    answers = {
        box.addButton(f"Download {label}", QMessageBox.AcceptRole): "download",
        box.addButton("Choose a folder…", QMessageBox.ActionRole): "folder",
        box.addButton("Use the synthetic digits", QMessageBox.RejectRole): "digits",
    }
    box.addButton(QMessageBox.Cancel)
    box.exec()
    return answers.get(box.clickedButton())


class WindowDatasets:
    """The Dataset menu, the downloads it starts and the folders and files it opens."""

    #: whether the first Train of an image lesson may ask where MNIST comes from (not in screenshots)
    ask_about_data = True

    def _add_dataset_menu(self, menu) -> None:
        self._restore_data_choices()
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
        self.open_data_actions = {
            name: actions.make_action(
                self,
                f"Open {CATALOGUE[name].label} folder…",
                lambda n=name: self.open_data_folder(n),
                tip=f"Train on {CATALOGUE[name].label} from a folder of IDX files on this computer",
            )
            for name in FOLDER_SETS
        }
        self.open_data_actions["csv"] = actions.make_action(
            self, "Open CSV file…", self.open_csv_file, tip="Train on a table: one column is the label"
        )
        self.open_data_actions["pairs"] = actions.make_action(
            self,
            "Open sentence-pairs file…",
            self.open_pairs_file,
            tip="Train an encoder-decoder on your own source<TAB>target lines",
        )
        menu.addActions(list(self.open_data_actions.values()))
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
                folder = self.data.folders.get(name)
                if folder is not None:
                    title = f"{title} ({folder.name})"
                elif not is_cached(name) and self.data.folder_for(name) is None:
                    title = f"{title} (download…)"
                action.setText(title)
        for action in self.open_data_actions.values():
            action.setEnabled(self.state == "idle")

    # --- remembered choices ----------------------------------------------------------------------
    def _restore_data_choices(self) -> None:
        """The folders and files chosen in an earlier session, where they still exist (a folder
        given when the window was started wins for this session)."""
        if self.data.data_dir is None:
            for name in FOLDER_SETS:
                folder = self.settings.value(FOLDER_KEY + name, "", type=str)
                if folder and Path(folder).is_dir():
                    self.data.folders[name] = Path(folder)
        for name in FILE_SETS:
            file = self.settings.value(FILE_KEY + name, "", type=str)
            if file and Path(file).is_file():
                self.data.files[name] = Path(file)

    def _start_folder(self, name: str) -> str:
        """Where a file dialog opens: the folder last chosen for ``name``, else the last one used."""
        known = self.data.folders.get(name) or self.data.files.get(name)
        if known is not None:
            return str(known.parent if known.is_file() else known)
        return self.settings.value(LAST_DIR_KEY, str(Path.home()), type=str)

    def _remember(self, key: str, path: Path) -> None:
        self.settings.setValue(key, str(path))
        self.settings.setValue(LAST_DIR_KEY, str(path if path.is_dir() else path.parent))
        self.settings.sync()

    # --- choosing a data set -----------------------------------------------------------------------
    def _refuse_while_training(self) -> bool:
        if self.state == "idle":
            return False
        self.statusBar().showMessage("Stop training before changing the dataset.", 5000)
        self._update_dataset_menu()
        return True

    def choose_dataset(self, name: str) -> None:
        if self._refuse_while_training():
            return
        missing = name in DOWNLOADABLE and not is_cached(name) and self.data.folder_for(name) is None
        if missing and not self.download_dataset(name):
            self._update_dataset_menu()
            return
        if self.document.set_dataset("name", name):
            self.statusBar().showMessage(
                f"Dataset: {name}. The network's input and output must fit it "
                f"(a mismatch is reported when training starts).",
                6000,
            )

    def _try_data(self, name: str, *, folder=None, file=None, **dataset_changes):
        """Read the data set ``name`` from ``folder`` or ``file`` now (the next run then finds it
        loaded); the Dataset, or None after a dialog with the reason, with nothing changed."""
        store = self.data
        old_folders, old_files = dict(store.folders), dict(store.files)
        if folder is not None:
            store.folders[name] = Path(folder)
        if file is not None:
            store.files[name] = Path(file)
        spec = self.document.spec
        settings = dataclasses.replace(spec.dataset, name=name, **dataset_changes)
        QApplication.setOverrideCursor(Qt.WaitCursor)
        try:
            if name == "pairs":
                return load_pairs_tsv(file, settings.token_level, seed=spec.training.seed)
            return store.get(settings, spec.training.seed, spec.training.train_limit)[0]
        except (DatasetError, OSError, ValueError, MemoryError) as error:
            store.folders, store.files = old_folders, old_files
            problem = window_message(error)
        finally:
            QApplication.restoreOverrideCursor()
        self.show_error(f"Cannot use {Path(folder or file).name}", problem)
        return None

    def _use(self, name: str, described: str, **dataset_changes) -> None:
        """Make the document's network train on ``name`` (with ``dataset_changes``), and say so."""
        for field_name, value in {"name": name, **dataset_changes}.items():
            if getattr(self.document.spec.dataset, field_name) != value:
                self.document.set_dataset(field_name, value)
        self.statusBar().showMessage(f"Dataset: {described}", 10000)

    def open_data_folder(self, name: str) -> bool:
        """Dataset ▸ Open MNIST folder… (or Fashion-MNIST, or any IDX pair): True when the
        network now trains on the chosen folder."""
        if self._refuse_while_training():
            return False
        label = CATALOGUE[name].label
        folder = QFileDialog.getExistingDirectory(
            self, f"Folder with the {label} IDX image and label files", self._start_folder(name)
        )
        if not folder:
            return False
        dataset = self._try_data(name, folder=folder)
        if dataset is None:
            return False
        self._remember(FOLDER_KEY + name, Path(folder))
        self._use(name, dataset.source)
        return True

    def open_csv_file(self) -> bool:
        """Dataset ▸ Open CSV file…: the file, then its label column from the header's columns."""
        if self._refuse_while_training():
            return False
        file, _ = QFileDialog.getOpenFileName(self, "Open a CSV table", self._start_folder("csv"), FILE_FILTERS["csv"])
        if not file:
            return False
        try:
            columns = csv_columns(file)
        except (DatasetError, OSError) as error:
            self.show_error(f"Cannot use {Path(file).name}", window_message(error))
            return False
        current = self.document.spec.dataset.label_column
        default = columns.index(current) if current in columns else len(columns) - 1
        column, ok = QInputDialog.getItem(
            self,
            "Label column",
            f"Which column of {Path(file).name} holds the label the network learns to predict?\n"
            f"The other columns are its inputs.",
            columns,
            default,
            False,
        )
        if not ok or not column:
            return False
        dataset = self._try_data("csv", file=file, label_column=column)
        if dataset is None:
            return False
        self._remember(FILE_KEY + "csv", Path(file))
        self._use("csv", dataset.source, label_column=column)
        return True

    def open_pairs_file(self) -> bool:
        """Dataset ▸ Open sentence-pairs file…: source<TAB>target lines for an encoder-decoder."""
        if self._refuse_while_training():
            return False
        file, _ = QFileDialog.getOpenFileName(
            self, "Open a sentence-pairs file", self._start_folder("pairs"), FILE_FILTERS["pairs"]
        )
        if not file:
            return False
        corpus = self._try_data("pairs", file=file)
        if corpus is None:
            return False
        self._remember(FILE_KEY + "pairs", Path(file))
        self._use("pairs", f"{corpus.description} (an encoder-decoder network trains on it)")
        return True

    # --- MNIST that is not here --------------------------------------------------------------------
    def ask_about_missing_data(self) -> bool:
        """Before a run of a network that names MNIST (or Fashion-MNIST) while it is neither
        downloaded nor chosen: ask once whether to download it, choose a folder, or use the
        synthetic digits, and remember the answer.  False when the run should not start."""
        name = self.document.spec.dataset.name
        if (
            not self.ask_about_data
            or self.document.analysis.problems  # it cannot train anyway
            or name not in DOWNLOADABLE
            or is_cached(name)
            or self.data.folder_for(name) is not None
            or self.settings.value(ANSWER_KEY + name, "", type=str)
        ):
            return True
        megabytes = sum(file.size for file in remote_dataset(name).files) / 1e6
        answer = ask_data_source(self, CATALOGUE[name].label, megabytes)
        if answer == "download":
            ready = self.download_dataset(name)
        elif answer == "folder":
            ready = self.open_data_folder(name)
        else:
            ready = answer == "digits"
        if ready:
            self.settings.setValue(ANSWER_KEY + name, answer)
            self.settings.sync()
        return ready

    def download_dataset(self, name: str, downloader=None) -> bool:
        """Download with a cancellable progress dialog; True when the data is then cached."""
        kwargs = {} if downloader is None else {"downloader": downloader}
        dialog = DownloadDialog(name, self, **kwargs)
        self._download = dialog
        dialog.exec()
        dialog.stop_and_join()
        self._download = None
        if dialog.chosen_folder is not None:  # the user's own copy of the files, chosen after a failure
            if self._try_data(name, folder=dialog.chosen_folder) is None:
                return False
            self._remember(FOLDER_KEY + name, dialog.chosen_folder)
            return True
        if dialog.error:
            self.show_error("Download failed", dialog.error)
            return False
        if dialog.result_ok:
            self.statusBar().showMessage(f"{dialog.title} downloaded; it now loads from the cache.", 6000)
            return True
        self.statusBar().showMessage("Download cancelled.", 4000)
        return False
