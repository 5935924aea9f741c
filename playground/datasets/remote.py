"""Download MNIST and Fashion-MNIST once, verify them, and keep them in the user's data folder.

Downloads are the one place where the outside world can hand us a half-written or
wrong file, so every file is written to a hidden temporary file next to its final
place and renamed only after its md5 matches the published checksum: an interrupted,
truncated, corrupt or cancelled download never leaves a file that looks finished.
Several mirrors are tried in turn, because the original MNIST site stopped serving
the files and any single mirror may disappear too.

`REMOTE_DATASETS` is the registry of what can be downloaded. Tests swap an entry for
one describing the files their local HTTP server serves; the real checksums stay the
defaults.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import re
import socket
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import platformdirs

from playground import budgets
from playground.datasets.dataset import DatasetError, DatasetUnavailable, DownloadCancelled
from playground.files import remove_stale_temporaries

DATA_HOME_VARIABLE = "PLAYGROUND_DATA_HOME"
MIRRORS_VARIABLE = "PLAYGROUND_MIRRORS"
#: Partial downloads are hidden files named ``.pg-<random>.part``, recognisably ours.
PART_PREFIX = ".pg-"
PART_FILE = re.compile(r"\.pg-[A-Za-z0-9_]{8}\.part")
CHUNK_BYTES = 64 * 1024
USER_AGENT = "playground-dataset-downloader"

Progress = Callable[[int, int], None]
Cancel = Callable[[], bool]


@dataclass(frozen=True)
class RemoteFile:
    name: str
    md5: str
    size: int  # published size in bytes; only sizes the progress bar, the md5 decides


@dataclass(frozen=True)
class RemoteDataset:
    display_name: str
    files: tuple[RemoteFile, ...]
    mirrors: tuple[str, ...]  # base URLs; a file's URL is mirror + file name
    class_names: tuple[str, ...]


REMOTE_DATASETS: dict[str, RemoteDataset] = {
    "mnist": RemoteDataset(
        display_name="MNIST",
        files=(
            RemoteFile("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873", 9_912_422),
            RemoteFile("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432", 28_881),
            RemoteFile("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3", 1_648_877),
            RemoteFile("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c", 4_542),
        ),
        mirrors=(
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "https://storage.googleapis.com/cvdf-datasets/mnist/",
        ),
        class_names=tuple(str(digit) for digit in range(10)),
    ),
    "fashion-mnist": RemoteDataset(
        display_name="Fashion-MNIST",
        files=(
            RemoteFile("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d", 26_421_880),
            RemoteFile("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe", 29_515),
            RemoteFile("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79", 4_422_102),
            RemoteFile("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310", 5_148),
        ),
        mirrors=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
        class_names=(
            "T-shirt/top",
            "Trouser",
            "Pullover",
            "Dress",
            "Coat",
            "Sandal",
            "Shirt",
            "Sneaker",
            "Bag",
            "Ankle boot",
        ),
    ),
}


def remote_dataset(name: str) -> RemoteDataset:
    if name not in REMOTE_DATASETS:
        raise DatasetError(f"{name!r} cannot be downloaded; downloadable data sets: {', '.join(REMOTE_DATASETS)}")
    return REMOTE_DATASETS[name]


def cache_dir() -> Path:
    """The user's data folder for the playground, or $PLAYGROUND_DATA_HOME when set."""
    override = os.environ.get(DATA_HOME_VARIABLE)
    return Path(override) if override else Path(platformdirs.user_data_dir("playground"))


def _md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _is_verified(path: Path, expected: RemoteFile) -> bool:
    return path.is_file() and _md5(path) == expected.md5


def is_cached(name: str) -> bool:
    """True when every file of `name` is in the cache and matches its checksum."""
    remote = remote_dataset(name)
    folder = cache_dir() / name
    return all(_is_verified(folder / file.name, file) for file in remote.files)


def _mirror_list(remote: RemoteDataset, override: list[str] | None) -> list[str]:
    """Mirrors from the argument, else $PLAYGROUND_MIRRORS (comma-separated), else the defaults."""
    if override is None and os.environ.get(MIRRORS_VARIABLE):
        override = os.environ[MIRRORS_VARIABLE].split(",")
    mirrors = [mirror.strip() for mirror in (override or remote.mirrors) if mirror.strip()]
    if not mirrors:
        raise DatasetError(f"no download mirrors given for {remote.display_name}")
    for mirror in mirrors:
        if urllib.parse.urlsplit(mirror).scheme not in ("http", "https"):
            raise DatasetError(f"the download mirror {mirror!r} is not an http:// or https:// URL")
    return [mirror if mirror.endswith("/") else mirror + "/" for mirror in mirrors]


