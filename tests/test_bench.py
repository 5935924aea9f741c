"""The benchmark's structure: contenders in processes of their own taking turns, the busy-machine flags,
the FLOP counts, and ``bench --json``'s fields.  Nothing here is timed against a target."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import pytest

from playground.bench.cnn import cnn_flops
from playground.bench.dense import dense_flops
from playground.bench.harness import REDO, Entry, comparison_entries, summarise, take_turns, under_load_result
from playground.bench.lstm import lstm_flops
from playground.bench.rbm import rbm_flops
from playground.bench.runner import UNDER_LOAD_ROUNDS, rounds_and_passes, under_load_lines
from playground.bench.workloads import BENCHMARKS
from playground.machine import BUSY_CORES, OtherLoad, is_busy


def fake_runner(other_cores_per_call, calls):
    """A stand-in for a contender's process: records the order of the calls, reports 1 s passes."""
    loads = iter(other_cores_per_call)

    def run(benchmark, entry, samples, passes):
        calls.append(entry.label)
        cores = next(loads, 0.0)
        return {
            "pid": len(calls),
            "threads": 1,
            "samples": samples,
            "seconds": [1.0] * passes,
            "other_cores": [cores] * passes,
        }

    return run


def test_no_contender_runs_in_the_process_of_another():
    benchmark = BENCHMARKS["mlp_nielsen"]
    entries = [Entry("engine"), Entry("numpy", 1), Entry("torch", 1)]
    reports = take_turns(benchmark, entries, samples=200, rounds=1, passes=1)
    pids = [report["pid"] for entry in entries for report in reports[entry]]
    assert len(pids) == len(set(pids)) == 3
    assert os.getpid() not in pids
    assert [reports[entry][0]["contender"] for entry in entries] == ["engine", "numpy", "torch"]
    assert reports[Entry("numpy", 1)][0]["threads"] == 1 and reports[Entry("torch", 1)][0]["threads"] == 1


def test_contenders_take_turns_each_once_a_round_in_rotated_order():
    calls = []
    entries = [Entry("engine"), Entry("numpy", 1), Entry("torch", 2)]
    take_turns(BENCHMARKS["rbm"], entries, 10, rounds=3, passes=2, run=fake_runner([], calls))
    assert calls == [
        "engine", "numpy@1", "torch@2",
        "numpy@1", "torch@2", "engine",
        "torch@2", "engine", "numpy@1",
    ]  # fmt: skip


def test_references_run_at_one_thread_and_at_every_core_the_engine_at_its_own():
    entries = comparison_entries(BENCHMARKS["deep_sigmoid"])
    labels = [entry.label for entry in entries]
    assert labels[0] == "engine" and labels[-1] == "engine-uninstrumented"
    counts = sorted({1, os.cpu_count()})
    assert [f"numpy@{count}" for count in counts] == [label for label in labels if label.startswith("numpy")]
    assert Entry("numpy", 2).environment()["OPENBLAS_NUM_THREADS"] == "2"
    assert Entry("engine", 1).environment() == {"NUMBA_NUM_THREADS": "1"}


def test_a_busy_process_is_run_again_and_flagged_if_still_busy():
    assert not is_busy(None) and not is_busy(BUSY_CORES) and is_busy(BUSY_CORES + 0.01)
    assert not is_busy(1.2, expected=1.0) and is_busy(1.5, expected=1.0)
    entries = [Entry("engine")]
    calls = []
    # busy, then quiet: run again once, and the quiet report is kept
    reports = take_turns(BENCHMARKS["rbm"], entries, 10, 1, 1, run=fake_runner([0.9, 0.0], calls))
    assert len(calls) == 2 and reports[entries[0]][0]["other_cores"] == [0.0]
    calls.clear()
    reports = take_turns(BENCHMARKS["rbm"], entries, 10, 1, 1, run=fake_runner([0.9] * 5, calls))
    assert len(calls) == REDO + 1
    assert summarise(entries[0], reports[entries[0]])["busy_passes"] == 1
    # a load the caller started (a busy loop on one core) is expected, not busy
    calls.clear()
    take_turns(BENCHMARKS["rbm"], entries, 10, 1, 1, expected_other_cores=1.0, run=fake_runner([1.1], calls))
    assert len(calls) == 1


def test_the_median_leaves_busy_passes_out_while_quiet_ones_exist():
    reports = [
        {"pid": 1, "threads": 2, "samples": 100, "seconds": [1.0, 0.5, 2.0], "other_cores": [0.0, 0.0, 1.0]},
        {"pid": 2, "threads": 2, "samples": 100, "seconds": [1.0, 4.0], "other_cores": [0.0, 1.0]},
    ]
    summary = summarise(Entry("numpy", 2), reports, flops=10**9)
    assert summary["samples_per_s"] == 100  # median of the quiet 100, 200, 100
    assert (summary["min"], summary["max"]) == (25, 200) and summary["busy_passes"] == 2
    assert summary["passes"] == 5 and summary["pids"] == [1, 2] and summary["gflops"] == 100


def processes_at(entry, process_rates):
    """The summary of one setting whose processes' passes ran at ``process_rates`` samples/s."""
    reports = [
        {"pid": pid, "threads": entry.threads or 2, "samples": 1000, "seconds": [1000 / rate for rate in rates]}
        | {"other_cores": [1.0] * len(rates)}
        for pid, rates in enumerate(process_rates)
    ]
    return summarise(entry, reports, expected_other_cores=1.0)


