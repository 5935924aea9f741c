"""Weights files: PyTorch layouts, strict shapes, and no pickle."""

from __future__ import annotations

import numpy as np
import pytest

from playground.model import WeightsError, build_network, load_weights_into, read_weights, save_weights, sequential_spec


def network(sizes=(4, 3, 2)):
    spec = sequential_spec(
        list(sizes), activation="sigmoid", output="softmax", cost="log-likelihood", initializer="xavier"
    )
    net = build_network(spec)
    net.initialize("xavier", 0)
    return net


def test_round_trip_with_pytorch_layouts(tmp_path):
    net = network()
    save_weights(tmp_path / "w.npz", net.state())
    stored = read_weights(tmp_path / "w.npz")
    assert stored["fc1.weight"].shape == (3, 4) and stored["fc1.bias"].shape == (3,)
    other = network()
    other.initialize("xavier", 99)
    load_weights_into(other, tmp_path / "w.npz")
    for key, value in net.state().items():
        np.testing.assert_array_equal(other.state()[key], value)


def test_a_shape_mismatch_names_the_layer_and_both_shapes(tmp_path):
    save_weights(tmp_path / "w.npz", network((4, 5, 2)).state())
    target = network()
    before = target.copy_state()
    with pytest.raises(
        WeightsError,
        match=r'layer "fc1": "weight" has shape \[5, 4\] in the file but the network '
        r"needs \[3, 4\]",
    ):
        load_weights_into(target, tmp_path / "w.npz")
    assert all(np.array_equal(before[k], v) for k, v in target.state().items())  # nothing was changed


def test_missing_and_unexpected_keys(tmp_path):
    state = network().copy_state()
    del state["out.bias"]
    save_weights(tmp_path / "w.npz", state)
    with pytest.raises(WeightsError, match='layer "out": the file has no "bias"'):
        load_weights_into(network(), tmp_path / "w.npz")
    state = network().copy_state()
    state["fc9.weight"] = np.zeros(2)
    save_weights(tmp_path / "w.npz", state)
    with pytest.raises(WeightsError, match='layer "fc9": the network has no parameter'):
        load_weights_into(network(), tmp_path / "w.npz")


def test_pickled_objects_are_refused(tmp_path):
    path = tmp_path / "hostile.npz"
    np.savez(path, **{"fc1.weight": np.array([{"evil": 1}], dtype=object)})
    with pytest.raises(WeightsError, match="holds Python objects"):
        load_weights_into(network(), path)


@pytest.mark.parametrize("content", [b"", b"not a zip at all", b"PK\x03\x04truncated"])
def test_garbage_is_refused_with_one_message(tmp_path, content):
    path = tmp_path / "w.npz"
    path.write_bytes(content)
    with pytest.raises(WeightsError):
        read_weights(path)


def test_nonfinite_weights_are_refused(tmp_path):
    state = network().copy_state()
    state["fc1.weight"][0, 0] = np.nan
    save_weights(tmp_path / "w.npz", state)
    with pytest.raises(WeightsError, match='layer "fc1": "weight" must hold finite'):
        load_weights_into(network(), tmp_path / "w.npz")
