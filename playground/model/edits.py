"""The editor's edits as pure functions: old spec in, new spec out, or EditError saying why not.

Keeping them free of Qt lets the undo machinery be trivial (a command stores the spec
before and after; specs are never mutated, only replaced) and lets every rule of the
editor be read in one place.  Nothing here changes its argument: lists, ``ui`` and node
objects are copied before anything differs.
"""

from __future__ import annotations

import dataclasses
import json
import re

from ..engine.config import ConfigError, check_value, fields_of
from ..engine.costs import check_cost_fits, default_cost_for
from ..engine.layers import LAYER_TYPES, layer_class
from ..engine.layers.recurrent_base import RecurrentLayer
from . import NetworkFileError, NetworkSpec, Node, spec_from_dict, spec_to_dict
from .analysis import analyse

#: Canvas geometry the layout works in: a node card's size and the gaps between them.
#: The presets space their chains 110 apart, so a card is shorter than that.
NODE_WIDTH = 200.0
NODE_HEIGHT = 64.0
ROW_STEP = 110.0
COLUMN_STEP = NODE_WIDTH + 80.0

#: Id prefixes where the type id is not the name people use ("fc1" for a dense layer).
_ID_PREFIX = {"dense": "fc"}

#: The two kinds of connection and the spec list each lives in: "data" edges carry
#: activations along the chain; "state" edges join an encoder's recurrent layer to its
#: decoder's (final state becomes initial state) and stay out of ``edges``, which the
#: rest of the program reads as the feed-forward chain.
EDGE_LISTS = {"data": "edges", "state": "state_edges"}


class EditError(ValueError):
    """An edit that cannot be made; the message is one sentence for the user."""


# --- small helpers ------------------------------------------------------------------------
def _ids(spec: NetworkSpec) -> list[str]:
    return [node.id for node in spec.nodes]


def _require(spec: NetworkSpec, node_id: str) -> Node:
    try:
        return spec.node(node_id)
    except KeyError:
        raise EditError(f'There is no layer "{node_id}".') from None


def positions_of(spec: NetworkSpec) -> dict[str, tuple[float, float]]:
    """The stored canvas positions, as tuples, for the nodes that have one."""
    stored = spec.ui.get("positions", {})
    return {
        node_id: (float(stored[node_id][0]), float(stored[node_id][1])) for node_id in _ids(spec) if node_id in stored
    }


def _with_positions(spec: NetworkSpec, positions: dict[str, tuple[float, float]], **changes) -> NetworkSpec:
    """A copy of ``spec`` whose ``ui["positions"]`` is exactly ``positions`` (other ui keys kept)."""
    ui = {**spec.ui, "positions": {node_id: [x, y] for node_id, (x, y) in positions.items()}}
    return dataclasses.replace(spec, ui=ui, **changes)


def fresh_id(prefix: str, taken) -> str:
    """The first free id ``prefix1``, ``prefix2``...: ``fc3`` for a new dense layer."""
    number = 1
    while f"{prefix}{number}" in taken:
        number += 1
    return f"{prefix}{number}"


# --- layout -------------------------------------------------------------------------------
def chains(spec: NetworkSpec) -> list[list[str]]:
    """The nodes split into chains, each followed from its head along first outgoing edges.

    The input layer's chain comes first (it is the network); loose pieces follow in file
    order, and nodes only reachable through a cycle start a chain of their own.
    """
    outgoing: dict[str, list[str]] = {node_id: [] for node_id in _ids(spec)}
    has_input = set()
    for source, target in spec.edges:
        outgoing[source].append(target)
        has_input.add(target)
    heads = sorted((n.id for n in spec.nodes if n.id not in has_input), key=lambda i: spec.node(i).type != "input")
    heads += [node_id for node_id in _ids(spec) if node_id in has_input]
    seen: set[str] = set()
    result = []
    for head in heads:
        chain = []
        node_id = head
        while node_id is not None and node_id not in seen:
            chain.append(node_id)
            seen.add(node_id)
            node_id = outgoing[node_id][0] if outgoing[node_id] else None
        if chain:
            result.append(chain)
    return result


