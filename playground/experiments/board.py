"""What the window's Experiments view shows of a sweep, built from the sweep's own events. No Qt.

A ``Board`` listens to a ``Sweep`` (``hear`` is its ``on_event``, called on the sweep's thread)
and keeps, for the view to draw on the GUI thread (``take`` moves what was heard in):

- every run's metric after each epoch (the live curves, one per variant and seed);
- per variant, the mean over its seeds at each epoch and the band from the lowest to the highest
  seed (``band``): the spread that tells a real difference between variants from luck;
- the results table (``rows``): a variant's settings, its final metric (the mean over seeds), its
  spread, how it ended and its time, sortable by any column;
- for two varied settings, the heat map of the final metric (``heat_map``): with a third setting
  varied, each cell shows the best variant over the third's values, and says so;
- the trained weights of each run, so the view can load a variant onto the canvas with them.

``varying_fields`` lists what the view offers to vary: the inspector's own fields (the training
settings and each layer's config fields, with the kinds and limits the inspector edits them
with), and ``parse_values`` reads the values typed for one of them.
"""

from __future__ import annotations

import math
import statistics
import threading
from dataclasses import dataclass, field

import numpy as np

from ..engine.config import FieldInfo, fields_of
from ..model.settings import TrainingSettings
from .experiment_file import FORMAT, FORMAT_VERSION, Experiment, experiment_from_dict, variant_label
from .sweep import RunBegan, RunEnded, RunEpoch, VariantRefused


@dataclass
class VariantRow:
    """One line of the results table: a variant over the seeds that have finished."""

    trial: int
    label: str
    changes: dict
    values: dict = field(default_factory=dict)  # seed -> final metric (None: diverged, pruned)
    statuses: dict = field(default_factory=dict)  # seed -> how the run ended
    seconds: float = 0.0

    @property
    def value(self) -> float | None:
        finite = [v for v in self.values.values() if v is not None and math.isfinite(v)]
        return statistics.fmean(finite) if finite and len(finite) == len(self.values) else None

    @property
    def spread(self) -> float | None:
        finite = [v for v in self.values.values() if v is not None and math.isfinite(v)]
        return statistics.pstdev(finite) if len(finite) > 1 else None

    @property
    def status(self) -> str:
        statuses = set(self.statuses.values())
        return next((s for s in ("diverged", "pruned", "stopped", "failed") if s in statuses), "completed")


@dataclass(frozen=True)
class HeatMap:
    """The final metric over two settings: ``values[i, j]`` is for ``x_values[i]`` and ``y_values[j]``
    (NaN where no variant finished); ``note`` says how a third varied setting was folded in."""

    x_name: str
    y_name: str
    x_values: list
    y_values: list
    values: np.ndarray
    note: str = ""


