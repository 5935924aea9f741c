"""Reading ``.npz`` archives that came from anyone: projects and weights files.

Everything an archive claims is checked before any array's data is read: the number of
members, each member's ``.npy`` header (no Python objects, only numbers), and the sizes
all members declare together against MAX_ARCHIVE_BYTES.  So four members of 1.9 GB of
zeros, compressed to a few MB, are refused in milliseconds instead of being inflated
first.  Nothing is unpickled (``allow_pickle=False``), ever.
"""

from __future__ import annotations

import io
import math
import struct
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from playground import budgets
from playground.inputs import open_input

#: What reading a broken archive or member can raise, besides the caller's own error.
ARCHIVE_ERRORS = (
    ValueError,
    OSError,
    zipfile.BadZipFile,
    EOFError,
    RuntimeError,
    NotImplementedError,
    zlib.error,
    struct.error,
)


@dataclass(frozen=True)
class Member:
    """One array of an archive, as its ``.npy`` header describes it."""

    info: zipfile.ZipInfo
    name: str
    shape: tuple[int, ...]
    dtype: np.dtype
    fortran_order: bool

    @property
    def nbytes(self) -> int:
        return math.prod(self.shape) * self.dtype.itemsize


@contextmanager
def open_archive(
    source: str | Path | bytes | BinaryIO, where: str, error: type[Exception]
) -> Iterator[zipfile.ZipFile]:
    """The zip archive at ``source`` (a path, the bytes, or a binary stream), or ``error`` naming ``where``."""
    if isinstance(source, (str, Path)):
        try:
            stream = open_input(source, error, "MAX_ARCHIVE_BYTES")
        except FileNotFoundError:
            raise error(f"{where}: no such file") from None
        except OSError as failure:
            raise error(f"{where}: cannot read it ({failure.strerror or failure.__class__.__name__})") from None
    else:
        stream = io.BytesIO(source) if isinstance(source, (bytes, bytearray, memoryview)) else source
    with stream:
        _check_entry_count(stream, where, error)
        try:
            archive = zipfile.ZipFile(stream)
        except ARCHIVE_ERRORS:
            raise error(f"{where}: not an .npz archive") from None
        with archive:
            yield archive


# The records at the end of a zip file that say how many entries its directory lists (PKWARE's
# APPNOTE.TXT, 4.3.14 to 4.3.16): the end of central directory record, and where that count does
# not fit its 16 bits, the zip64 end of central directory record found through its locator.
_END = struct.Struct("<4s4H2LH")  # signature, disks (2), entries on this disk, entries, size, offset, comment length
_END_SIGNATURE = b"PK\x05\x06"
_ZIP64_LOCATOR = struct.Struct("<4sLQL")  # signature, disk, offset of the zip64 record, disks
_ZIP64_LOCATOR_SIGNATURE = b"PK\x06\x07"
_ZIP64_END = struct.Struct("<4sQ2H2L4Q")  # signature, size, versions (2), disks (2), entries (2), size, offset
_ZIP64_END_SIGNATURE = b"PK\x06\x06"
_MAX_COMMENT = 0xFFFF


def listed_entries(stream: BinaryIO) -> int | None:
    """How many entries the archive's directory lists, read from its end records alone; None when
    it has no end record (``ZipFile`` then says what is wrong).

    The record sits at the very end, after a comment of up to 64 KB, so only the last 64 KB are
    read.  Like ``ZipFile``, the zip64 record is looked for just before its locator rather than
    at the offset the locator gives, which data prepended to the archive would shift.
    """
    size = stream.seek(0, io.SEEK_END)
    start = max(0, size - _END.size - _MAX_COMMENT)
    stream.seek(start)
    tail = stream.read()
    at = tail.rfind(_END_SIGNATURE)
    if at < 0 or len(tail) - at < _END.size:
        return None
    entries = _END.unpack_from(tail, at)[4]
    locator_at = start + at - _ZIP64_LOCATOR.size
    if entries != 0xFFFF or locator_at - _ZIP64_END.size < 0:
        return entries
    stream.seek(locator_at - _ZIP64_END.size)
    records = stream.read(_ZIP64_END.size + _ZIP64_LOCATOR.size)
    if len(records) < _ZIP64_END.size + _ZIP64_LOCATOR.size:
        return entries
    if _ZIP64_LOCATOR.unpack_from(records, _ZIP64_END.size)[0] != _ZIP64_LOCATOR_SIGNATURE:
        return entries
    record = _ZIP64_END.unpack_from(records)
    return record[7] if record[0] == _ZIP64_END_SIGNATURE else entries


