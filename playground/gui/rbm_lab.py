"""The RBM lab: pretrain a stack of RBMs, fine-tune it, and watch what it learns.

Tabs: the energy curves (which RBM is pretraining, reconstruction error, free energy of
training and validation data, pseudo-likelihood), the live reconstructions, the filters,
Gibbs samples, incomplete-data completion, and for a stack that is fine-tuned, the
fine-tuning cost (the dashboard's loss panel) and the autoencoder's reconstructions and
2D code; plus the collaborative-filtering ratings example.

The lab owns one worker (``TrainingThread`` running an ``RBMJob``); the worker appends
figures to ring buffers and copies of the weights to latest-wins slots, and a ~30 Hz
timer here copies what is new into the lab's model and redraws the visible tab if what
it shows changed.  Nothing is signalled per batch.  The pixel views compute from a copy
of the weights on the GUI thread (ten up-down passes or a few Gibbs steps are cheap).

Wiring into a window: ``lab = RBMLab(parent, data=window_data_store)``, ``lab.load(spec)``
whenever the document changes, ``lab.train()`` / ``lab.stop()`` from the window's
actions, and ``lab.shutdown()`` in the window's ``closeEvent`` (it stops and joins the
worker).
"""
from __future__ import annotations

import time

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ..training import TrainingControl
from .dashboard.loss import LossPanel
from .jobs import Runner
from .rbm.autoencoder import AutoencoderView
from .rbm.completion import CompletionView
from .rbm.curves import EnergyCurvesView
from .rbm.filters import FiltersView
from .rbm.job import RBMJob, StackRunner
from .rbm.model import RBMModel
from .rbm.ratings import RatingsView, ratings_runner
from .rbm.reconstructions import ReconstructionsView
from .rbm.samples import SamplesView
from .sequence_lab import PULL_MS, REDRAW_SECONDS
from .training import DataStore, TrainingThread


def fine_tune_mode(spec) -> str:
    pretraining = getattr(spec, "pretraining", None)
    return getattr(pretraining, "fine_tune", "none") if spec is not None else "none"


