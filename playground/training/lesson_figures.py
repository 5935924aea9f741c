"""The figures ``playground train LESSON`` prints beside the epoch lines: a lesson's effect, in numbers.

Some lessons' effect is not in the epoch lines, and each kind of figure is a ``LessonFigure``:
- a lesson's ``"report"`` entry: its figure at the epochs that show it, one column per variant
  (learning-slowdown's cost at epochs 0, 50, 100, 150, 300; see report.py);
- the figure of the panel the lesson opens on, before and after training (the backprop lesson's
  gradient check, the neuron's w and b, the bumps' proof; ``PANEL_FIGURES``);
- a figure of the lesson's own, registered by name, for a comparison across the variants (loss
  against examples seen and against computing time, per batch size) or a measurement the run does
  not make on its own (the angle of a mini-batch's gradient to the full gradient, the chain of
  factors behind an early layer's gradient; ``FIGURES``).
``lesson_figures`` gives a run all of its own; the command line calls ``begin`` and prints ``before``
ahead of training, feeds every event to ``observe``, and prints ``lines`` at the end.  Qt-free, so
the tests assert on the same numbers.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..engine.dense_stack import BIAS_GRAD
from .backprop import gradient_check_figure
from .bumps import proof_figure
from .descent import gradient_noise, learning_rate_scene, momentum_scene
from .families import PreparedRun
from .gradient_chain import chain_applies, gradient_chain
from .neuron import neuron_figure
from .protocol import Event, Finished, RunStarted
from .report import LessonReport, ReportTable, lesson_report
from .trainer import EpochRecord, StepChunk


@dataclass
class VariantRecord:
    """What a figure keeps of one variant: its epochs, its first and last per-layer ‖∂C/∂b‖, how it ended."""

    label: str
    layer_ids: list[str] = field(default_factory=list)
    epochs: list[EpochRecord] = field(default_factory=list)
    first_speeds: np.ndarray | None = None
    last_speeds: np.ndarray | None = None
    last_step: int = -1
    finished: Finished | None = None


class LessonFigure:
    """Collects each variant's figures from the run's events; ``started`` is called with the
    variant's prepared run before it trains (its network is still as initialised)."""

    def __init__(self, run: PreparedRun, name: str):
        self.run = run
        self.name = name
        self.variants: dict[str, VariantRecord] = {}
        self.current: VariantRecord | None = None

    def begin(self) -> None:
        """Training is about to start: a run that compares nothing starts its one record now, while
        its network is as initialised (a comparison's variants start at their ``RunStarted``)."""
        if not self.run.parts and self.current is None:
            self.current = self.variants.setdefault(self.name, VariantRecord(self.name))
            self.started(self.run, self.current)

    def before(self) -> list[str]:
        """The lines printed before training (none unless a figure has some)."""
        return []

    def observe(self, event: Event) -> None:
        if isinstance(event, RunStarted) or self.current is None:
            label = event.label if isinstance(event, RunStarted) else self.name
            self.current = self.variants.setdefault(label, VariantRecord(label))
            self.started(self.run.parts.get(label, self.run), self.current)
        record = self.current
        if isinstance(event, StepChunk) and event.steps:
            speeds = event.layer_metrics[:, :, BIAS_GRAD]
            record.layer_ids = list(event.layer_ids)
            if record.first_speeds is None:
                record.first_speeds = speeds[0].copy()
            record.last_speeds = speeds[-1].copy()
            record.last_step = event.first_step + event.steps - 1
        elif isinstance(event, EpochRecord):
            record.epochs.append(event)
        elif isinstance(event, Finished) and record.finished is None:
            record.finished = event
            # a comparison ends with one Finished for all: each variant's own is in the trainer's list
            for compared, finished in getattr(self.run.trainer, "finished", []):
                self.variants.setdefault(compared.label, VariantRecord(compared.label)).finished = finished

    def started(self, part: PreparedRun, record: VariantRecord) -> None:
        """A variant is about to train (override to measure its network as initialised)."""

    def lines(self) -> list[str]:
        raise NotImplementedError


def _loss_at(epochs: list[EpochRecord], key: Callable[[EpochRecord], float], limit: float) -> float:
    """The training loss of the last epoch whose ``key`` is at most ``limit`` (NaN before the first)."""
    reached = [epoch.loss for epoch in epochs if key(epoch) <= limit * (1 + 1e-9)]
    return reached[-1] if reached else float("nan")


def _cell(value: float) -> str:
    return "     —" if not math.isfinite(value) else f"{value:6.3f}"


