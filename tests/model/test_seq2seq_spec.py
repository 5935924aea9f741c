"""Encoder-decoder specs: the state connection in files, its validation, shapes, weights and gradients."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from playground.engine.encoder_decoder import EncoderDecoder
from playground.engine.layers import layer_class
from playground.model import (
    NetworkFileError,
    Node,
    analyse,
    build_network,
    encoder_decoder_spec,
    load_spec,
    load_weights_into,
    save_spec,
    save_weights,
    spec_from_dict,
    spec_to_dict,
)
from playground.training.lessons import LESSONS


def small_spec(**changes) -> object:
    settings = dict(source_vocabulary=7, target_vocabulary=6, source_length=5, target_length=4, hidden=8, dimension=3)
    return encoder_decoder_spec(**{**settings, **changes})


def replace_node(spec, node_id, type_id=None, **config):
    node = spec.node(node_id)
    type_id = type_id or node.type
    base = node.config if type_id == node.type else layer_class(type_id).Config()
    spec.nodes = [
        Node(node_id, type_id, dataclasses.replace(base, **config)) if n.id == node_id else n for n in spec.nodes
    ]
    return spec


def messages(spec) -> list[str]:
    return [problem.message for problem in analyse(spec).problems]


def test_the_state_connection_is_kept_apart_from_plain_edges(tmp_path):
    spec = small_spec()
    save_spec(spec, tmp_path / "s2s.json")
    raw = json.loads((tmp_path / "s2s.json").read_text(encoding="utf-8"))
    assert {"from": "encoder", "to": "decoder", "kind": "state"} in raw["edges"]
    assert all("kind" not in edge for edge in raw["edges"] if edge["to"] != "decoder" or edge["from"] != "encoder")
    loaded = load_spec(tmp_path / "s2s.json")
    assert loaded.state_edges == [("encoder", "decoder")]
    assert ("encoder", "decoder") not in loaded.edges  # the canvas's plain edges never include it
    assert spec_to_dict(loaded) == spec_to_dict(spec)


def test_an_unknown_edge_kind_is_refused():
    data = spec_to_dict(small_spec())
    data["edges"][-1]["kind"] = "attention"
    with pytest.raises(NetworkFileError, match=r"edges\[5\]: unknown kind 'attention'"):
        spec_from_dict(data)


def test_shapes_of_both_chains():
    analysis = analyse(small_spec())
    assert analysis.ok, analysis.problems
    assert analysis.order == ["source", "source_embedding", "encoder", "target", "target_embedding", "decoder", "words"]
    assert analysis.output_shapes["encoder"] == (8,)
    assert analysis.output_shapes["decoder"] == (4, 8) and analysis.output_shapes["words"] == (4, 6)
    assert analysis.parameter_counts["encoder"] == 4 * 8 * (3 + 8 + 2)


@pytest.mark.parametrize(
    "change, expected",
    [
        (
            lambda s: setattr(s, "state_edges", [("source_embedding", "decoder")]),
            'layer "source_embedding": a state connection joins two recurrent layers '
            "(SimpleRNN or LSTM), not a embedding",
        ),
        (
            lambda s: replace_node(s, "decoder", hidden=16),
            'layer "decoder": its hidden size 16 differs from the 8 of the encoder "encoder"',
        ),
        (
            lambda s: replace_node(s, "decoder", "simple_rnn", hidden=8, return_sequences="yes"),
            'layer "decoder": the state connection brings a lstm state (h, c) from "encoder", but a simple_rnn starts '
            "from (h)",
        ),
        (
            lambda s: replace_node(s, "decoder", return_sequences="no"),
            'layer "decoder": the decoder must output h_t at every step',
        ),
        (
            lambda s: replace_node(s, "words", activation="sigmoid"),
            'layer "words": the decoder predicts tokens: it needs a softmax output',
        ),
        (
            lambda s: setattr(s, "state_edges", [("encoder", "decoder"), ("encoder", "decoder")]),
            'layer "decoder": a network has one state connection',
        ),
        (
            lambda s: setattr(s, "state_edges", [("decoder", "encoder")]),
            'layer "words": comes after the encoder "decoder"',
        ),
        (
            lambda s: (
                setattr(s, "nodes", [n for n in s.nodes if n.id != "target"])
                or setattr(s, "edges", [e for e in s.edges if e[0] != "target"])
            ),
            "an encoder-decoder needs two input layers, one for the source tokens and one for the decoder's target "
            "tokens, not 1",
        ),
    ],
)
def test_state_connection_problems_say_why(change, expected):
    spec = small_spec()
    change(spec)
    found = messages(spec)
    assert any(message.startswith(expected) for message in found), found


def test_a_state_connection_within_one_chain_is_refused():
    spec = small_spec()
    spec = replace_node(spec, "encoder", return_sequences="yes")
    spec.nodes.append(Node("encoder2", "lstm", layer_class("lstm").Config(hidden=8)))
    spec.edges.append(("encoder", "encoder2"))
    spec.state_edges = [("encoder", "encoder2")]
    assert any("joins two chains" in message for message in messages(spec))


def test_preset_and_weights_make_the_round_trip(tmp_path):
    spec = load_spec(LESSONS / "translate-numbers.json")
    assert spec.state_edges == [("encoder", "decoder")] and analyse(spec).ok
    model = build_network(spec)
    assert isinstance(model, EncoderDecoder)
    model.initialize(spec.training.initializer, 1)
    save_spec(spec, tmp_path / "net.json")
    save_weights(tmp_path / "net.npz", model.state())
    again = build_network(load_spec(tmp_path / "net.json"))
    again.initialize(spec.training.initializer, 2)
    load_weights_into(again, tmp_path / "net.npz")
    assert set(again.state()) == set(model.state())
    assert again.state()["encoder.weight_ih"].shape == (4 * 128, 64)  # torch.nn.LSTM's layout
    for key, value in model.state().items():
        np.testing.assert_array_equal(again.state()[key], value)
    source = np.array([[5, 6, 7, 0, 0, 0, 0, 0, 0]], np.int32)
    lengths = np.array([3])
    np.testing.assert_array_equal(again.encode(source, lengths)[1], model.encode(source, lengths)[1])


def _loss(model, batch) -> float:
    return model.loss_and_gradients(*batch)[0]


@pytest.mark.parametrize("cell", ["lstm", "simple_rnn"])
def test_gradient_crosses_the_state_connection(cell):
    """Finite differences in float64 through both chains: the encoder learns only via the decoder's error."""
    spec = small_spec(cell=cell)
    model = build_network(spec, dtype=np.float64)
    model.initialize("xavier", 3)
    rng = np.random.default_rng(0)
    lengths = np.array([5, 2, 4])
    source = rng.integers(4, 7, size=(3, 5)).astype(np.int32)
    source[1, 2:] = 0
    source[2, 4:] = 0
    target = np.array([[4, 5, 2, 0], [5, 2, 0, 0], [4, 4, 5, 2]], np.int32)
    decoder_input = np.array([[1, 4, 5, 0], [1, 5, 0, 0], [1, 4, 4, 5]], np.int32)
    batch = (source, lengths, decoder_input, target)
    _loss(model, batch)
    grads = {f"{layer.id}.{name}": layer.grads[name].copy() for layer in model.trainable for name in layer.grads}
    state = model.state()
    for key in (
        "source_embedding.weight",
        "encoder.weight_ih",
        "encoder.weight_hh",
        "encoder.bias_hh",
        "decoder.weight_hh",
        "words.weight",
    ):
        param = state[key].reshape(-1)
        for index in rng.choice(param.size, size=4, replace=False):
            saved = param[index]
            param[index] = saved + 1e-6
            up = _loss(model, batch)
            param[index] = saved - 1e-6
            down = _loss(model, batch)
            param[index] = saved
            numeric = (up - down) / 2e-6
            assert abs(numeric - grads[key].reshape(-1)[index]) < 1e-6 + 1e-5 * abs(numeric), (key, index)
    assert np.abs(grads["encoder.weight_ih"]).max() > 0
    # padding after a source's last token must not matter: only the valid steps feed the state
    padded = source.copy()
    padded[1, 2:] = 6
    assert _loss(model, (padded, lengths, decoder_input, target)) == pytest.approx(_loss(model, batch), abs=1e-12)
