"""Downloads that cannot hang (issue #17): servers on 127.0.0.1 that drip their data or their
headers, stream without end or redirect in a loop, each stopped by a budget within seconds.
Every handler's loop is bounded, so a server stops on its own even if the client never does."""

from __future__ import annotations

import dataclasses
import hashlib
import http.server
import os
import time

import pytest

from playground import budgets
from playground.datasets import DatasetError, DownloadCancelled, download
from playground.datasets.remote import REMOTE_DATASETS, RemoteFile, cache_dir

CONTENT = bytes(range(256)) * 20  # 5,120 bytes
#: a misbehaving handler gives up after this many steps, so no test can leave it running
MAX_STEPS = 400


@pytest.fixture
def one_file(tmp_path, monkeypatch) -> RemoteFile:
    """An empty cache, a registry entry for one 5 KB file, and small time budgets."""
    monkeypatch.setenv("PLAYGROUND_DATA_HOME", str(tmp_path / "data-home"))
    monkeypatch.delenv("PLAYGROUND_MIRRORS", raising=False)
    file = RemoteFile(
        "t10k-labels-idx1-ubyte.gz", hashlib.md5(CONTENT, usedforsecurity=False).hexdigest(), len(CONTENT)
    )
    monkeypatch.setitem(REMOTE_DATASETS, "mnist", dataclasses.replace(REMOTE_DATASETS["mnist"], files=(file,)))
    monkeypatch.setattr(budgets, "DOWNLOAD_STALL_S", 1)
    monkeypatch.setattr(budgets, "DOWNLOAD_STALL_BYTES", 1000)
    monkeypatch.setattr(budgets, "DOWNLOAD_DEADLINE_S", 4)
    return file


class _Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """Keep the test output clean."""

    def _steps(self, write, pause: float) -> None:
        """Call ``write`` up to MAX_STEPS times, ``pause`` apart, until the client hangs up."""
        try:
            for _ in range(MAX_STEPS):
                write()
                self.wfile.flush()
                time.sleep(pause)
        except OSError:
            return


class DripHandler(_Handler):
    """Honest headers, then a byte every 20 ms: 50 bytes a second, far below the stall budget."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(CONTENT)))
        self.end_headers()
        self._steps(lambda: self.wfile.write(b"\0"), 0.02)


class DripHeadersHandler(_Handler):
    """Sends its status line and then one header byte every 50 ms, never finishing the headers."""

    def do_GET(self) -> None:
        self.wfile.write(b"HTTP/1.1 200 OK\r\n")
        self._steps(lambda: self.wfile.write(b"X"), 0.05)


class EndlessHandler(_Handler):
    """No Content-Length, and data as fast as it goes (bounded only by MAX_STEPS × 1 MB)."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.end_headers()
        self._steps(lambda: self.wfile.write(bytes(1 << 20)), 0)


class LyingLengthHandler(_Handler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(10**12))
        self.end_headers()


class LoopHandler(_Handler):
    def do_GET(self) -> None:
        self.send_response(302)
        self.send_header("Location", self.path + "x")
        self.send_header("Content-Length", "0")
        self.end_headers()


def _timed_download(url: str):
    started = time.perf_counter()
    with pytest.raises(DatasetError) as error:
        download("mnist", mirrors=[url])
    return str(error.value), time.perf_counter() - started


def test_a_dripping_mirror_is_given_up_as_stalled(one_file, serve):
    message, seconds = _timed_download(serve(handler=DripHandler))
    assert "stalled" in message and "DOWNLOAD_STALL_BYTES" in message
    assert seconds < 4
    assert os.listdir(cache_dir() / "mnist") == []


def test_a_mirror_dripping_its_headers_is_given_up(one_file, serve):
    message, seconds = _timed_download(serve(handler=DripHeadersHandler))
    assert "stalled" in message and seconds < 4


def test_a_mirror_streaming_without_end_stops_at_the_published_size(one_file, serve):
    message, seconds = _timed_download(serve(handler=EndlessHandler))
    assert "more than the published size" in message and seconds < 2
    assert os.listdir(cache_dir() / "mnist") == []


def test_a_mirror_promising_too_much_is_refused_before_the_transfer(one_file, serve):
    message, _ = _timed_download(serve(handler=LyingLengthHandler))
    assert "offers 1,000,000,000,000 bytes, more than the published size" in message


def test_a_redirect_loop_ends_at_the_redirect_budget(one_file, serve):
    message, seconds = _timed_download(serve(handler=LoopHandler))
    assert "MAX_REDIRECTS" in message and seconds < 2


def test_the_overall_deadline_ends_a_slow_but_steady_download(one_file, serve, monkeypatch):
    monkeypatch.setattr(budgets, "DOWNLOAD_STALL_BYTES", 10)  # 50 bytes a second is no stall now
    monkeypatch.setattr(budgets, "DOWNLOAD_DEADLINE_S", 1.5)
    message, seconds = _timed_download(serve(handler=DripHandler))
    assert "DOWNLOAD_DEADLINE_S" in message and seconds < 3


def test_cancel_ends_a_blocked_read_at_once(one_file, serve):
    started = time.perf_counter()
    with pytest.raises(DownloadCancelled):
        download(
            "mnist", mirrors=[serve(handler=DripHeadersHandler)], cancel=lambda: time.perf_counter() - started > 0.3
        )
    assert time.perf_counter() - started < 1


def test_a_killed_downloads_part_file_is_removed_at_the_next_start(one_file, serve, tmp_path):
    folder = cache_dir() / "mnist"
    folder.mkdir(parents=True)
    stale, live, foreign = folder / ".pg-abcd1234.part", folder / ".pg-efgh5678.part", folder / "notes.part"
    for path in (stale, live, foreign):
        path.write_bytes(b"half")
    old = time.time() - budgets.STALE_TEMPORARY_S - 60
    os.utime(stale, (old, old))
    os.utime(foreign, (old, old))
    served = tmp_path / "mirror"
    served.mkdir()
    (served / one_file.name).write_bytes(CONTENT)
    download("mnist", mirrors=[serve(served)])
    assert not stale.exists() and live.exists() and foreign.exists()
    assert (folder / one_file.name).read_bytes() == CONTENT
