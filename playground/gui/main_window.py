"""The main window: the network editor, the lesson, the toolbar, and the lab that trains and shows
the network on the canvas.

Who owns what:
  * the editor's ``Document`` owns the network description (undoable edits);
  * each family of networks has a *lab* (the family registry names it): the dashboard for
    feed-forward networks, the sequence lab, the RBM lab.  A lab owns its worker, its trainer
    runs and its views; the window shows the lab of the network on the canvas and drives it
    through the one API every lab has (``lab.LabBase``).  While a run goes on the document is
    locked, so the network cannot change under the trainer;
  * the window keeps the file (``window_files``), the actions and menus (declared as data in
    ``actions``), the learning rate box and the status bar.
"""

from __future__ import annotations

import threading
from pathlib import Path

from platformdirs import user_data_dir
from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtWidgets import QLabel, QMainWindow, QMessageBox, QSplitter, QStackedWidget

from ..files import failure_message
from ..model import empty_spec
from ..model.network_file import lesson_pace
from ..runs.data import DataStore
from ..training.families import RunOptions, family_of
from ..training.lessons import load_lesson
from ..training.warmup import start_warm_up, wait_for_warm_ups
from . import actions
from .dashboard_lab import DashboardLab, network_for, preferred_panel
from .editor import CanvasView, Document, InspectorWidget, PaletteWidget, layer_colors_for
from .explain import explain
from .lesson_panel import LessonPanel
from .lessons_menu import fill_lessons_menu
from .rbm_lab import RBMLab
from .sequence_lab import SequenceLab
from .widgets import LearningRateBox, PaceBox, add_dock
from .window_datasets import WindowDatasets
from .window_files import WindowFiles

APP_TITLE = "Deep Learning Playground"
DEFAULT_LESSON = "vanishing-gradients"
AUTOSAVE_MS = 3 * 60 * 1000


