"""Network files: a versioned JSON description of layers (nodes), their connections
(edges), how to train them, and where the window drew them.

Meaning and layout are kept apart: ``nodes``, ``edges`` and ``training`` say what the
network is; ``ui`` holds canvas positions that training never reads.  Loading is strict
and every error names the layer and the reason, because a learner who mistypes a value
must be told where, not shown a traceback.

    {"format": "playground-network", "format_version": 1,
     "nodes": [{"id": "in", "type": "input", "version": 1, "config": {"shape": [784]}}, ...],
     "edges": [{"from": "in", "to": "fc1"}, ...],
     "training": {..., "dataset": {"name": "mnist"}, "augmentation": {"shift": 2}},
     "ui": {"positions": {"in": [0, 0]}},
     "lesson": {"title": ..., "what_to_do": ..., "what_to_watch": ..., "why": ...}}
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..budgets import MAX_PARAMETERS, parameter_budget_message
from ..engine.config import ConfigError, config_from_dict, config_to_dict
from ..engine.costs import check_cost_fits
from ..engine.layers import LAYER_TYPES, ShapeError, layer_class
from ..engine.encoder_decoder import EncoderDecoder
from ..engine.layers.recurrent_base import RecurrentLayer
from ..engine.network import Network
from .files import atomic_write_text
from .settings import (AugmentationSettings, DatasetSettings, PretrainingSettings, TrainingSettings,
                       augmentation_from_dict, augmentation_to_dict, pretraining_from_dict, training_from_dict,
                       training_to_dict)

FORMAT = "playground-network"
FORMAT_VERSION = 1


class NetworkFileError(ValueError):
    """A network file or description that cannot be used; the message says where and why."""


@dataclass
class Node:
    id: str
    type: str
    config: object

    @property
    def version(self) -> int:
        return layer_class(self.type).version


@dataclass
class NetworkSpec:
    nodes: list[Node]
    edges: list[tuple[str, str]]
    training: TrainingSettings = field(default_factory=TrainingSettings)
    dataset: DatasetSettings = field(default_factory=DatasetSettings)
    ui: dict = field(default_factory=dict)
    name: str = ""
    lesson: dict | None = None
    #: fabricated training examples; written to the file only when switched on
    augmentation: AugmentationSettings = field(default_factory=AugmentationSettings)
    #: state connections of an encoder-decoder: (encoder's recurrent layer, decoder's recurrent
    #: layer).  Kept apart from ``edges`` because no activation flows along them, only the final
    #: state becoming the initial state; the file marks them ``"kind": "state"``.
    state_edges: list[tuple[str, str]] = field(default_factory=list)
    #: greedy pretraining of a stack of RBMs and the fine-tuning after it (the ``pretraining``
    #: entry of the file's ``training`` section); written only when it differs from the defaults
    pretraining: PretrainingSettings = field(default_factory=PretrainingSettings)

    def node(self, node_id: str) -> Node:
        for node in self.nodes:
            if node.id == node_id:
                return node
        raise KeyError(node_id)


@dataclass
class Problem:
    """One reason the network cannot train, attached to a node (and an edge where one is to blame)."""
    node: str | None
    message: str
    edge: tuple[str, str] | None = None


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


def _layer_prefix(node_id) -> str:
    return f'layer "{node_id}": '


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
            problems.append(Problem(node_id, _layer_prefix(node_id) + f"has {len(incoming[node_id])} inputs "
                                    f"({', '.join(incoming[node_id])}); a layer takes exactly one",
                                    (incoming[node_id][1], node_id)))
        if len(outgoing[node_id]) > 1:
            problems.append(Problem(node_id, _layer_prefix(node_id) + f"feeds {len(outgoing[node_id])} layers "
                                    f"({', '.join(outgoing[node_id])}); branching is not supported",
                                    (node_id, outgoing[node_id][1])))
    return incoming, outgoing


def _follow_chain(start: str, incoming, outgoing, problems: list[Problem]) -> list[str]:
    """The layers from the input layer ``start`` along its edges, stopping at a cycle."""
    if incoming[start]:
        problems.append(Problem(start, _layer_prefix(start) + "an input layer cannot have an input",
                                (incoming[start][0], start)))
    order = [start]
    seen = {start}
    while outgoing[order[-1]]:
        following = outgoing[order[-1]][0]
        if following in seen:
            problems.append(Problem(following, _layer_prefix(following) + "is part of a cycle",
                                    (order[-1], following)))
            break
        order.append(following)
        seen.add(following)
    return order


def _unconnected_problems(spec: NetworkSpec, reached: list[str], problems: list[Problem], what: str) -> None:
    for node in spec.nodes:
        if node.id not in reached and not any(p.node == node.id for p in problems):
            problems.append(Problem(node.id, _layer_prefix(node.id) + f"is not connected to {what}"))


def _chain_order(spec: NetworkSpec, problems: list[Problem]) -> list[str]:
    """Nodes in feed-forward order, following edges from the single input node."""
    inputs = [node.id for node in spec.nodes if node.type == "input"]
    if not inputs:
        problems.append(Problem(None, "the network has no input layer"))
        return []
    if len(inputs) > 1:
        problems.append(Problem(inputs[1], _layer_prefix(inputs[1]) + f'a second input layer (the first is "{inputs[0]}")'))
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
            analysis.problems.append(Problem(node_id, _layer_prefix(node_id) + str(error),
                                             (previous, node_id) if previous else None))
            return
        analysis.output_shapes[node_id] = shape = tuple(out)
        previous = node_id


def _parameter_budget_problems(analysis: Analysis) -> list[Problem]:
    """A network too large for this machine, blamed on its largest layer (see ``budgets``)."""
    total = sum(analysis.parameter_counts.values())
    if total <= MAX_PARAMETERS:
        return []
    largest = max(analysis.parameter_counts, key=analysis.parameter_counts.get)
    return [Problem(largest, _layer_prefix(largest) + parameter_budget_message(total))]


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
    if not problems and order and spec.node(order[-1]).type != "rbm":  # an RBM stack learns without an output
        last = spec.node(order[-1])
        if len(order) < 2 or not layer_class(last.type).produces_output:
            problems.append(Problem(last.id, _layer_prefix(last.id) + "the network must end in a dense layer, "
                                    "whose activation gives the output"))
        else:
            problem = check_cost_fits(spec.training.cost, last.config.activation)
            if problem:
                problems.append(Problem(last.id, _layer_prefix(last.id) + problem))
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


def network_family(spec: NetworkSpec) -> str:
    """Which trainer and which views a network needs.

    "rbm": a stack of RBMs, pretrained greedily without labels before any fine-tuning;
    "encoder-decoder": two recurrent chains joined by a state connection, trained on pairs;
    "recurrent": one chain through a recurrent layer, trained on sequences;
    "feedforward": everything else, trained by the mini-batch trainer.
    """
    if spec.state_edges:
        return "encoder-decoder"
    types = {node.type for node in spec.nodes}
    if "rbm" in types:
        return "rbm"
    if any(issubclass(layer_class(type_id), RecurrentLayer) for type_id in types):
        return "recurrent"
    return "feedforward"


def rbm_stack_problems(spec: NetworkSpec, order: list[str]) -> list[Problem]:
    """What stops a stack of RBMs from being pretrained greedily and fine-tuned as its file asks.

    Each RBM learns from the units of the layer below it (the data, or the hidden units
    of the RBM beneath), so it must follow the input or another RBM.  Fine-tuning as a
    classifier needs an output layer on top; unrolling into an autoencoder needs the stack
    to end in an RBM, whose mirror image becomes the decoder.
    """
    rbms = [node_id for node_id in order if spec.node(node_id).type == "rbm"]
    if not rbms:
        return []
    problems = []
    for below, node_id in zip(order, order[1:]):
        below_type = spec.node(below).type
        if node_id in rbms and below_type not in ("input", "rbm", "flatten"):
            problems.append(Problem(node_id, _layer_prefix(node_id) + f"an RBM learns from the units below it, so it "
                                    f"must follow the input or another RBM, not a {below_type} layer",
                                    (below, node_id)))
    last = spec.node(order[-1])
    mode = spec.pretraining.fine_tune
    if mode == "classifier" and not layer_class(last.type).produces_output:
        problems.append(Problem(last.id, _layer_prefix(last.id) + 'fine-tuning as a classifier needs an output '
                                'layer on top of the stack: add a dense softmax layer, or set fine_tune to '
                                '"autoencoder" or "none"'))
    if mode == "autoencoder" and last.type != "rbm":
        problems.append(Problem(last.id, _layer_prefix(last.id) + "unrolling into an autoencoder needs a stack that "
                                f'ends in an RBM, not in a {last.type} layer: remove it, or set fine_tune to '
                                '"classifier"'))
    return problems


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
    return Network.from_specs([(n.id, n.type, n.config) for n in nodes], analysis.output_shapes[nodes[0].id],
                              spec.training.cost, dtype)



# --- encoder-decoders: two chains joined by a state connection ----------------------------
def _is_recurrent(spec: NetworkSpec, node_id: str) -> bool:
    return issubclass(layer_class(spec.node(node_id).type), RecurrentLayer)


def _state_edge_problems(spec: NetworkSpec) -> list[Problem]:
    """What makes the state connection impossible: wrong layer kinds, different state shapes."""
    problems = []
    for extra in spec.state_edges[1:]:
        problems.append(Problem(extra[1], _layer_prefix(extra[1]) + "a network has one state connection, from "
                                "the encoder's recurrent layer to the decoder's", extra))
    edge = source, target = spec.state_edges[0]
    for end in (source, target):
        if not _is_recurrent(spec, end):
            problems.append(Problem(end, _layer_prefix(end) + "a state connection joins two recurrent layers "
                                    f"(SimpleRNN or LSTM), not a {spec.node(end).type} layer", edge))
    if problems:
        return problems
    encoder, decoder = spec.node(source), spec.node(target)
    encoder_class, decoder_class = layer_class(encoder.type), layer_class(decoder.type)
    if encoder_class.state_names != decoder_class.state_names:
        problems.append(Problem(target, _layer_prefix(target) + f'the state connection brings a {encoder.type} '
                                f'state ({", ".join(encoder_class.state_names)}) from "{source}", but a '
                                f'{decoder.type} starts from ({", ".join(decoder_class.state_names)}): '
                                "use the same kind of recurrent layer at both ends", edge))
    elif encoder.config.hidden != decoder.config.hidden:
        problems.append(Problem(target, _layer_prefix(target) + f"its hidden size {decoder.config.hidden} differs "
                                f'from the {encoder.config.hidden} of the encoder "{source}": the encoder\'s final '
                                "state becomes this layer's initial state, so the sizes must be equal", edge))
    if decoder.config.return_sequences != "yes":
        problems.append(Problem(target, _layer_prefix(target) + 'the decoder must output h_t at every step '
                                '(return_sequences "yes"), so its head can predict every token'))
    return problems


def _encoder_decoder_chains(spec: NetworkSpec, problems: list[Problem]) -> tuple[list[str], list[str]]:
    """The encoder's chain (input … the state connection's source) and the decoder's (input … output)."""
    source, target = spec.state_edges[0]
    inputs = [node.id for node in spec.nodes if node.type == "input"]
    if len(inputs) != 2:
        problems.append(Problem(inputs[2] if len(inputs) > 2 else None,
                                "an encoder-decoder needs two input layers, one for the source tokens and one for "
                                f"the decoder's target tokens, not {len(inputs)}"))
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
        problems.append(Problem(target, _layer_prefix(target) + "a state connection joins two chains, the encoder's "
                                "and the decoder's, each starting at its own input layer", (source, target)))
        return [], []
    after = encoder.index(source) + 1
    if after < len(encoder):
        problems.append(Problem(encoder[after], _layer_prefix(encoder[after]) + f'comes after the encoder "{source}", '
                                "whose final state is all the decoder receives: remove it", (source, encoder[after])))
    return encoder[:after], decoder


