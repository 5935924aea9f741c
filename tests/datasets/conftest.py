"""Fixtures shared by the data set tests: IDX writing and a local HTTP server (mnist_dir is in tests/conftest.py)."""

from __future__ import annotations

import gzip
import http.server
import socket
import struct
import threading
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import numpy as np
import pytest

IDX_TYPE_CODES = {np.dtype(np.uint8): 0x08, np.dtype(">i4"): 0x0C}


def _idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, IDX_TYPE_CODES[array.dtype], array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.tobytes()


@pytest.fixture
def write_idx() -> Callable[[Path, np.ndarray], Path]:
    """Write an array as an IDX file, gzipped when the name ends in .gz."""

    def write(path: Path, array: np.ndarray) -> Path:
        data = _idx_bytes(array)
        path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)
        return path

    return write


class QuietFileHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """Keep the test output clean."""


@pytest.fixture
def serve() -> Iterator[Callable[..., str]]:
    """Start real HTTP servers on 127.0.0.1 (any free port); returns their base URLs.

    `serve(folder)` serves the files of `folder`; `serve(handler=SomeHandler)` uses a
    custom request handler. All servers are shut down and joined after the test.
    """
    running: list[tuple[http.server.ThreadingHTTPServer, threading.Thread]] = []

    def start(folder: Path | None = None, handler: type | None = None) -> str:
        handler = handler or partial(QuietFileHandler, directory=str(folder))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        thread.start()
        running.append((server, thread))
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield start
    for server, thread in running:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def dead_url() -> Callable[[], str]:
    """A URL on a port that was free a moment ago, so connecting to it is refused."""

    def make() -> str:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        return f"http://127.0.0.1:{port}/"

    return make
