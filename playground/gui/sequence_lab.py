"""The sequence lab: train a recurrent or encoder-decoder network and watch it learn along time.

Tabs: the cost, the gradient over time (‖∂C/∂h_t‖ per time step; earlier runs overlaid),
the LSTM's gates, the translations and the hidden-state PCA.  The worker, the pull timer,
the buttons and the API a window uses are the shared ``Lab``'s (gui/lab.py); the worker runs
a ``SequenceJob``.  Wiring into a window: ``lab = SequenceLab(parent)``, then as ``Lab`` says.
"""

from __future__ import annotations

from functools import partial

from PySide6.QtGui import QColor
from PySide6.QtWidgets import QComboBox

from ..model import NetworkSpec
from ..runs.data import DataStore
from ..runs.jobs import RateMeter
from ..runs.sequence import ModelBuilt, Runner, SequenceJob
from ..training import TrainingControl
from ..training.families import RunOptions, family_of
from ..training.sequence_trainer import comparison_specs
from .dashboard.compare import RUN_COLORS
from .dashboard.loss import LossPanel
from .lab import Lab
from .sequences.gates import GateActivityPanel
from .sequences.gradient_time import GradientOverTimePanel
from .sequences.hidden_pca import HiddenStatePCAPanel
from .sequences.model import SequenceModel
from .sequences.translations import TranslationsPanel

RECURRENT_NAMES = {"simple_rnn": "SimpleRNN", "lstm": "LSTM"}


def describe_model(spec) -> str:
    """A short name for the network a run trains: "LSTM", "SimpleRNN", "encoder-decoder LSTM"."""
    kinds = [RECURRENT_NAMES[node.type] for node in getattr(spec, "nodes", []) if node.type in RECURRENT_NAMES]
    name = kinds[0] if kinds else "sequence model"
    return f"encoder-decoder {name}" if getattr(spec, "state_edges", None) else name


def default_runner(spec, control: TrainingControl, data: DataStore | None = None):
    """The real trainer for ``spec``, from its family (the encoder-decoder's, or the recurrent
    network's for the variant the learner picked), on the file the window's ``data`` store
    holds for its data set (a sentence-pairs file).  It runs on the worker, so building the
    network and the data never blocks the window; its first event hands the job the network,
    whose weights the lab keeps after the run."""
    dataset = getattr(getattr(spec, "dataset", None), "name", None)
    data_file = data.file_for(dataset) if data is not None and dataset else None
    run = family_of(spec).start(spec, RunOptions(compare=False, data_file=data_file), control)
    yield ModelBuilt(run.model)
    yield from run.trainer.run()


def variants_of(spec) -> list[tuple[str, object]]:
    """The networks a lesson compares ((label, spec) pairs: the rnn-vs-lstm lesson offers its
    LSTM and the same network with a SimpleRNN); a network without a comparison is one entry."""
    if spec is None:
        return []
    if getattr(spec, "state_edges", None) or not isinstance(spec, NetworkSpec):
        return [(describe_model(spec), spec)]
    return [(describe_model(twin), twin) for _, twin in comparison_specs(spec)]


class SequenceLab(Lab):
    """A choice of the network to train (when a lesson compares two), the shared controls, and
    the sequence panels as tabs."""

    def __init__(self, parent=None, runner: Runner | None = None, data: DataStore | None = None):
        super().__init__(parent, runner or partial(default_runner, data=data), SequenceModel())
        self._read_count = self._epochs_read = 0
        self._rate = RateMeter()
        #: (spec, parameters) of the latest finished run's network or of the opened project
        self._kept: tuple[object, dict] | None = None

        self.variant = QComboBox()
        self.variant.setToolTip("Which network the next run trains (a lesson may compare two)")
        self.controls.insertWidget(0, self.variant)
        self.train_button.setToolTip("Train the loaded network from fresh weights; the previous run is kept to compare")

        self.loss = LossPanel()
        self.gradients = GradientOverTimePanel()
        self.gradients.clearRequested.connect(self.clear_comparison)
        self.gates = GateActivityPanel()
        self.translations = TranslationsPanel()
        self.pca = HiddenStatePCAPanel()
        self._add_panels(
            [
                (self.loss, "Training cost per mini-batch and validation cost per epoch"),
                (self.gradients, "‖∂C/∂h_t‖ for every time step: how much error reaches each step of the sequence"),
                (self.gates, "Mean forget-gate and input-gate values per time step (LSTM)"),
                (self.translations, "Held-out sources, the model's translations and the references"),
                (self.pca, "The encoder's final states of held-out phrases, projected to 2D"),
            ]
        )
        self.tabs.setCurrentWidget(self.gradients)
        self._update_controls()

    # --- the API a window uses --------------------------------------------------------------
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

    def adopt(self, spec, weights, history=None) -> None:
        """Keep an opened project's weights so saving again keeps them; a new Train still starts
        from fresh weights (a sequence run always does), and its network replaces them."""
        self._kept = (spec, weights) if weights is not None else None

    def _trained(self):
        return self._kept

    def _finish(self) -> None:
        job = self.job
        if job is not None and job.model is not None:  # the worker is done with it
            self._kept = (job.spec, job.model.state())
        super()._finish()

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
        training = getattr(spec, "training", None)
        control = TrainingControl(getattr(training, "learning_rate", 0.01))
        self._read_count = self._epochs_read = 0
        self._rate.clear()
        return self._launch(SequenceJob(spec, self.runner, control=control), describe_model(spec))

    def clear_comparison(self) -> None:
        self.model.clear_kept()
        self.redraw(force=True)

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
        changed = self._take_fresh(stream.gates, self.model.set_gates) or changed
        return self._take_fresh(stream.samples, lambda samples: self.model.set_samples(*samples)) or changed

    # --- status -------------------------------------------------------------------------------
    def _status_figures(self, job: SequenceJob) -> str:
        parts = [f"<b>{self.model.run_name}</b>", f"epoch {job.progress.epoch}", f"step {job.progress.steps:,}"]
        rate = self._rate.add(job.progress.steps)
        batch = getattr(getattr(job.spec, "training", None), "batch_size", None)
        if self.job is not None and rate:
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