class _MirrorFailed(Exception):
    """One mirror could not deliver one file; `reachable` is False when it never answered."""

    def __init__(self, reason: str, *, reachable: bool) -> None:
        super().__init__(reason)
        self.reachable = reachable


def _declared_length(response: http.client.HTTPResponse) -> int | None:
    """The Content-Length the server promised, if it gave a usable one."""
    value = response.headers.get("Content-Length", "")
    return int(value) if value.isdigit() else None


class _Watchdog:
    """Watches one transfer from a thread of its own and shuts its socket when the transfer
    stalls (fewer than DOWNLOAD_STALL_BYTES in DOWNLOAD_STALL_S, counted over time, not per
    read), passes its deadline or is cancelled.

    Shutting the socket is the one way to end a read that is blocked in the kernel, so a
    server that drips its headers or its data a byte at a time cannot hold the download,
    and Cancel takes effect within a tenth of a second.
    """

    POLL_S = 0.1

    def __init__(self, url: str, cancel: Cancel | None, deadline: float) -> None:
        self.url, self.cancel, self.deadline = url, cancel, deadline
        self.received = 0
        self.reason: str | None = None
        self._connection: http.client.HTTPConnection | None = None
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="download watchdog", daemon=True)

    def __enter__(self) -> _Watchdog:  # noqa: PYI034 - typing.Self needs Python 3.11
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._done.set()
        self._thread.join()
        if self._connection is not None:
            self._connection.close()

    def watch(self, connection: http.client.HTTPConnection) -> None:
        """Watch ``connection`` from now on (a redirect opens a new one)."""
        self._connection = connection

    def _watch(self) -> None:
        window_start, window_bytes = time.monotonic(), 0
        while not self._done.wait(self.POLL_S):
            now = time.monotonic()
            if self.cancel is not None and self.cancel():
                self.reason = "cancelled"
            elif now > self.deadline:
                self.reason = (
                    f"{self.url} did not finish within the budget DOWNLOAD_DEADLINE_S = {budgets.DOWNLOAD_DEADLINE_S} s"
                )
            elif now - window_start >= budgets.DOWNLOAD_STALL_S:
                if self.received - window_bytes < budgets.DOWNLOAD_STALL_BYTES:
                    self.reason = url_stalled(self.url, self.received - window_bytes)
                window_start, window_bytes = now, self.received
            if self.reason is not None:
                self._shut()
                return

    def _shut(self) -> None:
        sock = getattr(self._connection, "sock", None)
        if sock is not None:
            with contextlib.suppress(OSError):  # already closed: the reader has stopped anyway
                sock.shutdown(socket.SHUT_RDWR)

    def check(self) -> None:
        """Raise for the reason the watchdog stopped the transfer, if it did."""
        if self.reason == "cancelled":
            raise DownloadCancelled("download cancelled")
        if self.reason is not None:
            raise _MirrorFailed(self.reason, reachable=True)


def url_stalled(url: str, received: int) -> str:
    """Why a stalled transfer was given up, naming the stall budgets."""
    return (
        f"{url} stalled: {received:,} bytes in {budgets.DOWNLOAD_STALL_S} s, fewer than the budget "
        f"DOWNLOAD_STALL_BYTES = {budgets.DOWNLOAD_STALL_BYTES:,} in DOWNLOAD_STALL_S"
    )


def _connect(url: str, watchdog: _Watchdog) -> tuple[http.client.HTTPResponse, str]:
    """The response to GET ``url``, following at most MAX_REDIRECTS redirects; the final URL."""
    for _ in range(budgets.MAX_REDIRECTS + 1):
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise _MirrorFailed(f"a redirect leads to {url!r}, which is not an http:// or https:// URL", reachable=True)
        kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        connection = kind(parts.hostname, parts.port, timeout=budgets.DOWNLOAD_STALL_S)
        watchdog.watch(connection)
        path = urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, ""))
        try:
            connection.request("GET", path, headers={"User-Agent": USER_AGENT})
            response = connection.getresponse()
        except http.client.HTTPException as exc:
            connection.close()
            watchdog.check()
            raise _MirrorFailed(f"{url} did not answer like a web server ({exc!r})", reachable=True) from exc
        except OSError as exc:
            connection.close()
            watchdog.check()
            raise _MirrorFailed(f"{url} is unreachable ({exc.strerror or exc})", reachable=False) from exc
        if response.status in (301, 302, 303, 307, 308) and response.headers.get("Location"):
            url = urllib.parse.urljoin(url, response.headers["Location"])
            connection.close()
            continue
        if response.status != 200:
            connection.close()
            raise _MirrorFailed(f"{url} answered HTTP {response.status}", reachable=True)
        return response, url
    raise _MirrorFailed(
        f"{url}: more redirects than the budget MAX_REDIRECTS = {budgets.MAX_REDIRECTS}", reachable=True
    )


