"""Sweeps on a real Dask cluster: a scheduler and two worker processes on 127.0.0.1, started here."""

from __future__ import annotations

import os
import signal
from collections import Counter

import pytest

from playground.experiments import RunEpoch, Sweep, load_experiment

from .helpers import figures, write_experiment

distributed = pytest.importorskip("distributed", reason='the "experiments" extra is not installed')


@pytest.fixture(scope="module")
def cluster():
    """Two single-threaded worker processes, each run by a nanny that restarts it when it dies."""
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as local:
        yield local


def test_a_cluster_gives_the_figures_of_a_local_sweep(tmp_path, cluster):
    experiment = load_experiment(write_experiment(tmp_path))
    on_cluster = Sweep(experiment, cluster=cluster.scheduler_address, folder=tmp_path / "dask").run()
    local = Sweep(experiment, workers=2).run()
    assert len(on_cluster.rows) == 8 and figures(on_cluster) == figures(local)


def test_a_worker_killed_mid_trial_reruns_it_elsewhere_and_nothing_is_recorded_twice(tmp_path, cluster):
    path = write_experiment(tmp_path, fixed={"epochs": 150}, seeds=[0])
    experiment = load_experiment(path)
    watcher = distributed.Client(cluster.scheduler_address, set_as_default=False)
    epochs, killed = Counter(), []

    def kill_a_worker_mid_trial(event):
        if not isinstance(event, RunEpoch):
            return
        epochs[event.key, event.record["epoch"]] += 1
        if killed or event.record["epoch"] != 2:
            return
        pids = watcher.run(os.getpid)
        for address, keys in watcher.processing().items():
            if event.key in keys:
                os.kill(pids[address], signal.SIGKILL)
                killed.append(event.key)

    try:
        result = Sweep(
            experiment, cluster=cluster.scheduler_address, folder=tmp_path / "out", on_event=kill_a_worker_mid_trial
        ).run()
    finally:
        watcher.close()
    assert killed, "no run was still training when its epochs arrived"
    assert epochs[killed[0], 1] == 2  # it trained again from the start, elsewhere
    assert len(result.rows) == 4 and len({row["trial"] for row in result.rows}) == 4
    assert all(row["status"] == "completed" and row["epochs"] == 150 for row in result.rows)
    for row in result.rows:
        lines = (tmp_path / "out" / row["metrics"]).read_text().count('"kind": "epoch"')
        assert lines == 150  # each epoch once, even for the run that was trained twice
    assert figures(result) == figures(Sweep(experiment, workers=2).run())


@pytest.mark.parametrize(
    "address, words", [("nonsense", "not a scheduler's address"), ("tcp://127.0.0.1:9", "no Dask scheduler answers")]
)
def test_a_cluster_that_is_not_there_is_one_line_and_leaves_nothing(tmp_path, monkeypatch, address, words):
    from playground.experiments import ExperimentError, cluster

    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT_S", 1)
    with pytest.raises(ExperimentError, match=words):
        Sweep(load_experiment(write_experiment(tmp_path)), cluster=address, folder=tmp_path / "out").run()
    assert not (tmp_path / "out").exists()