def _decoder_problems(spec: NetworkSpec, decoder: list[str], analysis: Analysis) -> list[Problem]:
    """The decoder must end in a per-step softmax head."""
    problems = []
    last = spec.node(decoder[-1])
    if not layer_class(last.type).produces_output or len(analysis.output_shapes.get(last.id, ())) != 2:
        problems.append(Problem(last.id, _layer_prefix(last.id) + "the decoder must end in a time_dense layer with "
                                "softmax, which predicts a token at every step"))
    elif last.config.activation != "softmax" or spec.training.cost != "log-likelihood":
        problems.append(Problem(last.id, _layer_prefix(last.id) + "the decoder predicts tokens: it needs a softmax "
                                f'output and the log-likelihood cost, not {last.config.activation} with '
                                f"{spec.training.cost}"))
    return problems


def analyse_encoder_decoder(spec: NetworkSpec) -> Analysis:
    """Validation and shape inference of an encoder-decoder; ``order`` is the encoder's chain, then the decoder's."""
    problems = _state_edge_problems(spec)
    encoder, decoder = _encoder_decoder_chains(spec, problems)
    analysis = Analysis(encoder + decoder, {}, {}, {}, problems)
    if encoder and decoder:
        _infer_chain_shapes(spec, encoder, analysis)
        _infer_chain_shapes(spec, decoder, analysis)
        problems.extend(_parameter_budget_problems(analysis))
    if not problems and encoder and decoder:
        problems.extend(_decoder_problems(spec, decoder, analysis))
    return analysis


