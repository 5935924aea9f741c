"""Atomic file writes: a crash or a full disk never leaves half a file where a good one was.

The temporary file is named ``.pg-<8 hex digits>.tmp``: short, so a legal name of any
length can still be saved, and recognisably ours, so one left by a killed save is removed
at a later save into the same folder without touching anybody else's files.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import stat
import time
from pathlib import Path

from . import budgets

_TEMPORARY = re.compile(r"\.pg-[0-9a-f]{8}\.tmp")


class UnwritablePath(ValueError):
    """A path a result cannot be written to; the message names it and says why."""


def remove_stale_temporaries(folder: Path, pattern: re.Pattern = _TEMPORARY) -> None:
    """Remove our temporary files in ``folder`` (names matching ``pattern``) that nothing has
    touched for STALE_TEMPORARY_S: a save or download in progress touches its file far more
    often, so these were left by a killed process."""
    cutoff = time.time() - budgets.STALE_TEMPORARY_S
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return  # the write that follows reports the folder's problem
    for entry in entries:
        try:
            if (
                pattern.fullmatch(entry.name)
                and entry.is_file(follow_symlinks=False)
                and entry.stat(follow_symlinks=False).st_mtime < cutoff
            ):
                os.unlink(entry.path)
        except OSError:
            continue  # gone already, or not ours to remove: never a reason to fail a save


def _create_temporary(folder: Path) -> tuple[int, Path]:
    """A new file in ``folder`` with the permissions the umask gives a new file (not mkstemp's 0600)."""
    while True:
        temporary = folder / f".pg-{secrets.token_hex(4)}.tmp"
        try:
            return os.open(
                temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666
            ), temporary
        except FileExistsError:
            continue


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write to a temporary file in the same folder, flush it to disk, then rename over ``path``.

    A rename within one file system is atomic, so readers see the old file or the new
    one, never a mixture.  An existing file keeps its permission bits: saving must not
    make a shared 0644 file private, nor a private one readable by others.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path.parent)
    handle, temporary = _create_temporary(path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            with contextlib.suppress(FileNotFoundError):  # a new file: the umask decided its permissions
                os.fchmod(stream.fileno(), stat.S_IMODE(os.stat(path).st_mode))
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def _name_max(folder: Path) -> int:
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):
        return 255


def check_writable(path: str | Path, what: str = "the file") -> None:
    """Raise UnwritablePath if ``path`` clearly cannot be written, before any long work starts.

    Checks what can be known without writing: a folder on the way that is a file, a name
    longer than the file system allows, an existing folder in the file's place, and missing
    write permission on the file or on the nearest existing folder (the one the save would
    create the rest in).
    """
    path = Path(path)

    def refuse(reason: str) -> UnwritablePath:
        return UnwritablePath(f"{what} {path} cannot be written: {reason}")

    existing = path.parent  # os.path's tests say False, not raise, for a name too long
    while not os.path.exists(existing) and existing != existing.parent:
        existing = existing.parent
    if not os.path.isdir(existing):
        raise refuse(f"{existing} is a file, not a folder")
    for part in path.parts[len(existing.parts) :]:
        if len(os.fsencode(part)) > _name_max(existing):
            raise refuse(
                f'the name "{part[:40]}…" is {len(os.fsencode(part))} bytes, longer than the '
                f"{_name_max(existing)} this file system allows"
            )
    if os.path.isdir(path):
        raise refuse("it is a folder")
    if os.path.exists(path) and not os.access(path, os.W_OK):
        raise refuse("it is read-only")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise refuse(f"the folder {existing} is not writable")


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