class RBMLab(QWidget):
    """Train (pretrain, then fine-tune as the file says), Pretrain, Fine-tune, Pause, Stop."""

    def __init__(self, parent=None, runner: Runner | None = None, data: DataStore | None = None):
        super().__init__(parent)
        self.stack_runner = StackRunner(data)
        self.runner = runner or self.stack_runner
        self.model = RBMModel()
        self.spec = None
        self.job: RBMJob | None = None
        self.thread = TrainingThread(self)
        self.thread.finished.connect(self._on_thread_finished)
        self.runs_started = 0
        self._reads = (0, 0, 0)        # pretraining steps, pretraining epochs, fine-tuning steps
        self._fine_epochs_read = 0
        self._slot_versions = (0, 0)
        self._last_redraw = 0.0

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        controls = QHBoxLayout()
        self.train_button = QPushButton("Train")
        self.train_button.setToolTip("Pretrain the RBMs from fresh weights, then fine-tune as the file says")
        self.train_button.clicked.connect(self.train)
        self.pretrain_button = QPushButton("Pretrain")
        self.pretrain_button.setToolTip("Train the RBMs greedily, one after the other, from fresh weights")
        self.pretrain_button.clicked.connect(self.pretrain)
        self.fine_tune_button = QPushButton("Fine-tune")
        self.fine_tune_button.setToolTip("Backprop through the stack, starting from the pretrained RBMs "
                                         "(from random weights when nothing was pretrained)")
        self.fine_tune_button.clicked.connect(self.fine_tune)
        self.pause_button = QPushButton("Pause")
        self.pause_button.setCheckable(True)
        self.pause_button.toggled.connect(self._pause_toggled)
        self.stop_button = QPushButton("Stop")
        self.stop_button.clicked.connect(lambda: self.stop(wait=False))
        for button in (self.train_button, self.pretrain_button, self.fine_tune_button, self.pause_button,
                       self.stop_button):
            controls.addWidget(button)
        self.status = QLabel("")
        self.status.setMinimumWidth(200)
        controls.addWidget(self.status, 1)
        layout.addLayout(controls)

        self.curves = EnergyCurvesView()
        self.reconstructions = ReconstructionsView()
        self.filters = FiltersView()
        self.samples = SamplesView()
        self.completion = CompletionView()
        self.loss = LossPanel()
        self.loss.title = "Fine-tuning"
        self.autoencoder = AutoencoderView()
        self.ratings = RatingsView()
        self.ratings.trainRequested.connect(self.train_ratings)
        self.views = [self.curves, self.reconstructions, self.filters, self.samples, self.completion, self.loss,
                      self.autoencoder, self.ratings]
        tips = ("Which RBM is pretraining; reconstruction error, free energy and pseudo-likelihood over training",
                "Validation digits and their reconstructions after one up-down pass",
                "Each hidden unit's weights as a picture",
                "Gibbs chains started from data or from noise",
                "Hide part of a digit and let the RBM fill it in",
                "Cost and accuracy while the stack is fine-tuned by backprop",
                "The deep autoencoder's reconstructions and its 2D code of validation digits",
                "Collaborative filtering: an RBM fills in held-out ratings")
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        for view, tip in zip(self.views, tips):
            self.tabs.setTabToolTip(self.tabs.addTab(view, view.title), tip)
        self.tabs.currentChanged.connect(lambda _: self._tab_changed())
        layout.addWidget(self.tabs, 1)

        self.timer = QTimer(self)
        self.timer.setInterval(PULL_MS)
        self.timer.timeout.connect(self._tick)
        self._update_controls()

    # --- the API a window uses --------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.job is not None

    def load(self, spec) -> None:
        """The network the next run trains (a running run keeps its own)."""
        self.spec = spec
        self.model.set_network(spec)
        mode = fine_tune_mode(spec)
        self.tabs.setTabVisible(self.tabs.indexOf(self.loss), mode != "none")
        self.tabs.setTabVisible(self.tabs.indexOf(self.autoencoder), mode == "autoencoder")
        if not self.running:
            self._show_status(f"{getattr(spec, 'name', '') or 'RBM stack'} loaded: press Train or Pretrain."
                              if spec is not None else "")
        self._update_controls()

    def train(self) -> bool:
        """Pretrain from fresh weights, then fine-tune as the file says; False when a run is
        going or nothing is loaded."""
        return self._start(pretrain=True, fine_tune=True, name="training")

    def pretrain(self) -> bool:
        return self._start(pretrain=True, fine_tune=False, name="pretraining")

    def fine_tune(self) -> bool:
        """Fine-tune the stack the last run left (pretrained or not) by backprop."""
        return self._start(pretrain=False, fine_tune=True, name="fine-tuning")

    def train_ratings(self) -> bool:
        """Train the ratings RBM of the collaborative-filtering example (on the same worker)."""
        if self.running:
            return False
        self.tabs.setCurrentWidget(self.ratings)
        self.model.clear_ratings()
        return self._launch(RBMJob(None, ratings_runner, control=TrainingControl(0.05)), "ratings example")

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

    # --- runs ---------------------------------------------------------------------------------
    def _start(self, pretrain: bool, fine_tune: bool, name: str) -> bool:
        spec = self.spec
        if self.running or spec is None:
            return False
        if fine_tune and not pretrain and fine_tune_mode(spec) == "none":
            self._show_status("This file has no fine-tuning (its pretraining says fine_tune: none).")
            return False
        self.stack_runner.phases(pretrain, fine_tune)
        if pretrain:
            self.samples.restart()
        control = TrainingControl(getattr(getattr(spec, "training", None), "learning_rate", 0.1))
        return self._launch(RBMJob(spec, self.runner, control=control), name)

    def _launch(self, job: RBMJob, name: str) -> bool:
        self.runs_started += 1
        self.model.new_run(f"{name} · run {self.runs_started}")
        self.job = job
        self._reads, self._fine_epochs_read, self._slot_versions = (0, 0, 0), 0, (0, 0)
        self.thread.launch(job)
        self.timer.start()
        self._update_controls()
        self.redraw(force=True)
        return True

    # --- pulling from the worker --------------------------------------------------------------
    def ingest(self) -> bool:
        """Copy what the worker produced since the last look into the model."""
        job = self.job
        if job is None:
            return False
        stream = job.stream
        pre_steps, pre_epochs, fine_steps = self._reads
        pre_total, pre_new = stream.pretrain.read_since(pre_steps)
        records, layer_starts = stream.pretrain_records(pre_epochs)
        fine_total, fine_new = stream.fine_tune.read_since(fine_steps, self._fine_epochs_read)
        self._reads = (pre_total, pre_epochs + len(records), fine_total)
        self._fine_epochs_read += len(fine_new.epoch_records)
        changed = self.model.add_pretraining(pre_new, records, layer_starts)
        changed = self.model.add_fine_tuning(fine_new) or changed
        changed = self.model.add_ratings(stream.ratings_since(len(self.model.ratings_epochs))) or changed
        snapshot, snapshot_version = stream.snapshot.get()
        examples, examples_version = stream.examples.get()
        if examples_version != self._slot_versions[1] and examples is not None:
            self.model.set_examples(examples)
            changed = True
        if snapshot_version != self._slot_versions[0] and snapshot is not None:
            self.model.set_snapshot(snapshot)
            changed = True
        self._slot_versions = (snapshot_version, examples_version)
        return changed

    def redraw(self, force: bool = False) -> bool:
        """Redraw the visible view if what it shows changed (hidden ones catch up when shown);
        the samples tab also advances its Gibbs chains while it is shown."""
        view = self.current_view()
        if view is None or (not self.isVisible() and not force):
            return False
        if view is self.samples:
            self.samples.advance(self.model)
        return view.refresh(self.model, force)

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
            if self.current_view() is self.samples and self.isVisible():
                self.redraw()   # the chains keep running after training, while their tab is shown
            else:
                self.timer.stop()

    def _tab_changed(self) -> None:
        self.redraw(force=True)
        if self.current_view() is self.samples:
            self.timer.start()   # the samples advance on the timer, also between runs

    def _on_thread_finished(self) -> None:
        if self.job is not None and not self.thread.isRunning():
            self._finish()

    def _finish(self) -> None:
        job = self.job
        if job is None:
            return
        self.ingest()
        self.job = None
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
        can_start = not self.running and self.spec is not None
        self.train_button.setEnabled(can_start)
        self.pretrain_button.setEnabled(can_start)
        self.fine_tune_button.setEnabled(can_start and fine_tune_mode(self.spec) != "none")
        self.ratings.set_can_train(not self.running)
        self.pause_button.setEnabled(self.running)
        self.stop_button.setEnabled(self.running)
        if not self.running:
            self.pause_button.setText("Pause")

    def _status_figures(self, job: RBMJob) -> str:
        progress = job.progress
        parts = [f"<b>{self.model.run_name}</b>"]
        if progress.phase == "pretraining":
            parts.append(f"RBM {progress.layer_index + 1}/{progress.n_layers}")
        if progress.phase == "ratings":
            parts.append(f"epoch {progress.epoch}/{progress.epochs}")
        elif progress.phase in ("pretraining", "fine-tuning"):
            parts.append(f"{progress.phase} epoch {progress.epoch}/{progress.epochs}")
            parts.append(f"step {progress.steps:,}")
        if self.model.pretrain_epochs:
            parts.append(f"validation reconstruction error <b>{self.model.pretrain_epochs[-1].reconstruction_error:.2f}</b>")
        epochs = self.model.history.epochs
        if epochs and epochs[-1].val_accuracy is not None:
            parts.append(f"validation accuracy <b>{100 * epochs[-1].val_accuracy:.1f}%</b>")
        return " · ".join(parts)

    def _update_status(self) -> None:
        job = self.job
        if job is None:
            return
        text = self._status_figures(job)
        if job.control.paused:
            text += " · paused"
        elif job.progress.phase == "starting":
            text += " · loading the data…"
        self._show_status(text)

    def _show_status(self, text: str) -> None:
        if self.status.text() != text:
            self.status.setText(text)
