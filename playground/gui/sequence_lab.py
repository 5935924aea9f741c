"""The sequence lab: train a recurrent or encoder-decoder network and watch it learn along time.

Tabs: the cost, the gradient over time (‖∂C/∂h_t‖ per time step; earlier runs overlaid),
the LSTM's gates, the translations and the hidden-state PCA.  The worker, the pull timer,
the buttons and the API a window uses are the shared ``Lab``'s (gui/lab.py); the worker runs
a ``SequenceJob``.  Wiring into a window: ``lab = SequenceLab(parent)``, then as ``Lab`` says.
"""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QComboBox

from ..model import NetworkSpec
from ..model.variants import variant_specs
from ..runs.data import DataStore
from ..runs.jobs import RateMeter
from ..runs.sequence import ModelBuilt, Runner, SequenceJob
from ..training import TrainingControl
from ..training.families import RunOptions, family_of
from .dashboard.common import pen, smooth
from .dashboard.compare import RUN_COLORS
from .dashboard.loss import LossPanel
from .lab import REDRAW_SECONDS, Lab
from .sequences.gates import GateActivityPanel
from .sequences.gradient_time import GradientOverTimePanel
from .sequences.hidden_pca import HiddenStatePCAPanel
from .sequences.model import SequenceModel, SequenceMoment
from .sequences.translations import TranslationsPanel

RECURRENT_NAMES = {"simple_rnn": "SimpleRNN", "lstm": "LSTM"}
#: the variant choice that trains every network a lesson compares, one after the other
BOTH = "both"


def describe_model(spec) -> str:
    """A short name for the network a run trains: "LSTM", "SimpleRNN", "encoder-decoder LSTM"."""
    kinds = [RECURRENT_NAMES[node.type] for node in getattr(spec, "nodes", []) if node.type in RECURRENT_NAMES]
    name = kinds[0] if kinds else "sequence model"
    return f"encoder-decoder {name}" if getattr(spec, "state_edges", None) else name


def default_runner(spec, control: TrainingControl, data: DataStore | None = None, compare: bool = False):
    """The real trainer for ``spec``, from its family (the encoder-decoder's, or the recurrent
    network's for the variant the learner picked; with ``compare``, the lesson's networks one
    after the other, each announced by a ``RunStarted``), on the file the window's ``data``
    store holds for its data set (a sentence-pairs file).  It runs on the worker, so building
    the network and the data never blocks the window; its first event hands the job the
    network (a comparison's first), whose weights the lab keeps after the run."""
    dataset = getattr(getattr(spec, "dataset", None), "name", None)
    data_file = data.file_for(dataset) if data is not None and dataset else None
    run = family_of(spec).start(spec, RunOptions(compare=compare, data_file=data_file), control)
    yield ModelBuilt(run.model)
    yield from run.trainer.run()


def variants_of(spec) -> list[tuple[str, object]]:
    """The networks a lesson compares ((label, spec) pairs: the rnn-vs-lstm lesson offers its
    LSTM and the same network with a SimpleRNN); a network without a comparison is one entry."""
    if spec is None:
        return []
    if getattr(spec, "state_edges", None) or not isinstance(spec, NetworkSpec):
        return [(describe_model(spec), spec)]
    return [(describe_model(twin), twin) for _, twin in variant_specs(spec)]


def moment_bytes(moment: SequenceMoment) -> int:
    return moment.nbytes


