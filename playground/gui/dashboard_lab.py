"""The dashboard lab: feed-forward networks trained by mini-batches, watched on the dashboard.

A lab like the sequence and RBM labs (``lab.LabBase``): one worker runs a ``TrainingJob``,
the pull timer copies the metric stream into the ``DashboardModel`` and the dashboard redraws
the tab on show.  What sets it apart is that a run *continues*: Train after Stop goes on
from the same weights with steps numbered on, Step trains one mini-batch, and Reset draws
fresh weights and keeps the old run under Compare runs.  It drives the window's toolbar and
reports in the window's status bar (the progress widgets here are placed there), so the
dashboard keeps the whole height for its plots.

While a run is in progress the network belongs to the worker: the lab reads the metric
stream and the weights slot and never calls the network.

A lesson that compares variants (learning-slowdown's costs and starts, weight-initialization's
initialisers) trains them all at each Train, one after the other, each from fresh weights: every
variant becomes a run of its own, named by its label, kept under Compare runs as soon as the next
one begins, so their curves overlay in their own colours while the current one draws live.  The
dashboard shows the variant being trained (its network, its weights, its timeline).
"""

from __future__ import annotations

import dataclasses

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QProgressBar, QVBoxLayout, QWidget

from ..datasets.catalog import CATALOGUE, names_of_kind
from ..files import failure_message
from ..model import NetworkFileError, analyse
from ..model.project import EpochSummary, MetricHistory
from ..model.variants import VariantError, variant_specs
from ..runs.data import DataStore
from ..runs.feedforward import TrainingJob, fresh_network
from ..runs.jobs import RateMeter, run_signature
from ..runs.snapshots import WeightsAt
from ..training.report import lesson_report
from .dashboard import Dashboard, DashboardModel
from .dashboard.diagnosis_strip import DiagnosisStrip
from .lab import LabBase, starting_text

#: plots redraw at most this often while training (≈12 per second): pyqtgraph paints in Python,
#: and every millisecond the GUI thread holds the GIL can delay the trainer's next chunk
REDRAW_SECONDS = 0.08
#: generated sets small enough to load the moment a network names them
SMALL_DATASETS = names_of_kind("plane", "bits", "function")


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


def preferred_panel(spec) -> str:
    """The panel the lesson names; a network without one opens on its data where that can be
    drawn (points in the plane, a function), and on the loss otherwise."""
    panel = (spec.lesson or {}).get("panel")
    if panel:
        return panel
    return "data" if spec.dataset.name in names_of_kind("plane", "function") else "loss"


#: the Compare panel's plot of each figure a lesson's report may name
COMPARED_FIGURES = {"loss": "train_loss", "val_loss": "val_loss", "val_accuracy": "val_accuracy"}


def compared_figure(spec) -> str | None:
    """The Compare panel's plot for the figure ``spec``'s lesson reports, or None (none, or a bad one:
    training says what is wrong with it)."""
    try:
        report = lesson_report(spec)
    except NetworkFileError:
        return None
    return COMPARED_FIGURES.get(report.metric) if report else None


def network_for(spec, weights=None):
    """The engine network the dashboard trains for ``spec``, built and loaded with ``weights``; None
    for a network with problems.  Raises whatever building raises (a bad weight, a MemoryError),
    so a caller can try before it changes anything."""
    if analyse(spec).problems:
        return None
    network = fresh_network(spec)
    if weights is not None:
        network.load_state(weights)
    return network