def build_encoder_decoder(spec: NetworkSpec, dtype=np.float32) -> EncoderDecoder:
    """The engine's encoder-decoder for a valid spec; raises NetworkFileError naming the first problem."""
    if not spec.state_edges:
        raise NetworkFileError("not an encoder-decoder: connect the encoder's recurrent layer to the decoder's "
                               "with a state connection")
    analysis = analyse(spec)
    if analysis.problems:
        raise NetworkFileError(analysis.problems[0].message)
    split = analysis.order.index(spec.state_edges[0][0]) + 1
    encoder, decoder = ([spec.node(node_id) for node_id in ids] for ids in (analysis.order[:split],
                                                                         analysis.order[split:]))
    return EncoderDecoder.from_specs([(n.id, n.type, n.config) for n in encoder],
                                     [(n.id, n.type, n.config) for n in decoder],
                                     analysis.output_shapes[encoder[0].id], analysis.output_shapes[decoder[0].id],
                                     dtype)


# --- reading and writing ------------------------------------------------------------------
def _parse_node(raw, index: int) -> Node:
    if not isinstance(raw, dict):
        raise NetworkFileError(f"nodes[{index}] must be an object")
    node_id = raw.get("id")
    if not isinstance(node_id, str) or not node_id.strip():
        raise NetworkFileError(f'nodes[{index}] needs an "id" that is a non-empty string')
    type_id = raw.get("type")
    if type_id not in LAYER_TYPES:
        raise NetworkFileError(_layer_prefix(node_id) + f'unknown type {type_id!r} '
                               f'(known: {", ".join(sorted(LAYER_TYPES))})')
    cls = layer_class(type_id)
    version = raw.get("version", cls.version)
    if not isinstance(version, int) or version > cls.version or version < 1:
        raise NetworkFileError(_layer_prefix(node_id) + f"{type_id} version {version!r} is not supported "
                               f"(this program reads up to version {cls.version})")
    try:
        config = config_from_dict(cls.Config, cls.migrate(raw.get("config", {}), version))
    except ConfigError as error:
        raise NetworkFileError(_layer_prefix(node_id) + str(error)) from None
    return Node(node_id, type_id, config)