def auto_layout(spec: NetworkSpec) -> dict[str, tuple[float, float]]:
    """Top-left positions placing each chain top to bottom, one column per chain."""
    return {
        node_id: (column * COLUMN_STEP, row * ROW_STEP)
        for column, chain in enumerate(chains(spec))
        for row, node_id in enumerate(chain)
    }


def with_all_positions(spec: NetworkSpec) -> NetworkSpec:
    """``spec`` with a position for every node: those without one get their auto-layout place."""
    positions = positions_of(spec)
    if len(positions) == len(spec.nodes):
        return spec
    return _with_positions(spec, {**auto_layout(spec), **positions})


# --- the edits ----------------------------------------------------------------------------
def add_layer(spec: NetworkSpec, type_id: str, position) -> tuple[NetworkSpec, str]:
    if type_id not in LAYER_TYPES:
        raise EditError(f'There is no layer type "{type_id}".')
    node_id = fresh_id(_ID_PREFIX.get(type_id, type_id), set(_ids(spec)))
    node = Node(node_id, type_id, LAYER_TYPES[type_id].Config())
    positions = {**positions_of(spec), node_id: (float(position[0]), float(position[1]))}
    return _with_positions(spec, positions, nodes=[*spec.nodes, node]), node_id


def remove_layers(spec: NetworkSpec, ids, edges=(), state_edges=()) -> NetworkSpec:
    """Without the layers ``ids`` and every connection of either kind touching them, and
    without ``edges`` and ``state_edges``."""
    gone = set(ids)
    for node_id in gone:
        _require(spec, node_id)

    def kept(connections, unwanted):
        unwanted = {tuple(edge) for edge in unwanted}
        return [e for e in connections if e not in unwanted and e[0] not in gone and e[1] not in gone]

    positions = {k: v for k, v in positions_of(spec).items() if k not in gone}
    return _with_positions(
        spec,
        positions,
        nodes=[n for n in spec.nodes if n.id not in gone],
        edges=kept(spec.edges, edges),
        state_edges=kept(spec.state_edges, state_edges),
    )


def move_layers(spec: NetworkSpec, positions) -> NetworkSpec:
    for node_id in positions:
        _require(spec, node_id)
    moved = {node_id: (float(x), float(y)) for node_id, (x, y) in positions.items()}
    return _with_positions(spec, {**positions_of(spec), **moved})


def is_recurrent(type_id: str) -> bool:
    """Whether layers of this type carry a state over time (SimpleRNN, LSTM): only those can pass one on."""
    return issubclass(LAYER_TYPES[type_id], RecurrentLayer)


def _state_connection_problem(spec: NetworkSpec, source: str, target: str) -> str | None:
    """Why ``source``'s final state cannot become ``target``'s initial state.  Only what the
    engine can never do is refused here; a mismatch the user can fix by editing a layer
    (LSTM to SimpleRNN, unequal hidden sizes) is left to ``analyse``, which marks the edge."""
    if source == target:
        return f'"{source}" cannot pass its state to itself.'
    if (source, target) in spec.state_edges:
        return f'"{source}" already passes its final state to "{target}".'
    for node_id in (source, target):
        if not is_recurrent(spec.node(node_id).type):
            return (
                f'"{node_id}" is a {spec.node(node_id).type} layer: a state connection joins two recurrent '
                "layers (SimpleRNN or LSTM)."
            )
    if spec.state_edges:
        encoder, decoder = spec.state_edges[0]
        return (
            f'The network already has a state connection ("{encoder}" → "{decoder}"), and an encoder-decoder '
            "has one: delete it first."
        )
    return None


