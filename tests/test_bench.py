"""The benchmark's comparison: rates and ratios from interleaved passes (timed runs that sleep)."""

from __future__ import annotations

import time

import pytest

from playground.bench import compare_with_references


def sleeper(seconds, calls):
    def run():
        calls.append(seconds)
        time.sleep(seconds)

    return run


@pytest.mark.parametrize("best_threads", [False, True])
def test_rates_and_ratios_come_from_the_median_pass_of_each_contender(best_threads):
    calls = []
    result = compare_with_references(
        "sleepers",
        "≥ 1×",
        100,
        3,
        sleeper(0.01, calls),
        lambda: sleeper(0.02, calls),
        lambda: sleeper(0.04, calls),
        best_threads=best_threads,
    )
    assert result["engine_samples_per_s"] == pytest.approx(100 / 0.01, rel=0.3)
    assert result["ratio_vs_numpy"] == pytest.approx(2.0, rel=0.3)
    if result["torch_samples_per_s"] is not None:
        assert result["ratio_vs_torch"] == pytest.approx(4.0, rel=0.3)
    # the contenders take turns: the engine never runs twice in a row after the thread settings are picked
    rounds = calls[-3 * 4 :] if result["torch_samples_per_s"] is not None else calls[-2 * 4 :]
    engine_passes = [k for k, seconds in enumerate(rounds) if seconds == 0.01]
    assert len(engine_passes) == 4 and all(b - a > 1 for a, b in zip(engine_passes, engine_passes[1:]))
    assert ("reference_threads" in result) == best_threads