class SequenceLossPanel(LossPanel):
    """The loss panel with the kept runs' costs overlaid in their colours (a comparison's
    LSTM beside its SimpleRNN): training cost smoothed, validation cost per epoch dashed."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._kept_curves: list = []
        self._kept_key = None

    def versions(self, model) -> tuple:
        return (*super().versions(model), model.kept_version)

    def draw(self, model) -> None:
        super().draw(model)
        if model.kept:
            self.name_curves(model.run_name or "this run")
        if self._kept_key == model.kept_version:
            return
        self._kept_key = model.kept_version
        for curve in self._kept_curves:
            self.loss_plot.removeItem(curve)
        self._kept_curves = []
        for kept in model.kept:
            if kept.costs is not None:
                x, y = kept.costs
                span = max(2.0, min(50.0, len(x) / 15))
                self._kept_curves.append(
                    self.loss_plot.plot(x, smooth(y, span), pen=pen(kept.color, 2), name=kept.name)
                )
            if kept.val_costs is not None:
                curve = self.loss_plot.plot(
                    *kept.val_costs,
                    pen=pen(kept.color, 1.5, style=Qt.DashLine),
                    symbol="o",
                    symbolSize=5,
                    symbolBrush=kept.color,
                    symbolPen=None,
                )
                self._kept_curves.append(curve)
        if self._kept_curves:  # the kept curves first in the legend, this run's on top
            for curve in (self.train_loss, self.val_loss):
                curve.setZValue(10)

    def curve_names(self) -> list[str]:
        return [c.opts["name"] for c in self._kept_curves if c.opts.get("name")]


class SequenceLab(Lab):
    """A choice of the network to train (when a lesson compares two), the shared controls, and
    the sequence panels as tabs."""

    #: no view of this lab animates on its own and they redraw at most every ``REDRAW_SECONDS``, so
    #: it looks at the worker that often.  Each look wakes the GUI thread, and whatever the GUI
    #: thread takes of a core holds up one of the LSTM's two parts while the other waits for it
    #: (window benchmark: 88.3% and 90.5% of headless throughput, against 84.7% and 87.9% at 33 ms).
    pull_ms = int(1000 * REDRAW_SECONDS)
    #: its figures change with every step: a number that changes ten times a second cannot be read,
    #: and each change of the word-wrapped rich-text status lays it out again on the GUI thread
    status_seconds = 0.5

    def __init__(self, parent=None, runner: Runner | None = None, data: DataStore | None = None):
        super().__init__(
            parent, runner or partial(default_runner, data=data), SequenceModel(), snapshot_bytes=moment_bytes
        )
        self._read_count = self._epochs_read = self._runs_read = 0
        self._rate = RateMeter()
        #: (spec, parameters) of the latest finished run's network or of the opened project
        self._kept: tuple[object, dict] | None = None

        self.variant = QComboBox()
        self.variant.setToolTip("Which network the next run trains (a lesson may compare two)")
        self.controls.insertWidget(0, self.variant)
        self.train_button.setToolTip("Train the loaded network from fresh weights; the previous run is kept to compare")

        self.loss = SequenceLossPanel()
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
    def lesson_views(self) -> dict:
        return {"loss": self.loss, "gradients": self.gradients, "evaluation": self.translations}

    def load(self, spec) -> None:
        """The network the next ``train()`` trains (a running run keeps its own)."""
        self.spec = spec
        self.variant.clear()
        variants = variants_of(spec)
        if len(variants) > 1:  # the lesson's comparison, in one run, is the first choice
            self.variant.addItem(" then ".join(label for label, _ in variants), BOTH)
        for label, variant in variants:
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
            # a comparison's first network is the file's own (the one on the canvas): Save keeps it
            self._kept = (job.spec, job.model.state())
        super()._finish()
        if job is not None and job.model is not None and len(job.stream.run_starts()) > 1:
            self._show_status(
                f"{self.status.text()} · File ▸ Save keeps the {describe_model(job.spec)}, the network on the canvas"
            )

    def chosen_spec(self):
        """The network the next run trains: the loaded one, or the variant chosen to compare
        (the loaded one when the choice is the whole comparison)."""
        chosen = self.variant.currentData() if self.variant.count() else self.spec
        return self.spec if chosen == BOTH else chosen

    def compares(self) -> bool:
        """Whether the next run trains every network the lesson compares, one after the other."""
        return self.variant.currentData() == BOTH

    def train(self) -> bool:
        """Start a run of the loaded network from fresh weights (or of the lesson's comparison,
        each network a run of its own); False when one is running or nothing is loaded.  The
        previous runs' gradient profiles are kept for comparison."""
        spec = self.chosen_spec()
        if self.running or spec is None:
            return False
        self._keep_current()
        training = getattr(spec, "training", None)
        control = TrainingControl(getattr(training, "learning_rate", 0.01))
        self._read_count = self._epochs_read = self._runs_read = 0
        self._rate.clear()
        compare = self.compares()
        runner = partial(self.runner, compare=True) if compare else self.runner
        name = self.variant.currentText() if compare else describe_model(spec)
        return self._launch(SequenceJob(spec, runner, control=control), name)

    def _keep_current(self) -> None:
        """Keep the current run's profile and costs, in a colour no kept run has."""
        used = {kept.color.name() for kept in self.model.kept}
        colour = next((c for c in RUN_COLORS if QColor(c).name() not in used), RUN_COLORS[0])
        self.model.keep_current(QColor(colour))

    def _begin_run(self, label: str) -> None:
        """A comparison began its next network: keep the one before (if it trained) and start
        a run named after the new one, so their profiles and costs overlay."""
        if len(self.model.history) or self.model.epochs:
            self._keep_current()
            self.runs_started += 1
        self.model.new_run(f"{RECURRENT_NAMES.get(label, label)} · run {self.runs_started}")
        self._forget_snapshots()  # the timeline follows the network now training
        self._rate.clear()

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
        changed = False
        starts, end = stream.run_starts()
        for count, epochs, label in starts[self._runs_read :]:  # a comparison's next network
            changed = self._read(stream, (count, epochs)) or changed
            self._begin_run(label)
            changed = True
        self._runs_read = len(starts)
        # no further than the stream held when the starts were read: a later network's first steps
        # wait for the next look, when its start is seen
        changed = self._read(stream, end) or changed
        changed = self._take_fresh(stream.gates, self.model.set_gates) or changed
        changed = self._take_fresh(stream.samples, lambda samples: self.model.set_samples(*samples)) or changed
        if changed and self.model.last_step >= 0:  # the timeline's snapshot: references, no copies
            self.snapshots.add(self.model.last_step, self.model.moment())
        return changed

    def _read(self, stream, until: tuple[int, int] | None = None) -> bool:
        total, new = stream.read_since(self._read_count, self._epochs_read, until)
        self._read_count = max(self._read_count, total)
        self._epochs_read += len(new.epoch_records)
        return self.model.add(new)

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