#: batch sizes whose gradient noise the figure measures (the full set is added)
NOISE_BATCH_SIZES = (1, 10, 100)
#: random mini-batches per batch size
NOISE_DRAWS = 50


class GradientDescentFigure(LessonFigure):
    """Batch sizes compared by examples seen and by computing time, the noise of each batch size's
    gradient, and the two-parameter surfaces' paths."""

    def __init__(self, run: PreparedRun, name: str):
        super().__init__(run, name)
        self.noise = []

    def started(self, part: PreparedRun, record: VariantRecord) -> None:
        if self.noise:
            return  # every variant starts from the same weights: measure once
        trainer = part.trainer
        n = len(trainer.x_train)
        self.noise = gradient_noise(part.model, trainer.x_train, trainer.t_train, (*NOISE_BATCH_SIZES, n), NOISE_DRAWS)

    def lines(self) -> list[str]:
        variants = [v for v in self.variants.values() if v.epochs]
        if not variants:
            return []
        per_epoch = variants[0].epochs[0].examples
        marks = [per_epoch * k for k in (1, 2, 5, 10) if k <= len(variants[0].epochs)]
        out = ["", "Training loss after the same number of examples seen:"]
        out.append(f"{'':<12}" + "".join(f"{f'{m:,} ex.':>12}" for m in marks) + f"{'steps':>10}{'compute s':>11}")
        for v in variants:
            cells = "".join(f"{_cell(_loss_at(v.epochs, lambda e: e.examples, m)):>12}" for m in marks)
            out.append(f"{v.label:<12}{cells}{v.epochs[-1].step:>10,}{v.epochs[-1].compute_seconds:>11.2f}")
        # equal computing time: fractions and multiples of what the slowest variant's first epoch took
        slowest = max(v.epochs[0].compute_seconds for v in variants)
        budgets = [slowest * k for k in (0.25, 0.5, 1, 2)]
        out += ["", "Training loss after the same computing time (epoch ends):"]
        out.append(f"{'':<12}" + "".join(f"{f'{b:.3f} s':>12}" for b in budgets))
        for v in variants:
            cells = "".join(f"{_cell(_loss_at(v.epochs, lambda e: e.compute_seconds, b)):>12}" for b in budgets)
            out.append(f"{v.label:<12}{cells}")
        if self.noise:
            out += ["", "Angle between a mini-batch's gradient and the full gradient (weights as initialised):"]
            for noise in self.noise:
                out.append(
                    f"  batch {noise.batch_size:>5}: {noise.mean_angle:5.1f}° ± {noise.angle_spread:4.1f}°  "
                    f"(‖g_batch − g‖/‖g‖ = {noise.relative_error:.2f}, {noise.draws} draws)"
                )
        return out + surface_lines()


def surface_lines() -> list[str]:
    """The two-parameter surfaces: where each path ended, on the function-regression set."""
    from ..datasets.toys import make_function

    data = make_function(seed=0)
    out = ["", "A linear neuron a = w·x + b (two parameters) on the sine set, the engine's SGD from (w, b) = (−2, 2):"]
    for scene in (learning_rate_scene(data.x_train, data.y_train), momentum_scene(data.x_train, data.y_train)):
        low, high = scene.curvatures
        out.append(f"  {scene.title}: λ_min {low:.3f}, λ_max {high:.3f}, least cost {scene.least_cost:.4f}")
        for path in scene.paths:
            ended = "diverged" if path.diverged else "ended"
            out.append(
                f"    {path.label:<26} η {path.learning_rate:.4f}: cost {path.losses[0]:.3f} → "
                f"{path.losses[-1]:.4g} after {len(path.points) - 1} steps ({ended})"
            )
    return out


