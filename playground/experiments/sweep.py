"""A sweep: the experiment's variants trained side by side, on this machine's cores or on a Dask cluster.

``Sweep(experiment, ...).run()`` asks the study for variants (``search``), hands one run per
variant and seed to an executor, answers each run's epochs (go on, or pruned), records each
outcome as it arrives, and tells the study each variant's value once all its seeds are in.
Everything that touches the study happens on the thread that called ``run``; the runs only
report (``trial.Reporter``), so the executor can be threads of this process
(``LocalExecutor``) or the workers of a cluster (``cluster.DaskExecutor``) alike.

What one listens to (``on_event``, called on the sweep's thread): ``RunBegan``, ``RunProgress``,
``RunEpoch`` (an epoch's figures: live curves), ``RunEnded`` (a recorded outcome) and
``VariantRefused``.  ``stop()``, from any thread, stops the runs between mini-batches and ends
``run``; a sweep run again on the same folder goes on from there.

Sharing the cores.  Locally, N workers run N trials together, each engine held to
cores / N numba threads (numba's setting is per thread) and numpy's BLAS to as many
(threadpoolctl), so N trials use the cores once, not N times over; the engine's kernels
release the GIL, which lets threads do it without a process per trial.
"""

from __future__ import annotations

import json
import math
import os
import queue
import secrets
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..files import atomic_write_text
from ..model import save_spec, save_weights
from .experiment_file import Experiment, ExperimentError
from .search import RUN_ATTRIBUTE, finished_count, interrupted_trials, kept_runs, open_study, require_extra, suggest
from .summary import SweepResult, summarise, write_summary
from .trial import VERDICT_TIMEOUT_S, RunOutcome, RunTask, run_task

#: where a sweep's folder keeps each run's metrics and each variant's network
RUNS_FOLDER, NETWORKS_FOLDER, WEIGHTS_FOLDER = "runs", "networks", "weights"


# --- what a sweep tells its listener ------------------------------------------------------------
@dataclass
class RunBegan:
    task: RunTask


@dataclass
class RunProgress:
    key: str
    done: int
    total: int
    text: str


@dataclass
class RunEpoch:
    """Run ``key`` (variant ``trial``, ``seed``) finished an epoch with figures ``record``."""

    key: str
    trial: int
    label: str
    seed: int
    record: dict


@dataclass
class RunEnded:
    outcome: RunOutcome


@dataclass
class VariantRefused:
    """A sampled variant that cannot be made (a combination of values the network refuses)."""

    trial: int
    label: str
    message: str


# --- the local executor ---------------------------------------------------------------------------
class _LocalReporter:
    """A run's reporter on a thread of this process: messages into the sweep's inbox, verdicts
    back through one queue per run."""

    def __init__(self, executor: LocalExecutor, key: str):
        self.executor, self.verdicts = executor, queue.Queue()
        executor.verdicts[key] = self.verdicts

    def progress(self, key, done, total, text) -> bool:
        self.executor.inbox.put(("progress", key, (done, total, text)))
        return self.executor.stopping.is_set()

    def epoch(self, key, record) -> bool:
        self.executor.inbox.put(("epoch", key, record))
        if not self.executor.wait_for_verdicts:
            return False
        try:
            return self.verdicts.get(timeout=VERDICT_TIMEOUT_S)
        except queue.Empty:
            return False


