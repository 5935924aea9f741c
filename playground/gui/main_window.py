"""The main window: the network editor, the live dashboard, the lesson, and the controls
that train in the background.

Who owns what:
  * the editor's ``Document`` owns the network description (undoable edits);
  * the window owns the engine network built from it, the one ``TrainingThread``, and the
    ``DashboardModel`` the plots read;
  * while a run is in progress the network belongs to the worker: the window reads the
    metric stream and the weights slot on a ~30 Hz timer and never calls the network,
    and the document is locked so the network cannot change under the trainer;
  * networks that train differently (a stack of RBMs learning without labels, recurrent
    and encoder-decoder networks learning from sequences) get a *lab* in place of the
    dashboard: a widget with its own worker, trainer and views.  The toolbar's Train,
    Pause and Stop drive whichever lab is showing.
"""
from __future__ import annotations

import json
import threading
import time
from collections import deque
from pathlib import Path

from platformdirs import user_data_dir
from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import (QDockWidget, QDoubleSpinBox, QFileDialog, QLabel, QMainWindow,
                               QMessageBox, QProgressBar, QSplitter, QStackedWidget, QStyle, QToolBar)

from ..datasets import is_cached
from ..model import NetworkFileError, analyse, network_family, save_spec, sequential_spec, spec_to_dict
from ..model.files import failure_message
from ..model.project import (EpochSummary, MetricHistory, Project, ProjectError, open_file, save_project)
from ..training.lessons import lesson_names, load_lesson
from .dashboard import Dashboard, DashboardModel, metrics_csv
from .downloads import DownloadDialog
from .editor import CanvasView, Document, InspectorWidget, PaletteWidget, layer_colors_for
from .lesson_panel import LessonPanel
from .rbm_lab import RBMLab
from .sequence_lab import SequenceLab
from .training import DataStore, TrainingJob, TrainingThread, fresh_network

APP_TITLE = "Deep Learning Playground"
DEFAULT_LESSON = "vanishing-gradients"
AUTOSAVE_MS = 3 * 60 * 1000
PULL_MS = 33
#: plots redraw at most this often while training (≈12 per second): pyqtgraph paints in Python,
#: and every millisecond the GUI thread holds the GIL can delay the trainer's next chunk
REDRAW_MS = 80
MAX_RECENT = 8
SMALL_DATASETS = ("circle", "xor", "gaussians", "spiral", "moons", "function", "parity")
DATASET_MENU = (("mnist", "MNIST handwritten digits"), ("fashion-mnist", "Fashion-MNIST clothes"), None,
                ("digits", "Synthetic digits (built in, offline)"), ("circle", "Circle (2D)"), ("xor", "XOR (2D)"),
                ("gaussians", "Two Gaussians (2D)"), ("spiral", "Spiral (2D)"), ("moons", "Moons (2D)"),
                ("parity", "Parity of bits"), ("function", "Function to fit (1-D regression)"))


def run_signature(spec) -> str:
    """What makes two trainings the same run: everything but layout, text, the learning rate and epochs
    (those may change between a stop and a continue)."""
    data = spec_to_dict(spec)
    for key in ("ui", "lesson", "name"):
        data.pop(key, None)
    training = dict(data["training"])
    training.pop("learning_rate", None)
    training.pop("epochs", None)
    data["training"] = training
    return json.dumps(data, sort_keys=True, default=str)


def default_new_spec():
    spec = sequential_spec([784, 30, 10], activation="sigmoid", output="softmax", cost="log-likelihood",
                           initializer="normal-scaled", name="untitled")
    return spec


def describe_run(spec, number: int) -> str:
    """A short name for a run in the comparison list: what differs between lessons' experiments."""
    activations = []
    dropout = False
    for node in spec.nodes:
        if node.type == "dense":
            activations.append(node.config.activation)
        dropout = dropout or node.type == "dropout"
    hidden = activations[:-1] or activations
    kinds = sorted(set(hidden), key=hidden.index)
    t = spec.training
    layers = "/".join(kinds) + (f" ×{len(hidden)}" if len(hidden) > 1 else "")
    parts = [f"Run {number}", layers, f"η={t.learning_rate:g}"]
    if t.l2:
        parts.append(f"L2 λ={t.l2:g}")
    if dropout:
        parts.append("dropout")
    if t.optimizer != "sgd":
        parts.append(t.optimizer)
    parts.append(t.initializer)
    return " · ".join(parts)


def _warm_up_kernels() -> None:
    try:
        from ..training.warmup import warm_up
        warm_up()
    except Exception:  # noqa: BLE001 - only a head start: the first Train compiles what it needs
        pass


