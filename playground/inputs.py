"""Opening a file that came from anyone: only regular files, only within a budget.

Every reader of user files (projects, weights, network files, IDX, CSV, pairs, ratings)
opens through here, so one place decides what may be opened at all.  A FIFO named
``x.npz`` would block ``open`` forever and a device would stream without end, so both are
refused from ``fstat`` before a byte is read.  JSON is scanned for its nesting depth
before it is parsed, because Python's parser recurses once per level and a file of
200,000 brackets would exhaust the stack.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import BinaryIO

import numpy as np

from playground import budgets

_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a named pipe"),
    (stat.S_ISCHR, "a device"),
    (stat.S_ISBLK, "a device"),
    (stat.S_ISSOCK, "a socket"),
)


def open_input(path: str | Path, error: type[Exception], budget: str | None = None) -> BinaryIO:
    """``path`` opened for binary reading, or ``error`` naming it when it is not a regular file or is
    larger than the budget named ``budget`` (a name in ``playground.budgets``).

    The file is opened non-blocking, so a FIFO cannot stall the open, and checked on the open
    descriptor, so it cannot be swapped between the check and the read.  A missing or
    unreadable file raises the usual ``OSError``, which each reader words in its own way.
    """
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            kind = next((name for test, name in _KINDS if test(info.st_mode)), "not a regular file")
            raise error(f"{path}: it is {kind}, not a file; only regular files are opened")
        if budget is not None and info.st_size > getattr(budgets, budget):
            raise error(f"{path}: " + budgets.over_budget(f"it is {info.st_size:,} bytes", budget))
        os.set_blocking(descriptor, True)
        return os.fdopen(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise


def read_input(path: str | Path, error: type[Exception], budget: str) -> bytes:
    """All of a regular file that is within ``budget`` (see ``open_input``)."""
    with open_input(path, error, budget) as stream:
        return stream.read(getattr(budgets, budget) + 1)


def read_user_file(path: str | Path, error: type[Exception], budget: str) -> bytes:
    """``read_input`` with a missing or unreadable file worded as the network and experiment files
    word it: "PATH: no such file", "PATH: cannot read it (why)"."""
    try:
        return read_input(path, error, budget)
    except FileNotFoundError:
        raise error(f"{path}: no such file") from None
    except OSError as failure:
        raise error(f"{path}: cannot read it ({failure.strerror or failure.__class__.__name__})") from None


_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_OPENERS = np.frombuffer(b"[{", np.uint8)
_CLOSERS = np.frombuffer(b"]}", np.uint8)


def json_nesting_depth(raw: bytes) -> int:
    """The deepest bracket nesting of JSON text, counted without parsing it (strings skipped).

    Linear in the text and vectorised, so a hostile file is measured in milliseconds; text
    that is not JSON gets some number, and the parser then says what is wrong with it.
    """
    codes = np.frombuffer(_JSON_STRING.sub(b"", raw), np.uint8)
    steps = np.isin(codes, _OPENERS).astype(np.int32) - np.isin(codes, _CLOSERS)
    return int(np.cumsum(steps).max(initial=0))


def check_json_budget(raw: bytes, where: str, error: type[Exception]) -> None:
    """Refuse JSON text over the size or nesting budget before anything parses it."""
    if len(raw) > budgets.MAX_JSON_BYTES:
        raise error(f"{where}: " + budgets.over_budget(f"the JSON text is {len(raw):,} bytes", "MAX_JSON_BYTES"))
    depth = json_nesting_depth(raw)
    if depth > budgets.MAX_JSON_DEPTH:
        raise error(f"{where}: " + budgets.over_budget(f"the JSON nests {depth:,} levels deep", "MAX_JSON_DEPTH"))
