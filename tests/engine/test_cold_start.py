"""A first run compiles what it needs, once: checked in a fresh process with an empty numba cache,
where every kernel a run calls is really compiled (and announced), not loaded."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from playground.bench.cold_start import own_kernels, redundant, twins

#: where ``python -m playground`` imports this checkout's package
PROJECT_ROOT = Path(__file__).resolve().parents[2]


def first_step_compilations(lesson: str, cache_dir, own: bool = True) -> dict[str, list[str]]:
    """The engine's kernels (or with ``own`` False, every function numba compiled, its own helpers
    included) a fresh process compiled to reach ``lesson``'s first step, with their signatures."""
    done = subprocess.run(
        [sys.executable, "-m", "playground.bench.cold_start", lesson],
        env={**os.environ, "NUMBA_CACHE_DIR": str(cache_dir)},
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    compiled = json.loads(done.stdout.strip().splitlines()[-1])["compiled"]
    if not own:
        return compiled
    return own_kernels(compiled, "playground.engine.")


def test_redundant_is_blind_to_exactly_the_differences_that_recompile():
    written = "readonly array(float32, 2d, C), uint64, Literal[bool](True)"
    assert redundant(written) == "array(float32, 2d, C), int64, bool"
    assert redundant("array(float32, 2d, C)") != redundant("array(float32, 2d, F)")
    assert redundant("array(uint64, 1d, C)") != redundant("array(int64, 1d, C)")
    pair = ["array(float32, 2d, C), uint64", "array(float32, 2d, C), int64"]
    assert twins({"k": pair}) == ["k"]
    assert twins({"k": pair[:1], "j": pair[1:]}) == []


def test_a_float32_dense_lesson_compiles_each_kernel_once_and_nothing_in_float64(tmp_path):
    everything = first_step_compilations("vanishing-gradients", tmp_path, own=False)
    compiled = own_kernels(everything, "playground.engine.")
    assert "playground.engine.dense_stack.train_dense_batches" in compiled
    # the typed-list builders are compiled once per item type (the list of weights, of biases ...)
    builders = {f"playground.engine.dense_stack.{name}" for name in ("_typed_list_of", "_typed_list_append")}
    assert all(len(signatures) == 1 for name, signatures in compiled.items() if name not in builders), compiled
    assert twins(compiled) == []
    # the run's figures (losses, norms) are float64 by design; its data and weights never are
    in_float64 = [name for name, signatures in compiled.items() if signatures[0].startswith("array(float64")]
    assert in_float64 == []
    # no slice assignment of an array: numba would compile its shape-mismatch message (1.5 s)
    assert [name for name in everything if "shape_context" in name] == []
    # and a second process finds everything in the cache: nothing is compiled afresh (numba's own
    # typed-list helpers, which it never caches, included)
    assert first_step_compilations("vanishing-gradients", tmp_path, own=False) == {}


@pytest.mark.slow
def test_a_recurrent_lesson_compiles_no_kernel_twice_for_the_same_arrays(tmp_path):
    compiled = first_step_compilations("translate-numbers", tmp_path)
    assert "playground.engine.recurrent.lstm_forward_part" in compiled
    assert twins(compiled) == []
