"""One progress bar on stderr, redrawn in place: a training epoch's mini-batches or a download's bytes."""

from __future__ import annotations

import sys


def progress_bar(done: int, total: int, text: str) -> None:
    width = 30
    filled = int(width * done / max(total, 1))
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {text}")
    sys.stderr.flush()


def download_progress(done: int, total: int) -> None:
    """``progress(bytes_done, bytes_total)`` for the downloader; silent when stderr is not a terminal."""
    if sys.stderr.isatty():
        progress_bar(done, total, f"downloading {done / 1e6:.1f}/{total / 1e6:.1f} MB")
        if done >= total:
            sys.stderr.write("\n")
