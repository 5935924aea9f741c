"""One progress bar on stderr, redrawn in place: a training epoch's mini-batches or a download's bytes."""

from __future__ import annotations

import sys


def bar(done: int, total: int, text: str, width: int = 30) -> str:
    """``[#####.....] text``: ``done`` of ``total`` as a bar of ``width`` characters."""
    filled = min(width, int(width * done / max(total, 1)))
    return f"[{'#' * filled}{'.' * (width - filled)}] {text}"


def progress_bar(done: int, total: int, text: str) -> None:
    sys.stderr.write("\r" + bar(done, total, text))
    sys.stderr.flush()


def download_progress(done: int, total: int) -> None:
    """``progress(bytes_done, bytes_total)`` for the downloader; silent when stderr is not a terminal."""
    if sys.stderr.isatty():
        progress_bar(done, total, f"downloading {done / 1e6:.1f}/{total / 1e6:.1f} MB")
        if done >= total:
            sys.stderr.write("\n")