def connection_problem(spec: NetworkSpec, source: str, target: str, kind: str = "data") -> str | None:
    """Why ``source → target`` of ``kind`` (see ``EDGE_LISTS``) cannot be added, or None.
    Networks here are chains, so a layer takes one input and feeds one layer; the reasons
    name the layers involved."""
    for node_id in (source, target):
        if node_id not in _ids(spec):
            return f'There is no layer "{node_id}".'
    if kind == "state":
        return _state_connection_problem(spec, source, target)
    if source == target:
        return f'"{source}" cannot feed itself.'
    if (source, target) in spec.edges:
        return f'"{source}" already feeds "{target}".'
    if spec.node(target).type == "input":
        return f'"{target}" is an input layer: nothing can feed it.'
    feeding = [s for s, t in spec.edges if t == target]
    if feeding:
        return f'"{target}" already has an input ("{feeding[0]}"); a layer takes exactly one.'
    fed = [t for s, t in spec.edges if s == source]
    if fed:
        return f'"{source}" already feeds "{fed[0]}"; networks here are chains, so a layer feeds one layer.'
    # Everything downstream of the target; a loaded file may already branch or loop.
    downstream, pending = {target}, [target]
    while pending:
        current = pending.pop()
        for s, t in spec.edges:
            if s == current and t not in downstream:
                downstream.add(t)
                pending.append(t)
    if source in downstream:
        return f'Connecting "{source}" to "{target}" would make a cycle.'
    return None


def connect(spec: NetworkSpec, source: str, target: str, kind: str = "data") -> NetworkSpec:
    problem = connection_problem(spec, source, target, kind)
    if problem:
        raise EditError(problem)
    field_name = EDGE_LISTS[kind]
    return dataclasses.replace(spec, **{field_name: [*getattr(spec, field_name), (source, target)]})


def disconnect(spec: NetworkSpec, source: str, target: str, kind: str = "data") -> NetworkSpec:
    field_name = EDGE_LISTS[kind]
    if (source, target) not in getattr(spec, field_name):
        raise EditError(
            f'"{source}" does not feed "{target}".'
            if kind == "data"
            else f'"{source}" does not pass its state to "{target}".'
        )
    return dataclasses.replace(spec, **{field_name: [e for e in getattr(spec, field_name) if e != (source, target)]})


def _replaced_field(config, field_name: str, value, owner: str):
    """``config`` with one field changed after ``check_value`` accepted the value."""
    infos = {info.name: info for info in fields_of(type(config))}
    if field_name not in infos:
        raise EditError(f'{owner} has no setting "{field_name}".')
    try:
        checked = check_value(infos[field_name], value)
    except ConfigError as error:
        raise EditError(f"{owner}: {error}.") from None
    return dataclasses.replace(config, **{field_name: checked})


def set_layer_config(spec: NetworkSpec, node_id: str, field_name: str, value) -> NetworkSpec:
    node = _require(spec, node_id)
    config = _replaced_field(node.config, field_name, value, f'Layer "{node_id}"')
    nodes = [Node(n.id, n.type, config) if n.id == node_id else n for n in spec.nodes]
    return dataclasses.replace(spec, nodes=nodes)


def set_setting(spec: NetworkSpec, section: str, field_name: str, value) -> NetworkSpec:
    """Change one field of ``spec.training``, ``spec.dataset`` or ``spec.augmentation`` (``section``
    names which)."""
    settings = _replaced_field(getattr(spec, section), field_name, value, section.capitalize())
    return dataclasses.replace(spec, **{section: settings})


def output_activation(spec: NetworkSpec) -> str | None:
    """The activation of the layer that gives a feed-forward chain's output, or None (no such
    layer yet, or an encoder-decoder, whose decoder's output is always a softmax)."""
    if spec.state_edges:
        return None
    order = analyse(spec).order
    if len(order) < 2 or not layer_class(spec.node(order[-1]).type).produces_output:
        return None
    return getattr(spec.node(order[-1]).config, "activation", None)