def spec_from_dict(data) -> NetworkSpec:
    if not isinstance(data, dict):
        raise NetworkFileError("a network file must hold a JSON object")
    if data.get("format", FORMAT) != FORMAT:
        raise NetworkFileError(f'not a network file (format is {data.get("format")!r}, expected "{FORMAT}")')
    version = data.get("format_version", FORMAT_VERSION)
    if not isinstance(version, int) or not 1 <= version <= FORMAT_VERSION:
        raise NetworkFileError(f"format_version {version!r} is not supported (this program reads up to {FORMAT_VERSION})")
    raw_nodes = data.get("nodes")
    if not isinstance(raw_nodes, list) or not raw_nodes:
        raise NetworkFileError('"nodes" must be a non-empty list of layers')
    nodes = [_parse_node(raw, index) for index, raw in enumerate(raw_nodes)]
    ids = [node.id for node in nodes]
    duplicates = sorted({node_id for node_id in ids if ids.count(node_id) > 1})
    if duplicates:
        raise NetworkFileError(_layer_prefix(duplicates[0]) + "the id is used by more than one layer")
    edges, state_edges = [], []
    raw_edges = data.get("edges", [])
    if not isinstance(raw_edges, list):
        raise NetworkFileError('"edges" must be a list')
    for index, raw in enumerate(raw_edges):
        if not isinstance(raw, dict) or not isinstance(raw.get("from"), str) or not isinstance(raw.get("to"), str):
            raise NetworkFileError(f'edges[{index}] must be an object with "from" and "to" layer ids')
        for end in ("from", "to"):
            if raw[end] not in ids:
                raise NetworkFileError(f'edges[{index}]: no layer has the id "{raw[end]}"')
        kind = raw.get("kind")
        if kind not in (None, "state"):
            raise NetworkFileError(f'edges[{index}]: unknown kind {kind!r} (a plain edge has no kind; '
                                   f'an encoder-decoder\'s state connection has "kind": "state")')
        (state_edges if kind == "state" else edges).append((raw["from"], raw["to"]))
    raw_training = data.get("training", {})
    if not isinstance(raw_training, dict):
        raise NetworkFileError('"training" must be an object')
    try:
        training, dataset = training_from_dict(raw_training)
    except ConfigError as error:
        raise NetworkFileError(f"training: {error}") from None
    try:
        augmentation = augmentation_from_dict(raw_training.get("augmentation", {}))
    except ConfigError as error:
        raise NetworkFileError(f"training: augmentation: {error}") from None
    ui = data.get("ui", {})
    lesson = data.get("lesson")
    if not isinstance(ui, dict) or (lesson is not None and not isinstance(lesson, dict)):
        raise NetworkFileError('"ui" and "lesson" must be objects')
    spec = NetworkSpec(nodes, edges, training, dataset, ui, str(data.get("name", "")), lesson, augmentation,
                       state_edges)
    try:
        spec.pretraining = pretraining_from_dict(raw_training.get("pretraining", {}))
    except ConfigError as error:
        raise NetworkFileError(f"training: pretraining: {error}") from None
    return spec


