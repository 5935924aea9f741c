"""The window's files: open, save, export, recent files, autosave and recovery.

A mixin of ``MainWindow``, kept apart because files are one concern with rules of their own:
a failed open changes nothing (one dialog; ``MainWindow._replace`` builds everything
before it changes anything), a project keeps the weights and history only when they belong
to the network on the canvas, and autosave writes in the background so a learner never
waits.  It uses the window's ``document``, ``settings``, ``file_path``, ``trained_since_save``,
``current_lab()``, ``_replace(...)``, ``show_error`` and status bar.
"""

from __future__ import annotations

import base64
import contextlib
import os
import threading
import time
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox

from ..files import failure_message
from ..interop import export_onnx, export_pytorch, import_model
from ..interop.sources import exported_weights, generated_examples
from ..model import save_spec
from ..model.project import Project, open_file, save_project
from ..runs.jobs import run_signature
from .dashboard import metrics_csv
from .widgets import call_off_gui_thread

MAX_RECENT = 8
#: how a recent file whose name is not valid UTF-8 is stored (its bytes, base64-encoded): QSettings
#: keeps text only and drops undecodable bytes, which left an entry pointing nowhere.  A stored
#: path is absolute, so it never begins with this by itself.
_BYTES_PREFIX = "b64:"


