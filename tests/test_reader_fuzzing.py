"""Random mutations of valid files end in a success or the reader's own error, never anything
else, and no reader's message reads "internal error" (issue #17).  Examples are bounded so
the suite stays quick."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from playground.datasets import DatasetError
from playground.model import NetworkFileError, sequential_spec, spec_to_dict
from playground.model.network_file import spec_from_json
from playground.model.project import MetricHistory, Project, ProjectError, project_bytes, read_project
from playground.model.weights import WeightsError, read_weights

ROOT = Path(__file__).resolve().parents[1]
FUZZ = settings(max_examples=100, deadline=2000, suppress_health_check=[HealthCheck.too_slow], derandomize=True)


def _spec():
    return sequential_spec(
        [4, 8, 2], activation="sigmoid", output="softmax", cost="log-likelihood", initializer="xavier"
    )


def _valid_project() -> bytes:
    from playground.model import build_network

    network = build_network(_spec())
    network.initialize("xavier", 0)
    history = MetricHistory(["fc1", "out"])
    n = 40
    history.append(np.arange(n), np.zeros(n), np.ones(n), np.ones(n), ["fc1", "out"], np.ones((n, 2, 4)))
    return project_bytes(Project(_spec(), network.state(), history))


NETWORK = json.dumps(spec_to_dict(_spec())).encode()
PROJECT = _valid_project()


def _mutations(base: bytes):
    """Byte flips, cuts, insertions and repeated slices of ``base``."""
    position = st.integers(0, len(base) - 1)
    flip = st.tuples(st.just("flip"), position, st.integers(0, 255))
    cut = st.tuples(st.just("cut"), position, position)
    insert = st.tuples(st.just("insert"), position, st.binary(min_size=1, max_size=16))
    repeat = st.tuples(st.just("repeat"), position, st.integers(1, 64))
    return st.lists(st.one_of(flip, cut, insert, repeat), min_size=1, max_size=6).map(lambda steps: _apply(base, steps))


def _apply(base: bytes, steps) -> bytes:
    data = bytearray(base)
    for kind, a, b in steps:
        a = min(a, max(len(data) - 1, 0))
        if kind == "flip" and data:
            data[a] = b
        elif kind == "cut":
            del data[min(a, b) : max(a, b)]
        elif kind == "insert":
            data[a:a] = b
        elif kind == "repeat":
            data[a:a] = data[a : a + 8] * b
    return bytes(data)


@FUZZ
@given(_mutations(NETWORK))
def test_a_mutated_network_file_is_read_or_refused_as_such(raw):
    try:
        spec_from_json(raw, "net.json")
    except NetworkFileError as error:
        assert "net.json" in str(error)


@FUZZ
@given(_mutations(PROJECT))
def test_a_mutated_project_is_read_or_refused_as_such(raw):
    try:
        read_project(raw, "p.npz")
    except ProjectError as error:
        assert "p.npz" in str(error) and "internal error" not in str(error)


@FUZZ
@given(_mutations(PROJECT))
def test_a_mutated_weights_file_is_read_or_refused_as_such(tmp_path_factory, raw):
    path = tmp_path_factory.mktemp("w") / "w.npz"
    path.write_bytes(raw)
    try:
        read_weights(path)
    except WeightsError as error:
        assert str(path) in str(error)


# --- the sweep: every reader, a set of bad inputs, never "internal error" --------------------------
BAD_INPUTS = {
    "empty": b"",
    "text": b"hello, world\n",
    "binary": bytes(range(256)) * 4,
    "deep": b"[" * 100_000,
    "zip of junk": b"PK\x03\x04" + bytes(100),
    "gzip of junk": b"\x1f\x8b\x08\x00" + bytes(40),
    "not utf-8": b"a,b\n\xff\xfe,1\n",
    "idx claiming much": bytes([0, 0, 8, 3]) + (10**9).to_bytes(4, "big") * 3,
}


def _readers():
    from playground.datasets.csv_import import load_csv
    from playground.datasets.idx import read_idx
    from playground.datasets.ratings import load_ratings_csv
    from playground.datasets.sequences import load_pairs_tsv
    from playground.model.network_file import load_spec
    from playground.model.project import open_file

    return {
        "open_file .npz": (open_file, ProjectError, ".npz"),
        "open_file .json": (open_file, ProjectError, ".json"),
        "network file": (load_spec, NetworkFileError, ".json"),
        "weights": (read_weights, WeightsError, ".npz"),
        "idx": (read_idx, DatasetError, ""),
        "csv": (lambda p: load_csv(data_file=p, label_column="b"), DatasetError, ".csv"),
        "pairs": (load_pairs_tsv, DatasetError, ".tsv"),
        "ratings": (load_ratings_csv, DatasetError, ".csv"),
    }


@pytest.mark.parametrize("reader", list(_readers()))
def test_every_reader_refuses_bad_input_with_its_own_error(tmp_path, reader):
    call, error_type, suffix = _readers()[reader]
    for name, content in BAD_INPUTS.items():
        path = tmp_path / f"{name.replace(' ', '-')}{suffix}"
        path.write_bytes(content)
        try:
            call(path)
        except error_type as error:
            assert "internal error" not in str(error) and str(error).strip() and "\n" not in str(error), name
        except Exception as error:  # noqa: BLE001 - the point of the sweep
            pytest.fail(f"{reader} on {name}: {error.__class__.__name__}: {error}")


@pytest.mark.parametrize(
    "option, name, content",
    [
        ("network", "deep.json", b"[" * 200_000),
        ("network", "chain.json", None),
        ("--load-weights", "junk.npz", b"PK\x03\x04" + bytes(100)),
        ("--data-file", "bad.csv", b"a;b\n1;x\n"),
    ],
)
def test_the_cli_answers_bad_input_with_one_line_and_exit_2(tmp_path, option, name, content):
    path = tmp_path / name
    if content is None:
        spec = sequential_spec(
            [2] + [2] * 3000 + [2], activation="sigmoid", output="softmax", cost="log-likelihood", initializer="xavier"
        )
        path.write_text(json.dumps(spec_to_dict(spec)))
    else:
        path.write_bytes(content)
    args = [str(path)] if option == "network" else ["toy-2d", option, str(path)]
    if option == "--data-file":
        args += ["--dataset", "csv", "--label-column", "b"]
    result = subprocess.run(
        [sys.executable, "-m", "playground", "train", *args, "--epochs", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("playground: error:") and name in lines[0], result.stderr