class Board:
    """The figures of one sweep of ``experiment``, as the Experiments view draws them."""

    def __init__(self, experiment: Experiment):
        self.experiment = experiment
        self.metric, self.direction = experiment.metric, experiment.direction
        self.settings = [setting.name for setting in experiment.settings]
        #: (trial, seed) -> [(epoch, metric)], every run's curve
        self.curves: dict[tuple[int, int], list[tuple[int, float]]] = {}
        self.labels: dict[int, str] = {}
        self.table: dict[int, VariantRow] = {}
        #: (trial, seed) -> the run's trained weights (when the sweep kept them)
        self.weights: dict[tuple[int, int], dict] = {}
        self.refused: list[str] = []
        self.version = 0
        self._inbox: list = []
        self._lock = threading.Lock()

    # --- the sweep's side -----------------------------------------------------------------------
    def hear(self, event) -> None:
        """The sweep's ``on_event``: keep ``event`` for ``take`` (any thread)."""
        with self._lock:
            self._inbox.append(event)

    # --- the view's side ------------------------------------------------------------------------
    def take(self) -> bool:
        """Take in what the sweep said since the last call; True if anything changed."""
        with self._lock:
            events, self._inbox = self._inbox, []
        for event in events:
            self._apply(event)
        if events:
            self.version += 1
        return bool(events)

    def _apply(self, event) -> None:
        if isinstance(event, RunBegan):
            task = event.task
            self.labels[task.trial] = task.label
            self.table.setdefault(task.trial, VariantRow(task.trial, task.label, dict(task.changes)))
            self.curves[(task.trial, task.seed)] = []  # a run stopped earlier starts again from its first epoch
        elif isinstance(event, RunEpoch):
            value = event.record.get(self.metric)
            if isinstance(value, (int, float)):
                self.curves.setdefault((event.trial, event.seed), []).append((event.record["epoch"], float(value)))
        elif isinstance(event, RunEnded):
            outcome = event.outcome
            row = self.table.setdefault(outcome.trial, VariantRow(outcome.trial, outcome.label, dict(outcome.changes)))
            row.values[outcome.seed] = outcome.value
            row.statuses[outcome.seed] = outcome.status
            row.seconds += outcome.seconds
            if outcome.weights is not None:
                self.weights[(outcome.trial, outcome.seed)] = outcome.weights
        elif isinstance(event, VariantRefused):
            self.refused.append(f"{event.label}: {event.message}")

    def band(self, trial: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(epochs, mean, lowest, highest) of variant ``trial``'s metric over the seeds that reached
        each epoch."""
        by_epoch: dict[int, list[float]] = {}
        for (number, _), points in self.curves.items():
            if number == trial:
                for epoch, value in points:
                    by_epoch.setdefault(epoch, []).append(value)
        epochs = sorted(by_epoch)
        values = [np.asarray(by_epoch[e]) for e in epochs]
        return (
            np.asarray(epochs, float),
            np.asarray([v.mean() for v in values]),
            np.asarray([v.min() for v in values]),
            np.asarray([v.max() for v in values]),
        )

    def rows(self, sort_by: str = "value", descending: bool | None = None) -> list[VariantRow]:
        """The finished variants' rows (each seed in), best first unless another column is chosen:
        "value", "spread", "seconds", "label" or one of the varied settings."""
        rows = [row for row in self.table.values() if len(row.values) == len(self.experiment.seeds)]
        if descending is None:
            descending = sort_by == "value" and self.direction == "maximize"

        def key(row: VariantRow):
            if sort_by in ("value", "spread", "seconds"):
                figure = getattr(row, sort_by)
                missing = figure is None or not math.isfinite(figure)
                # variants without a figure (diverged, pruned) go last, whichever way the table sorts
                return (missing != descending, 0.0 if missing else figure)
            if sort_by == "label":
                return (False, row.label)
            return (False, _sortable(row.changes.get(sort_by)))

        return sorted(rows, key=key, reverse=descending)

    def best(self) -> VariantRow | None:
        rows = [row for row in self.rows() if row.value is not None]
        return rows[0] if rows else None

    def heat_map(self, x_name: str | None = None, y_name: str | None = None) -> HeatMap | None:
        """The final metric over two varied settings (the first two, unless named), or None when
        fewer than two vary.  A third setting is folded in by taking, per cell, its best variant."""
        if len(self.settings) < 2:
            return None
        x_name = x_name or self.settings[0]
        y_name = y_name or next(name for name in self.settings if name != x_name)
        x_values, y_values = self._values_of(x_name), self._values_of(y_name)
        values = np.full((len(x_values), len(y_values)), np.nan)
        better = np.nanmax if self.direction == "maximize" else np.nanmin
        for row in self.rows():
            if row.value is None:
                continue
            i, j = x_values.index(row.changes[x_name]), y_values.index(row.changes[y_name])
            values[i, j] = row.value if np.isnan(values[i, j]) else better([values[i, j], row.value])
        others = [name for name in self.settings if name not in (x_name, y_name)]
        note = f"each cell: the best over {', '.join(others)}" if others else ""
        return HeatMap(x_name, y_name, x_values, y_values, values, note)

    def _values_of(self, name: str) -> list:
        setting = next(setting for setting in self.experiment.settings if setting.name == name)
        if setting.values is not None:
            return list(setting.values)
        return sorted({row.changes[name] for row in self.table.values()}, key=_sortable)

    def variant(self, trial: int, seed: int | None = None):
        """(network, weights) of variant ``trial``: its network file, and the trained weights of
        ``seed`` (its first seed when None); weights None when the sweep kept none."""
        row = self.table[trial]
        seed = self.experiment.seeds[0] if seed is None else seed
        spec = self.experiment.variant({**row.changes, "seed": seed})
        spec.name = f"{self.experiment.name}: {variant_label(row.changes)}"
        return spec, self.weights.get((trial, seed))

    @property
    def runs_done(self) -> int:
        return sum(len(row.values) for row in self.table.values())


#: training settings an experiment over one network does not vary (the seeds are the experiment's own)
NOT_VARIED = ("seed", "train_limit")


def varying_fields(spec) -> dict[str, FieldInfo]:
    """What can vary in ``spec``, by the name a variant's changes use: the training settings
    (``learning_rate``) and every layer's config fields (``fc1.units``), as the inspector shows them."""
    fields = {info.name: info for info in fields_of(TrainingSettings) if info.name not in NOT_VARIED}
    for node in spec.nodes:
        for info in fields_of(type(node.config)):
            if info.kind != "shape":
                fields[f"{node.id}.{info.name}"] = info
    return fields


def parse_values(info: FieldInfo, text: str) -> list:
    """The comma-separated values typed for field ``info``, as numbers where it takes numbers;
    ValueError saying which value is wrong (the variants then check ranges in the inspector's words)."""
    values = []
    for word in (part.strip() for part in text.split(",")):
        if not word:
            continue
        if info.kind in ("int", "float"):
            try:
                number = float(word)
            except ValueError:
                raise ValueError(f"{info.name}: {word!r} is not a number") from None
            if info.kind == "int" and not number.is_integer():
                raise ValueError(f"{info.name}: {word!r} is not a whole number")
            values.append(int(number) if info.kind == "int" else number)
        elif info.choices and word not in info.choices:
            raise ValueError(f"{info.name}: {word!r} is not one of {', '.join(info.choices)}")
        else:
            values.append(word)
    if not values:
        raise ValueError(f"{info.name}: give at least one value")
    return list(dict.fromkeys(values))


def grid_experiment(spec, vary: dict[str, list], seeds: list[int], fixed: dict | None = None, name: str = ""):
    """A grid experiment over ``spec`` (the canvas's network) as the view builds it, checked as a
    file would be: ExperimentError naming the variant that cannot be made."""
    from ..datasets.catalog import names_of_kind
    from ..model import spec_to_dict

    # a fitted function has no accuracy: its validation cost is what tells variants apart
    metric = "val_loss" if spec.dataset.name in names_of_kind("function") else "val_accuracy"
    data = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "name": name or spec.name or "experiment",
        "network": spec_to_dict(spec),
        "fixed": dict(fixed or {}),
        "search": "grid",
        "vary": vary,
        "seeds": list(seeds),
        "metric": metric,
    }
    return experiment_from_dict(data, "the experiment")


def _sortable(value):
    """Numbers before text, so a column of mixed values still sorts."""
    return (0, value, "") if isinstance(value, (int, float)) else (1, 0, str(value))


__all__ = ["Board", "HeatMap", "NOT_VARIED", "VariantRow", "grid_experiment", "parse_values", "varying_fields"]