def _stored(path: str) -> str:
    """``path`` as QSettings can keep it without loss: itself, or its bytes in base64."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:  # os.fsdecode kept undecodable bytes as lone surrogates
        return _BYTES_PREFIX + base64.b64encode(os.fsencode(path)).decode("ascii")
    return path


def _restored(value) -> str:
    """The path that ``_stored`` stored (entries written before it are plain text)."""
    text = str(value)
    if text.startswith(_BYTES_PREFIX):
        with contextlib.suppress(ValueError):
            return os.fsdecode(base64.b64decode(text[len(_BYTES_PREFIX) :], validate=True))
    return text


def _shown(text: str) -> str:
    """A path as Qt can show it: undecodable bytes become U+FFFD, which Qt would drop silently."""
    return os.fsencode(text).decode("utf-8", "replace")


class WindowFiles:
    """File › Open, Save, Save As, Export and Open Recent; autosave and the offer to recover."""

    def show_error(self, title: str, message: str) -> None:
        """One dialog, one message, no traceback."""
        QMessageBox.critical(self, title, message)

    def _confirm_discard(self, doing: str) -> bool:
        """Ask about unsaved changes; False when the user cancels."""
        if not self.is_modified():
            return True
        answer = QMessageBox.question(
            self,
            "Unsaved changes",
            f"The current network has unsaved changes. Save them before {doing}?",
            QMessageBox.Save | QMessageBox.Discard | QMessageBox.Cancel,
            QMessageBox.Save,
        )
        if answer == QMessageBox.Save:
            return self.save()
        return answer == QMessageBox.Discard

    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open project or network", self._last_folder(), "Projects and networks (*.npz *.json);;All files (*)"
        )
        if path:
            self.open_path(path)

    def open_path(self, path: str | Path, *, ask: bool = True) -> bool:
        """Open a project (.npz) or a network file (.json); on any problem one dialog, nothing changed."""
        path = Path(path)
        try:  # read and checked off the GUI thread: a hostile file may take a while to refuse
            project = call_off_gui_thread(self, open_file, path)
        except Exception as error:  # noqa: BLE001 - a ProjectError, or a file that exhausts memory or recursion
            self.show_error("Cannot open the file", failure_message(error, path))
            return False
        if ask and not self._confirm_discard("opening another file"):
            return False
        if not self._replace(project.spec, project.weights, project.history, path):
            return False
        self._add_recent(path)
        self.statusBar().showMessage(f"Opened {path.name}", 5000)
        return True

    def _project(self) -> Project:
        """The current work as a project: the weights and history only when they belong to the
        network on the canvas (those the lab's latest run left, or the opened project's)."""
        spec = self.document.spec
        lab = self.current_lab()
        trained_spec = lab.trained_spec()
        if trained_spec is None or run_signature(trained_spec) != run_signature(spec):
            return Project(spec)
        return Project(spec, lab.trained_state(), lab.trained_history())

    def save(self) -> bool:
        if self.file_path is None or self.file_path.suffix.lower() != ".npz":
            return self.save_as()
        return self.save_to(self.file_path)

    def save_as(self) -> bool:
        suggested = str(Path(self._last_folder()) / f"{self.document.spec.name or 'untitled'}.npz")
        path, _ = QFileDialog.getSaveFileName(self, "Save project", suggested, "Playground projects (*.npz)")
        if not path:
            return False
        path = Path(path)
        if path.suffix.lower() != ".npz":
            path = path.with_suffix(path.suffix + ".npz")
        return self.save_to(path)

    def save_to(self, path: str | Path) -> bool:
        path = Path(path)
        try:
            save_project(path, self._project())
        except OSError as error:
            self.show_error("Cannot save", f"{path}: {error.strerror or error}")
            return False
        self.file_path = path
        self.document.mark_saved()
        self.trained_since_save = False
        self._add_recent(path)
        self._update_title()
        self.statusBar().showMessage(f"Saved {path.name}", 4000)
        return True

    def save_network_json(self) -> None:
        suggested = str(Path(self._last_folder()) / f"{self.document.spec.name or 'network'}.json")
        path, _ = QFileDialog.getSaveFileName(self, "Save network", suggested, "Network files (*.json)")
        if path:
            try:
                save_spec(self.document.spec, path)
            except OSError as error:
                self.show_error("Cannot save", f"{path}: {error.strerror or error}")

    def export_plot(self) -> None:
        dashboard = self.dashboard
        panel = dashboard.current_panel()
        name = dashboard.tabText(dashboard.currentIndex()).replace("&&", "and").replace(" ", "-").lower()
        path, _ = QFileDialog.getSaveFileName(
            self, "Export plot", str(Path(self._last_folder()) / f"{name}.png"), "PNG images (*.png)"
        )
        if path:
            try:
                dashboard.export_png(path, panel)
            except Exception as error:  # noqa: BLE001 - one dialog, whatever the exporter raises
                self.show_error("Cannot export", f"{path}: {error}")

    def export_csv(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export metrics", str(Path(self._last_folder()) / "metrics.csv"), "CSV files (*.csv)"
        )
        if path:
            try:
                Path(path).write_text(metrics_csv(self.model.history), encoding="utf-8")
            except OSError as error:
                self.show_error("Cannot export", f"{path}: {error.strerror or error}")

    # --- leaving the playground and coming back ----------------------------------------------------
    def export_to_pytorch(self) -> None:
        self._export("PyTorch", "pytorch")

    def export_to_onnx(self) -> None:
        self._export("ONNX", "onnx")

    def _export(self, what: str, kind: str) -> None:
        """Write the network on the canvas, with the weights it has (or would start from), into a
        folder; one dialog naming the layer and why when it cannot, nothing half-written."""
        folder = QFileDialog.getExistingDirectory(self, f"Export to {what}: choose a folder", self._last_folder())
        if not folder:
            return
        project = self._project()
        name = self.file_path.name if self.file_path is not None else f'"{project.spec.name or "untitled"}"'

        def export():
            weights = exported_weights(project.spec, project.weights)
            if kind == "onnx":
                return export_onnx(project.spec, weights, folder, f"the window's network {name}")
            return export_pytorch(
                project.spec, weights, folder, f"the window's network {name}", generated_examples(project.spec)
            )

        try:
            exported = call_off_gui_thread(self, export)
        except Exception as error:  # noqa: BLE001 - an InteropError, or a folder that cannot be written
            self.show_error(f"Cannot export to {what}", failure_message(error))
            return
        notes = " ".join(exported.notes)
        self.statusBar().showMessage(f"Wrote {', '.join(exported.files)} into {folder}. {notes}".strip(), 10000)

    def import_model_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self,
            "Import a model trained elsewhere",
            self._last_folder(),
            "PyTorch state_dicts and ONNX models (*.pt *.pth *.onnx);;All files (*)",
        )
        if path:
            self.import_model_file(path)

    def import_model_file(self, path: str | Path) -> bool:
        """Open a state_dict (as a plain MLP or CNN) or an ONNX model on the canvas with its weights;
        on any problem one dialog, nothing changed."""
        path = Path(path)
        try:
            imported = call_off_gui_thread(self, import_model, path)
        except Exception as error:  # noqa: BLE001 - an InteropError, or a file that exhausts memory
            self.show_error("Cannot import the model", failure_message(error, path))
            return False
        if not self._confirm_discard("importing a model"):
            return False
        if not self._replace(imported.spec, imported.weights, None, None):
            return False
        self.statusBar().showMessage(f"Imported {imported.description}", 10000)
        return True

    # --- recent files -----------------------------------------------------------------------------
    def _last_folder(self) -> str:
        recent = self.recent_files()
        return str(Path(recent[0]).parent) if recent else str(Path.home())

    def recent_files(self) -> list[str]:
        value = self.settings.value("recentFiles", [])
        if isinstance(value, str):
            value = [value]
        return [_restored(v) for v in (value or [])]

    def _add_recent(self, path: Path) -> None:
        path = str(Path(path).resolve())
        files = [path] + [p for p in self.recent_files() if p != path]
        self.settings.setValue("recentFiles", [_stored(p) for p in files[:MAX_RECENT]])

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        files = self.recent_files()
        for index, path in enumerate(files):
            action = self.recent_menu.addAction(f"&{index + 1} {_shown(Path(path).name)}")
            action.setToolTip(_shown(path))
            action.triggered.connect(lambda _=False, p=path: self.open_path(p))
        if not files:
            self.recent_menu.addAction("No recent files").setEnabled(False)
        else:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear list", lambda: self.settings.setValue("recentFiles", []))

    # --- autosave and recovery ------------------------------------------------------------------
    def autosave(self) -> None:
        """Write the current work to the data folder (in the background) if it changed."""
        if not self.autosave_enabled or not self.is_modified():
            return
        if self._autosave_thread is not None and self._autosave_thread.is_alive():
            return
        project = self._project()
        if project.history is not None:
            project.history = project.history.copy()
        path = self.autosave_path

        def write():
            with contextlib.suppress(
                OSError
            ):  # a full disk must not interrupt the learner: the next autosave tries again
                save_project(path, project)

        self._autosave_thread = threading.Thread(target=write, name="playground-autosave", daemon=True)
        self._autosave_thread.start()

    def offer_recovery(self) -> None:
        path = self.autosave_path
        if not path.exists():
            return
        stamp = time.strftime("%Y-%m-%d %H:%M", time.localtime(path.stat().st_mtime))
        answer = QMessageBox.question(
            self,
            "Recover unsaved work?",
            f"The playground did not close normally last time. Recover the work saved automatically at {stamp}?",
            QMessageBox.Yes | QMessageBox.No,
            QMessageBox.Yes,
        )
        if answer != QMessageBox.Yes:
            path.unlink(missing_ok=True)
            return
        try:
            project = open_file(path)
        except Exception as error:  # noqa: BLE001 - as in open_path: one dialog, nothing changed
            self.show_error("Cannot recover", failure_message(error, path))
            return
        if self._replace(project.spec, project.weights, project.history, None):
            self.trained_since_save = True  # recovered work is not saved anywhere yet
            self._update_title()
