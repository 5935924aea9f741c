"""The timeline's snapshot store: bounded in count and bytes, thinned evenly, the right snapshot
for a step; and the history cut at a step."""

from __future__ import annotations

import numpy as np

from playground.model.project import MetricHistory
from playground.runs.snapshots import SnapshotStore, WeightsAt, weights_bytes


def _weights(step: int, size: int = 100) -> WeightsAt:
    return WeightsAt({"dense1.W": np.full(size, float(step), np.float32)}, step)


def test_the_snapshot_for_a_step_is_the_newest_at_or_before_it():
    store = SnapshotStore()
    for step in (-1, 9, 19, 29):
        store.add(step, _weights(step))
    assert store.at(25)[0] == 19 and store.at(25)[1]["dense1.W"][0] == 19
    assert store.at(29)[0] == 29
    assert store.at(1000)[0] == 29
    assert store.at(-5)[0] == -1  # before the first: the first (the initial weights)


def test_the_count_stays_bounded_and_spread_over_the_whole_run():
    store = SnapshotStore(max_count=64)
    for step in range(100_000):
        store.add(step, _weights(step, 4))
        assert len(store) <= 64
    assert len(store) >= 32
    assert store.steps[0] == 0 and store.steps[-1] == 99_999
    gaps = np.diff(store.steps[:-1])
    assert gaps.max() <= 2 * gaps.min()  # evenly spread, not bunched at the end


def test_the_bytes_stay_bounded():
    one = weights_bytes(_weights(0, 250_000))  # 1 MB a snapshot
    store = SnapshotStore(max_count=10_000, max_bytes=20 * one)
    for step in range(500):
        store.add(step, _weights(step, 250_000))
        assert store.nbytes <= 20 * one
    assert store.nbytes == sum(weights_bytes(w) for w in store.snapshots)
    assert len(store) >= 10


def test_a_run_that_starts_again_from_zero_forgets_the_old_one():
    store = SnapshotStore()
    for step in (0, 10, 20):
        store.add(step, _weights(step))
    store.add(0, _weights(0))
    assert store.steps == [0]


def test_the_history_up_to_a_step():
    history = MetricHistory(["dense1"])
    steps = np.arange(100)
    history.append(steps, steps // 10, np.linspace(2, 0, 100), None, ["dense1"], np.zeros((100, 1, 4)))
    cut = history.up_to(41)
    assert cut.last_step == 41 and cut.steps[-1] == 41 and len(cut) == 42
    assert len(history) == 100  # the live one is untouched