def under_load(own_processes, one_processes):
    own, one = processes_at(Entry("engine"), own_processes), processes_at(Entry("engine", 1), one_processes)
    return under_load_result(BENCHMARKS["rbm"], own, one, pinned=False)


def test_under_load_a_setting_misses_only_when_slower_in_every_process():
    # the same code at both settings: two processes apart by 4%, their passes by 1%, the others mixed
    within = under_load(
        [(23_300, 23_500), (23_800, 23_960), (24_700, 24_800)], [(24_560, 24_600), (24_780, 25_270), (23_900, 24_000)]
    )
    assert within["ratio_vs_one_thread"] == 0.97 and within["meets_target"]
    assert within["contenders"][0]["process_medians"] == [23_400, 23_880, 24_750]
    # slower in every process, however little
    beyond = under_load([(19_200, 19_300), (19_350, 19_400), (19_100, 19_500)], [(19_500, 19_600), (19_700, 19_800)])
    assert beyond["ratio_vs_one_thread"] == 0.98 and not beyond["meets_target"]
    assert beyond["separation_chance"] == 0.1  # one ordering of the 5 processes in C(5, 2) = 10
    # a collapse (parts waiting on the core the load holds)
    collapse = under_load([(9_000, 9_500), (10_000, 10_500)], [(19_500, 19_600), (19_700, 19_800)])
    assert not collapse["meets_target"]
    assert "MISSES" in under_load_lines(collapse)[0] and "meets" in under_load_lines(within)[0]
    assert "1 in 6" in under_load_lines(collapse)[0]


def test_under_load_takes_enough_rounds_for_its_verdict_to_mean_something():
    assert rounds_and_passes(quick=True, rounds=None, under_load=True) == (UNDER_LOAD_ROUNDS, 2)
    assert rounds_and_passes(quick=False, rounds=None) == (3, 3) and rounds_and_passes(True, 4, True) == (4, 2)
    assert 1 / math.comb(2 * UNDER_LOAD_ROUNDS, UNDER_LOAD_ROUNDS) < 0.01


def test_other_load_is_measured_without_this_process():
    load = OtherLoad()
    sum(i * i for i in range(2_000_000))  # this process's own work is not another's load
    cores = load.cores()
    assert cores is None or cores >= 0.0


def test_flop_counts_match_a_hand_count_for_small_shapes():
    # 3-2 dense: forward 6 multiply-adds, weight gradient 6, no delta for the input: 12 → 24 FLOPs;
    # 3-2-4: + forward 8, gradient 8, delta to the hidden layer 8 → (12 + 24) · 2 = 72
    assert dense_flops((3, 2)) == 24 and dense_flops((3, 2, 4)) == 72
    assert dense_flops((784, 30, 10)) == 2 * (2 * 784 * 30 + 3 * 30 * 10)
    # conv 6×6 image, 3×3 filters, 2 of them: 4·4·2·9 = 288 multiply-adds forward, 288 for their gradient;
    # pooled 2·2·2 = 8 features → 5 hidden → 3 classes: (40 + 15) · 3 = 165
    assert cnn_flops(side=6, kernel=3, filters=2, pool=2, hidden=5, classes=3) == 2 * (2 * 288 + 165)
    # one step, 2 inputs, 3 hidden, 4 classes: input 12·2 (×2), recurrent 12·3 (×3), head 4·3 (×3)
    assert lstm_flops(steps=1, features=2, hidden=3, classes=4) == 2 * (48 + 108 + 36)
    assert lstm_flops(steps=5, features=2, hidden=3, classes=4) == 5 * lstm_flops(1, 2, 3, 4)
    # CD-1 on 4 visible, 3 hidden: three products and two statistics of 12 multiply-adds
    assert rbm_flops(4, 3) == 2 * 5 * 12


@pytest.mark.slow
def test_bench_json_runs_the_one_workload_named_with_the_old_and_new_fields():
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "playground",
            "bench",
            "--workload",
            "mlp_nielsen",
            "--quick",
            "--rounds",
            "1",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["workload"] for line in lines] == ["machine", "mlp_nielsen"]
    machine, workload = lines
    assert {"cpu", "cores", "blas_architecture", "numpy", "numba", "torch", "peak"} <= machine.keys()
    old = {"engine_samples_per_s", "numpy_samples_per_s", "torch_samples_per_s", "ratio_vs_numpy", "ratio_vs_torch"}
    new = {
        "ratio_vs_best",
        "best_reference",
        "engine_gflops",
        "engine_peak_fraction",
        "engine_threads",
        "busy",
        "description",
    }
    assert old | new | {"target", "reference_threads", "contenders"} <= workload.keys()
    pids = [pid for contender in workload["contenders"] for pid in contender["pids"]]
    assert len(pids) == len(set(pids)) and result.args and os.getpid() not in pids
    assert workload["flops_per_sample"] == dense_flops((784, 30, 10))


def test_bench_names_the_workloads_when_asked_for_one_it_does_not_have():
    result = subprocess.run(
        [sys.executable, "-m", "playground", "bench", "--workload", "resnet"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "mlp_nielsen" in result.stderr and "lstm" in result.stderr
