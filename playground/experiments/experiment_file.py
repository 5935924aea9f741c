"""Experiment files: a base network, the settings that vary, the seeds to repeat, what to optimise.

An experiment is JSON, versioned like a network file, and read as strictly: an unknown field,
an impossible value, an empty grid or a variant that makes the network invalid is one line
naming the setting or the variant and the reason, raised before anything trains.  Every
variant is the base network with *changes* in the vocabulary of ``model.variants`` (a
training field, ``layer.field`` or ``layer.type``), so a value the inspector would refuse
is refused here in the same words.

    {"format": "playground-experiment", "format_version": 1,
     "name": "eta-batch-hidden",
     "network": "net.json" | "fc-mnist" | {... a network file's object ...},
     "fixed": {"epochs": 2, "train_limit": 8000},
     "search": "grid" | "random" | "tpe",
     "vary": {"learning_rate": [0.1, 1.0],                     (a list of values)
              "fc1.units": [30, 60],
              "l2": {"low": 1e-5, "high": 1.0, "log": true},   (a range: random and tpe only)
              "batch_size": {"low": 10, "high": 50, "step": 10}},
     "seeds": [0, 1],
     "metric": "val_accuracy", "direction": "maximize",
     "trials": 20,
     "pruning": {"warmup_epochs": 1, "startup_trials": 4} | false,
     "sampler_seed": 0}

- ``network``: a path (relative to the experiment file), a lesson's name, or a network inline.
  A lesson's own comparison (its ``compare`` list) is not run: the experiment says what varies.
- ``fixed``: changes made to every variant (optional).
- ``vary``: at least one setting.  A grid needs a list for each; random and TPE searches also
  take ranges (``low``, ``high``, optional ``log`` and ``step``; whole numbers for an int field).
- ``seeds``: every variant trains once per seed (default: the network's own seed).
- ``metric``: a figure each epoch reports (``METRICS``); ``direction`` defaults to maximise for
  accuracies and minimise for losses.  A variant's value is its metric after the last epoch,
  averaged over its seeds.
- ``trials``: how many variants to try; a grid's default is all of them, random and TPE need it.
- ``pruning``: stop hopeless variants early (Optuna's median rule on the first seed's epochs);
  ``false`` or absent: every variant trains to its end.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
from dataclasses import dataclass
from pathlib import Path

from .. import budgets
from ..inputs import check_json_budget, read_user_file
from ..model import NetworkFileError, NetworkSpec, spec_from_dict, spec_to_dict
from ..model.variants import VariantError, apply_changes

FORMAT = "playground-experiment"
FORMAT_VERSION = 1
SEARCHES = ("grid", "random", "tpe")
#: the figures an epoch reports that an experiment can optimise, and which way is better
METRICS = {
    "val_loss": "minimize",
    "val_accuracy": "maximize",
    "loss": "minimize",
    "train_accuracy": "maximize",
    "val_mse": "minimize",
    "exact_match": "maximize",
    "token_accuracy": "maximize",
}
_FIELDS = (
    "format",
    "format_version",
    "name",
    "network",
    "fixed",
    "search",
    "vary",
    "seeds",
    "metric",
    "direction",
    "trials",
    "pruning",
    "sampler_seed",
)
_RANGE_FIELDS = ("low", "high", "log", "step")
_PRUNING_FIELDS = ("warmup_epochs", "startup_trials")


class ExperimentError(ValueError):
    """An experiment file that cannot run; the message names the file, the setting or variant, and why."""

    def __init__(self, message: str):
        # one line, whatever the file holds: a name with a line break in it is shown escaped
        super().__init__(str(message).replace("\r", "\\r").replace("\n", "\\n"))


@dataclass(frozen=True)
class Setting:
    """One setting that varies: a list of ``values``, or a range from ``low`` to ``high``
    (``integer`` when both ends are whole numbers; ``log``: drawn evenly on a log scale)."""

    name: str
    values: tuple | None = None
    low: float | None = None
    high: float | None = None
    log: bool = False
    step: float | None = None

    @property
    def integer(self) -> bool:
        return self.values is None and all(isinstance(end, int) for end in (self.low, self.high))


@dataclass(frozen=True)
class Pruning:
    """Optuna's median rule: a variant whose first seed is worse, at an epoch, than the median of
    the variants before it at that epoch stops there; never in the first ``warmup_epochs`` epochs,
    nor before ``startup_trials`` variants have finished."""

    warmup_epochs: int = 1
    startup_trials: int = 4


@dataclass(frozen=True)
class Experiment:
    """A checked experiment file: ``base`` is the network with the ``fixed`` changes made."""

    name: str
    source: str
    base: NetworkSpec
    search: str
    settings: tuple[Setting, ...]
    seeds: tuple[int, ...]
    metric: str
    direction: str
    trials: int
    pruning: Pruning | None
    sampler_seed: int = 0

    @property
    def base_network(self) -> dict:
        """The base network as a network file's object: what is shipped to a worker."""
        return spec_to_dict(self.base)

    def grid(self) -> list[dict]:
        """Every combination of the listed values, as changes, in the file's order (a grid search's variants)."""
        names = [setting.name for setting in self.settings]
        return [dict(zip(names, values)) for values in itertools.product(*(s.values for s in self.settings))]

    def variant(self, changes: dict) -> NetworkSpec:
        """The base network with ``changes``; ExperimentError naming the variant when they cannot be made."""
        try:
            return apply_changes(self.base, changes, variant_label(changes))
        except VariantError as error:
            raise ExperimentError(f"{self.source}: {error}") from None