def _fetch(
    url: str, destination: Path, expected: RemoteFile, on_bytes: Callable[[int], None], cancel: Cancel | None
) -> None:
    """Stream `url` into `destination`, reporting bytes so far; raise _MirrorFailed if it is not the file.

    The published size caps the transfer: a server that promises more, or sends more, is
    stopped at once, so one that streams without end costs at most one chunk beyond it.
    """
    deadline = time.monotonic() + budgets.DOWNLOAD_DEADLINE_S
    with _Watchdog(url, cancel, deadline) as watchdog:
        response, url = _connect(url, watchdog)
        digest = hashlib.md5(usedforsecurity=False)
        received = 0
        with response, destination.open("wb") as sink:
            declared = _declared_length(response)
            if declared is not None and declared > expected.size:
                raise _MirrorFailed(
                    f"{url} offers {declared:,} bytes, more than the published size of "
                    f"{expected.name} ({expected.size:,} bytes)",
                    reachable=True,
                )
            try:
                while chunk := response.read1(CHUNK_BYTES):
                    if cancel is not None and cancel():  # between chunks too, not only every POLL_S
                        raise DownloadCancelled("download cancelled")
                    received += len(chunk)
                    watchdog.received = received
                    if received > expected.size:
                        raise _MirrorFailed(
                            f"{url} sent more than the published size of {expected.name} ({expected.size:,} bytes)",
                            reachable=True,
                        )
                    sink.write(chunk)
                    digest.update(chunk)
                    on_bytes(received)
                    watchdog.check()
            except (OSError, http.client.HTTPException) as exc:
                watchdog.check()
                broke_off = f"the transfer from {url} broke off after {received:,} bytes ({exc})"
                raise _MirrorFailed(broke_off, reachable=True) from exc
        watchdog.check()  # a shut socket reads as the end of the data
    if declared is not None and received != declared:
        cut_short = f"the transfer from {url} was cut short ({received:,} of {declared:,} bytes)"
        raise _MirrorFailed(cut_short, reachable=True)
    if digest.hexdigest() != expected.md5:
        raise _MirrorFailed(
            f"{url} sent a file with md5 {digest.hexdigest()}, not the published {expected.md5}", reachable=True
        )


def _download_file(
    remote: RemoteDataset,
    file: RemoteFile,
    folder: Path,
    mirrors: list[str],
    on_bytes: Callable[[int], None],
    cancel: Cancel | None,
) -> None:
    """Try each mirror in turn until one delivers `file` intact; only then does it appear in `folder`."""
    failures: list[_MirrorFailed] = []
    for mirror in mirrors:
        handle, temporary_name = tempfile.mkstemp(dir=folder, prefix=PART_PREFIX, suffix=".part")
        os.close(handle)
        temporary = Path(temporary_name)
        try:
            _fetch(mirror + file.name, temporary, file, on_bytes, cancel)
            os.replace(temporary, folder / file.name)
            return
        except _MirrorFailed as failure:
            failures.append(failure)
        finally:
            temporary.unlink(missing_ok=True)
    if not any(failure.reachable for failure in failures):
        unreachable = f"could not download {remote.display_name}: no mirror reachable (tried {len(mirrors)}); "
        raise DatasetUnavailable(
            unreachable + "check your connection or use --data-dir",
            window=unreachable + "check your connection, or use a folder that holds the files",
        )
    reasons = "; ".join(str(failure) for failure in failures)
    raise DatasetError(f"could not download {remote.display_name} file {file.name}: {reasons}")


def _report_progress(progress: Progress | None, done_before: int, total: int, received: int) -> None:
    if progress is not None:
        progress(done_before + received, total)


def download(
    name: str, *, mirrors: list[str] | None = None, progress: Progress | None = None, cancel: Cancel | None = None
) -> Path:
    """Fetch the files of `name` that are not cached yet; return the folder holding all of them.

    `progress(bytes_done, bytes_total)` counts over all files still to fetch, so one
    progress bar covers the whole download; `cancel()` is polled ten times a second and,
    when it returns True, the download stops with DownloadCancelled within that time
    (even in a blocked read) and leaves no partial file. Files already verified by an earlier, interrupted run are kept.
    """
    remote = remote_dataset(name)
    mirror_list = _mirror_list(remote, mirrors)
    folder = cache_dir() / name
    folder.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(folder, PART_FILE)  # left by a download that was killed
    missing = [file for file in remote.files if not _is_verified(folder / file.name, file)]
    total = sum(file.size for file in missing)
    done_before = 0
    for file in missing:
        if cancel is not None and cancel():
            raise DownloadCancelled("download cancelled")
        on_bytes = partial(_report_progress, progress, done_before, total)
        _download_file(remote, file, folder, mirror_list, on_bytes, cancel)
        done_before += file.size
    return folder
