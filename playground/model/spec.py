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

from ..engine.config import ConfigError, config_from_dict, config_to_dict
from ..engine.costs import check_cost_fits
from ..engine.layers import LAYER_TYPES, ShapeError, layer_class
from ..engine.network import Network
from .files import atomic_write_text
from .settings import (AugmentationSettings, DatasetSettings, TrainingSettings, augmentation_from_dict,
                       augmentation_to_dict, training_from_dict, training_to_dict)

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


def _chain_order(spec: NetworkSpec, problems: list[Problem]) -> list[str]:
    """Nodes in feed-forward order, following edges from the single input node."""
    ids = [node.id for node in spec.nodes]
    inputs = [node.id for node in spec.nodes if node.type == "input"]
    if not inputs:
        problems.append(Problem(None, "the network has no input layer"))
        return []
    if len(inputs) > 1:
        problems.append(Problem(inputs[1], _layer_prefix(inputs[1]) + f'a second input layer (the first is "{inputs[0]}")'))
        return []
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
    if incoming[inputs[0]]:
        problems.append(Problem(inputs[0], _layer_prefix(inputs[0]) + "an input layer cannot have an input",
                                (incoming[inputs[0]][0], inputs[0])))
    order = [inputs[0]]
    seen = {inputs[0]}
    while outgoing[order[-1]]:
        following = outgoing[order[-1]][0]
        if following in seen:
            problems.append(Problem(following, _layer_prefix(following) + "is part of a cycle",
                                    (order[-1], following)))
            break
        order.append(following)
        seen.add(following)
    for node_id in ids:
        if node_id not in seen and not any(p.node == node_id for p in problems):
            problems.append(Problem(node_id, _layer_prefix(node_id) + "is not connected to the input"))
    return order


def analyse(spec: NetworkSpec) -> Analysis:
    """Shape inference and validation; never raises, so the window can show every problem."""
    problems: list[Problem] = []
    order = _chain_order(spec, problems)
    input_shapes: dict[str, tuple[int, ...]] = {}
    output_shapes: dict[str, tuple[int, ...]] = {}
    counts: dict[str, int] = {}
    dense_equivalents: dict[str, int] = {}
    shape: tuple[int, ...] = ()
    previous = None
    for node_id in order:
        node = spec.node(node_id)
        cls = layer_class(node.type)
        try:
            input_shapes[node_id] = shape
            out = cls.infer_output_shape(node.config, shape)
            counts[node_id] = cls.parameter_count(node.config, shape)
            equivalent = cls.dense_equivalent_count(node.config, shape)
            if equivalent is not None:
                dense_equivalents[node_id] = equivalent
        except ShapeError as error:
            problems.append(Problem(node_id, _layer_prefix(node_id) + str(error),
                                    (previous, node_id) if previous else None))
            break
        output_shapes[node_id] = shape = tuple(out)
        previous = node_id
    if not problems and order:
        last = spec.node(order[-1])
        if len(order) < 2 or not layer_class(last.type).produces_output:
            problems.append(Problem(last.id, _layer_prefix(last.id) + "the network must end in a dense layer, "
                                    "whose activation gives the output"))
        else:
            problem = check_cost_fits(spec.training.cost, last.config.activation)
            if problem:
                problems.append(Problem(last.id, _layer_prefix(last.id) + problem))
    return Analysis(order, input_shapes, output_shapes, counts, problems, dense_equivalents)


def build_network(spec: NetworkSpec, dtype=np.float32) -> Network:
    """The engine's network for a valid spec; raises NetworkFileError naming the first problem."""
    analysis = analyse(spec)
    if analysis.problems:
        raise NetworkFileError(analysis.problems[0].message)
    nodes = [spec.node(node_id) for node_id in analysis.order]
    return Network.from_specs([(n.id, n.type, n.config) for n in nodes], analysis.output_shapes[nodes[0].id],
                              spec.training.cost, dtype)


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
    edges = []
    raw_edges = data.get("edges", [])
    if not isinstance(raw_edges, list):
        raise NetworkFileError('"edges" must be a list')
    for index, raw in enumerate(raw_edges):
        if not isinstance(raw, dict) or not isinstance(raw.get("from"), str) or not isinstance(raw.get("to"), str):
            raise NetworkFileError(f'edges[{index}] must be an object with "from" and "to" layer ids')
        for end in ("from", "to"):
            if raw[end] not in ids:
                raise NetworkFileError(f'edges[{index}]: no layer has the id "{raw[end]}"')
        edges.append((raw["from"], raw["to"]))
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
    return NetworkSpec(nodes, edges, training, dataset, ui, str(data.get("name", "")), lesson, augmentation)


def spec_to_dict(spec: NetworkSpec) -> dict:
    data = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "name": spec.name,
        "nodes": [{"id": n.id, "type": n.type, "version": n.version, "config": config_to_dict(n.config)}
                  for n in spec.nodes],
        "edges": [{"from": a, "to": b} for a, b in spec.edges],
        "training": training_to_dict(spec.training, spec.dataset),
        "ui": spec.ui,
    }
    if spec.augmentation != AugmentationSettings():
        data["training"]["augmentation"] = augmentation_to_dict(spec.augmentation)
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