class LocalExecutor:
    """Runs on ``workers`` threads of this process, each engine held to cores / workers threads."""

    def __init__(self, workers: int, wait_for_verdicts: bool):
        self.workers = workers
        self.engine_threads = max(1, (os.cpu_count() or 1) // workers)
        self.wait_for_verdicts = wait_for_verdicts
        self.inbox: queue.Queue = queue.Queue()
        self.verdicts: dict[str, queue.Queue] = {}
        self.stopping = threading.Event()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sweep")
        from threadpoolctl import threadpool_limits

        self._blas = threadpool_limits(limits=self.engine_threads, user_api="blas")

    def describe(self) -> str:
        return f"{self.workers} worker thread(s) here, {self.engine_threads} engine thread(s) each"

    def submit(self, task: RunTask, direction: str):
        task = replace(task, engine_threads=self.engine_threads)
        future = self._pool.submit(run_task, task, _LocalReporter(self, task.key), direction)
        future.add_done_callback(lambda _: self.inbox.put(("done", task.key, None)))  # wakes ``messages``
        return future

    def messages(self, timeout: float) -> list:
        try:
            out = [self.inbox.get(timeout=timeout)]
        except queue.Empty:
            return []
        while not self.inbox.empty():
            out.append(self.inbox.get_nowait())
        return out

    def result(self, future) -> RunOutcome:
        return future.result()

    def verdict(self, key: str, epoch: int, prune: bool) -> None:
        if key in self.verdicts:
            self.verdicts[key].put(prune)

    def forget(self, key: str) -> None:
        self.verdicts.pop(key, None)

    def stop(self) -> None:
        self.stopping.set()

    def close(self) -> None:
        self.stopping.set()
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._blas.restore_original_limits()


# --- the sweep ------------------------------------------------------------------------------------
@dataclass
class _Variant:
    """A variant being trained: its study trial, its changes, the seeds still running, whether it was pruned."""

    trial: object
    changes: dict
    label: str
    waiting: set = field(default_factory=set)
    pruned: bool = False
    reported: set = field(default_factory=set)


class Sweep:
    """One sweep of ``experiment``.  ``folder``: where the study, the metrics and the summary are
    kept (None: the study in memory and nothing written).  ``workers``: runs at once (default: the
    cores here, or the cluster's worker threads).  ``cluster``: a Dask scheduler's address.
    ``keep_weights``: each run hands back its trained weights (``RunEnded.outcome.weights``), and
    the folder keeps them as ``weights/trial-NNNN-seed-S.npz``, which load onto the variant's network."""

    def __init__(
        self,
        experiment: Experiment,
        *,
        workers: int | None = None,
        cluster: str | None = None,
        folder: Path | None = None,
        data_dir: Path | None = None,
        keep_weights: bool = False,
        on_event=None,
    ):
        self.experiment = experiment
        self.folder = None if folder is None else Path(folder)
        self.data_dir = None if data_dir is None else str(Path(data_dir).resolve())
        self.cluster = cluster
        self.workers = workers
        self.keep_weights = keep_weights
        self.on_event = on_event or (lambda event: None)
        self.total_runs = experiment.trials * len(experiment.seeds)
        self.runs_done = 0
        self.executor = None
        self.study = None
        self._stop = threading.Event()
        self._token = secrets.token_hex(4)

    def stop(self) -> None:
        """Stop the runs between mini-batches and end ``run`` (from any thread)."""
        self._stop.set()
        if self.executor is not None:
            self.executor.stop()

    def _open_executor(self):
        wait = self.experiment.pruning is not None
        if self.cluster:
            from .cluster import DaskExecutor

            return DaskExecutor(self.cluster, self.workers, wait, f"playground-{self._token}")
        return LocalExecutor(self.workers or os.cpu_count() or 1, wait)

    def run(self) -> SweepResult:
        """Train the variants the study has not finished; the summary of all it has (``SweepResult``)."""
        require_extra()
        experiment = self.experiment
        self.executor = self._open_executor()  # first: a cluster that does not answer leaves no folder behind
        try:
            study = self.study = open_study(experiment, self.folder)
            self.runs_done = sum(len(kept_runs(t)) for t in study.get_trials(deepcopy=False))
            if self._stop.is_set():
                self.executor.stop()
            self._drive(study)
        finally:
            self.executor.close()
        result = summarise(experiment, study, self.folder, stopped=self._stop.is_set())
        if self.folder is not None:
            write_summary(result, self.folder)
        return result

    def _task(self, variant: _Variant, seed: int) -> RunTask:
        number = variant.trial.number
        return RunTask(
            key=f"{self._token}-t{number}-s{seed}",
            trial=number,
            label=variant.label,
            changes=variant.changes,
            seed=seed,
            network=self.experiment.base_network,
            metric=self.experiment.metric,
            data_dir=self.data_dir,
            keep_weights=self.keep_weights,
        )

    def _take_up(self, trial, changes: dict) -> tuple[_Variant | None, list[RunTask]]:
        """A variant to train (None if it cannot be made) and its runs for the seeds it has not kept."""
        from .experiment_file import variant_label

        label = variant_label(changes)
        try:
            spec = self.experiment.variant(changes)
        except ExperimentError as error:
            self.study.tell(trial, state=require_extra().trial.TrialState.FAIL)
            self.on_event(VariantRefused(trial.number, label, str(error)))
            return None, []
        if self.folder is not None:
            save_spec(spec, self.folder / NETWORKS_FOLDER / f"trial-{trial.number:04d}.json")
        variant = _Variant(trial, changes, label)
        kept = kept_runs(trial)
        tasks = [self._task(variant, seed) for seed in self.experiment.seeds if seed not in kept]
        variant.waiting = {task.key for task in tasks}
        return variant, tasks

    def _drive(self, study) -> None:
        experiment, executor = self.experiment, self.executor
        names = [setting.name for setting in experiment.settings]
        backlog: list[tuple[object, dict]] = [
            (trial, {name: trial.params[name] for name in names}) for trial in interrupted_trials(study)
        ]
        asked = finished_count(study) + len(backlog)
        tasks: list[RunTask] = []
        futures: dict[str, object] = {}
        by_key: dict[str, _Variant] = {}
        while not self._stop.is_set():
            while len(futures) < executor.workers and not self._stop.is_set():
                if tasks:
                    task = tasks.pop(0)
                    futures[task.key] = executor.submit(task, experiment.direction)
                    self.on_event(RunBegan(task))
                    continue
                if backlog:
                    trial, changes = backlog.pop(0)
                elif asked < experiment.trials:
                    trial = study.ask()
                    asked += 1
                    changes = suggest(trial, experiment)
                else:
                    break
                variant, new_tasks = self._take_up(trial, changes)
                if variant is None:
                    continue
                by_key.update((task.key, variant) for task in new_tasks)
                tasks.extend(new_tasks)
                if not new_tasks:  # every seed was kept before the sweep stopped: only the telling is left
                    self._tell(variant)
            if not futures and not tasks:
                break
            for kind, key, payload in executor.messages(timeout=0.1):
                if key in by_key:
                    self._message(kind, key, payload, by_key[key])
            for key in [key for key, future in futures.items() if future.done()]:
                outcome = executor.result(futures.pop(key))
                executor.forget(key)
                self._ended(outcome, by_key.pop(key))

    def _message(self, kind: str, key: str, payload, variant: _Variant) -> None:
        if kind == "done":
            return  # the future says what it gave
        if kind == "progress":
            self.on_event(RunProgress(key, *payload))
            return
        seed = int(key.rpartition("-s")[2])
        self.on_event(RunEpoch(key, variant.trial.number, variant.label, seed, payload))
        if self.experiment.pruning is None:
            return
        epoch, value = payload["epoch"], payload.get(self.experiment.metric)
        if seed == self.experiment.seeds[0] and epoch not in variant.reported and _finite(value):
            variant.reported.add(epoch)  # a run a lost worker repeats reports its epochs again
            variant.trial.report(float(value), epoch)
            variant.pruned = variant.pruned or variant.trial.should_prune()
        self.executor.verdict(key, epoch, variant.pruned)

    def _ended(self, outcome: RunOutcome, variant: _Variant) -> None:
        if outcome.status == "stopped":
            return  # the sweep is stopping: the variant stays running in the study, to be taken up again
        if outcome.status == "failed":
            self.stop()
            where = f'{self.experiment.source}: variant "{outcome.label}" (seed {outcome.seed})'
            raise ExperimentError(f"{where} cannot train: {outcome.message}")
        kept = outcome.summary()
        if self.folder is not None:
            path = self.folder / RUNS_FOLDER / f"trial-{outcome.trial:04d}-seed-{outcome.seed}.jsonl"
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(path, "".join(json.dumps(record) + "\n" for record in outcome.records()))
            kept["metrics"] = str(path.relative_to(self.folder))
            kept["network"] = f"{NETWORKS_FOLDER}/trial-{outcome.trial:04d}.json"
            if outcome.weights is not None:
                kept["weights"] = f"{WEIGHTS_FOLDER}/trial-{outcome.trial:04d}-seed-{outcome.seed}.npz"
                save_weights(self.folder / kept["weights"], outcome.weights)
        variant.trial.set_user_attr(f"{RUN_ATTRIBUTE}{outcome.seed}", kept)
        variant.waiting.discard(outcome.key)
        self.runs_done += 1
        self.on_event(RunEnded(outcome))
        if not variant.waiting:
            self._tell(variant)

    def _tell(self, variant: _Variant) -> None:
        """Tell the study what the variant gave, once every seed is in: its mean value, pruned, or
        FAIL for a variant whose loss exploded (so no search aims there)."""
        states = require_extra().trial.TrialState
        runs = kept_runs(variant.trial).values()
        if any(run["status"] == "diverged" for run in runs):
            self.study.tell(variant.trial, state=states.FAIL)
        elif variant.pruned or any(run["status"] == "pruned" for run in runs):
            self.study.tell(variant.trial, state=states.PRUNED)
        else:
            self.study.tell(variant.trial, sum(run["value"] for run in runs) / len(runs))


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


__all__ = [
    "LocalExecutor",
    "RunBegan",
    "RunEnded",
    "RunEpoch",
    "RunProgress",
    "Sweep",
    "VariantRefused",
]
