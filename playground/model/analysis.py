"""Graph analysis and shape inference: the feed-forward order of the layers, each layer's shapes
and parameter count, and every reason the network cannot train.

``analyse`` never raises, so the window can mark every problem on the canvas while the learner
edits; what each kind of network must additionally satisfy is in ``rules``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..budgets import MAX_PARAMETERS, parameter_budget_message
from ..engine.layers import ShapeError, layer_class
from .rules import chain_output_problems, decoder_problems, rbm_stack_problems, state_edge_problems
from .spec import NetworkFileError, NetworkSpec, Problem, layer_prefix


@dataclass
class Analysis:
    """What shape inference found: the feed-forward order, each node's shapes and parameter
    count, and the problems.  The window draws all of it live; training needs no problems."""

    order: list[str]
    input_shapes: dict[str, tuple[int, ...]]
    output_shapes: dict[str, tuple[int, ...]]
    parameter_counts: dict[str, int]
    problems: list[Problem]
    #: for layers with shared weights (convolutions): the parameters a Dense layer with the same
    #: input and output sizes would need, so the canvas can show "520 (vs 9,043,200 for a dense layer)"
    dense_equivalent_counts: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


def _adjacency(spec: NetworkSpec, problems: list[Problem]) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Each layer's incoming and outgoing plain edges; a layer with two inputs or two outputs is a problem."""
    ids = [node.id for node in spec.nodes]
    incoming: dict[str, list[str]] = {node_id: [] for node_id in ids}
    outgoing: dict[str, list[str]] = {node_id: [] for node_id in ids}
    for source, target in spec.edges:
        outgoing[source].append(target)
        incoming[target].append(source)
    for node_id in ids:
        if len(incoming[node_id]) > 1:
            problems.append(
                Problem(
                    node_id,
                    layer_prefix(node_id) + f"has {len(incoming[node_id])} inputs "
                    f"({', '.join(incoming[node_id])}); a layer takes exactly one",
                    (incoming[node_id][1], node_id),
                )
            )
        if len(outgoing[node_id]) > 1:
            problems.append(
                Problem(
                    node_id,
                    layer_prefix(node_id) + f"feeds {len(outgoing[node_id])} layers "
                    f"({', '.join(outgoing[node_id])}); branching is not supported",
                    (node_id, outgoing[node_id][1]),
                )
            )
    return incoming, outgoing


def _follow_chain(start: str, incoming, outgoing, problems: list[Problem]) -> list[str]:
    """The layers from the input layer ``start`` along its edges, stopping at a cycle."""
    if incoming[start]:
        problems.append(
            Problem(start, layer_prefix(start) + "an input layer cannot have an input", (incoming[start][0], start))
        )
    order = [start]
    seen = {start}
    while outgoing[order[-1]]:
        following = outgoing[order[-1]][0]
        if following in seen:
            problems.append(Problem(following, layer_prefix(following) + "is part of a cycle", (order[-1], following)))
            break
        order.append(following)
        seen.add(following)
    return order


def _unconnected_problems(spec: NetworkSpec, reached: list[str], problems: list[Problem], what: str) -> None:
    """A problem for each layer off the chains that has none yet; sets, so it stays linear."""
    reached_ids = set(reached)
    blamed = {problem.node for problem in problems}
    for node in spec.nodes:
        if node.id not in reached_ids and node.id not in blamed:
            problems.append(Problem(node.id, layer_prefix(node.id) + f"is not connected to {what}"))


def _chain_order(spec: NetworkSpec, problems: list[Problem]) -> list[str]:
    """Nodes in feed-forward order, following edges from the single input node."""
    inputs = [node.id for node in spec.nodes if node.type == "input"]
    if not inputs:
        problems.append(Problem(None, "the network has no input layer"))
        return []
    if len(inputs) > 1:
        problems.append(
            Problem(inputs[1], layer_prefix(inputs[1]) + f'a second input layer (the first is "{inputs[0]}")')
        )
        return []
    incoming, outgoing = _adjacency(spec, problems)
    order = _follow_chain(inputs[0], incoming, outgoing, problems)
    _unconnected_problems(spec, order, problems, "the input")
    return order


def _infer_chain_shapes(spec: NetworkSpec, order: list[str], analysis: Analysis) -> None:
    """Each layer's input and output shape and parameter count along one chain, into ``analysis``;
    the first layer that cannot take its input adds a problem and ends the chain there."""
    shape: tuple[int, ...] = ()
    previous = None
    for node_id in order:
        node = spec.node(node_id)
        cls = layer_class(node.type)
        try:
            analysis.input_shapes[node_id] = shape
            out = cls.infer_output_shape(node.config, shape)
            analysis.parameter_counts[node_id] = cls.parameter_count(node.config, shape)
            equivalent = cls.dense_equivalent_count(node.config, shape)
            if equivalent is not None:
                analysis.dense_equivalent_counts[node_id] = equivalent
        except ShapeError as error:
            analysis.problems.append(
                Problem(node_id, layer_prefix(node_id) + str(error), (previous, node_id) if previous else None)
            )
            return
        analysis.output_shapes[node_id] = shape = tuple(out)
        previous = node_id