def _check_entry_count(stream: BinaryIO, where: str, error: type[Exception]) -> None:
    """Refuse an archive whose directory lists more entries than MAX_ARCHIVE_MEMBERS before
    ``ZipFile`` builds an object for each of them (a million tiny entries take seconds)."""
    try:
        entries = listed_entries(stream)
        stream.seek(0)
    except ARCHIVE_ERRORS:
        return  # ZipFile says what is wrong
    if entries is not None and entries > budgets.MAX_ARCHIVE_MEMBERS:
        raise error(f"{where}: " + budgets.over_budget(f"the archive lists {entries:,} entries", "MAX_ARCHIVE_MEMBERS"))


def read_header(stream: BinaryIO) -> tuple[tuple[int, ...], bool, np.dtype]:
    """The shape, order and type of the ``.npy`` array starting at ``stream``; nothing of its data."""
    version = np.lib.format.read_magic(stream)
    if version == (1, 0):
        return np.lib.format.read_array_header_1_0(stream)
    if version == (2, 0):
        return np.lib.format.read_array_header_2_0(stream)
    raise ValueError(f"numpy format version {version}")


def check_members(archive: zipfile.ZipFile, where: str, error: type[Exception]) -> dict[str, Member]:
    """Every member's header, checked against the budgets before any data is read."""
    infos = archive.infolist()
    if len(infos) > budgets.MAX_ARCHIVE_MEMBERS:
        raise error(
            f"{where}: " + budgets.over_budget(f"the archive has {len(infos):,} entries", "MAX_ARCHIVE_MEMBERS")
        )
    members: dict[str, Member] = {}
    total = 0
    for info in infos:
        if not info.filename.endswith(".npy"):
            raise error(f"{where}: the archive holds {info.filename!r}, which is not a numpy array")
        name = info.filename[:-4]
        try:
            with archive.open(info) as stream:
                shape, fortran_order, dtype = read_header(stream)
        except ARCHIVE_ERRORS as failure:
            raise error(f'{where}: "{name}" is not a readable array ({failure})') from None
        if dtype.hasobject:
            raise error(
                f'{where}: "{name}" holds Python objects; these files never do, so it is refused '
                f"(it could run code when read)"
            )
        if dtype.kind not in "biuf":
            raise error(f'{where}: "{name}" has the unsupported type {dtype}')
        member = Member(info, name, tuple(shape), dtype, fortran_order)
        total += max(member.nbytes, info.file_size)
        if total > budgets.MAX_ARCHIVE_BYTES:
            raise error(
                f"{where}: "
                + budgets.over_budget(
                    f'its arrays up to "{name}" (shape {list(shape)}) hold {total:,} bytes uncompressed',
                    "MAX_ARCHIVE_BYTES",
                )
            )
        members[name] = member
    return members


def read_member(archive: zipfile.ZipFile, member: Member, where: str, error: type[Exception]) -> np.ndarray:
    """The array of a checked member; its size was accepted by ``check_members``."""
    try:
        with archive.open(member.info) as stream:
            return np.lib.format.read_array(stream, allow_pickle=False)
    except ARCHIVE_ERRORS as failure:
        raise error(f'{where}: "{member.name}" is not a readable array ({failure})') from None
