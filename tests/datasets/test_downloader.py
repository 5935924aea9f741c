"""The downloader against a real HTTP server on 127.0.0.1 serving the shared MNIST test split.

Only the two t10k files exist locally, so each test swaps the "mnist" registry entry
for one listing just those files (with their real checksums); the real four-file table
stays the default, which `test_default_table_verifies_the_real_files` checks.
"""

from __future__ import annotations

import dataclasses
import hashlib
import http.server

import pytest

from playground.datasets import DatasetError, DatasetUnavailable, DownloadCancelled, download, is_cached, load_dataset
from playground.datasets.remote import REMOTE_DATASETS, RemoteFile, cache_dir


def _md5(path) -> str:
    return hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()


@pytest.fixture
def served_files(mnist_dir, tmp_path, monkeypatch) -> tuple[RemoteFile, ...]:
    """An empty cache and a registry entry for exactly the files the test server offers."""
    monkeypatch.setenv("PLAYGROUND_DATA_HOME", str(tmp_path / "data-home"))
    monkeypatch.delenv("PLAYGROUND_MIRRORS", raising=False)
    files = tuple(
        RemoteFile(path.name, _md5(path), path.stat().st_size) for path in sorted(mnist_dir.glob("t10k-*.gz"))
    )
    monkeypatch.setitem(REMOTE_DATASETS, "mnist", dataclasses.replace(REMOTE_DATASETS["mnist"], files=files))
    return files


def _files_left(folder) -> list[str]:
    """Every file in the cache folder, hidden temporary ones included."""
    return sorted(path.name for path in folder.iterdir()) if folder.exists() else []


def test_default_table_verifies_the_real_files(mnist_dir):
    published = {file.name: file for file in REMOTE_DATASETS["mnist"].files}
    for path in mnist_dir.glob("t10k-*.gz"):
        assert published[path.name].md5 == _md5(path)
        assert published[path.name].size == path.stat().st_size
    assert len(published) == 4 and len(REMOTE_DATASETS["fashion-mnist"].files) == 4


def test_good_download_is_cached_and_later_loads_need_no_server(served_files, mnist_dir, serve, dead_url, monkeypatch):
    reports = []

    folder = download("mnist", mirrors=[serve(mnist_dir)], progress=lambda done, total: reports.append((done, total)))

    assert folder == cache_dir() / "mnist"
    assert _files_left(folder) == [file.name for file in served_files]
    assert is_cached("mnist")
    total = sum(file.size for file in served_files)
    assert reports[-1] == (total, total)
    assert all(earlier[0] <= later[0] for earlier, later in zip(reports, reports[1:]))

    monkeypatch.setenv("PLAYGROUND_MIRRORS", dead_url())  # any download attempt would now fail
    data = load_dataset("mnist", allow_download=True)
    assert data.x_train.shape == (8000, 1, 28, 28) and str(folder) in data.source
    assert download("mnist") == folder  # nothing left to fetch


def test_load_dataset_downloads_from_mirrors_in_the_environment(served_files, mnist_dir, serve, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_MIRRORS", f" {serve(mnist_dir)} ,")

    data = load_dataset("mnist", allow_download=True)

    assert len(data.x_val) == 2000 and is_cached("mnist")


class TruncatingHandler(http.server.BaseHTTPRequestHandler):
    """Promises a megabyte, sends a kilobyte of it, hangs up."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(1_000_000))
        self.end_headers()
        self.wfile.write(bytes(1000))
        self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:
        """Keep the test output clean."""


def test_truncated_transfer_is_an_error_and_leaves_no_file(served_files, serve):
    with pytest.raises(DatasetError, match=r"cut short \(1,000 of 1,000,000 bytes\)") as error:
        download("mnist", mirrors=[serve(handler=TruncatingHandler)])

    assert not isinstance(error.value, DatasetUnavailable)
    assert _files_left(cache_dir() / "mnist") == []


def test_wrong_checksum_is_an_error_and_leaves_no_file(served_files, mnist_dir, serve, monkeypatch):
    wrong = tuple(dataclasses.replace(file, md5="0" * 32) for file in served_files)
    monkeypatch.setitem(REMOTE_DATASETS, "mnist", dataclasses.replace(REMOTE_DATASETS["mnist"], files=wrong))

    with pytest.raises(DatasetError, match="not the published 0000"):
        download("mnist", mirrors=[serve(mnist_dir)])

    assert _files_left(cache_dir() / "mnist") == []
    assert not is_cached("mnist")


def test_dead_first_mirror_falls_back_to_the_second(served_files, mnist_dir, serve, dead_url):
    download("mnist", mirrors=[dead_url(), serve(mnist_dir)])

    assert is_cached("mnist")


def test_a_mirror_without_the_files_is_an_error_not_offline(served_files, tmp_path, serve):
    empty = tmp_path / "empty-mirror"
    empty.mkdir()

    with pytest.raises(DatasetError, match="answered HTTP 404") as error:
        download("mnist", mirrors=[serve(empty)])

    assert not isinstance(error.value, DatasetUnavailable)


def test_offline_is_unavailable_with_one_line(served_files, dead_url):
    with pytest.raises(DatasetUnavailable) as error:
        download("mnist", mirrors=[dead_url(), dead_url()])

    assert str(error.value) == (
        "could not download MNIST: no mirror reachable (tried 2); check your connection or use --data-dir"
    )
    assert _files_left(cache_dir() / "mnist") == []


def test_cancel_stops_cleanly_and_leaves_no_partial_file(served_files, mnist_dir, serve):
    reports = []

    with pytest.raises(DownloadCancelled, match="download cancelled"):
        download(
            "mnist",
            mirrors=[serve(mnist_dir)],
            progress=lambda done, total: reports.append(done),
            cancel=lambda: len(reports) >= 3,
        )

    assert issubclass(DownloadCancelled, DatasetError)
    assert 0 < reports[-1] < served_files[0].size  # stopped part-way through the first file
    assert _files_left(cache_dir() / "mnist") == []


def test_unknown_name_and_bad_mirror_are_refused(served_files, monkeypatch):
    with pytest.raises(DatasetError, match="'digits' cannot be downloaded"):
        download("digits")
    monkeypatch.setenv("PLAYGROUND_MIRRORS", "ftp://example.org/mnist/")
    with pytest.raises(DatasetError, match="mirror 'ftp://example.org/mnist/' is not an http"):
        download("mnist")
