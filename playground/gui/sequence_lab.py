"""The sequence lab: train a recurrent or encoder-decoder network and watch it learn along time.

Tabs: the cost, the gradient over time (‖∂C/∂h_t‖ per time step; earlier runs overlaid),
the LSTM's gates, the translations and the hidden-state PCA.  The lab owns one worker
(``TrainingThread`` running a ``SequenceJob``); the worker appends to ring buffers and
latest-wins slots, and a ~30 Hz timer here copies what is new into the lab's model and
redraws the visible tab only if what it shows changed.  Nothing is signalled per batch.

Wiring into a window: ``lab = SequenceLab(parent)``, ``lab.load(spec)`` whenever the
document changes, ``lab.train()`` / ``lab.stop()`` from the window's actions, and
``lab.shutdown()`` in the window's ``closeEvent`` (it stops and joins the worker).
"""
from __future__ import annotations

import time
from collections import deque

from PySide6.QtCore import QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QTabWidget, QVBoxLayout, QWidget

from ..model import NetworkSpec
from ..model.spec import build_encoder_decoder
from ..training import TrainingControl
from ..training.seq2seq import Seq2SeqTrainer, load_pair_corpus
from ..training.sequence_trainer import comparison_specs, sequence_trainer_for
from .dashboard.compare import RUN_COLORS
from .dashboard.loss import LossPanel
from .sequences.gates import GateActivityView
from .sequences.gradient_time import GradientOverTimeView
from .sequences.hidden_pca import HiddenStatePCAView
from .sequences.job import Runner, SequenceJob
from .sequences.model import SequenceModel
from .sequences.translations import TranslationsView
from .training import TrainingThread

#: the pull timer's period (about 30 looks a second) and the least time between two redraws:
#: every millisecond the GUI thread paints it holds the GIL the trainer's Python glue needs
PULL_MS = 33
REDRAW_SECONDS = 0.1
RECURRENT_NAMES = {"simple_rnn": "SimpleRNN", "lstm": "LSTM"}


def describe_model(spec) -> str:
    """A short name for the network a run trains: "LSTM", "SimpleRNN", "encoder-decoder LSTM"."""
    kinds = [RECURRENT_NAMES[node.type] for node in getattr(spec, "nodes", []) if node.type in RECURRENT_NAMES]
    name = kinds[0] if kinds else "sequence model"
    return f"encoder-decoder {name}" if getattr(spec, "state_edges", None) else name


def default_runner(spec, control: TrainingControl):
    """The real trainer for ``spec``: the encoder-decoder trainer when the network has a state
    connection, else the single-chain sequence trainer.  It runs on the worker, so building
    the network and the data never blocks the window."""
    if getattr(spec, "state_edges", None):
        model = build_encoder_decoder(spec)
        model.initialize(spec.training.initializer, spec.training.seed)
        corpus = load_pair_corpus(spec.dataset, seed=spec.training.seed)
        return Seq2SeqTrainer(model, corpus, spec.training, control=control).run()
    return sequence_trainer_for(spec, control=control).run()


def variants_of(spec) -> list[tuple[str, object]]:
    """The networks a lesson compares ((label, spec) pairs: the rnn-vs-lstm lesson offers its
    LSTM and the same network with a SimpleRNN); a network without a comparison is one entry."""
    if spec is None:
        return []
    if getattr(spec, "state_edges", None) or not isinstance(spec, NetworkSpec):
        return [(describe_model(spec), spec)]
    return [(describe_model(twin), twin) for _, twin in comparison_specs(spec)]


