"""Runs on an existing Dask cluster (``--cluster tcp://HOST:PORT``): the sweep is a Dask client.

Nothing here schedules: each run is one ``Client.submit`` of ``trial.run_task`` with a key of
its own, and Dask's scheduler places it.  When a worker is lost mid-run the scheduler runs the
task again elsewhere; its outcome still arrives once, through its future, and the sweep records
outcomes only from futures, so nothing is recorded twice (the repeated run's epochs are reported
again, and the sweep ignores an epoch it already gave the pruner).  Runs report through a Dask
``Queue`` and read their verdicts from one ``Variable`` per run; ``stop`` sets a Dask ``Event``
that every run looks at with its progress.

Same seeds give the same figures as a local sweep: the task is plain data and the worker makes
the variant and trains it with the same code, each engine held to its worker's share of the
cores (cores / the worker's threads).  The workers need the playground installed, the same
version, and the data folder (``--data-dir``) at the same path.
"""

from __future__ import annotations

import os
import time
from dataclasses import replace

from .experiment_file import ExperimentError
from .search import require_extra
from .trial import PROGRESS_INTERVAL_S, VERDICT_TIMEOUT_S, RunOutcome, RunTask, run_task

#: how long the sweep waits for the scheduler to answer when it connects
CONNECT_TIMEOUT_S = 10


class _DaskReporter:
    """A run's reporter on a Dask worker: messages into the sweep's Dask queue, verdicts from a
    Dask variable the sweep sets after each epoch, the stop flag from a Dask event.  Pickled to the
    worker; the Dask objects are made there, on first use."""

    def __init__(self, name: str, wait_for_verdicts: bool):
        self.name, self.wait_for_verdicts = name, wait_for_verdicts
        self._queue = self._stop = None
        self._last_progress = 0.0

    def __getstate__(self):
        return {"name": self.name, "wait_for_verdicts": self.wait_for_verdicts}

    def __setstate__(self, state):
        self.__init__(state["name"], state["wait_for_verdicts"])

    def _put(self, message) -> None:
        import distributed

        if self._queue is None:
            self._queue = distributed.Queue(self.name)
            self._stop = distributed.Event(f"{self.name}-stop")
        self._queue.put(message)

    def progress(self, key, done, total, text) -> bool:
        now = time.monotonic()
        if now - self._last_progress < PROGRESS_INTERVAL_S and done < total:
            return False
        self._last_progress = now
        self._put(("progress", key, (done, total, text)))
        return self._stop.is_set()

    def epoch(self, key, record) -> bool:
        import distributed

        self._put(("epoch", key, record))
        if not self.wait_for_verdicts:
            return False
        verdicts = distributed.Variable(f"{self.name}-{key}")
        deadline = time.monotonic() + VERDICT_TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                epoch, prune = verdicts.get(timeout=max(0.1, deadline - time.monotonic()))
            except TimeoutError:
                break
            if epoch >= record["epoch"]:
                return bool(prune)
            time.sleep(0.05)
        return False


def _run_on_worker(task: RunTask, reporter: _DaskReporter, direction: str) -> RunOutcome:
    """``run_task`` on a Dask worker, its engine held to the worker's share of the machine's cores."""
    import distributed
    from threadpoolctl import threadpool_limits

    threads = max(1, (os.cpu_count() or 1) // max(1, distributed.get_worker().state.nthreads))
    with threadpool_limits(limits=threads, user_api="blas"):
        return run_task(replace(task, engine_threads=threads), reporter, direction)


class DaskExecutor:
    """Runs on the Dask cluster whose scheduler is at ``address``; ``workers`` runs at once
    (default: every worker thread of the cluster)."""

    def __init__(self, address: str, workers: int | None, wait_for_verdicts: bool, name: str):
        distributed = require_extra("distributed")
        from distributed.comm import parse_address, parse_host_port

        self._distributed = distributed
        try:
            parse_host_port(parse_address(address)[1])
        except ValueError as error:  # refused here: a Client made of a bad address complains again as it is collected
            raise ExperimentError(
                f"--cluster {address}: not a scheduler's address like tcp://HOST:8786 ({error})"
            ) from None
        try:
            self.client = distributed.Client(address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
        except (OSError, TimeoutError) as error:
            raise ExperimentError(f"--cluster {address}: no Dask scheduler answers there ({error})") from None
        self.workers = workers or max(1, sum(self.client.nthreads().values()))
        self.name, self.wait_for_verdicts = name, wait_for_verdicts
        self._queue = distributed.Queue(name, client=self.client)
        self._stop = distributed.Event(f"{name}-stop", client=self.client)
        self._futures: list = []

    def describe(self) -> str:
        return f"the Dask cluster at {self.client.scheduler.address}, {self.workers} runs at once"

    def submit(self, task: RunTask, direction: str):
        future = self.client.submit(
            _run_on_worker, task, _DaskReporter(self.name, self.wait_for_verdicts), direction, key=task.key, pure=False
        )
        self._futures.append(future)
        return future

    def messages(self, timeout: float) -> list:
        items = self._queue.get(batch=True)
        if not items:
            time.sleep(timeout)
        return [tuple(item) for item in items]

    def result(self, future) -> RunOutcome:
        try:
            return future.result()
        except Exception as error:  # the cluster gave up on the run (its workers kept dying), or it broke there
            reason = f"{error.__class__.__name__}: {error}"
            raise ExperimentError(f"the cluster could not run {future.key}: {reason}") from None

    def verdict(self, key: str, epoch: int, prune: bool) -> None:
        self._distributed.Variable(f"{self.name}-{key}", client=self.client).set((epoch, prune))

    def forget(self, key: str) -> None:
        if self.wait_for_verdicts:
            self._distributed.Variable(f"{self.name}-{key}", client=self.client).delete()

    def stop(self) -> None:
        self._stop.set()

    def close(self) -> None:
        self._stop.set()
        self.client.cancel([future for future in self._futures if not future.done()])
        self.client.close()


__all__ = ["DaskExecutor"]