class MainWindow(WindowFiles, WindowDatasets, QMainWindow):
    def __init__(
        self,
        spec=None,
        *,
        settings: QSettings | None = None,
        autosave_dir: str | Path | None = None,
        data_dir: str | Path | None = None,
        autosave: bool = True,
        offer_recovery: bool = True,
        autosave_ms: int = AUTOSAVE_MS,
        warm_up: bool = True,
        parent=None,
    ):
        super().__init__(parent)
        spec = spec or load_lesson(DEFAULT_LESSON)
        self.settings = settings or QSettings("playground", "playground")
        self.autosave_path = Path(autosave_dir or user_data_dir("playground", "playground")) / "autosave.npz"
        self.data = DataStore(data_dir)
        # no Qt parent: the window's actions (undo, redo) must go before the document's undo
        # stack, whose destructor still emits signals to them
        self.document = Document(spec)
        self.file_path: Path | None = None
        self.trained_since_save = False
        self._autosave_thread: threading.Thread | None = None
        self._download = None  # the download dialog, while one is open
        self._closing = False
        self.prompt_on_close = True

        self._build_views()
        actions.install(
            self,
            {
                "actions": {
                    "undo": self.document.create_undo_action(self),
                    "redo": self.document.create_redo_action(self),
                },
                "recent": self._add_recent_menu,
                "docks": self._add_dock_toggles,
                "lessons": lambda menu: fill_lessons_menu(menu, self.load_lesson),
                "datasets": self._add_dataset_menu,
            },
        )
        self._build_toolbar()
        self._build_status_bar()
        self.document.changed.connect(self._on_document_changed)
        self.document.editRefused.connect(self._show_status)
        self.document.undo_stack.cleanChanged.connect(self._update_title)

        self.autosave_timer = QTimer(self)
        self.autosave_timer.setInterval(autosave_ms)
        self.autosave_timer.timeout.connect(self.autosave)
        self.autosave_enabled = autosave
        if autosave:
            self.autosave_timer.start()
        self._warm_up = warm_up

        self.dashboard_lab.adopt(self._dashboard_spec(self.document.spec))
        self._on_document_changed()
        self._show_lesson()
        self._warm_up_kernels()
        self.resize(1280, 800)
        if offer_recovery and autosave and self.autosave_path.exists():
            QTimer.singleShot(0, self.offer_recovery)

    # --- construction -------------------------------------------------------------------
    def _build_views(self) -> None:
        self.canvas = CanvasView(self.document)
        self.palette = PaletteWidget()
        self.inspector = InspectorWidget(self.document)
        self.lesson_panel = LessonPanel()
        self.canvas.selectionChangedTo.connect(self._selection_changed)
        self.canvas.statusMessage.connect(self._show_status)
        self.canvas.explainRequested.connect(self.explain_number)
        self.palette.layerRequested.connect(self.canvas.add_layer_in_view)

        self.dashboard_lab = DashboardLab(self.data)
        self.dashboard_lab.message.connect(lambda text, ms: self.statusBar().showMessage(text, ms))
        self.dashboard_lab.problem.connect(self._show_problem)
        self.dashboard_lab.learningRateEnded.connect(self._keep_learning_rate)
        self.dashboard_lab.lessonRequested.connect(self.load_lesson)
        self.sequence_lab = SequenceLab(data=self.data)  # a sentence-pairs file chosen in the Dataset menu
        self.rbm_lab = RBMLab(data=self.data)  # the window's data store: one MNIST load for both
        #: the lab each family names (``Family.lab``)
        self.labs = {"dashboard": self.dashboard_lab, "sequence": self.sequence_lab, "rbm": self.rbm_lab}
        self.views = QStackedWidget()
        for lab in self.labs.values():
            self.views.addWidget(lab.widget)
            lab.thread.started.connect(self._lab_started)
            lab.stateChanged.connect(self._lab_state_changed)

        self.splitter = QSplitter(Qt.Horizontal)
        self.splitter.addWidget(self.canvas)
        self.splitter.addWidget(self.views)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setSizes([350, 690])
        self.setCentralWidget(self.splitter)

        self.palette_dock = add_dock(self, "Layers", self.palette, "palette")
        self.lesson_dock = add_dock(self, "Lesson", self.lesson_panel, "lesson")
        self.inspector_dock = add_dock(self, "Inspector", self.inspector, "inspector")
        self.tabifyDockWidget(self.lesson_dock, self.inspector_dock)
        self.lesson_dock.raise_()
        self.resizeDocks([self.palette_dock], [240], Qt.Horizontal)
        self.resizeDocks([self.palette_dock, self.lesson_dock], [230, 520], Qt.Vertical)

    def _add_recent_menu(self, menu) -> None:
        self.recent_menu = menu.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)

    def _add_dock_toggles(self, menu) -> None:
        for dock in (self.palette_dock, self.lesson_dock, self.inspector_dock):
            menu.addAction(dock.toggleViewAction())

    def _build_toolbar(self) -> None:
        self.rate_box = LearningRateBox()
        self.rate_box.valueChanged.connect(self._rate_edited)
        self.dashboard.lr_finder.rateChosen.connect(self.rate_box.setValue)
        self.dashboard.experiments.variantChosen.connect(self.load_variant)
        self.pace_box = PaceBox()  # full speed or slow motion, for every lab
        self.pace_box.paceChanged.connect(lambda pace: [lab.set_pace(pace) for lab in self.labs.values()])
        widgets = [QLabel(" Learning rate η "), self.rate_box, QLabel("  Pace "), self.pace_box]
        self.toolbar = actions.install_toolbar(self, widgets)

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.problem_label = QLabel()
        self.problem_label.setStyleSheet("color: #B91C1C;")
        bar.addWidget(self.problem_label, 1)
        for widget in self.dashboard_lab.status_widgets:
            bar.addPermanentWidget(widget)

    # --- the dashboard lab's parts, by their old names -------------------------------------------
    model = property(lambda self: self.dashboard_lab.model)
    dashboard = property(lambda self: self.dashboard_lab.dashboard)
    network = property(lambda self: self.dashboard_lab.network)
    job = property(lambda self: self.dashboard_lab.job)
    thread = property(lambda self: self.dashboard_lab.thread)
    progress_bar = property(lambda self: self.dashboard_lab.progress_bar)
    epoch_label = property(lambda self: self.dashboard_lab.epoch_label)
    step_label = property(lambda self: self.dashboard_lab.step_label)

    def _tick(self) -> None:
        self.dashboard_lab._tick()

    def show_panel(self, name: str) -> None:
        self.dashboard.show_panel(name)

    def keep_current_run(self) -> None:
        self.dashboard_lab.keep_current_run()

    def find_learning_rate(self) -> None:
        """Training › Find Learning Rate: the range test on the network on the canvas, in its tab."""
        if self.active_lab() is not None or self.document.analysis.problems:
            self._show_status("The learning-rate finder tests a feed-forward network that can train")
            return
        if not self.ask_about_missing_data():
            return
        self.dashboard.show_panel("lr-finder")
        finder = self.dashboard.lr_finder
        finder.refresh(self.dashboard.shown_model(), force=True)  # it tests the network on the canvas now
        finder.start()

    # --- state --------------------------------------------------------------------------
    def current_lab(self):
        """The lab that trains and shows the network on the canvas (the dashboard's included)."""
        return self.labs[family_of(self.document.spec).lab]

    def active_lab(self):
        """The lab that replaces the dashboard for the network on the canvas, or None."""
        lab = self.current_lab()
        return None if lab is self.dashboard_lab else lab

    def _dashboard_spec(self, spec):
        """``spec`` where the dashboard trains it, else None (the dashboard then holds no network)."""
        return spec if self.labs[family_of(spec).lab] is self.dashboard_lab else None

    def _running_lab(self):
        return next((lab for lab in self.labs.values() if lab.running), None)

    @property
    def state(self) -> str:
        """ "idle", "running", "paused" or "stopping": the state of the lab that is running, if any."""
        lab = self._running_lab()
        return "idle" if lab is None else lab.state

    def is_modified(self) -> bool:
        return self.document.is_modified() or self.trained_since_save

    def _update_actions(self) -> None:
        state, lab = self.state, self._running_lab() or self.current_lab()
        startable = (state == "idle" and not self.document.analysis.problems) or state == "paused"
        self.train_action.setEnabled(startable)
        self.pause_action.setEnabled(state == "running")
        self.toggle_action.setEnabled(startable or state == "running")
        self.step_action.setEnabled(lab.can_step and startable)
        self.stop_action.setEnabled(state in ("running", "paused"))
        self.reset_action.setEnabled(lab.can_reset and state != "stopping" and not self.document.analysis.problems)
        # a lab run keeps the learning rate it started with; the box sets the next run's
        self.rate_box.setEnabled(state == "idle" or lab is self.dashboard_lab)
        for action in self.dataset_actions.values():
            action.setEnabled(state == "idle")
        self.train_action.setText("Continue" if state == "paused" else "Train")

    def _show_status(self, text: str) -> None:
        self.statusBar().showMessage(text, 6000)

    def _show_problem(self, kind: str, title: str, text: str) -> None:
        if not self._closing:
            getattr(QMessageBox, kind)(self, title, text)

    def _update_title(self, *_) -> None:
        name = self.file_path.name if self.file_path else (self.document.spec.name or "untitled")
        # Qt appends the application's display name ("Deep Learning Playground") itself
        self.setWindowTitle(f"{name}{' *' if self.is_modified() else ''}")

    def explain_number(self, layer_id: str, source_id: str = ""):
        """Open "Explain this number" for a layer (or the connection into it) of the canvas, with the
        numbers of the moment the dashboard shows; the status bar says why where it cannot."""
        popup = explain(self.dashboard.shown_model(), self.document.spec, layer_id, source_id, self)
        if isinstance(popup, str):
            self._show_status(popup)
            return None
        popup.show()
        return popup

    def _selection_changed(self, ids: list) -> None:
        self.inspector.show_layer(ids[0] if len(ids) == 1 else None)
        if len(ids) == 1:
            self.inspector_dock.raise_()

    def _on_document_changed(self) -> None:
        spec = self.document.spec
        problems = self.document.analysis.problems
        self.problem_label.setText(f"⚠ Cannot train: {problems[0].message}" if problems else "")
        if self.state == "idle":
            self.rate_box.blockSignals(True)
            self.rate_box.setValue(spec.training.learning_rate)
            self.rate_box.blockSignals(False)
        self.dashboard_lab.load(self._dashboard_spec(spec), layer_colors_for(self.document))
        self.lesson_panel.set_lesson(spec)
        self._show_views()
        self._update_actions()
        self._update_title()

    def _show_views(self) -> None:
        """The lab of the network on the canvas, loaded with it unless one of its runs goes on."""
        lab = self.current_lab()
        self.views.setCurrentWidget(lab.widget)
        if lab is not self.dashboard_lab and not lab.running:
            lab.load(self.document.spec if not self.document.analysis.problems else None)
        # the status bar's figures describe dashboard runs; a lab reports its own progress
        for widget in self.dashboard_lab.status_widgets[1:]:
            widget.setVisible(lab is self.dashboard_lab)

    def _lab_started(self) -> None:
        self.document.locked = True  # the network cannot change under the trainer
        self.trained_since_save = True
        self._update_actions()
        self._update_title()

    def _lab_state_changed(self) -> None:
        if self._running_lab() is None:
            self.document.locked = False
        self._update_actions()
        self._update_title()

    def _keep_learning_rate(self, rate: float) -> None:
        """A dashboard run may have changed η while it ran: the document keeps the last value."""
        if rate != self.document.spec.training.learning_rate and not self._closing:
            self.document.locked = False
            self.document.set_training("learning_rate", float(rate))

    def _show_lesson(self) -> None:
        spec = self.document.spec
        self.lesson_panel.set_lesson(spec)
        if spec.lesson is not None:
            self.pace_box.set_pace(lesson_pace(spec.lesson))
        self._show_views()
        self.dashboard.update_tabs()
        self.dashboard.show_panel(preferred_panel(spec))
        if self.active_lab() is not None and spec.lesson is not None:  # a lab opens on the lesson's view too
            self.active_lab().show_lesson_view(spec.lesson.get("panel"))
        self.lesson_dock.raise_()

    # --- training controls: the same for every lab -------------------------------------------
    def toggle_training(self) -> None:
        if self.state == "running":
            self.pause()
        elif self.train_action.isEnabled():
            self.train()

    def train(self) -> None:
        if self.state == "idle" and not self.ask_about_missing_data():
            return
        lab = self._running_lab() or self.current_lab()
        if self.state == "paused":
            lab.pause(False)
        elif self.state == "idle" and not self.document.analysis.problems:
            if lab is self.dashboard_lab:
                started = lab.train(self.rate_box.value())
            else:
                lab.load(self.document.spec)
                started = lab.train()
            if started:
                self._lab_started()  # at once; the thread's own signal arrives a moment later
        self._update_actions()

    def pause(self) -> None:
        lab = self._running_lab()
        if lab is not None and self.state == "running":
            lab.pause(True)
        self._update_actions()

    def step(self) -> None:
        if self.state == "idle" and not self.ask_about_missing_data():
            return
        lab = self._running_lab() or self.current_lab()
        if lab.can_step and self.state in ("idle", "paused") and lab.train(self.rate_box.value(), single_step=True):
            self._lab_started()
        self._update_actions()

    def stop(self) -> None:
        lab = self._running_lab()
        if lab is not None and self.state in ("running", "paused"):
            lab.stop(wait=False)
            self.statusBar().showMessage("Stopping…", 2000)
        self._update_actions()

    def reset(self) -> None:
        """Re-initialise the weights (the spec's initialiser and seed) and start a new run."""
        self.stop_training(wait=True)
        if self.current_lab().can_reset:
            self.current_lab().reset()
        self._update_actions()

    def stop_training(self, wait: bool = True) -> None:
        """Stop the dashboard's run and (with ``wait``) join its worker."""
        self.dashboard_lab.stop(wait)

    def _rate_edited(self, value: float) -> None:
        if self.dashboard_lab.set_learning_rate(value):
            return
        changed = self.state == "idle" and value != self.document.spec.training.learning_rate
        if changed and not self.document.set_training("learning_rate", float(value)):
            self.rate_box.blockSignals(True)
            self.rate_box.setValue(self.document.spec.training.learning_rate)
            self.rate_box.blockSignals(False)

    # --- lessons and documents ------------------------------------------------------------------
    def _replace(self, spec, weights=None, history=None, path: Path | None = None) -> bool:
        """Show another network (lesson, file, new): stop training, keep the old run for comparison.

        Everything that can fail (building the network, loading its weights) happens before
        anything changes, so a failed open leaves the document, its file name, its weights and
        its history exactly as they were, with one dialog.  False then.
        """
        family_lab = self.labs[family_of(spec).lab]
        try:
            network = network_for(spec, weights) if family_lab is self.dashboard_lab else None
        except Exception as error:  # noqa: BLE001 - whatever building it raised, the current work stays
            self.show_error("Cannot open the network", failure_message(error))
            return False
        for lab in self.labs.values():
            lab.stop(wait=True)
        self.document.locked = False
        self.document.set_spec(spec)
        for lab in self.labs.values():  # only the lab that shows it keeps the file's weights
            if lab is self.dashboard_lab:
                lab.adopt(self._dashboard_spec(self.document.spec), weights, history, network)
            else:
                lab.adopt(self.document.spec, weights if lab is family_lab else None)
        self.file_path = path
        self.trained_since_save = False
        self.document.mark_saved()
        self._on_document_changed()
        self._show_lesson()
        self._warm_up_kernels()
        return True

    def _warm_up_kernels(self) -> None:
        """Compile (or load from numba's cache) the kernels the shown network's run needs while the
        learner reads the lesson, so the first press of Train does not wait for them; its data is
        loaded through the window's store, where the run then finds it."""
        if self._warm_up:
            name = self.document.spec.dataset.name
            options = RunOptions(
                compare=False,
                load_data=self.data.run_data,  # the feed-forward family's (the others read the folder or file)
                data_dir=self.data.folder_for(name),
                data_file=self.data.file_for(name),
            )
            start_warm_up(self.document.spec, options)

    def load_lesson(self, name: str) -> bool:
        try:
            spec = load_lesson(name)
        except ValueError as error:
            self.show_error("Cannot load the lesson", str(error))
            return False
        if not self._confirm_discard("loading the lesson") or not self._replace(spec):
            return False
        self.statusBar().showMessage(f"Lesson loaded: {(spec.lesson or {}).get('title', name)}", 5000)
        return True

    def load_variant(self, spec, weights) -> bool:
        """An experiment's variant onto the canvas, with the weights it trained (Experiments view)."""
        if not self._confirm_discard("loading the variant") or not self._replace(spec, weights):
            return False
        self.statusBar().showMessage(f"Variant loaded: {spec.name}", 5000)
        return True

    def new_project(self) -> None:
        if self._confirm_discard("starting a new network"):
            self._replace(empty_spec())

    def about(self) -> None:
        QMessageBox.about(self, APP_TITLE, f"<b>{APP_TITLE}</b><p>Build neural networks and watch them learn.</p>")

    # --- closing ------------------------------------------------------------------------
    def closeEvent(self, event) -> None:
        if self.prompt_on_close and not self._confirm_discard("closing"):
            event.ignore()
            return
        self.shutdown()
        if self.autosave_enabled:
            self.autosave_path.unlink(missing_ok=True)  # a clean exit: nothing to recover
        event.accept()

    def shutdown(self) -> None:
        """Stop and join every thread this window started (never abort one)."""
        self._closing = True
        self.autosave_timer.stop()
        for lab in self.labs.values():
            lab.shutdown()
        if self._download is not None:
            self._download.stop_and_join()
        if self._autosave_thread is not None:
            self._autosave_thread.join()
        wait_for_warm_ups()  # a thread still compiling when the interpreter exits can crash it
        # the document outlives this window's widgets: its undo stack still emits while it is
        # destroyed, and nothing here may answer then
        self.document.blockSignals(True)
        self.document.undo_stack.blockSignals(True)
