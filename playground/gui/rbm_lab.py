"""The RBM lab: pretrain a stack of RBMs, fine-tune it, and watch what it learns.

Tabs: the energy curves (which RBM is pretraining, reconstruction error, free energy of
training and validation data, pseudo-likelihood), the live reconstructions, the filters,
Gibbs samples, incomplete-data completion, and for a stack that is fine-tuned, the
fine-tuning cost (the dashboard's loss panel) and the autoencoder's reconstructions and
2D code; plus the collaborative-filtering ratings example.

The worker, the pull timer, the buttons and the API a window uses are the shared ``Lab``'s
(gui/lab.py); the worker runs an ``RBMJob`` that puts figures in ring buffers and copies of
the weights in latest-wins slots.  The pixel views compute from a copy of the weights on
the GUI thread (ten up-down passes or a few Gibbs steps are cheap).

Wiring into a window: ``lab = RBMLab(parent, data=window_data_store)``, then as ``Lab`` says.
"""

from __future__ import annotations

from PySide6.QtWidgets import QPushButton

from ..runs.data import DataStore
from ..runs.jobs import Runner
from ..runs.rbm import RBMJob, StackRunner, stack_snapshot
from ..runs.rbm_stream import RBMSnapshot
from ..training import TrainingControl
from .dashboard.compare import keep_run
from .lab import Lab, starting_text
from .rbm.autoencoder import AutoencoderPanel
from .rbm.completion import CompletionPanel
from .rbm.curves import EnergyCurvesPanel
from .rbm.filters import RBMFiltersPanel
from .rbm.fine_tuning import FineTuningPanel
from .rbm.model import RBMModel
from .rbm.ratings import RatingsPanel, ratings_runner
from .rbm.reconstructions import ReconstructionsPanel
from .rbm.samples import SamplesPanel

#: a phase as the status line names it once the run has ended ("pretraining" would read as going on)
_PHASE_DONE = {"pretraining": "pretrain", "fine-tuning": "fine-tune"}


def snapshot_bytes(snapshot: RBMSnapshot) -> int:
    return snapshot.nbytes


def fine_tune_mode(spec) -> str:
    pretraining = getattr(spec, "pretraining", None)
    return getattr(pretraining, "fine_tune", "none") if spec is not None else "none"