class ExplodingGradientsFigure(LessonFigure):
    """Per variant: ‖∂C/∂b‖ per layer at the first step and at the last, the chain's factors as
    initialised, and how the run ended."""

    def __init__(self, run: PreparedRun, name: str):
        super().__init__(run, name)
        self.chains: dict[str, list] = {}

    def started(self, part: PreparedRun, record: VariantRecord) -> None:
        network = part.model
        if chain_applies(network):
            trainer = part.trainer
            self.chains[record.label] = gradient_chain(network, trainer.x_train[0], trainer.t_train[0])

    def lines(self) -> list[str]:
        out = []
        for v in self.variants.values():
            out += ["", f"{v.label}:"]
            if v.first_speeds is not None:
                out.append("  ‖∂C/∂b‖ per layer, input side first:")
                out.append("    " + "".join(f"{layer_id:>10}" for layer_id in v.layer_ids))
                out.append("    " + "".join(f"{s:>10.3g}" for s in v.first_speeds) + "   at step 0")
                diverged = v.finished is not None and v.finished.reason == "diverged"
                where = f"at step {v.last_step}" + (", where it diverged" if diverged else "")
                out.append("    " + "".join(f"{s:>10.3g}" for s in v.last_speeds) + f"   {where}")
            chain = self.chains.get(v.label)
            if chain:
                factors = " · ".join(f"{link.factor:.2f}" for link in chain[:-1])
                above = sum(link.factor > 1 for link in chain[:-1])
                out.append(
                    f"  chain for one example, as initialised: ‖∂C/∂b‖ of {chain[0].layer} = factors {factors} "
                    f"× ‖∂C/∂b‖ of {chain[-1].layer} {chain[-1].bias_gradient:.3g} = {chain[0].bias_gradient:.3g} "
                    f"({above} of {len(chain) - 1} factors above 1)"
                )
            finished = v.finished
            if finished is not None and finished.reason == "diverged":
                out.append(
                    f"  diverged after {finished.steps_done} steps: NaN or infinity first in layer {finished.layer}"
                )
            elif v.epochs:
                last = v.epochs[-1]
                accuracy = "" if last.val_accuracy is None else f", validation accuracy {100 * last.val_accuracy:.1f}%"
                out.append(f"  finished {last.epoch} epochs: training loss {last.loss:.3f}{accuracy}")
        return out


class ReportFigure(LessonFigure):
    """A lesson's ``"report"``: its figure by epoch, one column per variant (``ReportTable``), epoch 0
    measured on each network as initialised."""

    def __init__(self, run: PreparedRun, name: str, report: LessonReport):
        super().__init__(run, name)
        self.table = ReportTable(report, name)

    def started(self, part: PreparedRun, record: VariantRecord) -> None:
        self.table.begin(record.label, part.trainer)

    def observe(self, event: Event) -> None:
        super().observe(event)
        self.table.take(event)

    def lines(self) -> list[str]:
        return self.table.lines()


class PanelFigure(LessonFigure):
    """The figure of the panel a lesson opens on, as text: ``make(spec, network, dataset)`` gives
    ``figure(moment)``, printed "before training" and "after training"."""

    def __init__(self, run: PreparedRun, name: str, text):
        super().__init__(run, name)
        self.text = text

    def before(self) -> list[str]:
        return self.text("before training")

    def lines(self) -> list[str]:
        return self.text("after training")


#: lessons' panels with a figure for the terminal: ``make(spec, network, dataset)`` gives it as
#: ``figure(moment)``, or None for a network the panel cannot explain
PANEL_FIGURES = {"backprop": gradient_check_figure, "bumps": proof_figure, "neuron": neuron_figure}

#: lessons with a figure of their own, by name
FIGURES: dict[str, type[LessonFigure]] = {
    "gradient-descent": GradientDescentFigure,
    "exploding-gradients": ExplodingGradientsFigure,
}


def lesson_figures(spec, run: PreparedRun, name: str) -> list[LessonFigure]:
    """Every figure ``run`` of ``spec`` (a lesson, or a network file named ``name``) prints: its
    panel's, its report table, its own.  NetworkFileError for a lesson's report that cannot be made."""
    figures: list[LessonFigure] = []
    if spec is None:  # a run made without a network file (ratings' matrix factorisation)
        return figures
    make = PANEL_FIGURES.get((spec.lesson or {}).get("panel"))
    dataset = getattr(run.trainer, "dataset", None)
    text = make(spec, run.model, dataset) if make is not None and dataset is not None else None
    if text is not None:
        figures.append(PanelFigure(run, name, text))
    report = lesson_report(spec)
    if report is not None:
        figures.append(ReportFigure(run, name, report))
    own = lesson_figure(spec.name, run)
    if own is not None:
        figures.append(own)
    return figures


def lesson_figure(name: str, run: PreparedRun) -> LessonFigure | None:
    """The figure of lesson ``name``'s own for ``run``, or None for a lesson (or network) without one."""
    figure = FIGURES.get(name)
    return None if figure is None else figure(run, name)


__all__ = [
    "ExplodingGradientsFigure",
    "FIGURES",
    "GradientDescentFigure",
    "LessonFigure",
    "PANEL_FIGURES",
    "PanelFigure",
    "ReportFigure",
    "VariantRecord",
    "lesson_figure",
    "lesson_figures",
    "surface_lines",
]