def spec_to_dict(spec: NetworkSpec) -> dict:
    data = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "name": spec.name,
        "nodes": [{"id": n.id, "type": n.type, "version": n.version, "config": config_to_dict(n.config)}
                  for n in spec.nodes],
        "edges": [{"from": a, "to": b} for a, b in spec.edges]
                 + [{"from": a, "to": b, "kind": "state"} for a, b in spec.state_edges],
        "training": training_to_dict(spec.training, spec.dataset),
        "ui": spec.ui,
    }
    if spec.augmentation != AugmentationSettings():
        data["training"]["augmentation"] = augmentation_to_dict(spec.augmentation)
    if spec.pretraining != PretrainingSettings():
        data["training"]["pretraining"] = config_to_dict(spec.pretraining)
    if spec.lesson:
        data["lesson"] = spec.lesson
    return data


def load_spec(path: str | Path) -> NetworkSpec:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NetworkFileError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise NetworkFileError(f"{path}: cannot read it ({error.__class__.__name__})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise NetworkFileError(f"{path}: not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})") from None
    try:
        return spec_from_dict(data)
    except NetworkFileError as error:
        raise NetworkFileError(f"{path}: {error}") from None


def save_spec(spec: NetworkSpec, path: str | Path) -> None:
    atomic_write_text(path, json.dumps(spec_to_dict(spec), indent=2, ensure_ascii=False) + "\n")


