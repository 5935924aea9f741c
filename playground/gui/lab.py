"""What every lab shares: one worker, a pull timer, Train / Pause / Stop, a status line, tabs.

A *lab* trains and shows a family of networks the dashboard does not (the sequence lab, the
RBM lab).  Each owns one worker (``TrainingThread`` running a ``RunnerJob``); the worker
appends to ring buffers and latest-wins slots, and a ~30 Hz timer here copies what is new
into the lab's model and redraws the visible tab only if what it shows changed.  Nothing is
signalled per batch.  ``Lab`` exists so that this machinery, and the API the main window
drives every lab through, is written once; a subclass only says what it pulls from its
stream (``ingest``), what its status line shows (``_status_figures``) and which extra
controls and views it has.

The API a window uses: ``load(spec)`` whenever the document changes, ``train()`` /
``pause(bool)`` / ``stop(wait)`` from the window's actions, ``running``, ``adopt(spec,
weights)`` when a project is opened, ``trained_spec()`` / ``trained_state()`` when one is
saved (so what a lab trained is not lost), and ``shutdown()``
in the window's ``closeEvent`` (it stops and joins the worker); the window also listens to
``thread.started`` / ``thread.finished`` and ``pause_button.toggled`` and reads
``job.control.paused``.
"""
from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QTabWidget, QVBoxLayout, QWidget

from ..runs.jobs import Runner, RunnerJob
from .worker import TrainingThread

#: the pull timer's period (about 30 looks a second) and the least time between two redraws:
#: every millisecond the GUI thread paints it holds the GIL the trainer's Python glue needs
PULL_MS = 33
REDRAW_SECONDS = 0.1


