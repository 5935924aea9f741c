"""Experiments: many variants of one network trained side by side, chosen by a search. No Qt.

An experiment file (``experiment_file``) names a base network, the settings that vary, the
seeds to repeat and the metric to optimise; a sweep (``sweep``) trains its variants on this
machine's cores or on a Dask cluster (``cluster``), Optuna choosing and pruning them
(``search``); each run is ``trial.run_task``, the same training ``playground train`` does;
``summary`` tabulates what they gave.  Optuna and Dask are the optional extra
``experiments``: importing this package needs neither, running a sweep says in one line
(``MissingExtra``) which extra to install.

The API the command line and the window use::

    experiment = load_experiment("grid.json")          # or experiment_from_dict(data, source, folder)
    sweep = Sweep(experiment, workers=2, folder=Path("grid-results"), data_dir=None,
                  keep_weights=True, on_event=print)      # folder=None: the study in memory
    result = sweep.run()                               # blocks; sweep.stop() from another thread
    result.rows                                        # one dict per run (variant × seed)
    result.best(3)                                     # VariantSummary, best first
    sweep.runs_done, sweep.total_runs                  # the overall progress

``on_event`` hears ``RunBegan(task)``, ``RunProgress(key, done, total, text)``,
``RunEpoch(key, trial, label, seed, record)``, ``RunEnded(outcome)`` and
``VariantRefused(trial, label, message)``, on the thread that called ``run``; with
``keep_weights`` a ``RunEnded``'s ``outcome.weights`` are the run's trained weights (and the
folder's ``weights/`` keeps them; a row's ``"weights"`` names the file).  A sweep run
again on the same folder goes on where it stopped.  ``experiment.variant(changes)`` is the
variant's network (``model.variants.apply_changes``), ``experiment.grid()`` a grid's changes.
"""

from .experiment_file import (
    FORMAT,
    FORMAT_VERSION,
    METRICS,
    SEARCHES,
    Experiment,
    ExperimentError,
    Pruning,
    Setting,
    experiment_from_dict,
    load_experiment,
    variant_label,
)
from .search import EXTRA_HINT, MissingExtra, require_extra
from .summary import SUMMARY_CSV, SUMMARY_JSON, SweepResult, VariantSummary
from .sweep import RunBegan, RunEnded, RunEpoch, RunProgress, Sweep, VariantRefused
from .trial import OUTCOMES, RunOutcome, RunTask, run_task

__all__ = [
    "EXTRA_HINT",
    "FORMAT",
    "FORMAT_VERSION",
    "METRICS",
    "OUTCOMES",
    "SEARCHES",
    "SUMMARY_CSV",
    "SUMMARY_JSON",
    "Experiment",
    "ExperimentError",
    "MissingExtra",
    "Pruning",
    "RunBegan",
    "RunEnded",
    "RunEpoch",
    "RunOutcome",
    "RunProgress",
    "RunTask",
    "Setting",
    "Sweep",
    "SweepResult",
    "VariantRefused",
    "VariantSummary",
    "experiment_from_dict",
    "load_experiment",
    "require_extra",
    "run_task",
    "variant_label",
]
