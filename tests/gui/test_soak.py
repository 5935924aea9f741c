"""``playground bench --soak``: the plumbing, on a session of a few seconds (the real soak is
ten minutes per lab, on a quiet machine; see the README)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from playground.gui.soak import MAX_GROWTH_MB, resident_mb


def test_resident_memory_is_read_and_follows_an_allocation():
    before = resident_mb()
    block = bytearray(64 * 1024**2)  # touched: zero-filled by the allocation
    block[::4096] = b"x" * len(block[::4096])
    assert 0 < before and resident_mb() - before > 32
    del block


def test_a_short_soak_of_one_lab_reports_its_memory_figures():
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run(
        [sys.executable, "-m", "playground", "bench", "--soak", "--minutes", "0.05", "--lab", "dashboard", "--json"],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
    )
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert len(lines) == 1, result.stdout + result.stderr
    figures = lines[0]
    assert figures["workload"] == "soak" and figures["lab"] == "dashboard" and figures["runs"] == 1
    assert figures["samples"] >= 10 and figures["rss_after_warmup_mb"] > 100
    assert figures["rss_max_mb"] >= max(figures["rss_end_mb"], figures["rss_after_warmup_mb"])
    assert abs(figures["growth_mb"] - (figures["rss_end_mb"] - figures["rss_after_warmup_mb"])) <= 0.11
    assert figures["passed"] == (figures["growth_mb"] <= MAX_GROWTH_MB)
    assert result.returncode == (0 if figures["passed"] else 1)