class SequenceLab(QWidget):
    """Train / pause / stop, a status line, and the sequence views as tabs."""

    def __init__(self, parent=None, runner: Runner | None = None):
        super().__init__(parent)
        self.runner = runner or default_runner
        self.model = SequenceModel()
        self.spec = None
        self.job: SequenceJob | None = None
        self.thread = TrainingThread(self)
        self.thread.finished.connect(self._on_thread_finished)
        self.runs_started = 0
        self._read_count = self._epochs_read = 0
        self._slot_versions = (0, 0)
        self._rate_samples: deque[tuple[float, int]] = deque()
        self._last_redraw = 0.0

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        controls = QHBoxLayout()
        self.variant = QComboBox()
        self.variant.setToolTip("Which network the next run trains (a lesson may compare two)")
        controls.addWidget(self.variant)
        self.train_button = QPushButton("Train")
        self.train_button.setToolTip("Train the loaded network from fresh weights; the previous run is kept to compare")
        self.train_button.clicked.connect(self.train)
        self.pause_button = QPushButton("Pause")
        self.pause_button.setCheckable(True)
        self.pause_button.toggled.connect(self._pause_toggled)
        self.stop_button = QPushButton("Stop")
        self.stop_button.clicked.connect(lambda: self.stop(wait=False))
        for button in (self.train_button, self.pause_button, self.stop_button):
            controls.addWidget(button)
        self.status = QLabel("")
        self.status.setMinimumWidth(200)
        controls.addWidget(self.status, 1)
        layout.addLayout(controls)

        self.loss = LossPanel()
        self.gradients = GradientOverTimeView()
        self.gradients.clearRequested.connect(self.clear_comparison)
        self.gates = GateActivityView()
        self.translations = TranslationsView()
        self.pca = HiddenStatePCAView()
        self.views = [self.loss, self.gradients, self.gates, self.translations, self.pca]
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        tips = ("Training cost per mini-batch and validation cost per epoch",
                "‖∂C/∂h_t‖ for every time step: how much error reaches each step of the sequence",
                "Mean forget-gate and input-gate values per time step (LSTM)",
                "Held-out sources, the model's translations and the references",
                "The encoder's final states of held-out phrases, projected to 2D")
        for view, tip in zip(self.views, tips):
            self.tabs.setTabToolTip(self.tabs.addTab(view, view.title), tip)
        self.tabs.setCurrentWidget(self.gradients)
        self.tabs.currentChanged.connect(lambda _: self.redraw())
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
        """The network the next ``train()`` trains (a running run keeps its own)."""
        self.spec = spec
        self.variant.clear()
        for label, variant in variants_of(spec):
            self.variant.addItem(label, variant)
        self.variant.setVisible(self.variant.count() > 1)
        if not self.running:
            self._show_status(f"{describe_model(spec)} loaded: press Train." if spec is not None else "")
        self._update_controls()

    def chosen_spec(self):
        """The network the next run trains: the loaded one, or the variant chosen to compare."""
        return self.variant.currentData() if self.variant.count() else self.spec

    def train(self) -> bool:
        """Start a run of the loaded network from fresh weights; False when one is running or
        nothing is loaded.  The previous run's gradient profile is kept for comparison."""
        spec = self.chosen_spec()
        if self.running or spec is None:
            return False
        used = {kept.color.name() for kept in self.model.kept}
        colour = next((c for c in RUN_COLORS if QColor(c).name() not in used), RUN_COLORS[0])
        self.model.keep_current(QColor(colour))
        self.runs_started += 1
        self.model.new_run(f"{describe_model(spec)} · run {self.runs_started}")
        training = getattr(spec, "training", None)
        control = TrainingControl(getattr(training, "learning_rate", 0.01))
        self.job = SequenceJob(spec, self.runner, control=control)
        self._read_count = self._epochs_read = 0
        self._slot_versions = (0, 0)
        self._rate_samples.clear()
        self.thread.launch(self.job)
        self.timer.start()
        self._update_controls()
        self.redraw(force=True)
        return True

    def stop(self, wait: bool = True) -> None:
        """Ask the run to stop; with ``wait``, join the worker and take in its last figures."""
        if self.job is None:
            return
        self.job.control.stop()
        if wait:
            self.thread.wait()
            self._finish()

    def pause(self, paused: bool = True) -> None:
        self.pause_button.setChecked(paused)

    def shutdown(self) -> None:
        """Stop the run and join the worker thread (call before the lab is destroyed)."""
        self.timer.stop()
        self.stop(wait=True)
        self.thread.stop_and_join()

    def clear_comparison(self) -> None:
        self.model.clear_kept()
        self.redraw(force=True)

    def current_view(self):
        return self.tabs.currentWidget()

    # --- pulling from the worker --------------------------------------------------------------
    def ingest(self) -> bool:
        """Copy what the worker produced since the last look into the model."""
        job = self.job
        if job is None:
            return False
        stream = job.stream
        total, new = stream.read_since(self._read_count, self._epochs_read)
        self._read_count = total
        self._epochs_read += len(new.epoch_records)
        changed = self.model.add(new)
        gates, gates_version = stream.gates.get()
        samples, samples_version = stream.samples.get()
        if gates_version != self._slot_versions[0] and gates is not None:
            self.model.set_gates(gates)
            changed = True
        if samples_version != self._slot_versions[1] and samples is not None:
            self.model.set_samples(*samples)
            changed = True
        self._slot_versions = (gates_version, samples_version)
        return changed

    def redraw(self, force: bool = False) -> bool:
        """Redraw the visible view if what it shows changed (hidden ones catch up when shown)."""
        view = self.current_view()
        if view is None or (not self.isVisible() and not force):
            return False
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

    def _on_thread_finished(self) -> None:
        if self.job is not None and not self.thread.isRunning():
            self._finish()

    def _finish(self) -> None:
        job = self.job
        if job is None:
            return
        self.ingest()
        self._update_status()
        self.job = None
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

    def _status_figures(self, job: SequenceJob) -> str:
        parts = [f"<b>{self.model.run_name}</b>", f"epoch {job.progress.epoch}", f"step {job.progress.steps:,}"]
        now = time.perf_counter()
        self._rate_samples.append((now, job.progress.steps))
        while len(self._rate_samples) > 2 and now - self._rate_samples[0][0] > 1.5:
            self._rate_samples.popleft()
        (t0, s0), (t1, s1) = self._rate_samples[0], self._rate_samples[-1]
        batch = getattr(getattr(job.spec, "training", None), "batch_size", None)
        if self.job is not None and t1 > t0 and s1 > s0:
            rate = (s1 - s0) / (t1 - t0)
            parts.append(f"{rate * batch:,.0f} samples/s" if batch else f"{rate:,.1f} steps/s")
        elif self.model.epochs:
            parts.append(f"{self.model.epochs[-1].samples_per_s:,.0f} samples/s")
        parts.append(f"{self.model.clips_total:,} clips")
        if self.model.epochs:  # the figure each task is judged by
            last = self.model.epochs[-1]
            if last.val_mse is not None:
                parts.append(f"validation MSE <b>{last.val_mse:.3g}</b>")
            if last.exact_match is not None:
                parts.append(f"exact match <b>{100 * last.exact_match:.1f}%</b>")
        return " · ".join(parts)

    def _update_status(self) -> None:
        job = self.job
        if job is None:
            return
        text = self._status_figures(job)
        if job.control.paused:
            text += " · paused"
        elif job.progress.steps == 0:
            text += " · starting…"
        self._show_status(text)

    def _show_status(self, text: str) -> None:
        if self.status.text() != text:
            self.status.setText(text)
