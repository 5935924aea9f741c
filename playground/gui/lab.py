"""What every lab shares: one worker, a pull timer, pause and stop, and the API the window drives.

A *lab* trains and shows one family of networks (the family registry names it): the
dashboard for feed-forward networks, the sequence lab, the RBM lab.  Each owns one worker
(``TrainingThread`` running a ``RunnerJob``); the worker appends to ring buffers and
latest-wins slots, and a ~30 Hz timer here copies what is new into the lab's model and
redraws the visible view only if what it shows changed.  Nothing is signalled per batch.

``LabBase`` is that machinery and the API the main window drives every lab through:
``load(spec)`` whenever the document changes, ``train()`` / ``pause(bool)`` / ``stop(wait)``
from the window's actions, ``state``, ``running``, ``adopt(spec, weights, history)`` when a
project is opened, ``trained_spec()`` / ``trained_state()`` / ``trained_history()`` when one is
saved (so what a lab trained is not lost), and ``shutdown()`` in the window's ``closeEvent``
(it stops and joins the worker).  ``stateChanged`` tells the window to update its actions.
A subclass says what it pulls from its stream (``ingest``) and what its status shows.

Every lab has a timeline (``timeline``, placed under its views): the lab keeps snapshots of
its run in a bounded ``SnapshotStore`` (what a snapshot holds is the lab's business), and
dragging the slider back shows every view as the run was at that step: ``model.replay(step,
snapshot)`` is a copy of the lab's model cut at the step, which the views draw instead of the
live one (``shown_model``) until the slider returns to the right end.

``Lab`` adds the chrome of the sequence and RBM labs: its own Train / Pause / Stop buttons,
a status line, tabs of panels and the timeline under them.  The dashboard uses the window's
toolbar and status bar.
"""

from __future__ import annotations

import gc
import time

import numpy as np
from pyqtgraph.util.garbage_collector import GarbageCollector
from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QTabWidget, QVBoxLayout, QWidget

from ..engine.background import COMPILER
from ..runs.jobs import Runner, RunnerJob
from ..runs.snapshots import SnapshotStore, weights_bytes
from ..training.warmup import warming_up
from .dashboard.common import apply_quality
from .dashboard.timeline import Timeline
from .worker import TrainingThread

#: the pull timer's period (about 30 looks a second) and the least time between two redraws:
#: every millisecond the GUI thread paints it holds the GIL the trainer's Python glue needs
PULL_MS = 33
REDRAW_SECONDS = 0.1


def starting_text(job: RunnerJob, now: float | None = None) -> str:
    """What a run that has produced nothing yet is waiting for: numba compiling the engine's
    kernels (a cold start: a fresh install, or kernels this process has not used yet), with how
    many it has compiled and for how long, or just "starting…"."""
    if not (COMPILER.busy(now) or warming_up()):
        return "starting…"
    now = time.perf_counter() if now is None else now
    waited = max(0.0, now - job.progress.started) if job.progress.started else 0.0
    return f"preparing the engine, first run only: {COMPILER.compiled} kernels compiled, {waited:.0f} s"


_collector: GarbageCollector | None = None


def collect_garbage_on_the_gui_thread() -> None:
    """Python's cyclic garbage collector runs on whichever thread happens to cross its threshold.
    When that is a worker and the garbage holds Qt objects, Qt destroys them off the GUI thread
    and can deadlock (seen: a numba compile on the worker collecting a panel's wrappers, both
    threads then waiting for ever).  pyqtgraph's GarbageCollector turns automatic collection off
    and collects on a GUI-thread timer instead; every lab starts it before it starts a worker."""
    global _collector
    if _collector is None:
        _collector = GarbageCollector(interval=1.0)