class RBMLab(Lab):
    """Train (pretrain, then fine-tune as the file says), Pretrain, Fine-tune, Pause, Stop."""

    def __init__(self, parent=None, runner: Runner | None = None, data: DataStore | None = None):
        stack_runner = StackRunner(data)
        super().__init__(parent, runner or stack_runner, RBMModel(), snapshot_bytes=snapshot_bytes)
        self.stack_runner = stack_runner
        self._reads = (0, 0, 0)  # pretraining steps, pretraining epochs, fine-tuning steps
        self._fine_epochs_read = 0

        self.train_button.setToolTip("Pretrain the RBMs from fresh weights, then fine-tune as the file says")
        self.pretrain_button = QPushButton("Pretrain")
        self.pretrain_button.setToolTip("Train the RBMs greedily, one after the other, from fresh weights")
        self.pretrain_button.clicked.connect(self.pretrain)
        self.fine_tune_button = QPushButton("Fine-tune")
        self.fine_tune_button.setToolTip(
            "Backprop through the stack, starting from the pretrained RBMs "
            "(from random weights when nothing was pretrained)"
        )
        self.fine_tune_button.clicked.connect(self.fine_tune)
        self.controls.insertWidget(1, self.pretrain_button)
        self.controls.insertWidget(2, self.fine_tune_button)
        self.compare_button = QPushButton("Compare with random weights")
        self.compare_button.setToolTip(
            "Pretrain and fine-tune, then fine-tune the same stack from random weights: "
            "the Fine-tuning tab overlays the two runs"
        )
        self.compare_button.clicked.connect(self.compare_with_random)
        self.controls.insertWidget(3, self.compare_button)
        #: set by ``compare_with_random`` until its pretrained run ends
        self._compare_pending = False
        #: the pretrained stack while the comparison's random one trains: the lesson's own network,
        #: which Save keeps and Fine-tune continues from once the comparison is over
        self._compared_stack = None

        self.curves = EnergyCurvesPanel()
        self.reconstructions = ReconstructionsPanel()
        self.filters = RBMFiltersPanel()
        self.samples = SamplesPanel()
        self.completion = CompletionPanel()
        self.loss = FineTuningPanel()
        self.autoencoder = AutoencoderPanel()
        self.ratings = RatingsPanel()
        self.ratings.trainRequested.connect(self.train_ratings)
        self._add_panels(
            [
                (
                    self.curves,
                    "Which RBM is pretraining; reconstruction error, free energy and pseudo-likelihood over training",
                ),
                (self.reconstructions, "Validation digits and their reconstructions after one up-down pass"),
                (self.filters, "Each hidden unit's weights as a picture"),
                (self.samples, "Gibbs chains started from data or from noise"),
                (self.completion, "Hide part of a digit and let the RBM fill it in"),
                (self.loss, "Cost and accuracy while the stack is fine-tuned by backprop"),
                (self.autoencoder, "The deep autoencoder's reconstructions and its 2D code of validation digits"),
                (self.ratings, "Collaborative filtering: an RBM fills in held-out ratings"),
            ]
        )
        self._update_controls()

    # --- the API a window uses --------------------------------------------------------------
    def lesson_views(self) -> dict:
        """The fine-tuning curves, the filters, and the autoencoder's view of the data (its code)."""
        return {"loss": self.loss, "filters": self.filters, "data": self.autoencoder}

    def load(self, spec) -> None:
        """The network the next run trains (a running run keeps its own)."""
        self.spec = spec
        self.model.set_network(spec)
        mode = fine_tune_mode(spec)
        self.tabs.setTabVisible(self.tabs.indexOf(self.loss), mode != "none")
        self.tabs.setTabVisible(self.tabs.indexOf(self.autoencoder), mode == "autoencoder")
        if not self.running:
            self._show_status(
                f"{getattr(spec, 'name', '') or 'RBM stack'} loaded: press Train or Pretrain."
                if spec is not None
                else ""
            )
        self._update_controls()

    def adopt(self, spec, weights, history=None) -> None:
        """An opened project's stack becomes the one the views show and Fine-tune continues
        from (the reconstructions and completions wait for a run's validation digits)."""
        stack = self.stack_runner.adopt(spec, weights)
        if stack is not None:
            self.model.set_snapshot(stack_snapshot(stack))
            self.redraw(force=True)

    def _trained(self):
        stack = self.stack_runner.stack
        return None if stack is None else (stack.spec, stack.state())

    def train(self) -> bool:
        """Pretrain from fresh weights, then fine-tune as the file says; False when a run is
        going or nothing is loaded."""
        return self._start(pretrain=True, fine_tune=True, name="pretrain + fine-tune")

    def pretrain(self) -> bool:
        return self._start(pretrain=True, fine_tune=False, name="pretrain")

    def fine_tune(self) -> bool:
        """Fine-tune the stack the last run left (pretrained or not) by backprop."""
        return self._start(pretrain=False, fine_tune=True, name="fine-tune")

    def compare_with_random(self) -> bool:
        """One action for the DBN lesson's comparison: pretrain and fine-tune, then (when that
        run completes) keep its fine-tuning curves and fine-tune a fresh, random stack the same
        way; the Fine-tuning tab overlays the two.  False when a run is going or nothing is loaded."""
        if fine_tune_mode(self.spec) == "none":
            return False
        if self.running or self.spec is None:
            return False
        self.model.runs.clear()  # the overlay shows this comparison's two runs
        self.model.runs_changed()
        self._compare_pending = self._start(pretrain=True, fine_tune=True, name="pretrained")
        if self._compare_pending:
            self.tabs.setCurrentWidget(self.loss)
        return self._compare_pending

    def _finish(self) -> None:
        job = self.job
        super()._finish()
        if self._compared_stack is not None:  # the comparison's random run ended
            self.stack_runner.stack, self._compared_stack = self._compared_stack, None
            self._show_status(f"{self.status.text()} · File ▸ Save keeps the pretrained network, not the random one")
            return
        if not self._compare_pending:
            return
        self._compare_pending = False
        completed = job is not None and job.error is None and getattr(job.finished, "reason", "") == "completed"
        if completed and keep_run(self.model, self.model.run_name) is not None:
            self._compared_stack = self.stack_runner.stack
            self.stack_runner.from_random_weights()  # the file's initialiser, as a plain network
            if not self._start(pretrain=False, fine_tune=True, name="random weights"):
                self.stack_runner.stack, self._compared_stack = self._compared_stack, None

    def train_ratings(self) -> bool:
        """Train the ratings RBM of the collaborative-filtering example (on the same worker)."""
        if self.running:
            return False
        self.tabs.setCurrentWidget(self.ratings)
        self.model.clear_ratings()
        return self._launch(RBMJob(None, ratings_runner, control=TrainingControl(0.05)), "ratings example")

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
        self._reads, self._fine_epochs_read = (0, 0, 0), 0
        return super()._launch(job, name)

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
        changed = self._take_fresh(stream.examples, self.model.set_examples) or changed
        return self._take_fresh(stream.snapshot, self._take_snapshot) or changed

    def _take_snapshot(self, snapshot: RBMSnapshot) -> None:
        """The newest weights: the views draw them, and the timeline keeps them (they are a copy)."""
        self.model.set_snapshot(snapshot)
        self.snapshots.add(snapshot.step, snapshot)

    def _before_redraw(self, view) -> None:
        """The samples tab advances its Gibbs chains while it is shown."""
        if view is self.samples:
            self.samples.advance(self.shown_model())

    def _keeps_ticking(self) -> bool:
        """The chains keep running after training, while their tab is shown."""
        return self.current_view() is self.samples and self.isVisible()

    def _tab_changed(self) -> None:
        self.redraw(force=True)
        if self.current_view() is self.samples:
            self.timer.start()  # the samples advance on the timer, also between runs

    # --- status and buttons -----------------------------------------------------------------
    def _update_controls(self) -> None:
        super()._update_controls()
        can_start = not self.running and self.spec is not None
        self.pretrain_button.setEnabled(can_start)
        self.fine_tune_button.setEnabled(can_start and fine_tune_mode(self.spec) != "none")
        self.compare_button.setEnabled(can_start and fine_tune_mode(self.spec) != "none")
        self.compare_button.setVisible(fine_tune_mode(self.spec) != "none")
        self.ratings.set_can_train(not self.running)

    def _status_figures(self, job: RBMJob) -> str:
        progress = job.progress
        parts = [f"<b>{self.model.run_name}</b>"]
        if progress.phase == "pretraining":
            parts.append(f"RBM {progress.layer_index + 1}/{progress.n_layers}")
        if progress.phase == "ratings":
            parts.append(f"epoch {progress.epoch}/{progress.epochs}")
        elif progress.phase in ("pretraining", "fine-tuning"):
            # while the run goes on, what it is doing; once it ended (the lab holds no job), what it did
            phase = progress.phase if self.job is not None else _PHASE_DONE[progress.phase]
            parts.append(f"{phase} epoch {progress.epoch}/{progress.epochs}")
            parts.append(f"step {progress.steps:,}")
        if self.model.pretrain_epochs:
            parts.append(
                f"validation reconstruction error <b>{self.model.pretrain_epochs[-1].reconstruction_error:.2f}</b>"
            )
        epochs = self.model.history.epochs
        if epochs and epochs[-1].val_accuracy is not None:
            parts.append(f"validation accuracy <b>{100 * epochs[-1].val_accuracy:.1f}%</b>")
        return " · ".join(parts)

    def _starting_note(self, job: RBMJob) -> str:
        if job.progress.phase != "starting":
            return ""
        text = starting_text(job)
        return f" · {text}" if text != "starting…" else " · loading the data…"
