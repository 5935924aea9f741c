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
     "lesson": {"title": ..., "panel": "loss", "what_to_do": ..., "what_to_watch": ..., "why": ...,
                "pace": "full" or steps a second}}
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from .. import budgets
from ..engine.config import ConfigError, config_from_dict, config_to_dict
from ..engine.layers import LAYER_TYPES, layer_class
from ..files import atomic_write_text
from ..inputs import check_json_budget, read_user_file
from .settings import (
    AugmentationSettings,
    PretrainingSettings,
    augmentation_from_dict,
    augmentation_to_dict,
    pretraining_from_dict,
    training_from_dict,
    training_to_dict,
)
from .spec import NetworkFileError, NetworkSpec, Node, layer_prefix

FORMAT = "playground-network"
FORMAT_VERSION = 1
#: the views a lesson can open on (its ``"panel"``): the window's dashboard tabs, named as the View
#: menu and ``playground --panel`` name them.  Here, not in the window, so a misspelt panel in a lesson
#: file is an error on loading, found by the tests that load every lesson, not a tab that never shows.
PANEL_NAMES = (
    "loss",
    "gradients",
    "weights",
    "activations",
    "data",
    "evaluation",
    "filters",
    "feature-maps",
    "convolution",
    "augmentation",
    "cost",
    "compare",
    "backprop",
    "neuron",
    "bumps",
    "lr-finder",
    "experiments",
    "parallel",
    "descent",
    "chain",
)

#: a lesson's ``"pace"``: "full" (full speed) or slow motion in training steps a second, up to this
MAX_PACE = 100_000.0


def lesson_pace(lesson: dict | None) -> float | None:
    """The pace a lesson asks for in steps a second, None for full speed (also when it names none).
    Raises NetworkFileError for anything but "full" or a number in (0, ``MAX_PACE``]."""
    pace = (lesson or {}).get("pace", "full")
    if pace == "full":
        return None
    if isinstance(pace, bool) or not isinstance(pace, (int, float)) or not 0 < pace <= MAX_PACE:
        raise NetworkFileError(f'lesson: the pace must be "full" or a number of steps a second, not {pace!r}')
    return float(pace)


def _parse_node(raw, index: int) -> Node:
    if not isinstance(raw, dict):
        raise NetworkFileError(f"nodes[{index}] must be an object")
    node_id = raw.get("id")
    if not isinstance(node_id, str) or not node_id.strip():
        raise NetworkFileError(f'nodes[{index}] needs an "id" that is a non-empty string')
    type_id = raw.get("type")
    if type_id not in LAYER_TYPES:
        raise NetworkFileError(
            layer_prefix(node_id) + f"unknown type {type_id!r} (known: {', '.join(sorted(LAYER_TYPES))})"
        )
    cls = layer_class(type_id)
    version = raw.get("version", cls.version)
    if not isinstance(version, int) or version > cls.version or version < 1:
        raise NetworkFileError(
            layer_prefix(node_id) + f"{type_id} version {version!r} is not supported "
            f"(this program reads up to version {cls.version})"
        )
    try:
        config = config_from_dict(cls.Config, cls.migrate(raw.get("config", {}), version))
    except ConfigError as error:
        raise NetworkFileError(layer_prefix(node_id) + str(error)) from None
    return Node(node_id, type_id, config)


def spec_from_dict(data) -> NetworkSpec:
    if not isinstance(data, dict):
        raise NetworkFileError("a network file must hold a JSON object")
    if data.get("format", FORMAT) != FORMAT:
        raise NetworkFileError(f'not a network file (format is {data.get("format")!r}, expected "{FORMAT}")')
    version = data.get("format_version", FORMAT_VERSION)
    if not isinstance(version, int) or not 1 <= version <= FORMAT_VERSION:
        raise NetworkFileError(
            f"format_version {version!r} is not supported (this program reads up to {FORMAT_VERSION})"
        )
    raw_nodes = data.get("nodes")
    if not isinstance(raw_nodes, list) or not raw_nodes:
        raise NetworkFileError('"nodes" must be a non-empty list of layers')
    nodes = [_parse_node(raw, index) for index, raw in enumerate(raw_nodes)]
    ids = Counter(node.id for node in nodes)
    duplicates = sorted(node_id for node_id, count in ids.items() if count > 1)
    if duplicates:
        raise NetworkFileError(layer_prefix(duplicates[0]) + "the id is used by more than one layer")
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
            raise NetworkFileError(
                f"edges[{index}]: unknown kind {kind!r} (a plain edge has no kind; "
                f'an encoder-decoder\'s state connection has "kind": "state")'
            )
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
    if lesson is not None and lesson.get("panel", PANEL_NAMES[0]) not in PANEL_NAMES:
        raise NetworkFileError(f"lesson: unknown panel {lesson['panel']!r} (choose from {', '.join(PANEL_NAMES)})")
    lesson_pace(lesson)
    spec = NetworkSpec(
        nodes, edges, training, dataset, ui, str(data.get("name", "")), lesson, augmentation, state_edges
    )
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
        "nodes": [
            {"id": n.id, "type": n.type, "version": n.version, "config": config_to_dict(n.config)} for n in spec.nodes
        ],
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


def check_network_budgets(data, where: str) -> None:
    """Refuse parsed network JSON with more layers or connections than the budget allows."""
    if not isinstance(data, dict):
        return  # spec_from_dict says what is wrong with it
    for key, what, budget in (("nodes", "layers", "MAX_LAYERS"), ("edges", "connections", "MAX_CONNECTIONS")):
        items = data.get(key)
        if isinstance(items, list) and len(items) > getattr(budgets, budget):
            raise NetworkFileError(f"{where}: " + budgets.over_budget(f"the network has {len(items):,} {what}", budget))


def load_spec(path: str | Path) -> NetworkSpec:
    """A network file from disk, which may come from anyone: only a regular file, within
    ``MAX_JSON_BYTES``, read as ``spec_from_json`` reads it."""
    return spec_from_json(read_user_file(path, NetworkFileError, "MAX_JSON_BYTES"), str(path))


def spec_from_json(raw: bytes | str, source: str) -> NetworkSpec:
    """The network in a file's bytes; every error begins with ``source``, the file it came from.

    The size and nesting depth are checked on the raw bytes, the layer and connection counts on
    the parsed JSON, all before ``spec_from_dict`` builds anything, so a hostile file is refused
    in milliseconds with the budget it hit.  Apart from ``load_spec`` because a lesson is
    package data and a project holds its network as a member, not as a path.
    """
    raw = raw.encode("utf-8") if isinstance(raw, str) else raw
    check_json_budget(raw, source, NetworkFileError)
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise NetworkFileError(f"{source}: not UTF-8 text (byte {error.start})") from None
    except json.JSONDecodeError as error:
        raise NetworkFileError(
            f"{source}: not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})"
        ) from None
    check_network_budgets(data, source)
    try:
        return spec_from_dict(data)
    except NetworkFileError as error:
        raise NetworkFileError(f"{source}: {error}") from None


def save_spec(spec: NetworkSpec, path: str | Path) -> None:
    atomic_write_text(path, json.dumps(spec_to_dict(spec), indent=2, ensure_ascii=False) + "\n")
