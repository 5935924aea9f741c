"""Fixtures the engine's tests share."""

from __future__ import annotations

import pytest

from playground.engine import background


@pytest.fixture(params=["kernel", "twin"])
def fused_way(request, monkeypatch):
    """Which way a fused runner trains: its compiled kernel, or the kernel's Python twin, which a
    run uses until the kernel is compiled (engine/background.py).  Both must pass every test."""
    monkeypatch.setattr(background.compiles, "ready", lambda kernel, make_job: request.param == "kernel")
    return request.param