def sequential_spec(sizes: list[int], *, activation: str, output: str, cost: str, initializer: str,
                    name: str = "") -> NetworkSpec:
    """A multilayer perceptron ``sizes = [784, 30, 10]``: Nielsen's ``Network([784, 30, 10])``."""
    dense = layer_class("dense")
    nodes = [Node("in", "input", layer_class("input").Config(shape=(sizes[0],)))]
    for index, units in enumerate(sizes[1:], start=1):
        last = index == len(sizes) - 1
        nodes.append(Node("out" if last else f"fc{index}", "dense",
                          dense.Config(units=units, activation=output if last else activation)))
    edges = [(a.id, b.id) for a, b in zip(nodes, nodes[1:])]
    ui = {"positions": {node.id: [0.0, 110.0 * i] for i, node in enumerate(nodes)}}
    training = TrainingSettings(cost=cost, initializer=initializer)
    return NetworkSpec(nodes, edges, training, DatasetSettings(name="digits"), ui, name)


def encoder_decoder_spec(*, source_vocabulary: int, target_vocabulary: int, source_length: int, target_length: int,
                         hidden: int, dimension: int, cell: str = "lstm", name: str = "") -> NetworkSpec:
    """Sutskever's encoder-decoder: embedded source tokens into a recurrent encoder, whose final
    state starts a recurrent decoder reading the embedded target tokens, with a per-step softmax."""
    rnn = layer_class(cell).Config
    embedding = layer_class("embedding").Config
    nodes = [Node("source", "input", layer_class("input").Config(shape=(source_length,))),
             Node("source_embedding", "embedding", embedding(vocabulary=source_vocabulary, dimension=dimension)),
             Node("encoder", cell, rnn(hidden=hidden, return_sequences="no")),
             Node("target", "input", layer_class("input").Config(shape=(target_length,))),
             Node("target_embedding", "embedding", embedding(vocabulary=target_vocabulary, dimension=dimension)),
             Node("decoder", cell, rnn(hidden=hidden, return_sequences="yes")),
             Node("words", "time_dense", layer_class("time_dense").Config(units=target_vocabulary,
                                                                          activation="softmax"))]
    edges = [("source", "source_embedding"), ("source_embedding", "encoder"), ("target", "target_embedding"),
             ("target_embedding", "decoder"), ("decoder", "words")]
    # the encoder's column on the left, the decoder's on the right: the state connection runs across
    ui = {"positions": {node.id: [0.0 if index < 3 else 260.0, 110.0 * (index if index < 3 else index - 3)]
                        for index, node in enumerate(nodes)}}
    training = TrainingSettings(cost="log-likelihood", optimizer="adam", learning_rate=0.003, batch_size=64)
    return NetworkSpec(nodes, edges, training, DatasetSettings(name="numbers"), ui, name,
                       state_edges=[("encoder", "decoder")])
