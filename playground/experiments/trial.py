"""One training run of an experiment, wherever it runs: a variant of the base network with one seed.

``run_task`` is all a worker needs, a thread of this process or a Dask worker on another
machine: the task is plain data (the base network as a network file's object, the changes,
the seed, the data folder), so it pickles, and the variant is made there with
``model.variants.apply_changes`` and trained through the family registry exactly as
``playground train`` trains it.  Same network, same seed: the same figures, wherever.

While it trains it tells a ``Reporter`` how far it is and what each epoch gave; the reporter
answers, after an epoch, whether the run should stop (pruned).  What the run records comes
back in the outcome, never written by the worker, so a run that a lost worker repeats
elsewhere is recorded once, by whoever collects its outcome.
"""

from __future__ import annotations

import contextlib
import copy
import math
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from typing import Protocol

#: how a run ended: trained all its epochs, stopped early as hopeless, its loss exploded, it could
#: not run at all (its data does not fit the network, say), or the sweep was stopped under it
OUTCOMES = ("completed", "pruned", "diverged", "failed", "stopped")
#: a run waits this long for the sweep's answer after an epoch, then goes on (the sweep is gone)
VERDICT_TIMEOUT_S = 60.0
#: a run on a cluster reports its progress at most this often (each report crosses the network)
PROGRESS_INTERVAL_S = 0.25
#: the data sets a process keeps for its next runs (a sweep's variants mostly share one)
DATA_SETS_KEPT = 2

_kept_data: list[tuple[tuple, object]] = []
_kept_data_lock = threading.Lock()


def shared_run_data(spec, options):
    """``load_run_data`` that keeps the last data sets loaded for this process's next runs.  A
    sweep's variants train on the same data, and reading MNIST again was a third of a short run,
    time in which the other worker could not use the GIL either.  Runs only read their data (the
    trainers copy what they train on, as with the window's data store, which shares it too)."""
    from ..training.data import load_run_data

    key = (spec.dataset, spec.training.seed, spec.training.train_limit, str(options.data_dir), str(options.data_file))
    with _kept_data_lock:
        for kept_key, value in _kept_data:
            if kept_key == key:
                return value
    value = load_run_data(spec, options)
    with _kept_data_lock:
        _kept_data.append((key, value))
        del _kept_data[:-DATA_SETS_KEPT]
    return value


@dataclass(frozen=True)
class RunTask:
    """A variant with one seed, as plain data.  ``key`` is unique within a sweep; ``trial`` is the
    variant's number in the study; ``engine_threads``: the threads the engine may use for this
    run (None: as many as it likes)."""

    key: str
    trial: int
    label: str
    changes: dict
    seed: int
    network: dict
    metric: str
    data_dir: str | None = None
    engine_threads: int | None = None
    #: hand back the trained weights (``RunOutcome.weights``)
    keep_weights: bool = False


@dataclass
class RunOutcome:
    """What a run gave: how it ended, the metric after the last epoch (``value``; None when it
    diverged or failed) and at its best epoch, the last epoch's figures, its time, and the trainer's
    events, from which ``records`` gives what a metrics file keeps of the run."""

    key: str
    trial: int
    label: str
    changes: dict
    seed: int
    status: str
    message: str = ""
    value: float | None = None
    best: float | None = None
    best_epoch: int = 0
    epochs_done: int = 0
    final: dict = field(default_factory=dict)
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    #: the trainer's events as they came (their arrays, not yet a dict per step: building those
    #: took an eighth of a short run's time, under the GIL its neighbours in a sweep wait for)
    events: list = field(default_factory=list)
    #: the trained weights, ``"<layer_id>.<param>"`` → array as in a weights file, when the task asked
    #: (a run that diverged keeps its last good ones)
    weights: dict | None = None

    def summary(self) -> dict:
        """The outcome without its events and weights: what the study keeps of the run.  Built field
        by field, not by ``asdict`` of the whole, which deep-copied every per-step record first: 0.16 s
        of the sweep's GIL per run, as long as training one (measured in ``bench --sweep``)."""
        return {
            item.name: copy.deepcopy(getattr(self, item.name))
            for item in fields(self)
            if item.name not in ("events", "weights")
        }

    def records(self) -> Iterator[dict]:
        """Every record a metrics file keeps of the run, as ``playground train --metrics-out`` writes them."""
        for event in self.events:
            yield from event.records()


