"""Reading a network file that came from anyone, within budgets checked before parsing.

The size and nesting depth are checked on the raw bytes (``playground.inputs``), then the
layer and connection counts on the parsed JSON, all before ``spec_from_dict`` builds
anything, so a hostile file is refused in milliseconds with the budget it hit.
"""
from __future__ import annotations

import json
from pathlib import Path

from playground import budgets
from playground.inputs import check_json_budget, read_input

from .spec import NetworkFileError, NetworkSpec, spec_from_dict


def check_network_budgets(data, where: str) -> None:
    """Refuse parsed network JSON with more layers or connections than the budget allows."""
    if not isinstance(data, dict):
        return  # spec_from_dict says what is wrong with it
    for key, what, budget in (("nodes", "layers", "MAX_LAYERS"), ("edges", "connections", "MAX_CONNECTIONS")):
        items = data.get(key)
        if isinstance(items, list) and len(items) > getattr(budgets, budget):
            raise NetworkFileError(f"{where}: " + budgets.over_budget(f"the network has {len(items):,} {what}", budget))


def network_from_json(raw: bytes, where: str) -> NetworkSpec:
    """The network described by the JSON bytes ``raw``; every problem is a NetworkFileError naming ``where``."""
    check_json_budget(raw, where, NetworkFileError)
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise NetworkFileError(f"{where}: not UTF-8 text (byte {error.start})") from None
    except json.JSONDecodeError as error:
        raise NetworkFileError(f"{where}: not valid JSON (line {error.lineno}, column {error.colno}: "
                               f"{error.msg})") from None
    check_network_budgets(data, where)
    try:
        return spec_from_dict(data)
    except NetworkFileError as error:
        raise NetworkFileError(f"{where}: {error}") from None


def read_network_file(path: str | Path) -> NetworkSpec:
    """A network file from disk: only a regular file, within MAX_JSON_BYTES, checked as above."""
    try:
        raw = read_input(path, NetworkFileError, "MAX_JSON_BYTES")
    except FileNotFoundError:
        raise NetworkFileError(f"{path}: no such file") from None
    except OSError as error:
        raise NetworkFileError(f"{path}: cannot read it ({error.strerror or error.__class__.__name__})") from None
    return network_from_json(raw, str(path))