class Lab(QWidget):
    """Train / pause / stop, a status line and tabs of views over one worker thread."""

    def __init__(self, parent, runner: Runner, model):
        super().__init__(parent)
        self.runner = runner
        self.model = model
        self.spec = None
        self.job: RunnerJob | None = None
        self.thread = TrainingThread(self)
        self.thread.finished.connect(self._on_thread_finished)
        self.runs_started = 0
        self._slot_versions: dict[object, int] = {}
        self._last_redraw = 0.0

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        #: Train, Pause, Stop and the status line; subclasses insert their own controls
        self.controls = QHBoxLayout()
        self.train_button = QPushButton("Train")
        self.train_button.clicked.connect(self.train)
        self.pause_button = QPushButton("Pause")
        self.pause_button.setCheckable(True)
        self.pause_button.toggled.connect(self._pause_toggled)
        self.stop_button = QPushButton("Stop")
        self.stop_button.clicked.connect(lambda: self.stop(wait=False))
        for button in (self.train_button, self.pause_button, self.stop_button):
            self.controls.addWidget(button)
        self.status = QLabel("")
        self.status.setMinimumWidth(200)
        self.controls.addWidget(self.status, 1)
        layout.addLayout(self.controls)
        self.views: list = []
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        layout.addWidget(self.tabs, 1)

        self.timer = QTimer(self)
        self.timer.setInterval(PULL_MS)
        self.timer.timeout.connect(self._tick)

    def _add_views(self, views_and_tips) -> None:
        """The tabs, in order: (view, tooltip) pairs; each view has ``title`` and ``refresh``."""
        for view, tip in views_and_tips:
            self.views.append(view)
            self.tabs.setTabToolTip(self.tabs.addTab(view, view.title), tip)
        self.tabs.currentChanged.connect(lambda _: self._tab_changed())

    # --- the API a window uses --------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.job is not None

    def stop(self, wait: bool = True) -> None:
        """Ask the run to stop; with ``wait``, join the worker and take in its last figures."""
        if self.job is None:
            return
        self.job.control.stop()
        if wait:
            self.thread.wait()
            self._finish()

    def pause(self, paused: bool = True) -> None:
        """Pause or resume the run (also one that paused itself, whose button was not pressed)."""
        if self.pause_button.isChecked() == paused:
            self._pause_toggled(paused)
        self.pause_button.setChecked(paused)

    def shutdown(self) -> None:
        """Stop the run and join the worker thread (call before the lab is destroyed)."""
        self.timer.stop()
        self.stop(wait=True)
        self.thread.stop_and_join()

    def current_view(self):
        return self.tabs.currentWidget()

    def adopt(self, spec, weights: dict[str, np.ndarray] | None) -> None:
        """The document was replaced (a project, a lesson, a new network): keep the ``weights``
        it brings for ``spec``, and forget what earlier runs left (None: nothing to keep)."""

    def trained_spec(self):
        """The network the weights of ``trained_state`` belong to, or None when there are none."""
        trained = self._trained()
        return None if trained is None else trained[0]

    def trained_state(self) -> dict[str, np.ndarray] | None:
        """A copy of the newest weights (the latest run's, or the opened project's), keyed
        ``"<layer_id>.<param>"`` like any network's; None when there are none, and while a run
        goes on, since the trainer changes them in place then."""
        trained = None if self.running else self._trained()
        return None if trained is None else {key: value.copy() for key, value in trained[1].items()}

    def _trained(self) -> tuple[object, dict[str, np.ndarray]] | None:
        """(spec, parameters) of the newest weights, or None (a subclass says where they live)."""
        return None

    # --- runs ---------------------------------------------------------------------------------
    def _launch(self, job: RunnerJob, name: str) -> bool:
        """Start ``job`` on the worker as the run called "``name`` · run N"."""
        self.runs_started += 1
        self.model.new_run(f"{name} · run {self.runs_started}")
        self.job = job
        self._slot_versions = {}
        self.thread.launch(job)
        self.timer.start()
        self._update_controls()
        self.redraw(force=True)
        return True

    # --- pulling from the worker --------------------------------------------------------------
    def _take_fresh(self, slot, use) -> bool:
        """Hands ``use`` the value in a latest-wins slot of the job's stream if the worker put
        one since the last look; True if it did."""
        value, version = slot.get()
        if value is None or self._slot_versions.get(slot) == version:
            return False
        self._slot_versions[slot] = version
        use(value)
        return True

    def redraw(self, force: bool = False) -> bool:
        """Redraw the visible view if what it shows changed (hidden ones catch up when shown)."""
        view = self.current_view()
        if view is None or (not self.isVisible() and not force):
            return False
        self._before_redraw(view)
        return view.refresh(self.model, force)

    def _before_redraw(self, view) -> None:
        """A subclass's chance to move a view that animates on its own (nothing by default)."""

    def _keeps_ticking(self) -> bool:
        """Whether the timer goes on between runs (for a view that animates on its own)."""
        return False

    def _tick(self) -> None:
        self.ingest()
        now = time.perf_counter()
        if now - self._last_redraw >= REDRAW_SECONDS:
            self._last_redraw = now
            self.redraw()
            self._update_status()
        if self.job is not None and (self.job.finished is not None or self.job.error) \
                and not self.thread.isRunning():
            self._finish()
        elif self.job is None:
            if self._keeps_ticking():
                self.redraw()
            else:
                self.timer.stop()

    def _tab_changed(self) -> None:
        self.redraw()

    def _on_thread_finished(self) -> None:
        if self.job is not None and not self.thread.isRunning():
            self._finish()

    def _finish(self) -> None:
        job = self.job
        if job is None:
            return
        self.ingest()
        self.job = None
        if not self._keeps_ticking():
            self.timer.stop()
        if job.error:
            self._show_status(f"<b>{self.model.run_name}</b> · <span style='color:#B91C1C'>{job.error}</span>")
        else:
            finished = job.finished
            ended = {"completed": "finished", "stopped": "stopped"}.get(finished.reason, finished.reason)
            if finished.reason == "diverged":
                ended = f"<span style='color:#B91C1C'>diverged: {finished.message}</span>"
            self._show_status(f"{self._status_figures(job)} · {ended}")
        self.pause_button.setChecked(False)
        self._update_controls()
        self.redraw(force=True)

    # --- status and buttons -----------------------------------------------------------------
    def _pause_toggled(self, paused: bool) -> None:
        if self.job is None:
            return
        if paused:
            self.job.control.pause()
        else:
            self.job.control.resume()
        self.pause_button.setText("Resume" if paused else "Pause")
        self._update_status()

    def _update_controls(self) -> None:
        self.train_button.setEnabled(not self.running and self.spec is not None)
        self.pause_button.setEnabled(self.running)
        self.stop_button.setEnabled(self.running)
        if not self.running:
            self.pause_button.setText("Pause")

    def _starting_note(self, job: RunnerJob) -> str:
        """What the status line adds while ``job`` has produced nothing yet ("" once it has)."""
        return " · starting…" if job.progress.steps == 0 else ""

    def _update_status(self) -> None:
        job = self.job
        if job is None:
            return
        text = self._status_figures(job)
        if job.control.paused:
            text += " · paused"
        else:
            text += self._starting_note(job)
        self._show_status(text)

    def _show_status(self, text: str) -> None:
        if self.status.text() != text:
            self.status.setText(text)
