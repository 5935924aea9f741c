"""Project files: one .npz with the network, weights and metric history; hostile files refused."""

import io
import json
import zipfile

import numpy as np
import pytest

from playground.model import build_network, save_spec, spec_to_dict
from playground.model.project import (
    EpochSummary,
    MetricHistory,
    Project,
    ProjectError,
    load_project,
    open_file,
    project_bytes,
    read_project,
    save_project,
)
from playground.training.lessons import load_lesson


def _trained_project(steps: int = 50) -> Project:
    spec = load_lesson("toy-2d")
    network = build_network(spec)
    network.initialize(spec.training.initializer, 3)
    history = MetricHistory()
    rng = np.random.default_rng(0)
    ids = [layer.id for layer in network.trainable]
    history.append(
        np.arange(steps),
        np.ones(steps, np.int32),
        rng.random(steps),
        rng.random(steps),
        ids,
        rng.random((steps, len(ids), 4)),
    )
    history.add_epoch(EpochSummary(1, steps, 0.5, 0.6, 0.8, None, 1.5, 1000.0))
    return Project(spec, network.copy_state(), history)


def _npz(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _json(value) -> np.ndarray:
    return np.frombuffer(json.dumps(value).encode(), np.uint8)


def test_round_trip_keeps_network_weights_and_history(tmp_path):
    project = _trained_project()
    path = tmp_path / "run.npz"
    save_project(path, project)
    loaded = load_project(path)
    assert spec_to_dict(loaded.spec) == spec_to_dict(project.spec)
    assert loaded.weights.keys() == project.weights.keys()
    for key, value in project.weights.items():
        np.testing.assert_array_equal(loaded.weights[key], value)
    h, g = project.history, loaded.history
    np.testing.assert_array_equal(g.steps, h.steps)
    np.testing.assert_allclose(g.losses, h.losses)
    np.testing.assert_allclose(g.layer_metrics, h.layer_metrics)
    assert g.layer_ids == h.layer_ids
    assert g.epochs == h.epochs


def test_project_without_weights_or_history(tmp_path):
    spec = load_lesson("vanishing-gradients")
    save_project(tmp_path / "p.npz", Project(spec))
    loaded = load_project(tmp_path / "p.npz")
    assert loaded.weights is None and loaded.history is None
    assert loaded.spec.lesson["title"] == spec.lesson["title"]


def test_open_file_reads_plain_network_json(tmp_path):
    spec = load_lesson("toy-2d")
    save_spec(spec, tmp_path / "net.json")
    assert open_file(tmp_path / "net.json").spec.name == "toy-2d"
    (tmp_path / "bad.json").write_text("{nope")
    with pytest.raises(ProjectError, match="not valid JSON"):
        open_file(tmp_path / "bad.json")


def test_object_array_is_refused_without_unpickling(tmp_path):
    good = dict(np.load(io.BytesIO(project_bytes(_trained_project())), allow_pickle=False))
    good["weights/fc1.bias"] = np.array([object(), 1], dtype=object)
    path = tmp_path / "hostile.npz"
    path.write_bytes(_npz(**good))
    with pytest.raises(ProjectError, match="Python objects"):
        load_project(path)


@pytest.mark.parametrize(
    "data, message",
    [
        (b"not a zip at all", "not an .npz"),
        (_npz(a=np.zeros(3)), 'no "header"'),
        (_npz(header=_json({"format": "other"}), network=_json({})), "not a playground project"),
        (
            _npz(header=_json({"format": "playground-project", "format_version": 99}), network=_json({})),
            "format_version 99",
        ),
        (
            _npz(header=_json({"format": "playground-project", "format_version": 1}), network=_json({"nodes": 3})),
            '"nodes" must be a non-empty list',
        ),
        (_npz(header=np.zeros(4, np.float64), network=_json({})), "UTF-8 JSON"),
        (
            _npz(header=_json({"format": "playground-project", "format_version": 1}), network=_json([1, 2])),
            "must hold a JSON object",
        ),
    ],
)
def test_malformed_files_give_one_clear_error(tmp_path, data, message):
    path = tmp_path / "bad.npz"
    path.write_bytes(data)
    with pytest.raises(ProjectError, match=message):
        load_project(path)


def test_weights_that_do_not_fit_name_the_layer():
    arrays = dict(np.load(io.BytesIO(project_bytes(_trained_project())), allow_pickle=False))
    arrays["weights/fc2.weight"] = np.zeros((3, 3), np.float32)
    with pytest.raises(ProjectError, match='layer "fc2"'):
        read_project(_npz(**arrays))
    arrays = dict(np.load(io.BytesIO(project_bytes(_trained_project())), allow_pickle=False))
    arrays["weights/fc1.bias"] = np.full(8, np.nan, np.float32)
    with pytest.raises(ProjectError, match="finite"):
        read_project(_npz(**arrays))


def test_inconsistent_metrics_are_refused():
    arrays = dict(np.load(io.BytesIO(project_bytes(_trained_project())), allow_pickle=False))
    arrays["metrics/losses"] = np.zeros(7, np.float32)
    with pytest.raises(ProjectError, match="metrics/losses"):
        read_project(_npz(**arrays))
    arrays = dict(np.load(io.BytesIO(project_bytes(_trained_project())), allow_pickle=False))
    del arrays["metrics/steps"]
    with pytest.raises(ProjectError, match="incomplete"):
        read_project(_npz(**arrays))


def test_huge_declared_shape_is_refused_before_reading():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        header = io.BytesIO()
        np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (10**6, 10**6)})
        archive.writestr("weights/fc1.weight.npy", header.getvalue())
    with pytest.raises(ProjectError, match="MAX_ARCHIVE_BYTES"):
        read_project(buffer.getvalue())


def test_missing_file_and_directory():
    with pytest.raises(ProjectError, match="no such file"):
        load_project("/nonexistent/p.npz")


def test_history_halves_past_its_limit_and_keeps_shape():
    history = MetricHistory(max_steps=100)
    n = 250
    losses = np.linspace(1.0, 0.0, n)
    history.append(np.arange(n), np.ones(n), losses, np.zeros(n), ["a"], np.ones((n, 1, 4)))
    assert len(history) <= 100 and history.stride >= 2
    assert np.all(np.diff(history.steps) > 0)
    assert history.losses[0] == pytest.approx(1.0, abs=0.05) and history.losses[-1] == pytest.approx(0.0, abs=0.05)
    copy = history.copy()
    np.testing.assert_array_equal(copy.steps, history.steps)
    with pytest.raises(ValueError, match="layers changed"):
        history.append(np.arange(300, 301), [1], [0.0], [0.0], ["b"], np.ones((1, 1, 4)))


def test_history_groups_new_rows_at_its_stride():
    history = MetricHistory(max_steps=64)
    for start in range(0, 1000, 7):  # chunks of odd sizes, as the trainer yields them
        n = min(7, 1000 - start)
        steps = np.arange(start, start + n)
        history.append(steps, np.ones(n), steps.astype(float), np.zeros(n), ["a"], np.ones((n, 1, 4)))
    assert len(history) <= 64 and history.stride >= 16
    assert history.last_step == 999
    assert np.all(np.diff(history.steps) > 0)
    # each row is the mean of the mini-batches it stands for: the loss (= step here) tracks the step
    assert np.all(np.abs(history.losses - history.steps) <= history.stride)
