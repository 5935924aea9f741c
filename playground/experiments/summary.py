"""A sweep's summary: one row per run (variant × seed), one entry per variant, the best ones first.

Built from the study, not from the runs of this sweep alone, so a sweep that went on from an
interrupted one summarises all of it.  Written as ``summary.csv`` (a row per run: the
variant's settings as columns, the final and best figures, the time, whether it diverged)
and ``summary.json`` (the same rows, the variants with their mean over seeds, the best).
"""

from __future__ import annotations

import csv
import io
import json
import math
import statistics
from dataclasses import dataclass, field
from pathlib import Path

from ..files import atomic_write_text
from .experiment_file import Experiment
from .search import kept_runs

SUMMARY_CSV, SUMMARY_JSON = "summary.csv", "summary.json"
#: the final figures a row shows where the runs report them
FIGURES = ("loss", "val_loss", "train_accuracy", "val_accuracy", "val_mse", "exact_match", "token_accuracy")


@dataclass
class VariantSummary:
    """A variant over its seeds: ``value`` is the mean of the metric after the last epoch (None
    when a seed diverged or was pruned), ``spread`` its standard deviation over the seeds."""

    trial: int
    label: str
    changes: dict
    status: str
    value: float | None
    spread: float | None
    best: float | None
    seconds: float
    seeds: list[int]


@dataclass
class SweepResult:
    """Every run the study kept (``rows``), every variant (``variants``) and the best variants first."""

    experiment: str
    metric: str
    direction: str
    rows: list[dict] = field(default_factory=list)
    variants: list[VariantSummary] = field(default_factory=list)
    stopped: bool = False

    def best(self, count: int = 3) -> list[VariantSummary]:
        """The ``count`` best variants that finished, best first."""
        finished = [variant for variant in self.variants if variant.value is not None]
        return sorted(finished, key=lambda v: -v.value if self.direction == "maximize" else v.value)[:count]


def _row(experiment: Experiment, number: int, run: dict) -> dict:
    final = run.get("final") or {}
    row = {"trial": number, "variant": run["label"]}
    row.update({setting.name: run["changes"].get(setting.name) for setting in experiment.settings})
    row.update(seed=run["seed"], status=run["status"], epochs=run["epochs_done"])
    row.update({f"final_{name}": final[name] for name in FIGURES if name in final})
    row.update(
        {
            f"best_{experiment.metric}": run["best"],
            "best_epoch": run["best_epoch"],
            "seconds": round(run["seconds"], 3),
            "diverged": run["status"] == "diverged",
            "network": run.get("network", ""),
            "metrics": run.get("metrics", ""),
            "weights": run.get("weights", ""),
        }
    )
    return row


def _variant(experiment: Experiment, number: int, runs: list[dict]) -> VariantSummary:
    statuses = {run["status"] for run in runs}
    status = next((s for s in ("diverged", "pruned") if s in statuses), "completed")
    values = [run["value"] for run in runs if run["value"] is not None and math.isfinite(run["value"])]
    whole = status == "completed" and len(values) == len(runs)
    bests = [run["best"] for run in runs if run["best"] is not None]
    return VariantSummary(
        trial=number,
        label=runs[0]["label"],
        changes=runs[0]["changes"],
        status=status,
        value=statistics.fmean(values) if whole else None,
        spread=statistics.pstdev(values) if whole and len(values) > 1 else (0.0 if whole else None),
        best=(max if experiment.direction == "maximize" else min)(bests) if bests else None,
        seconds=sum(run["seconds"] for run in runs),
        seeds=[run["seed"] for run in runs],
    )


def summarise(experiment: Experiment, study, folder: Path | None = None, stopped: bool = False) -> SweepResult:
    """The summary of every run ``study`` keeps for ``experiment``."""
    result = SweepResult(experiment.name, experiment.metric, experiment.direction, stopped=stopped)
    for trial in sorted(study.get_trials(deepcopy=False), key=lambda t: t.number):
        runs = [run for _, run in sorted(kept_runs(trial).items())]
        if not runs:
            continue
        result.rows.extend(_row(experiment, trial.number, run) for run in runs)
        if len(runs) == len(experiment.seeds):
            result.variants.append(_variant(experiment, trial.number, runs))
    return result


def write_summary(result: SweepResult, folder: Path) -> None:
    """``summary.csv`` and ``summary.json`` in ``folder``."""
    columns = list(dict.fromkeys(key for row in result.rows for key in row))
    text = io.StringIO()
    writer = csv.DictWriter(text, columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(result.rows)
    atomic_write_text(folder / SUMMARY_CSV, text.getvalue())
    data = {
        "experiment": result.experiment,
        "metric": result.metric,
        "direction": result.direction,
        "stopped": result.stopped,
        "best": [variant.__dict__ for variant in result.best()],
        "variants": [variant.__dict__ for variant in result.variants],
        "runs": result.rows,
    }
    atomic_write_text(folder / SUMMARY_JSON, json.dumps(data, indent=1) + "\n")


__all__ = ["FIGURES", "SUMMARY_CSV", "SUMMARY_JSON", "SweepResult", "VariantSummary", "summarise", "write_summary"]
