"""Atomic file writes: a crash or a full disk never leaves half a file where a good one was."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write to a temporary file in the same folder, flush it to disk, then rename over ``path``.

    A rename within one file system is atomic, so readers see the old file or the new
    one, never a mixture.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def failure_message(error: BaseException, path: str | Path | None = None) -> str:
    """One line for a user about why opening or building something failed, whatever was raised.

    A reader's own errors already say what is wrong; running out of memory or of recursion
    depth on a hostile file is the file's fault too and is said in the same words, never as
    a traceback or an "internal error".
    """
    where = f"{Path(path).name}: " if path is not None else ""
    if isinstance(error, MemoryError):
        return f"{where}not enough memory for it on this machine"
    if isinstance(error, RecursionError):
        return f"{where}it is nested too deeply to read"
    text = str(error)
    if isinstance(error, (ValueError, OSError)):
        return text if path is None or Path(path).name in text else where + text
    return f"{where}{error.__class__.__name__}: {text}"