class Reporter(Protocol):
    """Who hears of a run while it trains."""

    def progress(self, key: str, done: int, total: int, text: str) -> bool:
        """``done`` of ``total`` mini-batches of run ``key`` are trained; True asks it to stop now
        (the sweep is being stopped)."""

    def epoch(self, key: str, record: dict) -> bool:
        """Run ``key`` finished an epoch with figures ``record``; True asks it to stop (pruned)."""


@contextlib.contextmanager
def engine_threads(count: int | None):
    """The engine's numba threads on this thread limited to ``count`` while the run trains
    (numba's setting is per thread, so runs side by side each keep their own)."""
    if count is None:
        yield
        return
    import numba

    before = numba.get_num_threads()
    numba.set_num_threads(max(1, min(count, numba.config.NUMBA_NUM_THREADS)))
    try:
        yield
    finally:
        numba.set_num_threads(before)


def better(value: float, than: float | None, direction: str) -> bool:
    return than is None or (value > than if direction == "maximize" else value < than)


def run_task(task: RunTask, reporter: Reporter, direction: str = "minimize") -> RunOutcome:
    """Train ``task``'s variant to its end (or until ``reporter`` prunes it) and return its outcome.
    A run that cannot train comes back ``failed`` with the one-line reason, never as an exception."""
    from ..model import spec_from_dict
    from ..model.variants import apply_changes
    from ..training import ChunkEvent, EpochEvent, Finished
    from ..training.families import RunOptions, family_of

    outcome = RunOutcome(task.key, task.trial, task.label, dict(task.changes), task.seed, "failed")
    started = time.perf_counter()
    try:
        with engine_threads(task.engine_threads):
            spec = apply_changes(spec_from_dict(task.network), {**task.changes, "seed": task.seed}, task.label)
            options = RunOptions(data_dir=task.data_dir, compare=False, load_data=shared_run_data)
            run = family_of(spec).start(spec, options)
            outcome.notes = list(run.notes)
            total = (run.steps_per_epoch or 0) * run.epochs
            pruned = False
            for event in run.trainer.run():
                if isinstance(event, (ChunkEvent, EpochEvent)):  # the ones with records
                    outcome.events.append(event)
                if isinstance(event, ChunkEvent):
                    text = f"epoch {event.epoch}/{run.epochs}  loss {event.losses[-1]:.4f}"
                    if reporter.progress(task.key, event.first_step + event.steps, total, text):
                        run.trainer.control.stop()
                elif isinstance(event, EpochEvent):
                    record = event.record()
                    if task.metric not in record:
                        reported = ", ".join(key for key in record if key not in ("kind", "epoch", "step"))
                        outcome.message = f'its epochs report no "{task.metric}" (they report {reported})'
                        run.trainer.control.stop()
                        continue
                    outcome.epochs_done, outcome.final = record["epoch"], record
                    value = float(record[task.metric])
                    if math.isfinite(value) and better(value, outcome.best, direction):
                        outcome.best, outcome.best_epoch = value, record["epoch"]
                    if reporter.epoch(task.key, record) and not pruned:
                        pruned = True
                        run.trainer.control.stop()
                elif isinstance(event, Finished):
                    if outcome.message:
                        break
                    outcome.status = "pruned" if pruned and event.reason == "stopped" else event.reason
                    if event.reason == "diverged":
                        outcome.message = event.message
                    elif outcome.final:
                        outcome.value = float(outcome.final[task.metric])
            if task.keep_weights and outcome.status != "failed":
                outcome.weights = run.model.state()
    except Exception as error:  # a run that cannot train says why, in one line, to whoever collects it
        outcome.status, outcome.message = "failed", _one_line(error)
    outcome.seconds = time.perf_counter() - started
    return outcome


def _one_line(error: Exception) -> str:
    from ..model import NetworkFileError

    text = str(error).splitlines()[0] if str(error) else error.__class__.__name__
    return text if isinstance(error, (NetworkFileError, ValueError, OSError)) else f"{error.__class__.__name__}: {text}"


__all__ = [
    "OUTCOMES",
    "PROGRESS_INTERVAL_S",
    "VERDICT_TIMEOUT_S",
    "Reporter",
    "RunOutcome",
    "RunTask",
    "better",
    "engine_threads",
    "run_task",
]
