"""Variants: the same network with a few settings changed, named by what changed.

A lesson that compares (quadratic against cross-entropy cost, N(0, 1) against N(0, 1/n_in)
weights, an LSTM against a SimpleRNN) and an experiment that varies settings both describe a
run as *changes* to a base network.  One vocabulary serves both, so a comparison in a lesson
and a variant of an experiment mean the same thing and are checked by the same rules:

- ``"learning_rate": 0.25``: a field of the ``training`` section (any of them: batch_size,
  epochs, cost, optimizer, momentum, l2, l1, initializer, seed, ...);
- ``"fc1.activation": "relu"``: a field of layer ``fc1``'s config (units, activation, rate, ...);
- ``"rnn.type": "simple_rnn"``: layer ``rnn`` becomes another type, keeping the config fields
  both types have (its hidden size, say).

A lesson's variant may also fix where some parameters start, in a ``"parameters"`` entry keyed
like a weights file (``{"out.weight": [[2.0]], "out.bias": [2.0]}``: Nielsen's neuron that starts
badly wrong).  They replace the initialiser's draw for those parameters only, and are checked
against the variant's own network (every key a parameter, every shape its shape, every value a
finite number) with a weights file's words.

Every change goes through the editor's own edits (``edits.set_setting``, ``set_layer_config``), so
a value the inspector would refuse is refused here with the same words, and the changed network
must pass the same analysis as a network file: a variant that makes the network invalid is an
error naming the variant, found before anything trains.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from ..engine.config import fields_of
from ..engine.costs import check_cost_fits
from ..engine.layers import LAYER_TYPES, layer_class
from .analysis import analyse, parameter_arrays
from .edits import EditError, output_activation, set_layer_config, set_setting
from .spec import NetworkFileError, NetworkSpec, Node
from .weights import check_weights

#: the key of a change that swaps a layer's type rather than a config field
TYPE_KEY = "type"


class VariantError(NetworkFileError):
    """A variant that cannot be made; the message names the variant and the reason."""


@dataclass(frozen=True)
class Variant:
    """A label, the changes that make it from the base network (empty: the base itself) and the
    starting values of some parameters (empty: all drawn by the initialiser)."""

    label: str
    changes: dict
    parameters: dict = dataclasses.field(default_factory=dict)


def _with_layer_type(spec: NetworkSpec, node_id: str, type_id: str) -> NetworkSpec:
    """Layer ``node_id`` as a ``type_id`` layer, keeping every config field the two types share."""
    if type_id not in LAYER_TYPES:
        raise EditError(f'there is no layer type "{type_id}" (types: {", ".join(sorted(LAYER_TYPES))})')
    node = spec.node(node_id)
    kept = {info.name for info in fields_of(layer_class(type_id).Config)} & {
        info.name for info in fields_of(type(node.config))
    }
    config = layer_class(type_id).Config(**{name: getattr(node.config, name) for name in kept})
    nodes = [Node(n.id, type_id, config) if n.id == node_id else n for n in spec.nodes]
    return dataclasses.replace(spec, nodes=nodes)


def _apply_change(spec: NetworkSpec, key: str, value) -> NetworkSpec:
    node_id, dot, field_name = key.rpartition(".")
    if not dot:
        return set_setting(spec, "training", key, value)
    if node_id not in {node.id for node in spec.nodes}:
        raise EditError(f'there is no layer "{node_id}"')
    if field_name == TYPE_KEY:
        return _with_layer_type(spec, node_id, value)
    return set_layer_config(spec, node_id, field_name, value)


def apply_changes(spec: NetworkSpec, changes: dict, label: str = "") -> NetworkSpec:
    """``spec`` with ``changes`` made (the module docstring lists the keys), or VariantError
    saying, in one line, which variant and change failed and why.  ``spec`` is not changed."""
    where = f'variant "{label}"' if label else "variant"
    if not isinstance(changes, dict):
        raise VariantError(f"{where}: the changes must be an object of setting: value")
    changed = spec
    for key, value in changes.items():
        try:
            changed = _apply_change(changed, str(key), value)
        except (EditError, KeyError, TypeError, ValueError) as error:
            reason = str(error).rstrip(".")
            raise VariantError(f"{where}: {key} = {value!r}: {reason[0].lower() + reason[1:]}") from None
    problems = analyse(changed).problems
    if problems:
        raise VariantError(f"{where} makes the network invalid: {problems[0].message}")
    activation = output_activation(changed)
    misfit = activation and check_cost_fits(changed.training.cost, activation)
    if misfit:
        raise VariantError(f"{where}: {misfit}")
    return changed


def with_starting_parameters(spec: NetworkSpec, parameters: dict, label: str = "") -> NetworkSpec:
    """``spec`` whose run starts ``parameters`` (``{"out.bias": [2.0]}``) where given, or
    VariantError naming the variant, the layer and both shapes when they do not fit its network."""
    if not parameters:
        return spec
    where = f'variant "{label}"' if label else "variant"
    if not isinstance(parameters, dict):
        raise VariantError(f'{where}: "parameters" must be an object of "layer.parameter": numbers')
    expected = parameter_arrays(spec, np.float64)
    try:
        values = {str(key): np.asarray(value, np.float64) for key, value in parameters.items()}
        # only the parameters given are expected: the others keep the initialiser's draw
        check_weights(values, {key: expected[key] for key in values if key in expected}, where)
    except (TypeError, ValueError) as error:  # a WeightsError, or numbers that are not an array
        message = str(error)
        raise VariantError(message if message.startswith(where) else f"{where}: {message}") from None
    return dataclasses.replace(spec, starting_parameters={**spec.starting_parameters, **values})


def lesson_variants(spec: NetworkSpec) -> list[Variant]:
    """The variants a lesson compares (its ``"compare"`` list of ``{"label", "changes"}``), or []
    for a network that compares nothing."""
    compare = (spec.lesson or {}).get("compare")
    if compare is None:
        return []
    if not isinstance(compare, list) or not all(
        isinstance(entry, dict) and isinstance(entry.get("label"), str) for entry in compare
    ):
        raise VariantError('lesson: "compare" must be a list of {"label": ..., "changes": {...}}')
    labels = [entry["label"] for entry in compare]
    if len(set(labels)) != len(labels):
        raise VariantError(f"lesson: the compared variants need different labels, not {labels}")
    return [Variant(entry["label"], entry.get("changes", {}), entry.get("parameters", {})) for entry in compare]


def variant_specs(spec: NetworkSpec) -> list[tuple[str, NetworkSpec]]:
    """(label, network) for each variant the lesson compares, in its order; a network that
    compares nothing is its own one entry.  Every variant is checked before any is returned."""
    variants = lesson_variants(spec)
    if not variants:
        return [(spec.name or "network", spec)]
    return [
        (
            variant.label,
            with_starting_parameters(
                apply_changes(spec, variant.changes, variant.label), variant.parameters, variant.label
            ),
        )
        for variant in variants
    ]


__all__ = [
    "TYPE_KEY",
    "Variant",
    "VariantError",
    "apply_changes",
    "lesson_variants",
    "variant_specs",
    "with_starting_parameters",
]