def variant_label(changes: dict) -> str:
    """A variant's name: its changes, ``learning_rate=0.1, fc1.units=30``."""
    return ", ".join(f"{key}={_short(value)}" for key, value in changes.items())


def _short(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _setting(name: str, raw, source: str, search: str) -> Setting:
    where = f'{source}: vary "{name}"'
    if name == "seed":
        raise ExperimentError(f'{where}: list the seeds to repeat in "seeds", not in "vary"')
    if isinstance(raw, list):
        if not raw:
            raise ExperimentError(f"{where}: the list of values is empty, so there is nothing to try")
        if any(not isinstance(value, (str, int, float, bool)) for value in raw):
            raise ExperimentError(f"{where}: values must be numbers, strings or true/false, not {raw!r}")
        if len(set(map(json.dumps, raw))) != len(raw):
            raise ExperimentError(f"{where}: a value is listed twice in {raw!r}")
        return Setting(name, values=tuple(raw))
    if not isinstance(raw, dict):
        raise ExperimentError(f'{where}: give a list of values or a range {{"low": ..., "high": ...}}, not {raw!r}')
    if search == "grid":
        raise ExperimentError(f"{where}: a grid needs a list of values, not a range (random and tpe take ranges)")
    unknown = sorted(set(raw) - set(_RANGE_FIELDS))
    if unknown:
        raise ExperimentError(f'{where}: unknown field "{unknown[0]}" (a range has {", ".join(_RANGE_FIELDS)})')
    low, high, log, step = raw.get("low"), raw.get("high"), raw.get("log", False), raw.get("step")
    if not (_is_number(low) and _is_number(high)) or low >= high:
        raise ExperimentError(f"{where}: a range needs numbers low < high, not low={low!r}, high={high!r}")
    if not isinstance(log, bool):
        raise ExperimentError(f"{where}: log must be true or false, not {log!r}")
    if log and low <= 0:
        raise ExperimentError(f"{where}: a log-scale range must start above 0, not at {low!r}")
    if step is not None and (not _is_number(step) or step <= 0 or (log and step is not None)):
        raise ExperimentError(f"{where}: step must be a number above 0 on a linear range, not {step!r}")
    return Setting(name, low=low, high=high, log=log, step=step)


def _seeds(raw, base: NetworkSpec, source: str) -> tuple[int, ...]:
    if raw is None:
        return (base.training.seed,)
    if (
        not isinstance(raw, list)
        or not raw
        or any(isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**31 for seed in raw)
        or len(set(raw)) != len(raw)
    ):
        raise ExperimentError(f"{source}: seeds must be a non-empty list of different whole numbers ≥ 0, not {raw!r}")
    return tuple(raw)


def _pruning(raw, source: str) -> Pruning | None:
    if raw is None or raw is False:
        return None
    if raw is True:
        return Pruning()
    if not isinstance(raw, dict):
        raise ExperimentError(f"{source}: pruning must be true, false or {{...}}, not {raw!r}")
    unknown = sorted(set(raw) - set(_PRUNING_FIELDS))
    if unknown:
        raise ExperimentError(f'{source}: pruning: unknown field "{unknown[0]}" ({", ".join(_PRUNING_FIELDS)})')
    values = {**vars(Pruning()), **raw}
    for key, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ExperimentError(f"{source}: pruning: {key} must be a whole number ≥ 0, not {value!r}")
    return Pruning(**values)


def _base_network(raw, folder: Path, source: str) -> NetworkSpec:
    from ..training.lessons import load_network_or_lesson

    if isinstance(raw, dict):
        try:
            return spec_from_dict(raw)
        except NetworkFileError as error:
            raise ExperimentError(f"{source}: network: {error}") from None
    if not isinstance(raw, str) or not raw:
        raise ExperimentError(f"{source}: network must be a file, a lesson's name or a network object, not {raw!r}")
    path = folder / raw
    try:
        return load_network_or_lesson(str(path) if path.exists() or raw.endswith(".json") else raw)
    except NetworkFileError as error:
        raise ExperimentError(f"{source}: network: {error}") from None


def _count(raw, what: str, source: str, default: int | None) -> int:
    if raw is None and default is not None:
        return default
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 1:
        raise ExperimentError(f"{source}: {what} must be a whole number ≥ 1, not {raw!r}")
    return raw


def _check_variants(experiment: Experiment) -> None:
    """Make every variant a grid will train, or for a sampled search every listed value and both
    ends of every range, each on its own: a bad one is found before anything trains."""
    if experiment.search == "grid":
        candidates = experiment.grid()[: experiment.trials]
    else:
        candidates = [
            {setting.name: value}
            for setting in experiment.settings
            for value in (setting.values if setting.values is not None else (setting.low, setting.high))
        ]
    for changes in candidates:
        experiment.variant(changes)


def experiment_from_dict(data, source: str = "experiment", folder: Path | None = None) -> Experiment:
    """The checked experiment in a parsed file; ``folder`` is where a relative network path starts."""
    if not isinstance(data, dict):
        raise ExperimentError(f"{source}: an experiment file must hold a JSON object")
    if data.get("format") != FORMAT:
        found = data.get("format")
        raise ExperimentError(f'{source}: not an experiment file (format is {found!r}, expected "{FORMAT}")')
    version = data.get("format_version", FORMAT_VERSION)
    if isinstance(version, bool) or not isinstance(version, int) or not 1 <= version <= FORMAT_VERSION:
        raise ExperimentError(f"{source}: format_version {version!r} is not supported (this reads {FORMAT_VERSION})")
    unknown = sorted(set(data) - set(_FIELDS))
    if unknown:
        raise ExperimentError(f'{source}: unknown field "{unknown[0]}" (an experiment has {", ".join(_FIELDS)})')
    if "network" not in data:
        raise ExperimentError(f"{source}: it names no network to start from (a file, a lesson or a network object)")
    base = _base_network(data["network"], folder or Path("."), source)
    if base.lesson and "compare" in base.lesson:  # the experiment says what varies, not the lesson
        base = dataclasses.replace(base, lesson={k: v for k, v in base.lesson.items() if k != "compare"})
    fixed = data.get("fixed", {})
    if not isinstance(fixed, dict):
        raise ExperimentError(f"{source}: fixed must be an object of setting: value, not {fixed!r}")
    try:
        base = apply_changes(base, fixed, "fixed")
    except VariantError as error:
        raise ExperimentError(f"{source}: {error}") from None
    search = data.get("search", "grid")
    if search not in SEARCHES:
        raise ExperimentError(f"{source}: search must be one of {', '.join(SEARCHES)}, not {search!r}")
    vary = data.get("vary")
    if not isinstance(vary, dict) or not vary:
        raise ExperimentError(f"{source}: vary must name at least one setting and its values")
    settings = tuple(_setting(str(name), raw, source, search) for name, raw in vary.items())
    metric = data.get("metric", "val_loss")
    if not isinstance(metric, str) or metric not in METRICS:
        raise ExperimentError(f"{source}: metric must be one of {', '.join(METRICS)}, not {metric!r}")
    direction = data.get("direction", METRICS[metric])
    if direction not in ("minimize", "maximize"):
        raise ExperimentError(f'{source}: direction must be "minimize" or "maximize", not {direction!r}')
    grid_size = math.prod(len(s.values) for s in settings) if search == "grid" else None
    trials = _count(data.get("trials"), "trials", source, grid_size)
    seeds = _seeds(data.get("seeds"), base, source)
    runs = trials * len(seeds)
    if runs > budgets.MAX_EXPERIMENT_RUNS:
        claim = f"{trials:,} variants × {len(seeds)} seeds are {runs:,} training runs"
        raise ExperimentError(f"{source}: " + budgets.over_budget(claim, "MAX_EXPERIMENT_RUNS"))
    sampler_seed = data.get("sampler_seed", 0)
    if isinstance(sampler_seed, bool) or not isinstance(sampler_seed, int) or sampler_seed < 0:
        raise ExperimentError(f"{source}: sampler_seed must be a whole number ≥ 0, not {sampler_seed!r}")
    name = data.get("name", Path(source).stem)
    if not isinstance(name, str) or not name.strip():
        raise ExperimentError(f"{source}: name must be a non-empty string, not {name!r}")
    experiment = Experiment(
        name=name,
        source=source,
        base=base,
        search=search,
        settings=settings,
        seeds=seeds,
        metric=metric,
        direction=direction,
        trials=trials,
        pruning=_pruning(data.get("pruning"), source),
        sampler_seed=sampler_seed,
    )
    _check_variants(experiment)
    return experiment


def load_experiment(path: str | Path) -> Experiment:
    """An experiment file from disk (it may come from anyone: within ``MAX_JSON_BYTES`` and
    ``MAX_JSON_DEPTH``, a regular file only)."""
    path = Path(path)
    raw = read_user_file(path, ExperimentError, "MAX_JSON_BYTES")
    check_json_budget(raw, str(path), ExperimentError)
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise ExperimentError(f"{path}: not UTF-8 text (byte {error.start})") from None
    except json.JSONDecodeError as error:
        where = f"line {error.lineno}, column {error.colno}"
        raise ExperimentError(f"{path}: not valid JSON ({where}: {error.msg})") from None
    return experiment_from_dict(data, str(path), path.parent)


__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "METRICS",
    "SEARCHES",
    "Experiment",
    "ExperimentError",
    "Pruning",
    "Setting",
    "experiment_from_dict",
    "load_experiment",
    "variant_label",
]
