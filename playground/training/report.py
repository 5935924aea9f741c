"""A lesson's effect as a table: the figure it is about, at the epochs that show it, for every
variant it compares.

``learning-slowdown`` is about the cost at epochs 0, 50, 100, 150 and 300 of four neurons;
``weight-initialization`` about the validation accuracy after each epoch under each initialiser.
A lesson names its figure in a ``"report"`` entry, ``{"metric": "loss", "epochs": [0, 50, 300]}``
(no ``epochs``: every one), and ``playground train LESSON`` prints the table after the run, so
the effect the lesson teaches is one look away without a window.  The metric is one of an epoch
record's figures; epoch 0 is the network as initialised, measured before its first step by a
trainer that can (``measure()``), and left blank by one that cannot.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..model import NetworkFileError
from .protocol import EpochEvent, Event, RunStarted

#: the figures a report may name, as an epoch record calls them, and how the table heads them
METRICS = {
    "loss": "training cost",
    "val_loss": "validation cost",
    "train_accuracy": "training accuracy (%)",
    "val_accuracy": "validation accuracy (%)",
}


@dataclass(frozen=True)
class LessonReport:
    """Which figure, at which epochs (None: every epoch the run records)."""

    metric: str
    epochs: tuple[int, ...] | None = None

    @property
    def percent(self) -> bool:
        return self.metric.endswith("accuracy")


def lesson_report(spec) -> LessonReport | None:
    """The report a lesson's ``"report"`` entry asks for, None when it has none; NetworkFileError
    saying what is wrong with one that cannot be made."""
    raw = (getattr(spec, "lesson", None) or {}).get("report")
    if raw is None:
        return None
    if not isinstance(raw, dict) or raw.get("metric") not in METRICS:
        raise NetworkFileError(f'lesson: "report" needs a "metric", one of {", ".join(METRICS)}')
    epochs = raw.get("epochs")
    if epochs is not None and not (
        isinstance(epochs, list) and all(isinstance(e, int) and not isinstance(e, bool) and e >= 0 for e in epochs)
    ):
        raise NetworkFileError('lesson: the report\'s "epochs" must be a list of epoch numbers (0: before training)')
    return LessonReport(raw["metric"], None if epochs is None else tuple(epochs))


class ReportTable:
    """Collects ``report``'s figure from a run's events, one column per variant (the run itself
    when it compares nothing), and prints them as a table with a row per epoch."""

    def __init__(self, report: LessonReport, label: str):
        self.report = report
        #: figure by epoch, for each variant in the order it trained
        self.columns: dict[str, dict[int, float]] = {}
        self._label = label

    def begin(self, label: str, trainer) -> None:
        """A variant (or the run) is about to train: its epoch 0, if ``trainer`` can measure it."""
        self._label = label
        column = self.columns.setdefault(label, {})
        measure = getattr(trainer, "measure", None)
        if measure is not None:
            column[0] = getattr(measure(), self.report.metric)

    def take(self, event: Event) -> None:
        if isinstance(event, RunStarted):
            self._label = event.label
        elif isinstance(event, EpochEvent):
            value = getattr(event, self.report.metric, None)
            if value is not None:
                self.columns.setdefault(self._label, {})[event.epoch] = value

    def rows(self) -> list[int]:
        """The epochs the table shows: the report's, or every epoch any variant recorded."""
        if self.report.epochs is not None:
            return list(self.report.epochs)
        return sorted({epoch for column in self.columns.values() for epoch in column})

    def value(self, label: str, epoch: int) -> float | None:
        value = self.columns.get(label, {}).get(epoch)
        return None if value is None or not math.isfinite(value) else value

    def lines(self) -> list[str]:
        """The table: a heading naming the figure, a row per epoch, a column per variant."""
        labels = list(self.columns)
        widths = [max(len(label), 9) for label in labels]
        lines = [
            METRICS[self.report.metric] + ", by epoch:",
            "epoch  " + "  ".join(label.rjust(width) for label, width in zip(labels, widths, strict=True)),
        ]
        for epoch in self.rows():
            cells = []
            for label, width in zip(labels, widths, strict=True):
                value = self.value(label, epoch)
                text = "–" if value is None else (f"{100 * value:.2f}" if self.report.percent else f"{value:.4f}")
                cells.append(text.rjust(width))
            lines.append(f"{epoch:>5}  " + "  ".join(cells))
        return lines


__all__ = ["METRICS", "LessonReport", "ReportTable", "lesson_report"]