def _parameter_budget_problems(analysis: Analysis) -> list[Problem]:
    """A network too large for this machine, blamed on its largest layer (see ``budgets``)."""
    total = sum(analysis.parameter_counts.values())
    if total <= MAX_PARAMETERS:
        return []
    largest = max(analysis.parameter_counts, key=analysis.parameter_counts.get)
    return [Problem(largest, layer_prefix(largest) + parameter_budget_message(total))]


def analyse(spec: NetworkSpec) -> Analysis:
    """Shape inference and validation; never raises, so the window can show every problem."""
    if spec.state_edges:
        return analyse_encoder_decoder(spec)
    problems: list[Problem] = []
    order = _chain_order(spec, problems)
    analysis = Analysis(order, {}, {}, {}, problems)
    _infer_chain_shapes(spec, order, analysis)
    problems.extend(_parameter_budget_problems(analysis))
    if not problems and order:
        problems.extend(rbm_stack_problems(spec, order))
    if not problems and order:
        problems.extend(chain_output_problems(spec, order))
    return analysis


def parameter_arrays(spec: NetworkSpec, dtype=np.float32) -> dict[str, np.ndarray]:
    """Zeroed arrays of every parameter the network's layers hold, keyed as in a weights file.

    What a weights file for this network must contain, found from shape inference alone:
    a stack of RBMs without an output layer is not a network the feed-forward engine can
    build, yet its weights are checked like any other's.
    """
    analysis = analyse(spec)
    if analysis.problems:
        raise NetworkFileError(analysis.problems[0].message)
    arrays = {}
    for node_id in analysis.order:
        node = spec.node(node_id)
        shapes = layer_class(node.type).parameter_shapes(node.config, analysis.input_shapes[node_id])
        arrays.update({f"{node_id}.{name}": np.zeros(shape, dtype) for name, shape in shapes.items()})
    return arrays


# --- encoder-decoders: two chains joined by a state connection ----------------------------
def _encoder_decoder_chains(spec: NetworkSpec, problems: list[Problem]) -> tuple[list[str], list[str]]:
    """The encoder's chain (input … the state connection's source) and the decoder's (input … output)."""
    source, target = spec.state_edges[0]
    inputs = [node.id for node in spec.nodes if node.type == "input"]
    if len(inputs) != 2:
        problems.append(
            Problem(
                inputs[2] if len(inputs) > 2 else None,
                "an encoder-decoder needs two input layers, one for the source tokens and one for "
                f"the decoder's target tokens, not {len(inputs)}",
            )
        )
        return [], []
    incoming, outgoing = _adjacency(spec, problems)
    chains = [_follow_chain(start, incoming, outgoing, problems) for start in inputs]
    _unconnected_problems(spec, chains[0] + chains[1], problems, "an input")
    encoders = [chain for chain in chains if source in chain]
    decoders = [chain for chain in chains if target in chain]
    if not encoders or not decoders:
        return [], []
    encoder, decoder = encoders[0], decoders[0]
    if encoder is decoder:
        problems.append(
            Problem(
                target,
                layer_prefix(target) + "a state connection joins two chains, the encoder's "
                "and the decoder's, each starting at its own input layer",
                (source, target),
            )
        )
        return [], []
    after = encoder.index(source) + 1
    if after < len(encoder):
        problems.append(
            Problem(
                encoder[after],
                layer_prefix(encoder[after]) + f'comes after the encoder "{source}", '
                "whose final state is all the decoder receives: remove it",
                (source, encoder[after]),
            )
        )
    return encoder[:after], decoder


def analyse_encoder_decoder(spec: NetworkSpec) -> Analysis:
    """Validation and shape inference of an encoder-decoder; ``order`` is the encoder's chain, then the decoder's."""
    problems = state_edge_problems(spec)
    encoder, decoder = _encoder_decoder_chains(spec, problems)
    analysis = Analysis(encoder + decoder, {}, {}, {}, problems)
    if encoder and decoder:
        _infer_chain_shapes(spec, encoder, analysis)
        _infer_chain_shapes(spec, decoder, analysis)
        problems.extend(_parameter_budget_problems(analysis))
    if not problems and encoder and decoder:
        problems.extend(decoder_problems(spec, decoder, analysis.output_shapes))
    return analysis
