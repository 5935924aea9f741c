"""Building the engine's objects from a valid description: a ``Network`` for one chain of
layers, an ``EncoderDecoder`` for two chains joined by a state connection."""

from __future__ import annotations

import numpy as np

from ..engine.encoder_decoder import EncoderDecoder
from ..engine.network import Network
from .analysis import analyse
from .spec import NetworkFileError, NetworkSpec


def initialise(network, spec: NetworkSpec) -> None:
    """Draw ``network``'s weights as ``spec`` asks: its initialiser and seed, then the starting values
    a lesson's variant fixes (``spec.starting_parameters``, checked when the variant was made)."""
    network.initialize(spec.training.initializer, spec.training.seed)
    if spec.starting_parameters:
        network.load_state(spec.starting_parameters)


def build_network(spec: NetworkSpec, dtype=np.float32) -> Network | EncoderDecoder:
    """The engine's network for a valid spec; raises NetworkFileError naming the first problem.

    A spec with a state connection is an encoder-decoder (see ``build_encoder_decoder``): it
    shares Network's parameter protocol (initialize, state, slots) but trains on sentence pairs.
    """
    if spec.state_edges:
        return build_encoder_decoder(spec, dtype)
    analysis = analyse(spec)
    if analysis.problems:
        raise NetworkFileError(analysis.problems[0].message)
    nodes = [spec.node(node_id) for node_id in analysis.order]
    return Network.from_specs(
        [(n.id, n.type, n.config) for n in nodes], analysis.output_shapes[nodes[0].id], spec.training.cost, dtype
    )


def build_encoder_decoder(spec: NetworkSpec, dtype=np.float32) -> EncoderDecoder:
    """The engine's encoder-decoder for a valid spec; raises NetworkFileError naming the first problem."""
    if not spec.state_edges:
        raise NetworkFileError(
            "not an encoder-decoder: connect the encoder's recurrent layer to the decoder's with a state connection"
        )
    analysis = analyse(spec)
    if analysis.problems:
        raise NetworkFileError(analysis.problems[0].message)
    split = analysis.order.index(spec.state_edges[0][0]) + 1
    encoder, decoder = (
        [spec.node(node_id) for node_id in ids] for ids in (analysis.order[:split], analysis.order[split:])
    )
    return EncoderDecoder.from_specs(
        [(n.id, n.type, n.config) for n in encoder],
        [(n.id, n.type, n.config) for n in decoder],
        analysis.output_shapes[encoder[0].id],
        analysis.output_shapes[decoder[0].id],
        dtype,
    )