def fit_cost(before: NetworkSpec, after: NetworkSpec) -> NetworkSpec:
    """``after``, with the cost that fits its output (``default_cost_for``) where an edit of the
    layers gave the output another activation that the cost cannot train: a new output layer, a
    sigmoid output made softmax.  An edit of the cost itself is left as the user made it."""
    activation = output_activation(after)
    if (
        activation is None
        or after.training.cost != before.training.cost
        or check_cost_fits(after.training.cost, activation) is None
        or activation == output_activation(before)
    ):
        return after
    return dataclasses.replace(after, training=dataclasses.replace(after.training, cost=default_cost_for(activation)))


# --- copy and paste -----------------------------------------------------------------------
def copy_payload(spec: NetworkSpec, ids) -> str:
    """The chosen layers, the connections of either kind among them and their positions, as
    network-file JSON, so pasting reads it with the same strict loader as a file."""
    chosen = [node for node in spec.nodes if node.id in set(ids)]
    chosen_ids = {node.id for node in chosen}

    def among(connections):
        return [e for e in connections if e[0] in chosen_ids and e[1] in chosen_ids]

    part = NetworkSpec(
        chosen,
        among(spec.edges),
        ui={"positions": {k: list(v) for k, v in positions_of(spec).items() if k in chosen_ids}},
        state_edges=among(spec.state_edges),
    )
    data = spec_to_dict(part)
    del data["training"]  # the clipboard carries layers, not how to train them
    return json.dumps(data)


def clear_offset(spec: NetworkSpec, part: NetworkSpec) -> tuple[float, float]:
    """How far to shift ``part``'s layers so that they lie clear of every layer of ``spec``: in
    the next free column to the right, on the rows they had (a copy next to its original)."""
    existing = positions_of(spec)
    if not existing:
        return (0.0, 0.0)
    right = max(x for x, _ in existing.values()) + COLUMN_STEP
    left = min((x for x, _ in positions_of(part).values()), default=0.0)
    return (right - left, 0.0)


def paste(spec: NetworkSpec, payload: str, offset=None) -> tuple[NetworkSpec, list[str]]:
    """``spec`` plus the payload's layers under new ids, shifted by ``offset`` (None: clear of
    the existing layers, see ``clear_offset``).  A copy keeps its original's name without the
    number: "fc1" pastes as "fc2", "out" as "out1"."""
    try:
        part = with_all_positions(spec_from_dict(json.loads(payload)))
    except (json.JSONDecodeError, TypeError, NetworkFileError) as error:
        raise EditError(f"The clipboard does not hold layers of this program ({error}).") from None
    if offset is None:
        offset = clear_offset(spec, part)
    taken = set(_ids(spec))
    renamed = {}
    for node in part.nodes:
        renamed[node.id] = fresh_id(re.sub(r"\d+$", "", node.id) or node.type, taken)
        taken.add(renamed[node.id])
    old_positions = positions_of(part)
    positions = {
        **positions_of(spec),
        **{renamed[k]: (x + offset[0], y + offset[1]) for k, (x, y) in old_positions.items()},
    }
    nodes = [*spec.nodes, *(Node(renamed[n.id], n.type, n.config) for n in part.nodes)]
    edges = [*spec.edges, *((renamed[a], renamed[b]) for a, b in part.edges)]
    state_edges = [*spec.state_edges, *((renamed[a], renamed[b]) for a, b in part.state_edges)]
    return (_with_positions(spec, positions, nodes=nodes, edges=edges, state_edges=state_edges), list(renamed.values()))


# --- reading what a user typed ------------------------------------------------------------
def parse_number(text: str):
    """A number from the user's text, or the text itself so ``check_value`` names the problem."""
    try:
        return float(text.strip())
    except ValueError:
        return text


def parse_shape(text: str):
    """``"1, 28, 28"`` (or ``1x28x28``) as a tuple, or the text itself for ``check_value`` to refuse."""
    parts = [p for p in re.split(r"[\s,x×]+", text.strip()) if p]
    try:
        return tuple(int(p) for p in parts)
    except ValueError:
        return text
