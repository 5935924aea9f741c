"""The search: Optuna's samplers choose the variants, its pruner stops hopeless ones, its study
remembers them.

No search algorithm is written here.  A grid is Optuna's ``GridSampler``, random search its
``RandomSampler``, the model-based search its ``TPESampler``; early stopping is its
``MedianPruner`` fed each epoch's metric.  The study lives in memory, or in SQLite in the
sweep's folder, where every finished run is kept as it arrives (a trial's user attributes),
so a sweep started again in the same folder goes on where it stopped: finished variants are
not trained again, and a variant that was training when the sweep stopped trains again as
the same trial (its grid point and its number kept).

Optuna and Dask come with the optional extra ``experiments``: ``require_extra`` says so in one
line where it is missing, and nothing else in the playground needs them.
"""

from __future__ import annotations

from pathlib import Path

from .experiment_file import Experiment

#: what to install when Optuna or Dask is missing
EXTRA_HINT = (
    'experiments need the optional extra "experiments" (Optuna and Dask): pip install -e ".[experiments]" '
    "in the playground's folder"
)
#: the study's file in a sweep's folder
STUDY_FILE = "study.db"
#: a run's outcome is kept on its trial under this prefix and its seed
RUN_ATTRIBUTE = "run-seed-"


class MissingExtra(ImportError):
    """Optuna (or Dask, for a cluster) is not installed; the message says which extra to install."""


def require_extra(module: str = "optuna"):
    """``module`` imported, or MissingExtra with ``EXTRA_HINT``."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingExtra(EXTRA_HINT) from None


def _sampler(optuna, experiment: Experiment):
    if experiment.search == "grid":

        class AskAndTellGridSampler(optuna.samplers.GridSampler):
            """Optuna's grid, without its ``study.stop()`` once the grid is done: that ends an
            ``optimize`` loop, and refuses to run outside one (a sweep asks and tells, and stops
            after its ``trials`` variants by itself)."""

            def after_trial(self, study, trial, state, values) -> None:
                return None

        space = {setting.name: list(setting.values) for setting in experiment.settings}
        return AskAndTellGridSampler(space, seed=experiment.sampler_seed)
    if experiment.search == "random":
        return optuna.samplers.RandomSampler(seed=experiment.sampler_seed)
    return optuna.samplers.TPESampler(seed=experiment.sampler_seed)


def _pruner(optuna, experiment: Experiment):
    if experiment.pruning is None:
        return optuna.pruners.NopPruner()
    # the steps are epochs, counted from 1, and Optuna may prune from step n_warmup_steps on
    return optuna.pruners.MedianPruner(
        n_startup_trials=experiment.pruning.startup_trials, n_warmup_steps=experiment.pruning.warmup_epochs + 1
    )


def open_study(experiment: Experiment, folder: Path | None):
    """The experiment's study: in memory, or in ``folder``/study.db, created or taken up again."""
    from .experiment_file import ExperimentError

    optuna = require_extra()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = None
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        storage = f"sqlite:///{(folder / STUDY_FILE).resolve()}"
    study = optuna.create_study(
        study_name=experiment.name,
        storage=storage,
        sampler=_sampler(optuna, experiment),
        pruner=_pruner(optuna, experiment),
        direction=experiment.direction,
        load_if_exists=True,
    )
    names = {setting.name for setting in experiment.settings}
    varied = next((set(t.params) for t in study.get_trials(deepcopy=False) if set(t.params) != names), None)
    if varied is not None:
        raise ExperimentError(
            f"{folder}: its study {experiment.name!r} varies {', '.join(sorted(varied)) or 'nothing'}, the "
            f"experiment {', '.join(sorted(names))}: give the sweep another --out folder"
        )
    if study.direction.name.lower() != experiment.direction:
        raise ExperimentError(
            f"{folder}: its study {experiment.name!r} {study.direction.name.lower()}s, the experiment "
            f"{experiment.direction}s: give the sweep another --out folder"
        )
    return study


def suggest(trial, experiment: Experiment) -> dict:
    """The variant's changes, each setting asked of the trial (so the sampler chooses it)."""
    changes = {}
    for setting in experiment.settings:
        if setting.values is not None:
            changes[setting.name] = trial.suggest_categorical(setting.name, list(setting.values))
        elif setting.integer:
            step = int(setting.step or 1)
            changes[setting.name] = trial.suggest_int(
                setting.name, setting.low, setting.high, step=step, log=setting.log
            )
        else:
            changes[setting.name] = trial.suggest_float(
                setting.name, float(setting.low), float(setting.high), step=setting.step, log=setting.log
            )
    return changes


def interrupted_trials(study) -> list:
    """Trials a stopped sweep left running: the next sweep takes them up again, as they are."""
    optuna = require_extra()
    return [
        optuna.Trial(study, frozen._trial_id)
        for frozen in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,))
    ]


def finished_count(study) -> int:
    """Variants the study has done with: trained, pruned, diverged or refused."""
    optuna = require_extra()
    states = optuna.trial.TrialState
    return len(study.get_trials(deepcopy=False, states=(states.COMPLETE, states.PRUNED, states.FAIL)))


def kept_runs(trial) -> dict[int, dict]:
    """The outcomes (``RunOutcome.summary()``) a trial keeps, by seed."""
    attributes = trial.user_attrs
    return {int(key[len(RUN_ATTRIBUTE) :]): value for key, value in attributes.items() if key.startswith(RUN_ATTRIBUTE)}


__all__ = [
    "EXTRA_HINT",
    "MissingExtra",
    "RUN_ATTRIBUTE",
    "STUDY_FILE",
    "finished_count",
    "interrupted_trials",
    "kept_runs",
    "open_study",
    "require_extra",
    "suggest",
]
