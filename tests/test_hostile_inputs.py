"""Hostile files of issue #17, each built at a small scale with the same shape, refused with
one clear message naming the budget it hit, within seconds and, where memory is the point,
inside a subprocess whose address space is capped with ``resource.setrlimit``."""

import io
import json
import os
import resource
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from playground import budgets
from playground.datasets import DatasetError
from playground.model import NetworkFileError, analyse, sequential_spec, spec_from_dict, spec_to_dict
from playground.model.archive import listed_entries
from playground.model.network_file import load_spec, spec_from_json
from playground.model.project import Project, ProjectError, open_file, project_bytes, save_project
from playground.model.weights import WeightsError, read_weights

ROOT = Path(__file__).resolve().parents[1]
#: the address-space cap of the memory tests: importing the package takes about 370 MB of it
MEMORY_CAP = 1024**3


def run_capped(code: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter that cannot map more than MEMORY_CAP bytes."""

    def cap():
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))

    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-c", code], preexec_fn=cap, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def within(seconds: float, call, *args):
    """``call(*args)``'s exception (or None), failing the test if it takes longer than ``seconds``
    (run in a daemon thread, so a hang fails the test instead of blocking the suite)."""
    outcome = {}

    def target():
        try:
            call(*args)
        except BaseException as error:  # noqa: BLE001 - handed to the test to assert on
            outcome["error"] = error

    started = time.perf_counter()
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"{call.__name__} still running after {seconds} s"
    outcome["seconds"] = time.perf_counter() - started
    return outcome.get("error")


def chain_json(layers: int) -> bytes:
    spec = sequential_spec(
        [4] + [4] * layers + [2], activation="sigmoid", output="softmax", cost="log-likelihood", initializer="xavier"
    )
    return json.dumps(spec_to_dict(spec)).encode()


def claiming_archive(path: Path, claims: dict[str, tuple[tuple[int, ...], str]], extra: dict | None = None) -> None:
    """An .npz whose members' headers claim ``shape, dtype`` but hold no data: the shape of a
    zip bomb or a hostile header at the cost of a few bytes."""
    with zipfile.ZipFile(path, "w") as archive:
        for name, array in (extra or {}).items():
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, array)
            archive.writestr(f"{name}.npy", buffer.getvalue())
        for name, (shape, dtype) in claims.items():
            header = io.BytesIO()
            np.lib.format.write_array_header_1_0(header, {"descr": dtype, "fortran_order": False, "shape": shape})
            archive.writestr(f"{name}.npy", header.getvalue())


def small_project() -> Project:
    return Project(
        sequential_spec([4, 8, 2], activation="sigmoid", output="softmax", cost="log-likelihood", initializer="xavier")
    )


def project_arrays() -> dict:
    return dict(np.load(io.BytesIO(project_bytes(small_project())), allow_pickle=False))


# --- network files ---------------------------------------------------------------------------
def test_200000_nested_brackets_are_refused_by_the_depth_budget(tmp_path):
    path = tmp_path / "deep.json"
    path.write_bytes(b"[" * 200_000 + b"]" * 200_000)
    error = within(5, open_file, path)
    assert isinstance(error, ProjectError) and "MAX_JSON_DEPTH" in str(error) and "deep.json" in str(error)


def test_brackets_inside_strings_do_not_count():
    raw = json.dumps({"name": "[" * 1000, "nodes": 3}).encode()
    with pytest.raises(NetworkFileError, match='"nodes" must be a non-empty list'):
        spec_from_json(raw, "net.json")


@pytest.mark.parametrize(
    ("layers", "expected"),
    [(40_000, "MAX_JSON_BYTES"), (2_500, "the network has 2,502 layers, more than the budget MAX_LAYERS")],
)
def test_a_long_chain_is_refused_by_the_size_or_the_layer_budget(tmp_path, layers, expected):
    path = tmp_path / "chain.json"
    path.write_bytes(chain_json(layers))
    error = within(5, load_spec, path)
    assert isinstance(error, NetworkFileError) and expected in str(error)


def test_reading_and_analysing_a_chain_takes_time_linear_in_its_layers():
    """A 100,000-layer chain, past the file budget so the reader and the analysis themselves are
    measured: linear, they take about a second; quadratic, as before issue #17, over seven minutes."""
    data = json.loads(chain_json(100_000))
    outcome = {}
    error = within(30, lambda: outcome.update(analysis=analyse(spec_from_dict(data))))
    assert error is None and outcome["analysis"].ok and len(outcome["analysis"].order) == 100_002


def test_a_network_json_over_the_size_budget_is_refused_before_reading(tmp_path, monkeypatch):
    monkeypatch.setattr(budgets, "MAX_JSON_BYTES", 1000)
    path = tmp_path / "big.json"
    path.write_bytes(chain_json(20))
    with pytest.raises(NetworkFileError, match="MAX_JSON_BYTES"):
        load_spec(path)


@pytest.mark.parametrize("name", ["x.npz", "x.json", "w.npz"])
def test_a_fifo_is_refused_instead_of_blocking(tmp_path, name):
    fifo = tmp_path / name
    os.mkfifo(fifo)
    reader = read_weights if name == "w.npz" else open_file
    error = within(5, reader, fifo)
    assert isinstance(error, (ProjectError, WeightsError)) and "named pipe" in str(error)


def test_a_device_and_a_folder_are_refused(tmp_path):
    for path in (Path("/dev/zero"), tmp_path):
        error = within(5, open_file, path)
        assert isinstance(error, ProjectError) and ("a device" in str(error) or "a folder" in str(error))


# --- projects ----------------------------------------------------------------------------------
def test_members_each_under_the_cap_but_over_it_together_are_refused_at_once(tmp_path):
    path = tmp_path / "bomb.npz"  # 4 × 1.9 GB of declared zeros, as in the issue, in a few hundred bytes
    claiming_archive(path, {f"weights/fc{i}.weight": ((475_000_000,), "<f4") for i in range(4)})
    result = run_capped(
        f"from playground.model.project import open_file, ProjectError\n"
        f"try:\n    open_file({str(path)!r})\nexcept ProjectError as e:\n    print(e)"
    )
    assert result.returncode == 0, result.stderr
    assert "MAX_ARCHIVE_BYTES" in result.stdout


def test_real_members_over_the_budget_in_total_are_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(budgets, "MAX_ARCHIVE_BYTES", 1_000_000)
    arrays = project_arrays()
    arrays.update({f"metrics/padding{i}": np.zeros(100_000, np.float32) for i in range(4)})
    path = tmp_path / "p.npz"
    np.savez_compressed(path, **arrays)
    with pytest.raises(ProjectError, match="MAX_ARCHIVE_BYTES"):
        open_file(path)


def test_100000_tiny_entries_are_refused_before_they_are_listed(tmp_path):
    path = tmp_path / "tiny.npz"
    with zipfile.ZipFile(path, "w") as archive:
        for index in range(100_000):
            archive.writestr(f"m{index}.npy", b"")
    error = within(5, open_file, path)
    assert isinstance(error, ProjectError) and "100,000 entries" in str(error)
    assert "MAX_ARCHIVE_MEMBERS" in str(error)


@pytest.mark.parametrize(("entries", "comment"), [(0, b""), (3, b"a comment" * 1000), (0xFFFF + 10, b"")])
def test_the_entry_count_is_read_from_the_end_records_as_zipfile_reads_it(entries, comment):
    """Past 65,535 entries the count lives in the zip64 record, found through its locator."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for index in range(entries):
            archive.writestr(f"m{index}", b"")
        archive.comment = comment
    assert listed_entries(buffer) == len(zipfile.ZipFile(buffer).infolist()) == entries
    cut = buffer.getvalue()[: -(len(comment) + 10)]  # into the end record: ZipFile says what is wrong
    assert listed_entries(io.BytesIO(cut)) is None


def test_a_history_claiming_10_million_rows_is_refused_by_the_history_budget(tmp_path):
    n = 10_000_000
    path = tmp_path / "long.npz"
    arrays = project_arrays()
    claims = {
        "metrics/steps": ((n,), "<i8"),
        "metrics/epochs": ((n,), "<i4"),
        "metrics/losses": ((n,), "<f4"),
        "metrics/accuracies": ((n,), "<f4"),
        "metrics/layer_metrics": ((n, 0, 4), "<f4"),
    }
    claiming_archive(path, claims, extra=arrays)
    error = within(5, open_file, path)
    assert isinstance(error, ProjectError) and "MAX_HISTORY_ROWS" in str(error)


def test_a_long_history_is_downsampled_while_it_is_read(tmp_path):
    from playground.model.project import MetricHistory

    n = 600_000
    history = MetricHistory(["fc1"], max_steps=n + 1)
    history.append(np.arange(n), np.zeros(n), np.ones(n), np.ones(n), ["fc1"], np.ones((n, 1, 4)))
    project = small_project()
    project.history = history
    path = tmp_path / "long.npz"
    save_project(path, project)
    code = (
        f"import resource, time\nfrom playground.model.project import open_file\nstart = time.perf_counter()\n"
        f"h = open_file({str(path)!r}).history\n"
        f"print(len(h), h.stride, float(h.losses.mean()), round(time.perf_counter() - start, 2))"
    )
    result = run_capped(code)
    assert result.returncode == 0, result.stderr
    rows, stride, mean_loss, seconds = result.stdout.split()
    assert int(rows) <= 50_000 and int(stride) >= 16 and float(mean_loss) == 1.0
    assert float(seconds) < 5


def test_a_decreasing_step_across_chunks_is_refused(tmp_path):
    from playground.model.project import HISTORY_CHUNK_ROWS, read_project

    n = HISTORY_CHUNK_ROWS + 10
    steps = np.arange(n)
    steps[HISTORY_CHUNK_ROWS] = 0
    arrays = project_arrays()
    arrays.update(
        {
            "metrics/steps": steps,
            "metrics/epochs": np.zeros(n, np.int32),
            "metrics/losses": np.ones(n, np.float32),
            "metrics/accuracies": np.ones(n, np.float32),
            "metrics/layer_metrics": np.ones((n, 0, 4), np.float32),
        }
    )
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    with pytest.raises(ProjectError, match="must increase"):
        read_project(buffer.getvalue())


# --- weights files (--load-weights) --------------------------------------------------------------
def _mlp_state():
    from playground.model import build_network

    network = build_network(
        sequential_spec([4, 8, 2], activation="sigmoid", output="softmax", cost="log-likelihood", initializer="xavier")
    )
    network.initialize("xavier", 0)
    return network.state()


def test_weights_declaring_a_huge_shape_are_refused_before_reading(tmp_path):
    path = tmp_path / "w.npz"
    claiming_archive(path, {"fc1.weight": ((10**6, 10**6), "<f4")})
    with pytest.raises(WeightsError, match="MAX_ARCHIVE_BYTES"):
        read_weights(path)
    claiming_archive(path, {"fc1.weight": ((100_000, 100_000), "<f4")})  # 40 GB: over the budget too
    with pytest.raises(WeightsError, match="MAX_ARCHIVE_BYTES"):
        read_weights(path, _mlp_state())


def test_weights_of_the_wrong_shape_are_refused_from_their_headers(tmp_path, monkeypatch):
    monkeypatch.setattr(budgets, "MAX_ARCHIVE_BYTES", 10**13)  # the shape check comes before any data
    path = tmp_path / "w.npz"
    state = _mlp_state()
    claiming_archive(
        path, {key: (value.shape if key != "fc1.weight" else (1000, 1000_000), "<f4") for key, value in state.items()}
    )
    with pytest.raises(WeightsError, match=r'layer "fc1": "weight" has shape \[1000, 1000000\]'):
        read_weights(path, state)


def test_load_weights_in_the_cli_is_one_line_and_exit_2(tmp_path):
    path = tmp_path / "bomb.npz"
    claiming_archive(path, {f"fc1.weight{i}": ((475_000_000,), "<f4") for i in range(4)})
    result = run_capped(
        f"import sys\nfrom playground.cli import main\n"
        f"sys.exit(main(['train', 'toy-2d', '--epochs', '1', "
        f"'--load-weights', {str(path)!r}]))",
        timeout=120,
    )
    lines = [line for line in result.stderr.splitlines() if line.startswith("playground:")]
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1 and "MAX_ARCHIVE_BYTES" in lines[0] and "internal error" not in result.stderr


# --- IDX files ---------------------------------------------------------------------------------
def _idx_header(*shape: int) -> bytes:
    return bytes([0, 0, 0x08, len(shape)]) + b"".join(n.to_bytes(4, "big") for n in shape)


def test_a_gzipped_idx_claiming_7_6_million_images_is_refused_before_allocating(tmp_path):
    import gzip

    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(_idx_header(7_600_000, 28, 28) + bytes(1000)))
    result = run_capped(
        f"from pathlib import Path\nfrom playground.datasets.idx import read_idx\n"
        f"from playground.datasets import DatasetError\n"
        f"try:\n    read_idx(Path({str(path)!r}))\nexcept DatasetError as e:\n    print(e)"
    )
    assert result.returncode == 0, result.stderr
    assert "MAX_EXAMPLES" in result.stdout and "7,600,000" in result.stdout


def test_a_gzip_inflating_to_6_gb_behind_a_10_image_header_stops_at_the_header(tmp_path):
    import gzip

    from playground.datasets.idx import read_idx

    zeros = gzip.compress(bytes(64 * 1024**2))  # concatenated gzip members: 96 × 64 MB = 6 GB inflated
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(_idx_header(10, 28, 28) + bytes(10 * 28 * 28)) + zeros * 96)
    started = time.perf_counter()
    with pytest.raises(DatasetError, match="more data follows the 7,840 bytes"):
        read_idx(path)
    assert time.perf_counter() - started < 2


def test_a_fifo_idx_file_is_refused(tmp_path):
    from playground.datasets.idx import read_idx

    os.mkfifo(tmp_path / "train-images-idx3-ubyte")
    error = within(5, read_idx, tmp_path / "train-images-idx3-ubyte")
    assert isinstance(error, DatasetError) and "named pipe" in str(error)


# --- CSV, sentence pairs, ratings --------------------------------------------------------------------
def _numbers_csv(path: Path, rows: int, delimiter: str = ",", bad_column: int | None = None) -> Path:
    values = np.random.default_rng(0).random((rows, 19)).round(4)
    lines = [delimiter.join(f"x{i}" for i in range(19)) + f"{delimiter}label"]
    for index, row in enumerate(values):
        fields = [str(v) for v in row] + [str(index % 10)]
        if bad_column is not None:
            fields[bad_column] = "oops"
        lines.append(delimiter.join(fields))
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_large_csv_loads_through_the_c_parser_in_bounded_memory(tmp_path):
    path = _numbers_csv(tmp_path / "big.csv", 200_000)
    code = (
        f"import resource, time\nfrom playground.datasets.csv_import import load_csv\n"
        f"before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024\nstart = time.perf_counter()\n"
        f"d = load_csv(data_file={str(path)!r}, label_column='label')\n"
        f"grew = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - before\n"
        f"arrays = sum(a.nbytes for a in (d.x_train, d.x_val, d.y_train, d.y_val))\n"
        f"print(len(d.x_train) + len(d.x_val), grew / arrays, time.perf_counter() - start)"
    )
    result = run_capped(code)
    assert result.returncode == 0, result.stderr
    rows, ratio, seconds = result.stdout.split()
    assert int(rows) == 200_000 and float(ratio) < 3 and float(seconds) < 5


def test_a_semicolon_csv_is_read_and_the_message_says_so(tmp_path):
    from playground.datasets.csv_import import load_csv

    path = _numbers_csv(tmp_path / "semi.csv", 20, delimiter=";")
    data = load_csv(data_file=path, label_column="label")
    assert data.x_train.shape[1] == 19 and "semicolons" in data.source
    with pytest.raises(DatasetError, match=r'"x0", .* "label" \(separated by semicolons\)'):
        load_csv(data_file=path, label_column="nope")
    tabs = tmp_path / "tabs.tsv"
    tabs.write_text("a\tb\tc\n1\t2\tx\n3\t4\ty\n")
    assert load_csv(data_file=tabs, label_column="c").class_names == ["x", "y"]


def test_a_csv_whose_every_line_is_bad_lists_ten_and_counts_the_rest(tmp_path):
    from playground.datasets.csv_import import load_csv

    path = _numbers_csv(tmp_path / "bad.csv", 5_000, bad_column=2)
    with pytest.raises(DatasetError) as error:
        load_csv(data_file=path, label_column="label")
    message = str(error.value)
    assert message.count("line ") == budgets.MAX_REPORTED_PROBLEMS and message.endswith("and 4,990 more")
    assert "\n" not in message


def test_csv_rows_and_columns_over_their_budgets_are_refused(tmp_path, monkeypatch):
    from playground.datasets.csv_import import load_csv

    path = _numbers_csv(tmp_path / "rows.csv", 50)
    monkeypatch.setattr(budgets, "MAX_EXAMPLES", 20)
    with pytest.raises(DatasetError, match="at least 21 rows, more than the budget MAX_EXAMPLES = 20"):
        load_csv(data_file=path, label_column="label")
    monkeypatch.setattr(budgets, "MAX_CSV_COLUMNS", 5)
    with pytest.raises(DatasetError, match="19 feature columns, more than the budget MAX_CSV_COLUMNS = 5"):
        load_csv(data_file=path, label_column="label")
    monkeypatch.setattr(budgets, "MAX_CSV_BYTES", 100)
    with pytest.raises(DatasetError, match="MAX_CSV_BYTES"):
        load_csv(data_file=path, label_column="label")


def test_pairs_over_their_budget_are_refused_while_reading(tmp_path, monkeypatch):
    from playground.datasets.sequences import load_pairs_tsv

    path = tmp_path / "pairs.tsv"
    path.write_text("".join(f"a{i}\tb{i}\n" for i in range(30)))
    monkeypatch.setattr(budgets, "MAX_PAIRS", 10)
    with pytest.raises(DatasetError, match="at least 11 pairs, more than the budget MAX_PAIRS = 10"):
        load_pairs_tsv(path)
    monkeypatch.setattr(budgets, "MAX_PAIRS_FILE_BYTES", 10)
    with pytest.raises(DatasetError, match="MAX_PAIRS_FILE_BYTES"):
        load_pairs_tsv(path)


@pytest.mark.parametrize("reader", ["csv", "pairs", "ratings"])
def test_a_fifo_data_file_is_refused(tmp_path, reader):
    from playground.datasets.csv_import import load_csv
    from playground.datasets.ratings import load_ratings_csv
    from playground.datasets.sequences import load_pairs_tsv

    fifo = tmp_path / "data.csv"
    os.mkfifo(fifo)
    call = {
        "csv": lambda: load_csv(data_file=fifo, label_column="y"),
        "pairs": lambda: load_pairs_tsv(fifo),
        "ratings": lambda: load_ratings_csv(fifo),
    }[reader]
    error = within(5, call)
    assert isinstance(error, DatasetError) and "named pipe" in str(error)
