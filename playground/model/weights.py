"""Weights files: ``.npz`` arrays keyed ``"<layer_id>.<param>"`` in PyTorch's layouts.

A weights file may come from anyone, so it is read like a project (``archive.py``): never
unpickled, every member's header checked against the budgets, and, when the network is
known, every key and declared shape checked against it before any array's data is read.
So a 4 MB file claiming a 4 GB member, or a shape of 10¹² numbers, is refused at once,
and a bad file leaves the network exactly as it was.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from ..files import atomic_write_bytes
from .archive import Member, check_members, open_archive, read_member


class WeightsError(ValueError):
    pass


def save_weights(path: str | Path, state: dict[str, np.ndarray]) -> None:
    buffer = io.BytesIO()
    np.savez(buffer, **state)
    atomic_write_bytes(path, buffer.getvalue())


def check_weight_shapes(shapes: dict[str, tuple[int, ...]], expected: dict[str, np.ndarray], source: str) -> None:
    """Raise WeightsError naming the layer for any missing, unexpected or misshapen array.

    Works on the shapes alone, so a file can be checked from its headers before its data is read.
    """
    for key, target in expected.items():
        layer, _, param = key.partition(".")
        if key not in shapes:
            raise WeightsError(f'{source}: layer "{layer}": the file has no "{param}"')
        if tuple(shapes[key]) != target.shape:
            raise WeightsError(
                f'{source}: layer "{layer}": "{param}" has shape {list(shapes[key])} in the file '
                f"but the network needs {list(target.shape)}"
            )
    extra = sorted(set(shapes) - set(expected))
    if extra:
        layer = extra[0].partition(".")[0]
        raise WeightsError(f'{source}: layer "{layer}": the network has no parameter "{extra[0]}"')


def check_weight_values(state: dict[str, np.ndarray], source: str) -> None:
    """Raise WeightsError naming the layer for an array that is not all finite floating-point numbers."""
    for key, value in state.items():
        if not np.issubdtype(value.dtype, np.floating) or not np.isfinite(value).all():
            layer, _, param = key.partition(".")
            raise WeightsError(f'{source}: layer "{layer}": "{param}" must hold finite floating-point numbers')


def check_weights(state: dict[str, np.ndarray], expected: dict[str, np.ndarray], source: str) -> None:
    check_weight_shapes({key: value.shape for key, value in state.items()}, expected, source)
    check_weight_values(state, source)


def read_weights(path: str | Path, expected: dict[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """The arrays of a weights file; with ``expected`` (the network's parameters), checked
    against it from the headers before any data is read, then for finite values."""
    where = str(path)
    with open_archive(Path(path), where, WeightsError) as archive:
        members: dict[str, Member] = check_members(archive, where, WeightsError)
        if expected is not None:
            check_weight_shapes({name: member.shape for name, member in members.items()}, expected, where)
        state = {name: read_member(archive, member, where, WeightsError) for name, member in members.items()}
    if expected is not None:
        check_weight_values(state, where)
    return state


def load_weights_into(network, path: str | Path) -> None:
    network.load_state(read_weights(path, network.state()))