def settle_garbage_before_a_run() -> None:
    """Collect everything now and set what survives aside, so the collections during the run
    scan only what the run makes.

    With automatic collection off (above), the objects made while the window was built and
    the lesson loaded (some 50,000) wait in the young generations for the timer's first
    generation-1 collection, which then stalled the GUI thread 30-50 ms mid-run (``bench
    --gui``).  A full collection at Train, before the worker starts, costs that once where
    nobody watches a curve; ``gc.freeze`` keeps the survivors out of later full collections
    until the next run's ``unfreeze`` hands them back (so nothing is kept for ever)."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()


class LabBase(QWidget):
    """One worker thread, the timer that pulls from it, and the API the window drives."""

    #: a run started, paused, resumed or ended: the window's actions follow
    stateChanged = Signal()
    #: the lab can step one mini-batch at a time and re-initialise its weights (the dashboard)
    can_step = False
    can_reset = False
    #: how often the timer looks at the worker, in ms
    pull_ms = PULL_MS
    #: the least time between two updates of the status line, which is never updated more often
    #: than the views redraw (the dashboard's timeline follows it)
    status_seconds = 0.0

    def __init__(
        self,
        parent,
        runner: Runner | None,
        model,
        redraw_seconds: float = REDRAW_SECONDS,
        snapshot_bytes=weights_bytes,
    ):
        super().__init__(parent)
        collect_garbage_on_the_gui_thread()
        self.runner = runner
        self.model = model
        self.spec = None
        self.job: RunnerJob | None = None
        self.thread = TrainingThread(self)
        self.thread.finished.connect(self._on_thread_finished)
        self.runs_started = 0
        self.redraw_seconds = redraw_seconds
        self._slot_versions: dict[object, int] = {}
        self._last_redraw = self._last_status = 0.0
        self._stopping = False
        #: the state the window was last told of; a run can change it on its own (a single step
        #: pauses the job when it is done), which the pull timer notices and announces
        self._state_announced = "idle"
        self.stateChanged.connect(self._remember_state)
        self.timer = QTimer(self)
        self.timer.setInterval(self.pull_ms)
        self.timer.timeout.connect(self._tick)
        #: what the window shows of the lab (the lab itself, unless a subclass says otherwise)
        self.widget: QWidget = self
        #: slow motion, in steps a second (None: full speed); each run's control gets it
        self.pace: float | None = None
        self._full_speed_redraw = redraw_seconds
        #: the run's snapshots by step (``snapshot_bytes`` counts one), the slider that goes back
        #: to them (the lab places it under its views), and the moment it went back to (None: live)
        self.snapshots = SnapshotStore(size=snapshot_bytes)
        self.timeline = Timeline()
        self.timeline.stepChosen.connect(self.show_step)
        self.replayed = None

    # --- the API a window uses --------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.job is not None

    @property
    def state(self) -> str:
        """ "idle", "running", "paused" or "stopping"."""
        if self.job is None:
            return "idle"
        if self._stopping or self.job.control.stopped:
            return "stopping"
        return "paused" if self.job.control.paused else "running"

    def stop(self, wait: bool = True) -> None:
        """Ask the run to stop; with ``wait``, join the worker and take in its last figures."""
        if self.job is None:
            return
        self._stopping = True
        self.job.control.stop()
        self.stateChanged.emit()
        if wait:
            self.thread.wait()
            self._finish()

    def pause(self, paused: bool = True) -> None:
        """Pause or resume the run (also one that paused itself after a single step)."""
        if self.job is None:
            return
        if paused:
            self.job.control.pause()
        else:
            self.job.control.resume()
        self._update_status()
        self.stateChanged.emit()

    def set_pace(self, steps_per_second: float | None) -> None:
        """Full speed (None) or slow motion, for the run going on and those to come; in slow
        motion the views redraw at every step (up to the pull timer's ~30 a second)."""
        self.pace = steps_per_second
        self.redraw_seconds = self._full_speed_redraw
        if steps_per_second is not None:
            self.redraw_seconds = min(self._full_speed_redraw, 0.5 / steps_per_second)
        if self.job is not None:
            self.job.control.set_pace(steps_per_second)

    def shutdown(self) -> None:
        """Stop the run and join the worker thread (call before the lab is destroyed)."""
        self.timer.stop()
        self.stop(wait=True)
        self.thread.stop_and_join()

    def current_view(self):
        """The view on show, which ``redraw`` refreshes."""
        return None

    def shown_model(self):
        """What the views draw: the moment the timeline went back to, or the live model."""
        return self.replayed if self.replayed is not None else self.model

    def show_step(self, step: int | None) -> None:
        """Every view shows the moment after ``step`` (the nearest snapshot at or before it), or
        the live run (None)."""
        moment = None if step is None else self.snapshots.at(step)
        self.replayed = None if moment is None else self.model.replay(*moment)
        if moment is not None:
            self.timeline.show_moment(moment[0])
        self._replay_changed()

    def _replay_changed(self) -> None:
        """The views show another moment (or the live run again)."""
        self.redraw(force=True)

    def _forget_snapshots(self) -> None:
        """A new run: the timeline starts again, live."""
        self.snapshots.clear()
        if self.replayed is not None or not self.timeline.live:
            self.replayed = None
            self.timeline.live = True
            self._replay_changed()
        self.timeline.follow(-1)

    def _follow_timeline(self, last_step: int) -> None:
        """The run reached ``last_step``: the slider stretches to it (and follows it while live)."""
        if self.timeline.last_step != last_step:
            self.timeline.follow(last_step)

    def adopt(self, spec, weights: dict[str, np.ndarray] | None, history=None) -> None:
        """The document was replaced (a project, a lesson, a new network): keep the ``weights``
        (and metric ``history``) it brings for ``spec``, and forget what earlier runs left."""

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

    def trained_history(self):
        """The metric history a project keeps with the weights (None: the lab keeps none)."""
        return None

    def _trained(self) -> tuple[object, dict[str, np.ndarray]] | None:
        """(spec, parameters) of the newest weights, or None (a subclass says where they live)."""
        return None

    # --- runs ---------------------------------------------------------------------------------
    def _launch(self, job: RunnerJob, name: str) -> bool:
        """Start ``job`` on the worker as the run called "``name`` · run N"."""
        self.runs_started += 1
        self.model.new_run(f"{name} · run {self.runs_started}")
        self._forget_snapshots()
        return self._start_job(job)

    def _start_job(self, job: RunnerJob) -> bool:
        self.job = job
        job.control.set_pace(self.pace)
        self._stopping = False
        self._slot_versions = {}
        settle_garbage_before_a_run()
        self.thread.launch(job)
        self.timer.start()
        self.stateChanged.emit()
        self.redraw(force=True)
        return True

    # --- pulling from the worker --------------------------------------------------------------
    def ingest(self) -> bool:
        """Copy what the worker produced since the last look into the model; True if anything was new."""
        return False

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
        return view.refresh(self.shown_model(), force)

    def _before_redraw(self, view) -> None:
        """A subclass's chance to move a view that animates on its own (nothing by default)."""

    def _keeps_ticking(self) -> bool:
        """Whether the timer goes on between runs (for a view that animates on its own)."""
        return False

    def _tick(self) -> None:
        self.ingest()
        self._announce_state()
        now = time.perf_counter()
        if now - self._last_redraw >= self.redraw_seconds:
            self._last_redraw = now
            self.redraw()
        if now - self._last_status >= max(self.redraw_seconds, self.status_seconds):
            self._last_status = now
            self._update_status()
        if self.job is not None and (self.job.finished is not None or self.job.error) and not self.thread.isRunning():
            self._finish()
        elif self.job is None:
            if self._keeps_ticking():
                self.redraw()
            else:
                self.timer.stop()

    def _remember_state(self) -> None:
        self._state_announced = self.state

    def _announce_state(self) -> None:
        """Emit ``stateChanged`` if the state moved without a call here (the worker paused itself)."""
        if self.state != self._state_announced:
            self._update_status()
            self.stateChanged.emit()

    def _on_thread_finished(self) -> None:
        if self.job is not None and not self.thread.isRunning():
            self._finish()

    def _finish(self) -> None:
        """The worker is done: take in its last figures, then ``_report`` how the run ended."""
        job = self.job
        if job is None:
            return
        self.ingest()
        self.job = None
        self._stopping = False
        if not self._keeps_ticking():
            self.timer.stop()
        self._report(job)
        self.redraw(force=True)
        self.stateChanged.emit()

    def _report(self, job: RunnerJob) -> None:
        """Say how ``job`` ended (its ``error`` or its ``finished``)."""

    def _update_status(self) -> None:
        """Show the running job's figures."""


class Lab(LabBase):
    """A lab with its own Train / Pause / Stop buttons, a status line and tabs of panels."""

    def __init__(self, parent, runner: Runner, model, snapshot_bytes=weights_bytes):
        super().__init__(parent, runner, model, snapshot_bytes=snapshot_bytes)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        #: Train, Pause, Stop and the status line; subclasses insert their own controls
        self.controls = QHBoxLayout()
        self.train_button = QPushButton("Train")
        self.train_button.clicked.connect(self.train)
        self.pause_button = QPushButton("Pause")
        self.pause_button.setCheckable(True)
        self.pause_button.toggled.connect(self.pause)
        self.stop_button = QPushButton("Stop")
        self.stop_button.clicked.connect(lambda: self.stop(wait=False))
        for button in (self.train_button, self.pause_button, self.stop_button):
            self.controls.addWidget(button)
        self.status = QLabel("")
        self.status.setMinimumWidth(200)
        self.status.setWordWrap(True)  # the figures and how the run ended, never cut off at the right
        self.controls.addWidget(self.status, 1)
        layout.addLayout(self.controls)
        self.panels: list = []
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.timeline)
        self.stateChanged.connect(self._update_controls)

    def _add_panels(self, panels_and_tips) -> None:
        """The tabs, in order: (panel, tooltip) pairs; each panel has ``title`` and ``refresh``."""
        for panel, tip in panels_and_tips:
            self.panels.append(panel)
            self.tabs.setTabToolTip(self.tabs.addTab(panel, panel.title), tip)
        self.tabs.currentChanged.connect(lambda _: self._tab_changed())

    def current_view(self):
        return self.tabs.currentWidget()

    def lesson_views(self) -> dict:
        """The tab that stands for each panel name a lesson may open on (``PANEL_NAMES``)."""
        return {}

    def show_lesson_view(self, name: str | None) -> bool:
        """Bring the tab a lesson names on show; False when the lab has no such tab (or hides it)."""
        view = self.lesson_views().get(name)
        if view is None or not self.tabs.isTabVisible(self.tabs.indexOf(view)):
            return False
        self.tabs.setCurrentWidget(view)
        return True

    def redraw(self, force: bool = False) -> bool:
        self._follow_timeline(self.model.last_step)  # as often as the views redraw, no more
        drawn = super().redraw(force)
        if drawn and self.job is not None:
            apply_quality(self.current_view(), True)  # curves created by this draw
        return drawn

    def _start_job(self, job: RunnerJob) -> bool:
        """Start ``job`` with the views in draft quality (``apply_quality``) until it ends."""
        for panel in self.panels:
            apply_quality(panel, True)
        return super()._start_job(job)

    def _finish(self) -> None:
        super()._finish()
        for panel in self.panels:
            apply_quality(panel, False)

    def train(self) -> bool:
        """Start a run of the loaded network (a subclass says which job)."""
        raise NotImplementedError

    def pause(self, paused: bool = True) -> None:
        super().pause(paused)
        self.pause_button.blockSignals(True)
        self.pause_button.setChecked(paused and self.running)
        self.pause_button.blockSignals(False)
        self._update_controls()

    def _tab_changed(self) -> None:
        # between runs no timer redraws later what a view's minimum interval put off now
        self.redraw(force=self.job is None)

    def _report(self, job: RunnerJob) -> None:
        if job.error:
            self._show_status(f"<b>{self.model.run_name}</b> · <span style='color:#B91C1C'>{job.error}</span>")
            return
        finished = job.finished
        ended = {"completed": "finished", "stopped": "stopped"}.get(finished.reason, finished.reason)
        if finished.reason == "diverged":
            ended = f"<span style='color:#B91C1C'>diverged: {finished.message}</span>"
        self._show_status(f"{self._status_figures(job)} · {ended}")

    # --- status and buttons -----------------------------------------------------------------
    def _update_controls(self) -> None:
        self.train_button.setEnabled(not self.running and self.spec is not None)
        self.pause_button.setEnabled(self.running)
        self.stop_button.setEnabled(self.running)
        paused = self.state == "paused"
        self.pause_button.setText("Resume" if paused else "Pause")
        if not self.running and self.pause_button.isChecked():
            self.pause_button.blockSignals(True)
            self.pause_button.setChecked(False)
            self.pause_button.blockSignals(False)

    def _status_figures(self, job: RunnerJob) -> str:
        """The run's name and figures (a subclass adds what its runs report)."""
        return f"<b>{self.model.run_name}</b>"

    def _starting_note(self, job: RunnerJob) -> str:
        """What the status line adds while ``job`` has produced nothing yet ("" once it has)."""
        return f" · {starting_text(job)}" if job.progress.steps == 0 else ""

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