class LearningRateBox(QDoubleSpinBox):
    """η, shown compactly (0.5, 1e-05) and stepped by factors of two."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setRange(1e-9, 1e4)  # the limits of the training settings
        self.setDecimals(12)
        self.setKeyboardTracking(False)
        self.setMinimumWidth(90)
        self.setToolTip("Learning rate η. It can be changed while training runs.")

    def textFromValue(self, value: float) -> str:
        return f"{value:.6g}"

    def valueFromText(self, text: str) -> float:
        try:
            return float(text)
        except ValueError:
            return self.value()

    def validate(self, text, pos):
        from PySide6.QtGui import QValidator
        try:
            value = float(text)
            state = QValidator.Acceptable if self.minimum() <= value <= self.maximum() else QValidator.Intermediate
        except ValueError:
            state = QValidator.Intermediate
        return state, text, pos

    def stepBy(self, steps: int) -> None:
        self.setValue(self.value() * 2.0 ** steps)


class MainWindow(QMainWindow):
    def __init__(self, spec=None, *, settings: QSettings | None = None, autosave_dir: str | Path | None = None,
                 data_dir: str | Path | None = None, autosave: bool = True, offer_recovery: bool = True,
                 autosave_ms: int = AUTOSAVE_MS, warm_up: bool = True, parent=None):
        super().__init__(parent)
        spec = spec or load_lesson(DEFAULT_LESSON)
        self.settings = settings or QSettings("playground", "playground")
        self.autosave_path = Path(autosave_dir or user_data_dir("playground", "playground")) / "autosave.npz"
        self.data = DataStore(data_dir)
        # no Qt parent: the window's actions (undo, redo) must go before the document's undo
        # stack, whose destructor still emits signals to them
        self.document = Document(spec)
        self.model = DashboardModel()
        self.thread = TrainingThread(self)
        self.thread.finished.connect(self._on_thread_finished)
        self.job: TrainingJob | None = None
        self.network = None
        self.network_spec = None
        self.network_signature = None
        self.file_path: Path | None = None
        self.trained_since_save = False
        self.run_count = 0
        self._read_count = 0
        self._epochs_read = 0
        self._weights_seen = 0
        self._rate_samples: deque = deque(maxlen=64)
        self._last_redraw = 0.0
        self._dataset_key = None
        self._stopping = False
        self._data_announced = None
        self._autosave_thread: threading.Thread | None = None
        self._download: DownloadDialog | None = None
        self._closing = False
        self._kept_history = None
        self.prompt_on_close = True

        self._build_views()
        self._build_actions()
        self._build_menus()
        self._build_toolbar()
        self._build_status_bar()
        self.document.changed.connect(self._on_document_changed)
        self.document.editRefused.connect(self._show_status)
        self.document.undo_stack.cleanChanged.connect(self._update_title)

        self.pull_timer = QTimer(self)
        self.pull_timer.setInterval(PULL_MS)
        self.pull_timer.timeout.connect(self._tick)
        self.autosave_timer = QTimer(self)
        self.autosave_timer.setInterval(autosave_ms)
        self.autosave_timer.timeout.connect(self.autosave)
        self.autosave_enabled = autosave
        if autosave:
            self.autosave_timer.start()

        # compile (or load from numba's cache) the kernels while the learner reads the lesson,
        # so the first press of Train does not wait for them
        self._warmup_thread: threading.Thread | None = None
        if warm_up:
            self._warmup_thread = threading.Thread(target=_warm_up_kernels, name="playground-warm-up", daemon=True)
            self._warmup_thread.start()

        self._start_new_run(keep_previous=False)
        self._on_document_changed()
        self._show_lesson()
        self.resize(1280, 800)
        if offer_recovery and autosave and self.autosave_path.exists():
            QTimer.singleShot(0, self.offer_recovery)

    # --- construction -------------------------------------------------------------------
    def _build_views(self) -> None:
        self.canvas = CanvasView(self.document)
        self.palette = PaletteWidget()
        self.inspector = InspectorWidget(self.document)
        self.lesson_panel = LessonPanel()
        self.dashboard = Dashboard(self.model)
        self.dashboard.keepRunRequested.connect(self.keep_current_run)
        self.canvas.selectionChangedTo.connect(self._selection_changed)
        self.canvas.statusMessage.connect(self._show_status)
        self.palette.layerRequested.connect(self.canvas.add_layer_in_view)

        self.sequence_lab = SequenceLab()
        self.rbm_lab = RBMLab(data=self.data)  # the window's data store: one MNIST load for both
        #: the lab that trains and shows each family of network the dashboard does not
        self.labs = {"recurrent": self.sequence_lab, "encoder-decoder": self.sequence_lab, "rbm": self.rbm_lab}
        self.all_labs = (self.sequence_lab, self.rbm_lab)
        self.views = QStackedWidget()
        self.views.addWidget(self.dashboard)
        for lab in self.all_labs:
            self.views.addWidget(lab)
            lab.thread.started.connect(self._lab_started)
            lab.thread.finished.connect(self._lab_finished)
            lab.pause_button.toggled.connect(self._update_actions)

        self.splitter = QSplitter(Qt.Horizontal)
        self.splitter.addWidget(self.canvas)
        self.splitter.addWidget(self.views)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setSizes([350, 690])
        self.setCentralWidget(self.splitter)

        self.palette_dock = self._dock("Layers", self.palette, Qt.LeftDockWidgetArea, "palette")
        self.lesson_dock = self._dock("Lesson", self.lesson_panel, Qt.LeftDockWidgetArea, "lesson")
        self.inspector_dock = self._dock("Inspector", self.inspector, Qt.LeftDockWidgetArea, "inspector")
        self.tabifyDockWidget(self.lesson_dock, self.inspector_dock)
        self.lesson_dock.raise_()
        self.resizeDocks([self.palette_dock], [240], Qt.Horizontal)
        self.resizeDocks([self.palette_dock, self.lesson_dock], [230, 520], Qt.Vertical)

    def _dock(self, title, widget, area, name) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetMovable | QDockWidget.DockWidgetClosable |
                         QDockWidget.DockWidgetFloatable)
        self.addDockWidget(area, dock)
        return dock

    def _action(self, text, slot, shortcut=None, icon=None, tip=None, context=None) -> QAction:
        action = QAction(text, self)
        if icon is not None:
            action.setIcon(self.style().standardIcon(icon))
        if shortcut is not None:
            action.setShortcuts(shortcut if isinstance(shortcut, list) else [QKeySequence(shortcut)])
        if tip:
            action.setToolTip(tip)
            action.setStatusTip(tip)
        if context is not None:
            action.setShortcutContext(context)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        S = QStyle.StandardPixmap
        self.train_action = self._action("Train", self.train, None, S.SP_MediaPlay,
                                         "Start training, or continue a paused run (Space)")
        self.pause_action = self._action("Pause", self.pause, None, S.SP_MediaPause, "Pause training (Space)")
        self.toggle_action = self._action("Train / Pause", self.toggle_training, "Space",
                                          tip="Start or pause training")
        self.step_action = self._action("Step", self.step, "Ctrl+Right", S.SP_MediaSkipForward,
                                        "Train one mini-batch, then pause")
        self.stop_action = self._action("Stop", self.stop, None, S.SP_MediaStop,
                                        "End this run (the weights and curves are kept)")
        self.reset_action = self._action("Reset", self.reset, "Ctrl+R", S.SP_BrowserReload,
                                         "Re-initialise the weights and start a new run")
        self.keep_action = self._action("Keep Run for Comparison", self.keep_current_run, None,
                                        tip="Add the current run to Compare runs")
        self.new_action = self._action("&New", self.new_project, QKeySequence.New)
        self.open_action = self._action("&Open…", self.open_dialog, QKeySequence.Open)
        self.save_action = self._action("&Save", self.save, QKeySequence.Save)
        self.save_as_action = self._action("Save &As…", self.save_as, QKeySequence.SaveAs)
        self.save_json_action = self._action("Save Network as JSON…", self.save_network_json)
        self.export_png_action = self._action("Export Plot as PNG…", self.export_plot)
        self.export_csv_action = self._action("Export Metrics as CSV…", self.export_csv)
        self.quit_action = self._action("&Quit", self.close, QKeySequence.Quit)
        self.undo_action = self.document.create_undo_action(self)
        self.redo_action = self.document.create_redo_action(self)
        self.download_actions = {name: self._action(f"Download {label.split(' ')[0]}…",
                                                    lambda _=False, n=name: self.download_dataset(n))
                                 for name, label in (("mnist", "MNIST"), ("fashion-mnist", "Fashion-MNIST"))}

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addActions([self.new_action, self.open_action])
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        file_menu.addSeparator()
        file_menu.addActions([self.save_action, self.save_as_action, self.save_json_action])
        file_menu.addSeparator()
        file_menu.addActions([self.export_png_action, self.export_csv_action])
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)

        edit_menu = bar.addMenu("&Edit")
        edit_menu.addActions([self.undo_action, self.redo_action])
        edit_menu.addSeparator()
        for name in ("delete", "copy", "paste", "select_all"):
            edit_menu.addAction(self.canvas.action(name))

        view_menu = bar.addMenu("&View")
        for name in ("auto_layout", "zoom_in", "zoom_out", "fit"):
            view_menu.addAction(self.canvas.action(name))
        view_menu.addSeparator()
        for dock in (self.palette_dock, self.lesson_dock, self.inspector_dock):
            view_menu.addAction(dock.toggleViewAction())
        view_menu.addSeparator()
        for index, (key, label) in enumerate((("loss", "Loss && Accuracy"), ("gradients", "Gradients"),
                                              ("weights", "Weights"), ("activations", "Activations"),
                                              ("data", "Decision Boundary / Function Fit"),
                                              ("compare", "Compare Runs"))):
            view_menu.addAction(self._action(label, lambda _=False, k=key: self.dashboard.show_panel(k),
                                             f"Ctrl+{index + 1}"))
        for key, label in (("filters", "Filters"), ("feature-maps", "Feature Maps"),
                           ("convolution", "The Convolution Explained"), ("augmentation", "Augmentation Preview")):
            view_menu.addAction(self._action(label, lambda _=False, k=key: self.dashboard.show_panel(k)))

        training_menu = bar.addMenu("&Training")
        training_menu.addActions([self.toggle_action, self.train_action, self.pause_action, self.step_action,
                                  self.stop_action, self.reset_action])
        training_menu.addSeparator()
        training_menu.addAction(self.keep_action)

        lessons_menu = bar.addMenu("&Lessons")
        for name in lesson_names():
            try:
                title = (load_lesson(name).lesson or {}).get("title") or name
            except NetworkFileError:
                continue
            action = QAction(f"{name}: {title}", self)
            action.triggered.connect(lambda _=False, n=name: self.load_lesson(n))
            lessons_menu.addAction(action)

        self.dataset_menu = bar.addMenu("&Dataset")
        self.dataset_group = QActionGroup(self)
        self.dataset_actions = {}
        for entry in DATASET_MENU:
            if entry is None:
                self.dataset_menu.addSeparator()
                continue
            name, label = entry
            action = QAction(label, self)
            action.setCheckable(True)
            action.setData(name)
            action.triggered.connect(lambda _=False, n=name: self.choose_dataset(n))
            self.dataset_group.addAction(action)
            self.dataset_menu.addAction(action)
            self.dataset_actions[name] = action
        self.dataset_menu.addSeparator()
        self.dataset_menu.addActions(list(self.download_actions.values()))
        self.dataset_menu.aboutToShow.connect(self._update_dataset_menu)

        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self._action("About", self._about))

    def _build_toolbar(self) -> None:
        toolbar = QToolBar("Training", self)
        toolbar.setObjectName("training-toolbar")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonTextBesideIcon)
        toolbar.addActions([self.train_action, self.pause_action, self.step_action, self.stop_action,
                            self.reset_action])
        toolbar.addSeparator()
        toolbar.addWidget(QLabel(" Learning rate η "))
        self.rate_box = LearningRateBox()
        self.rate_box.valueChanged.connect(self._rate_edited)
        toolbar.addWidget(self.rate_box)
        self.addToolBar(Qt.TopToolBarArea, toolbar)
        self.toolbar = toolbar

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.problem_label = QLabel()
        self.problem_label.setStyleSheet("color: #B91C1C;")
        bar.addWidget(self.problem_label, 1)
        self.data_label = QLabel()
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setMaximumWidth(150)
        self.progress_bar.setTextVisible(False)
        self.epoch_label = QLabel("epoch –")
        self.step_label = QLabel("step –")
        self.rate_label = QLabel("")
        # fixed widths: a label that grows with its number would re-lay out the status bar every tick
        for label, sample in ((self.epoch_label, "epoch 1000/1000"), (self.step_label, "step 10000000"),
                              (self.rate_label, "1,000,000 samples/s")):
            label.setFixedWidth(label.fontMetrics().horizontalAdvance(sample) + 8)
        for widget in (self.data_label, self.progress_bar, self.epoch_label, self.step_label, self.rate_label):
            bar.addPermanentWidget(widget)

    # --- state --------------------------------------------------------------------------
    def active_lab(self):
        """The lab showing the current network, or None where the dashboard shows it."""
        return self.labs.get(network_family(self.document.spec))

    def _running_lab(self):
        return next((lab for lab in self.all_labs if lab.running), None)

    @property
    def state(self) -> str:
        """"idle", "running", "paused" or "stopping"."""
        lab = self._running_lab()
        if lab is not None:
            return "paused" if lab.job.control.paused else "running"
        if self.job is None:
            return "idle"
        if self._stopping or self.job.control.stopped:
            return "stopping"
        return "paused" if self.job.control.paused else "running"

    def is_modified(self) -> bool:
        return self.document.is_modified() or self.trained_since_save

    def _network_valid(self) -> bool:
        return not self.document.analysis.problems

    def _update_actions(self) -> None:
        state = self.state
        valid = self._network_valid()
        self.train_action.setEnabled((state == "idle" and valid) or state == "paused")
        self.pause_action.setEnabled(state == "running")
        self.toggle_action.setEnabled(self.train_action.isEnabled() or self.pause_action.isEnabled())
        lab = self.active_lab()
        # a lab run starts from fresh weights each time and has no single mini-batch step
        self.step_action.setEnabled(lab is None and ((state == "idle" and valid) or state == "paused"))
        self.stop_action.setEnabled(state in ("running", "paused"))
        self.reset_action.setEnabled(lab is None and state != "stopping" and valid)
        # a lab run keeps the learning rate it started with; the box sets the next run's
        self.rate_box.setEnabled(self._running_lab() is None)
        for action in self.dataset_actions.values():
            action.setEnabled(state == "idle")
        self.train_action.setText("Continue" if state == "paused" else "Train")

    def _show_status(self, text: str) -> None:
        self.statusBar().showMessage(text, 6000)

    def _update_title(self, *_) -> None:
        name = self.file_path.name if self.file_path else (self.document.spec.name or "untitled")
        # Qt appends the application's display name ("Deep Learning Playground") itself
        self.setWindowTitle(f"{name}{' *' if self.is_modified() else ''}")

    def _selection_changed(self, ids: list) -> None:
        self.inspector.show_layer(ids[0] if len(ids) == 1 else None)
        if len(ids) == 1:
            self.inspector_dock.raise_()

    def _on_document_changed(self) -> None:
        spec = self.document.spec
        problems = self.document.analysis.problems
        self.problem_label.setText(f"⚠ Cannot train: {problems[0].message}" if problems else "")
        self.model.set_colors(layer_colors_for(self.document))
        self.model.set_augmentation(spec.augmentation)
        if self.state == "idle":
            self.rate_box.blockSignals(True)
            self.rate_box.setValue(spec.training.learning_rate)
            self.rate_box.blockSignals(False)
            if not problems and run_signature(spec) != self.network_signature and len(self.model.history) == 0:
                self._start_new_run(keep_previous=False)  # nothing trained yet: follow the edit at once
            elif not problems and run_signature(spec) != self.network_signature:
                self.statusBar().showMessage("The network changed: the next Train starts a new run "
                                             "(this one stays under Compare runs).", 6000)
        self._load_small_dataset()
        self.lesson_panel.set_lesson(spec)
        self._show_views()
        self._update_actions()
        self._update_title()

    def _show_views(self) -> None:
        """The dashboard, or the lab of a network that trains differently, loaded with the
        current network unless one of its runs is going on."""
        lab = self.active_lab()
        self.views.setCurrentWidget(lab or self.dashboard)
        if lab is not None and not lab.running:
            lab.load(self.document.spec if self._network_valid() else None)
        # a lab reports its own progress; the status bar's figures describe dashboard runs
        for widget in (self.progress_bar, self.epoch_label, self.step_label, self.rate_label):
            widget.setVisible(lab is None)

    def _lab_started(self) -> None:
        self.document.locked = True  # like a dashboard run: the network cannot change under it
        self.trained_since_save = True
        self._update_actions()
        self._update_title()

    def _lab_finished(self) -> None:
        if self._running_lab() is None:
            self.document.locked = False
        self._update_actions()

    def _show_lesson(self) -> None:
        spec = self.document.spec
        self.lesson_panel.set_lesson(spec)
        self._show_views()
        self.dashboard.update_tabs()
        self.dashboard.show_panel(self._preferred_panel(spec))
        self.lesson_dock.raise_()

    @staticmethod
    def _preferred_panel(spec) -> str:
        if spec.dataset.name in ("circle", "xor", "gaussians", "spiral", "moons", "function"):
            return "data"
        lesson = spec.lesson or {}
        if "gradient" in (lesson.get("what_to_watch", "") + lesson.get("title", "")).lower():
            return "gradients"
        return "loss"

    def _load_small_dataset(self) -> None:
        """Generated 2D/1-D sets load in a millisecond: load them now, so the decision boundary
        shows the points (and the untrained network's output) before the first Train.  Data of
        another spec is dropped, so no plot pairs a network with data it was not built for."""
        if self.state != "idle":
            return
        spec = self.document.spec
        key = (spec.dataset, spec.training.seed, spec.training.train_limit)
        if key == self._dataset_key and self.model.dataset is not None:
            return
        dataset = None
        if spec.dataset.name in SMALL_DATASETS:
            try:
                dataset, _ = self.data.get(*key)
            except Exception:  # noqa: BLE001 - a bad setting is reported when training starts
                dataset = None
        self._dataset_key = key if dataset is not None else None
        self.model.set_dataset(dataset)
        self.data_label.setText("")
        self.dashboard.update_tabs()
        self.dashboard.refresh()

    # --- runs ---------------------------------------------------------------------------
    def _start_new_run(self, keep_previous: bool = True, network=None) -> None:
        """A fresh network from the current spec (or ``network``, already built for it), its
        initial weights, an empty history."""
        if keep_previous:
            self.keep_current_run()
        spec = self.document.spec
        self.model.set_history(MetricHistory())
        self._read_count = self._epochs_read = 0
        if self.document.analysis.problems or self.active_lab() is not None:  # a lab builds its own
            self.network = self.network_spec = self.network_signature = None
            self.model.set_network(spec)
            self.model.set_weights(None)
        else:
            try:
                self.network = network if network is not None else fresh_network(spec)
            except (NetworkFileError, ValueError, MemoryError) as error:
                self.network = None
                self.statusBar().showMessage(failure_message(error), 8000)
                return
            self.network_spec = spec
            self.network_signature = run_signature(spec)
            self.model.set_network(spec, self.network.copy_state())
        self.model.set_colors(layer_colors_for(self.document))
        self.dashboard.update_tabs()
        self.dashboard.prime()
        self._update_progress(reset=True)

    def keep_current_run(self) -> None:
        """Add the current run's curves to Compare runs (once per run)."""
        history = self.model.history
        if len(history) == 0 or history is self._kept_history:
            return
        self.run_count += 1
        spec = self.network_spec or self.document.spec
        if self.dashboard.keep_current_run(describe_run(spec, self.run_count)):
            self._kept_history = history

    # --- training controls -------------------------------------------------------------
    def toggle_training(self) -> None:
        if self.state == "running":
            self.pause()
        elif self.train_action.isEnabled():
            self.train()

    def train(self) -> None:
        state = self.state
        lab = self._running_lab() or self.active_lab()
        if lab is not None:
            if state == "paused":
                lab.pause(False)
            elif state == "idle" and self._network_valid():
                lab.load(self.document.spec)
                if lab.train():
                    self._lab_started()  # at once; the thread's own signal arrives a moment later
            self._update_actions()
            return
        if state == "paused":
            self.job.control.resume()
            self.statusBar().showMessage("Training…", 2000)
        elif state == "idle":
            self._launch(single_step=False)
        self._update_actions()

    def pause(self) -> None:
        lab = self._running_lab()
        if lab is not None:
            lab.pause(True)
        elif self.state == "running":
            self.job.control.pause()
            self.statusBar().showMessage("Paused. Press Space or Continue to go on, Step for one mini-batch.", 5000)
        self._update_actions()

    def step(self) -> None:
        if self.state == "paused":
            self.job.control.step(1)
        elif self.state == "idle":
            self._launch(single_step=True)
        self._update_actions()

    def stop(self) -> None:
        lab = self._running_lab()
        if lab is not None:
            lab.stop(wait=False)
        elif self.job is not None and self.state in ("running", "paused"):
            self._stopping = True
            self.job.control.stop()
            self.statusBar().showMessage("Stopping…", 2000)
        self._update_actions()

    def reset(self) -> None:
        """Re-initialise the weights (the spec's initialiser and seed) and start a new run."""
        self.stop_training(wait=True)
        if self._network_valid():
            self._start_new_run(keep_previous=True)
            t = self.document.spec.training
            self.statusBar().showMessage(f"Weights re-initialised ({t.initializer}, seed {t.seed}); the previous "
                                         f"run is kept under Compare runs.", 6000)
        self._update_actions()

    def _launch(self, single_step: bool) -> None:
        spec = self.document.spec
        if self.document.analysis.problems:
            self.statusBar().showMessage(f"Cannot train: {self.document.analysis.problems[0].message}", 6000)
            return
        if self.network is None or run_signature(spec) != self.network_signature:
            self._start_new_run(keep_previous=True)
            if self.network is None:
                return
        history = self.model.history
        step_offset = history.last_step + 1
        epoch_offset = int(history.epoch_of_step[-1]) if len(history) else 0
        epoch_offset = max(epoch_offset, history.epochs[-1].epoch if history.epochs else 0)
        job = TrainingJob(self.network, spec.training, spec.dataset, self.data,
                          step_offset=step_offset, epoch_offset=epoch_offset,
                          augmentation=getattr(spec, "augmentation", None))
        job.control.set_learning_rate(self.rate_box.value())
        if single_step:
            job.control.step(1)
        self.job = job
        self._read_count = self._epochs_read = 0
        self._weights_seen = 0
        self._rate_samples.clear()
        self._stopping = False
        self._data_announced = None
        self.document.locked = True
        self.trained_since_save = True
        self.dashboard.set_draft(True)
        self.thread.launch(job)
        self.pull_timer.start()
        self.statusBar().showMessage("Loading data…" if self.data.cached(spec.dataset, spec.training.seed,
                                                                         spec.training.train_limit) is None
                                     else "Training…", 3000)
        self._update_title()

    def stop_training(self, wait: bool = True) -> None:
        """Stop the run and (with ``wait``) join the worker; the window then owns the network again."""
        if self.job is None:
            return
        self._stopping = True
        self.job.control.stop()
        if wait:
            self.thread.wait()
            self._finish_job()

    def _rate_edited(self, value: float) -> None:
        if self.job is not None and self.state in ("running", "paused"):
            try:
                self.job.control.set_learning_rate(value)
            except ValueError as error:
                self.statusBar().showMessage(str(error), 5000)
                return
            self.statusBar().showMessage(f"Learning rate η = {value:g} from the next mini-batch.", 4000)
        elif self.state == "idle" and value != self.document.spec.training.learning_rate:
            if not self.document.set_training("learning_rate", float(value)):
                self.rate_box.blockSignals(True)
                self.rate_box.setValue(self.document.spec.training.learning_rate)
                self.rate_box.blockSignals(False)

    # --- pulling from the worker -------------------------------------------------------------
    def _ingest(self) -> bool:
        """Copy what the worker produced since the last look into the dashboard model."""
        job = self.job
        if job is None:
            return False
        changed = False
        total, new = job.stream.read_since(self._read_count, self._epochs_read)
        self._read_count = total
        self._epochs_read += len(new.epoch_records)
        history = self.model.history
        if len(new.steps):
            history.append(new.steps + job.step_offset, new.epochs + job.epoch_offset, new.losses, new.accuracies,
                           new.layer_ids, new.layer_metrics)
            changed = True
        for record in new.epoch_records:
            summary = EpochSummary.from_record(record)
            summary.epoch += job.epoch_offset
            summary.step += job.step_offset
            history.add_epoch(summary)
            changed = True
        if changed:
            self.model.history_changed()
        weights, version = job.weights.get()
        if version != self._weights_seen and weights is not None:
            self._weights_seen = version
            self.model.set_weights(weights)
        if job.dataset is not None and self._data_announced is not job.dataset:
            self._data_announced = job.dataset
            self._announce_data(job.dataset, job.note)
        return changed

    def _announce_data(self, dataset, note) -> None:
        wanted = self.job.dataset_settings.name if self.job is not None else dataset.name
        short = dataset.name if not note else f"{dataset.name} (instead of {wanted})"
        self.data_label.setText(f"data: {short}")
        self.data_label.setToolTip(dataset.source + (f"\n\n{note}" if note else ""))
        if note:
            label = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST"}.get(wanted, wanted)
            self.statusBar().showMessage(f"{label} is not downloaded yet, so this run uses the built-in synthetic "
                                         f"digits. Dataset ▸ {label} downloads the real set.", 20000)
        self.model.set_dataset(dataset)
        self._dataset_key = (self.job.dataset_settings, self.job.settings.seed, self.job.settings.train_limit)
        self.dashboard.update_tabs()

    def _tick(self) -> None:
        self._ingest()
        now = time.perf_counter()
        if now - self._last_redraw >= REDRAW_MS / 1000 or self.job is None:
            self._last_redraw = now
            self._update_progress()
            self.dashboard.refresh()
        if self.job is not None and self.job.finished is not None and not self.thread.isRunning():
            self._finish_job()

    def _update_progress(self, reset: bool = False) -> None:
        job = self.job
        history = self.model.history
        if reset or job is None:
            if reset:
                self.progress_bar.setValue(0)
            last_epoch = history.epochs[-1].epoch if history.epochs else 0
            self.epoch_label.setText(f"epoch {last_epoch}")
            self.step_label.setText(f"step {history.last_step + 1}")
            self.rate_label.setText("")
            return
        p = job.progress
        total = p.epochs * p.steps_per_epoch
        if total:
            self.progress_bar.setValue(int(1000 * p.steps / total))
        self.epoch_label.setText(f"epoch {job.epoch_offset + p.epoch}/{job.epoch_offset + p.epochs}"
                                 if p.epochs else "epoch –")
        self.step_label.setText(f"step {job.step_offset + p.steps}")
        now = time.perf_counter()
        self._rate_samples.append((now, p.samples))
        while len(self._rate_samples) > 2 and now - self._rate_samples[0][0] > 1.5:
            self._rate_samples.popleft()
        state = self.state
        if state == "paused":
            self.rate_label.setText("paused")
        elif p.samples == 0:
            self.rate_label.setText("starting…")
        elif len(self._rate_samples) >= 2 and self._rate_samples[-1][0] > self._rate_samples[0][0]:
            (t0, s0), (t1, s1) = self._rate_samples[0], self._rate_samples[-1]
            self.rate_label.setText(f"{(s1 - s0) / (t1 - t0):,.0f} samples/s")

    def _on_thread_finished(self) -> None:
        if self.job is not None and not self.thread.isRunning():
            self._finish_job()

    def _finish_job(self) -> None:
        """The worker is done: take the network back, report how the run ended, unlock editing."""
        job = self.job
        if job is None:
            return
        self._ingest()
        self.job = None
        self._stopping = False
        self.pull_timer.stop()
        self.dashboard.set_draft(False)
        if self.network is not None:
            self.model.set_weights(self.network.copy_state())
        self.document.locked = False
        rate = job.control.learning_rate
        if rate != self.document.spec.training.learning_rate and not self._closing:
            self.document.set_training("learning_rate", float(rate))
        self._update_progress()
        self.dashboard.refresh(force=True)
        self._update_actions()
        self._update_title()
        if self._closing:
            return
        finished = job.finished
        if job.error:
            self.statusBar().showMessage("Training could not start.", 8000)
            self.show_error("Training could not start", job.error)
        elif finished is not None and finished.reason == "diverged":
            self.statusBar().showMessage("The loss exploded; training stopped.", 10000)
            QMessageBox.warning(self, "The loss exploded", finished.message[0].upper() + finished.message[1:])
        elif finished is not None and finished.reason == "completed":
            self.progress_bar.setValue(1000)
            self.statusBar().showMessage(f"Finished: {finished.message}. Train again to continue.", 10000)
        else:
            self.statusBar().showMessage("Stopped. Train continues from these weights; Reset starts over.", 6000)

    # --- lessons, files -----------------------------------------------------------------------
    def show_error(self, title: str, message: str) -> None:
        """One dialog, one message, no traceback."""
        QMessageBox.critical(self, title, message)

    def _confirm_discard(self, doing: str) -> bool:
        """Ask about unsaved changes; False when the user cancels."""
        if not self.is_modified():
            return True
        answer = QMessageBox.question(
            self, "Unsaved changes", f"The current network has unsaved changes. Save them before {doing}?",
            QMessageBox.Save | QMessageBox.Discard | QMessageBox.Cancel, QMessageBox.Save)
        if answer == QMessageBox.Save:
            return self.save()
        return answer == QMessageBox.Discard

    def _replace(self, spec, weights=None, history=None, path: Path | None = None) -> bool:
        """Show another network (lesson, file, new): stop training, keep the old run for comparison.

        Everything that can fail (building the network, loading its weights) happens before
        anything changes, so a failed open leaves the document, its file name, its weights and
        its history exactly as they were, with one dialog.  False then.
        """
        try:
            network = self._network_for(spec, weights)
        except Exception as error:  # noqa: BLE001 - whatever building it raised, the current work stays
            self.show_error("Cannot open the network", failure_message(error))
            return False
        self.stop_training(wait=True)
        lab = self._running_lab()
        if lab is not None:
            lab.stop(wait=True)
        self.keep_current_run()
        self.model.set_history(MetricHistory())
        self.document.locked = False
        self.document.set_spec(spec)
        self._start_new_run(keep_previous=False, network=network)
        if network is not None:
            self.model.set_weights(network.copy_state())
        active = self.active_lab()
        for lab in self.all_labs:  # a lab's network keeps the file's weights
            lab.adopt(self.document.spec, weights if lab is active else None)
        if history is not None:
            self.model.set_history(history)
        self.file_path = path
        self.trained_since_save = False
        self.document.mark_saved()
        self.data_label.setText("")
        self._on_document_changed()
        self._show_lesson()
        self._update_progress(reset=True)
        self.dashboard.refresh(force=True)
        return True

    def _network_for(self, spec, weights):
        """The engine network the dashboard trains for ``spec``, built and loaded with ``weights``;
        None where there is nothing to build (a network with problems, one a lab trains).  Raises
        whatever building raises (a bad weight, a MemoryError), before anything has changed."""
        if analyse(spec).problems or self.labs.get(network_family(spec)) is not None:
            return None
        network = fresh_network(spec)
        if weights is not None:
            network.load_state(weights)
        return network

    def load_lesson(self, name: str) -> bool:
        try:
            spec = load_lesson(name)
        except NetworkFileError as error:
            self.show_error("Cannot load the lesson", str(error))
            return False
        if not self._confirm_discard("loading the lesson") or not self._replace(spec):
            return False
        self.statusBar().showMessage(f"Lesson loaded: {(spec.lesson or {}).get('title', name)}", 5000)
        return True

    def new_project(self) -> None:
        if self._confirm_discard("starting a new network"):
            self._replace(default_new_spec())

    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open project or network", self._last_folder(),
                                              "Projects and networks (*.npz *.json);;All files (*)")
        if path:
            self.open_path(path)

    def open_path(self, path: str | Path, *, ask: bool = True) -> bool:
        """Open a project (.npz) or a network file (.json); on any problem one dialog, nothing changed."""
        path = Path(path)
        try:
            project = open_file(path)
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
        """The current work as a project: weights and history only when they belong to this network
        (a lab's weights: those its latest run left, or the opened project's)."""
        spec = self.document.spec
        matches = self.network is not None and run_signature(spec) == self.network_signature
        weights = history = None
        lab = self.active_lab()
        if lab is not None:
            trained_spec = lab.trained_spec()
            if trained_spec is not None and run_signature(trained_spec) == run_signature(spec):
                weights = lab.trained_state()
        if matches:
            if self.job is not None:
                weights = self.job.weights.get()[0] or None
            if weights is None:
                weights = self.network.copy_state() if self.job is None else None
            history = self.model.history
        return Project(spec, weights, history)

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
        panel = self.dashboard.current_panel()
        name = self.dashboard.tabText(self.dashboard.currentIndex()).replace("&&", "and").replace(" ", "-").lower()
        path, _ = QFileDialog.getSaveFileName(self, "Export plot", str(Path(self._last_folder()) / f"{name}.png"),
                                              "PNG images (*.png)")
        if path:
            try:
                self.dashboard.export_png(path, panel)
            except Exception as error:  # noqa: BLE001 - one dialog, whatever the exporter raises
                self.show_error("Cannot export", f"{path}: {error}")

    def export_csv(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export metrics", str(Path(self._last_folder()) / "metrics.csv"),
                                              "CSV files (*.csv)")
        if path:
            try:
                Path(path).write_text(metrics_csv(self.model.history), encoding="utf-8")
            except OSError as error:
                self.show_error("Cannot export", f"{path}: {error.strerror or error}")

    def _last_folder(self) -> str:
        recent = self.recent_files()
        return str(Path(recent[0]).parent) if recent else str(Path.home())

    def recent_files(self) -> list[str]:
        value = self.settings.value("recentFiles", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in (value or [])]

    def _add_recent(self, path: Path) -> None:
        path = str(Path(path).resolve())
        files = [path] + [p for p in self.recent_files() if p != path]
        self.settings.setValue("recentFiles", files[:MAX_RECENT])

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        files = self.recent_files()
        for index, path in enumerate(files):
            action = self.recent_menu.addAction(f"&{index + 1} {Path(path).name}")
            action.setToolTip(path)
            action.triggered.connect(lambda _=False, p=path: self.open_path(p))
        if not files:
            self.recent_menu.addAction("No recent files").setEnabled(False)
        else:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear list", lambda: self.settings.setValue("recentFiles", []))

    # --- autosave and recovery ------------------------------------------------------------
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
            try:
                save_project(path, project)
            except OSError:
                pass  # a full disk must not interrupt the learner; the next autosave tries again

        self._autosave_thread = threading.Thread(target=write, name="playground-autosave", daemon=True)
        self._autosave_thread.start()

    def offer_recovery(self) -> None:
        path = self.autosave_path
        if not path.exists():
            return
        stamp = time.strftime("%Y-%m-%d %H:%M", time.localtime(path.stat().st_mtime))
        answer = QMessageBox.question(
            self, "Recover unsaved work?",
            f"The playground did not close normally last time. Recover the work saved automatically at {stamp}?",
            QMessageBox.Yes | QMessageBox.No, QMessageBox.Yes)
        if answer == QMessageBox.Yes:
            try:
                project = open_file(path)
            except Exception as error:  # noqa: BLE001 - as in open_path: one dialog, nothing changed
                self.show_error("Cannot recover", failure_message(error, path))
                return
            if not self._replace(project.spec, project.weights, project.history, None):
                return
            self.trained_since_save = True  # recovered work is not saved anywhere yet
            self._update_title()
        else:
            path.unlink(missing_ok=True)

    # --- datasets -------------------------------------------------------------------------
    def _update_dataset_menu(self) -> None:
        current = self.document.spec.dataset.name
        for name, action in self.dataset_actions.items():
            action.setChecked(name == current)
            if name in ("mnist", "fashion-mnist"):
                label = dict(e for e in DATASET_MENU if e)[name]
                action.setText(label if is_cached(name) else f"{label} (download…)")

    def choose_dataset(self, name: str) -> None:
        if self.state != "idle":
            self.statusBar().showMessage("Stop training before changing the dataset.", 5000)
            self._update_dataset_menu()
            return
        if name in ("mnist", "fashion-mnist") and not is_cached(name) and self.data.data_dir is None:
            if not self.download_dataset(name):
                self._update_dataset_menu()
                return
        if self.document.set_dataset("name", name):
            self.statusBar().showMessage(f"Dataset: {name}. The network's input and output must fit it "
                                         f"(a mismatch is reported when training starts).", 6000)

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

    def _about(self) -> None:
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
        for lab in self.all_labs:
            lab.shutdown()
        if self._download is not None:
            self._download.stop_and_join()
        self.stop_training(wait=True)
        self.thread.wait()
        if self._autosave_thread is not None:
            self._autosave_thread.join()
        if self._warmup_thread is not None:
            self._warmup_thread.join()
        self.pull_timer.stop()
        # the document outlives this window's widgets: its undo stack still emits while it is
        # destroyed, and nothing here may answer then
        self.document.blockSignals(True)
        self.document.undo_stack.blockSignals(True)