class DashboardLab(LabBase):
    """The feed-forward lab: the window's toolbar drives it, its progress shows in the status bar."""

    can_step = True
    can_reset = True
    #: a line for the window's status bar, and how long it stays (ms)
    message = Signal(str, int)
    #: (kind, title, text) of a dialog: the run could not start ("critical"), or its loss exploded ("warning")
    problem = Signal(str, str, str)
    #: the learning rate the run ended with, for the document to keep
    learningRateEnded = Signal(float)
    #: a diagnosis flag's link: the lesson (by name) that explains the problem
    lessonRequested = Signal(str)

    def __init__(self, data: DataStore, parent=None):
        # the lab has no parent widget and is never shown: a child of the window outside its
        # layouts would paint over it
        super().__init__(parent, None, DashboardModel(), REDRAW_SECONDS)
        self.data = data
        self.dashboard = Dashboard(self.model)
        self.dashboard.keepRunRequested.connect(self.keep_current_run)
        self.dashboard.weightsEdited.connect(self.set_weights_by_hand)
        # the finder and the experiments read the data a run would
        for panel in (self.dashboard.lr_finder, self.dashboard.experiments, self.dashboard.parallel):
            panel.data = data
        #: problems the run shows (vanishing gradients, dead ReLUs, ...), above the tabs; its links
        #: ask for a lesson through ``lessonRequested``
        self.diagnosis = DiagnosisStrip()
        self.diagnosis.lessonRequested.connect(self.lessonRequested)
        #: the window shows the strip and the dashboard; the lab itself is never shown
        self.widget = QWidget()
        column = QVBoxLayout(self.widget)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.diagnosis)
        column.addWidget(self.dashboard, 1)
        #: the slider that goes back to the run's weights by step, under the views
        column.addWidget(self.timeline)
        self.network = self.network_spec = self.network_signature = None
        self.run_count = 0
        self._kept_history = None
        self._read_count = self._epochs_read = self._weights_seen = 0
        #: a comparison's variants by label, how many of them have begun, and the one training
        self._variants: dict = {}
        self._runs_read = 0
        self._variant: str | None = None
        self._rate = RateMeter()
        self._dataset_key = None
        self._data_announced = None
        self._loading_said = False
        self._starting_shown = None  # the last "preparing the engine" line shown
        self._build_status_widgets()

    def _build_status_widgets(self) -> None:
        """The figures the window places in its status bar: data, progress, epoch, step, samples/s."""
        self.data_label = QLabel()
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setMaximumWidth(150)
        self.progress_bar.setTextVisible(False)
        self.epoch_label = QLabel("epoch –")
        self.step_label = QLabel("step –")
        self.rate_label = QLabel("")
        # fixed widths: a label that grows with its number would re-lay out the status bar every tick
        for label, sample in (
            (self.epoch_label, "epoch 1000/1000"),
            (self.step_label, "step 10000000"),
            (self.rate_label, "1,000,000 samples/s"),
        ):
            label.setFixedWidth(label.fontMetrics().horizontalAdvance(sample) + 8)
        self.status_widgets = (self.data_label, self.progress_bar, self.epoch_label, self.step_label, self.rate_label)

    # --- the API a window uses ----------------------------------------------------------------
    def current_view(self):
        return self.dashboard.current_panel()

    def redraw(self, force: bool = False) -> bool:
        self.diagnosis.refresh(self.model, force)
        return self.dashboard.refresh(force)

    def _replay_changed(self) -> None:
        self.dashboard.replayed = self.replayed
        self.dashboard.refresh(force=True)

    def load(self, spec, colors=None) -> None:
        """The document changed: follow it (a network nothing was trained on yet is rebuilt at
        once; a trained one stays until the next Train starts a new run).  None: the network on
        the canvas is another lab's."""
        self.spec = spec
        if spec is None:
            if self.state == "idle" and self.network is not None and len(self.model.history) == 0:
                self.start_new_run(keep_previous=False)
            return
        if colors is not None:
            self.model.set_colors(colors)
        self.model.set_augmentation(spec.augmentation)
        if self.state != "idle":
            return
        valid = not analyse(spec).problems
        if valid and run_signature(spec) != self.network_signature:
            if len(self.model.history) == 0:
                self.start_new_run(keep_previous=False)  # nothing trained yet: follow the edit at once
            else:
                self.message.emit(
                    "The network changed: the next Train starts a new run (this one stays under Compare runs).", 6000
                )
        self._load_small_dataset()

    def shutdown(self) -> None:
        super().shutdown()
        self.dashboard.shutdown()

    def adopt(self, spec, weights=None, history=None, network=None) -> None:
        """A project, lesson or new network replaced the document: its ``network`` (built by
        ``network_for`` before anything changed), its history, and a fresh comparison entry."""
        self.keep_current_run()
        self.spec = spec
        figure = compared_figure(spec) if spec is not None else None
        if figure:
            self.dashboard.compare.show_metric(figure)
        self._forget_snapshots()
        self.model.set_history(MetricHistory())
        self.start_new_run(keep_previous=False, network=network)
        if network is not None:
            self.model.set_weights(network.copy_state())
        if history is not None:
            self.model.set_history(history)
        self.data_label.setText("")
        self._load_small_dataset()
        self._update_progress(reset=True)
        self.dashboard.refresh(force=True)

    def _trained(self):
        if self.network is None or self.spec is None or run_signature(self.spec) != self.network_signature:
            return None
        return self.network_spec, self.network.state()

    def trained_state(self):
        """The newest weights: the worker's latest snapshot while a run goes on."""
        if self._trained() is None:
            return None
        if self.job is not None:
            return self.job.weights.get()[0] or None
        return self.network.copy_state()

    def trained_history(self):
        return self.model.history if self._trained() is not None else None

    # --- runs ----------------------------------------------------------------------------------
    def start_new_run(self, keep_previous: bool = True, network=None) -> None:
        """A fresh network from the current spec (or ``network``, already built for it), its
        initial weights, an empty history."""
        if keep_previous:
            self.keep_current_run()
        spec = self.spec
        self._forget_snapshots()
        self.model.set_history(MetricHistory())
        self._read_count = self._epochs_read = 0
        if spec is None or analyse(spec).problems:
            self.network = self.network_spec = self.network_signature = None
            if spec is not None:
                self.model.set_network(spec)
            self.model.set_weights(None)
        else:
            try:
                self.network = network if network is not None else fresh_network(spec)
            except (NetworkFileError, ValueError, MemoryError) as error:
                self.network = None
                self.message.emit(failure_message(error), 8000)
                return
            self.network_spec = spec
            self.network_signature = run_signature(spec)
            self.model.set_network(spec, self.network.copy_state())
        self.dashboard.update_tabs()
        self.dashboard.prime()
        self._update_progress(reset=True)

    def set_weights_by_hand(self, weights: dict) -> None:
        """A view's controls set parameters (the Neuron view's sliders, the Bumps view's handles).
        While no run goes on the network takes them, so the views show them and Train starts from
        them; a running or paused run owns its network, and its next snapshot puts the controls back."""
        if self.network is None or self.state != "idle":
            self.message.emit("The weights are training's while a run goes on: stop it to set them by hand.", 5000)
            return
        own = self.network.state()
        if any(key not in own or own[key].shape != np.shape(value) for key, value in weights.items()):
            return  # the weights of a network the document no longer has
        self.network.load_state(weights)
        self.model.set_weights(self.network.copy_state())
        if not self.timeline.live:  # an edit is made now: the views come back from a replayed moment
            self.timeline.go_live()
        self.dashboard.refresh(force=True)

    def keep_current_run(self, name: str | None = None) -> None:
        """Add the current run's curves to Compare runs (once per run), as ``name`` (a compared
        variant's label) or described by its settings."""
        history = self.model.history
        if len(history) == 0 or history is self._kept_history:
            return
        self.run_count += 1
        spec = self.network_spec or self.spec
        if self.dashboard.keep_current_run(name or describe_run(spec, self.run_count)):
            self._kept_history = history

    def train(self, learning_rate: float | None = None, single_step: bool = False) -> bool:
        """Continue a paused run, or start one (continuing the weights a stopped run left)."""
        if self.state == "paused":
            if single_step:
                self.job.control.step(1)
            else:
                self.job.control.resume()
                self.message.emit("Training…", 2000)
            self.stateChanged.emit()
            return True
        if self.state != "idle" or self.spec is None:
            return False
        spec = self.spec
        problems = analyse(spec).problems
        if problems:
            self.message.emit(f"Cannot train: {problems[0].message}", 6000)
            return False
        try:
            variants = variant_specs(spec)
        except VariantError as error:
            self.message.emit(f"Cannot train: {error}", 8000)
            return False
        if len(variants) > 1:
            return self._train_comparison(spec, dict(variants), single_step)
        if self.network is None or run_signature(spec) != self.network_signature:
            self.start_new_run(keep_previous=True)
            if self.network is None:
                return False
        history = self.model.history
        step_offset = history.last_step + 1
        epoch_offset = int(history.epoch_of_step[-1]) if len(history) else 0
        epoch_offset = max(epoch_offset, history.epochs[-1].epoch if history.epochs else 0)
        job = TrainingJob.for_network(
            self.network,
            spec.training,
            spec.dataset,
            self.data,
            step_offset=step_offset,
            epoch_offset=epoch_offset,
            augmentation=spec.augmentation,
        )
        if learning_rate is not None:
            job.control.set_learning_rate(learning_rate)
        if single_step:
            job.control.step(1)
        self._read_count = self._epochs_read = self._weights_seen = 0
        self._rate.clear()
        self._data_announced = None
        self.dashboard.set_draft(True)
        loading = self.data.cached(spec.dataset, spec.training.seed, spec.training.train_limit) is None
        self._start_job(job)
        #: "Loading data…" stays until the data is there (a fast run reaches epoch 16 meanwhile)
        self._loading_said = loading
        self.message.emit("Loading data…" if loading else "Training…", 3000)
        return True

    def _train_comparison(self, spec, variants: dict, single_step: bool) -> bool:
        """Train every variant the lesson compares, in turn, each at its own learning rate and from
        its own fresh weights (the learning-rate box does not apply: the comparison may be of rates)."""
        self.keep_current_run()
        # a comparison trained again replaces its variants' curves rather than piling up twins
        self.model.runs[:] = [run for run in self.model.runs if run.name not in variants]
        self.model.runs_changed()
        self._variants = variants
        job = TrainingJob.for_comparison(spec, self.data)
        if single_step:
            job.control.step(1)
        self._read_count = self._epochs_read = self._weights_seen = self._runs_read = 0
        self._rate.clear()
        self._data_announced = None
        self.dashboard.set_draft(True)
        self._start_job(job)
        self.message.emit(f"Training {len(variants)} variants in turn: {', '.join(variants)}.", 6000)
        return True

    def _begin_variant(self, job: TrainingJob, label: str) -> None:
        """A comparison began its next variant: keep the one before under its label, and show
        this one (its network, its weights as they come, a fresh history and timeline)."""
        if self._variant is not None:
            self.keep_current_run(self._variant)
        self._variant = label
        spec = dataclasses.replace(self._variants[label], name=label)
        self._forget_snapshots()
        self.model.set_history(MetricHistory())
        self.network, self.network_spec = job.networks[label], spec
        self.network_signature = run_signature(self.spec)
        self.model.set_network(spec)
        self.dashboard.update_tabs()
        number = list(self._variants).index(label) + 1
        self.message.emit(f"Variant {number} of {len(self._variants)}: {label}", 4000)

    def pause(self, paused: bool = True) -> None:
        super().pause(paused)
        if paused and self.state == "paused":
            self.message.emit("Paused. Press Space or Continue to go on, Step for one mini-batch.", 5000)

    def reset(self) -> None:
        """Re-initialise the weights (the spec's initialiser and seed) and start a new run."""
        self.stop(wait=True)
        if self.spec is not None and not analyse(self.spec).problems:
            self.start_new_run(keep_previous=True)
            t = self.spec.training
            self.message.emit(
                f"Weights re-initialised ({t.initializer}, seed {t.seed}); the previous run is kept "
                f"under Compare runs.",
                6000,
            )
        self.stateChanged.emit()

    def set_learning_rate(self, value: float) -> bool:
        """A new η for the running run, from its next mini-batch; False when there is no run."""
        if self.job is None or self.state not in ("running", "paused"):
            return False
        try:
            self.job.control.set_learning_rate(value)
        except ValueError as error:
            self.message.emit(str(error), 5000)
            return True
        self.message.emit(f"Learning rate η = {value:g} from the next mini-batch.", 4000)
        return True

    # --- data -----------------------------------------------------------------------------------
    def _load_small_dataset(self) -> None:
        """Generated 2D/1-D sets load in a millisecond: load them now, so the decision boundary
        shows the points (and the untrained network's output) before the first Train.  Data of
        another spec is dropped, so no plot pairs a network with data it was not built for."""
        if self.state != "idle" or self.spec is None:
            return
        spec = self.spec
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

    def _announce_data(self, job: TrainingJob) -> None:
        if self._loading_said:
            self._loading_said = False
            self.message.emit("Training…", 2000)
        dataset, note = job.dataset, job.note
        wanted = job.dataset_settings.name
        named = CATALOGUE[dataset.name].label if dataset.name in CATALOGUE else dataset.name
        short = (
            named if not note else f"{named} (instead of {CATALOGUE[wanted].label if wanted in CATALOGUE else wanted})"
        )
        self.data_label.setText(f"data: {short}")
        self.data_label.setToolTip(dataset.source + (f"\n\n{note}" if note else ""))
        if note:
            label = CATALOGUE[wanted].label if wanted in CATALOGUE else wanted
            self.message.emit(
                f"{label} is not downloaded yet, so this run uses the built-in synthetic digits. "
                f"Dataset ▸ {label} downloads the real set.",
                20000,
            )
        self.model.set_dataset(dataset)
        self._dataset_key = (job.dataset_settings, job.settings.seed, job.settings.train_limit)
        self.dashboard.update_tabs()

    # --- pulling from the worker -----------------------------------------------------------------
    def ingest(self) -> bool:
        """Copy what the worker produced since the last look into the dashboard model."""
        job = self.job
        if job is None:
            return False
        changed = False
        starts, end = job.stream.run_starts()
        for count, epochs, label in starts[self._runs_read :]:  # a comparison's next variant
            self._read(job, (count, epochs))
            self._begin_variant(job, label)
            changed = True
        self._runs_read = len(starts)
        changed = self._read(job, end) or changed
        weights, version = job.weights.get()
        # in a comparison, only the weights of the variant shown (the next one's wait for its start)
        ours = getattr(weights, "run", None) == self._variant
        if version != self._weights_seen and weights is not None and ours:
            self._weights_seen = version
            self.model.set_weights(weights)
            if isinstance(weights, WeightsAt):
                self.snapshots.add(weights.step + job.step_offset, weights)
        if job.dataset is not None and self._data_announced is not job.dataset:
            self._data_announced = job.dataset
            self._announce_data(job)
        return changed

    def _read(self, job: TrainingJob, until: tuple[int, int] | None = None) -> bool:
        """Take the steps and epochs the stream has (before ``until``) into the history."""
        changed = False
        total, new = job.stream.read_since(self._read_count, self._epochs_read, until)
        self._read_count = max(self._read_count, total)
        self._epochs_read += len(new.epoch_records)
        history = self.model.history
        if len(new.steps):
            history.append(
                new.steps + job.step_offset,
                new.epochs + job.epoch_offset,
                new.losses,
                new.accuracies,
                new.layer_ids,
                new.layer_metrics,
            )
            changed = True
        for record in new.epoch_records:
            summary = EpochSummary.from_record(record)
            summary.epoch += job.epoch_offset
            summary.step += job.step_offset
            history.add_epoch(summary)
            changed = True
        if changed:
            self.model.history_changed()
        return changed

    def _tick(self) -> None:
        super()._tick()
        if self.job is None:  # between runs the figures describe the history
            self._update_progress()

    def _update_status(self) -> None:
        self._update_progress()

    def _update_progress(self, reset: bool = False) -> None:
        job = self.job
        history = self.model.history
        self._follow_timeline(history.last_step)  # as often as the status figures, no more
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
        self.epoch_label.setText(
            f"epoch {job.epoch_offset + p.epoch}/{job.epoch_offset + p.epochs}" if p.epochs else "epoch –"
        )
        self.step_label.setText(f"step {job.step_offset + p.steps}")
        rate = self._rate.add(p.samples)
        if self.state == "paused":
            self.rate_label.setText("paused")
        elif p.samples == 0:
            # a cold start (numba compiling the kernels) says so, with its progress, instead of looking frozen
            text = starting_text(job)
            cold = text != "starting…"
            self.rate_label.setText("compiling…" if cold else "starting…")
            if cold and text != self._starting_shown:
                self._starting_shown = text
                self.message.emit(f"{text[0].upper()}{text[1:]}…", 3000)
        elif rate is not None:
            self.rate_label.setText(f"{rate:,.0f} samples/s")

    def _report(self, job: TrainingJob) -> None:
        """The worker is done: the network is the lab's again; say how the run ended."""
        self.dashboard.set_draft(False)
        if self.network is not None:
            self.model.set_weights(self.network.copy_state())
        if job.networks:  # a comparison: its last variant joins the others; each had its own rate
            if self._variant is not None:
                self.keep_current_run(self._variant)
            self._variant = None
        else:
            self.learningRateEnded.emit(job.control.learning_rate)
        self._update_progress()
        finished = job.finished
        if job.error:
            self.message.emit("Training could not start.", 8000)
            self.problem.emit("critical", "Training could not start", job.error)
        elif finished is not None and finished.reason == "diverged" and job.networks:
            # a comparison trains on after a variant diverges (the lesson may be about exactly that)
            self.message.emit("Every variant trained; the loss of one exploded and it stopped early.", 10000)
            self.problem.emit(
                "warning", "A variant's loss exploded", finished.message[0].upper() + finished.message[1:]
            )
        elif finished is not None and finished.reason == "diverged":
            self.message.emit("The loss exploded; training stopped.", 10000)
            self.problem.emit("warning", "The loss exploded", finished.message[0].upper() + finished.message[1:])
        elif finished is not None and finished.reason == "completed":
            self.progress_bar.setValue(1000)
            self.message.emit(f"Finished: {finished.message}. Train again to continue.", 10000)
        else:
            self.message.emit("Stopped. Train continues from these weights; Reset starts over.", 6000)
