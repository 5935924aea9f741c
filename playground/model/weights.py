"""Weights files: ``.npz`` arrays keyed ``"<layer_id>.<param>"`` in PyTorch's layouts.

Loading never unpickles (``allow_pickle=False``): a weights file may come from anyone.
Every key and shape is checked before anything is copied, so a bad file leaves the
network exactly as it was.
"""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np

from .files import atomic_write_bytes


class WeightsError(ValueError):
    pass


def save_weights(path: str | Path, state: dict[str, np.ndarray]) -> None:
    buffer = io.BytesIO()
    np.savez(buffer, **state)
    atomic_write_bytes(path, buffer.getvalue())


def read_weights(path: str | Path) -> dict[str, np.ndarray]:
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as archive:
            if not isinstance(archive, np.lib.npyio.NpzFile):
                raise WeightsError(f"{path}: not a weights file (expected an .npz archive)")
            return {key: archive[key] for key in archive.files}
    except FileNotFoundError:
        raise WeightsError(f"{path}: no such file") from None
    except WeightsError:
        raise
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as error:
        raise WeightsError(f"{path}: not a readable weights file ({error})") from None


def check_weights(state: dict[str, np.ndarray], expected: dict[str, np.ndarray], source: str) -> None:
    """Raise WeightsError naming the layer for any missing, unexpected or misshapen array."""
    for key, target in expected.items():
        layer, _, param = key.partition(".")
        if key not in state:
            raise WeightsError(f'{source}: layer "{layer}": the file has no "{param}"')
        value = state[key]
        if value.shape != target.shape:
            raise WeightsError(f'{source}: layer "{layer}": "{param}" has shape {list(value.shape)} in the file '
                               f'but the network needs {list(target.shape)}')
        if not np.issubdtype(value.dtype, np.floating) or not np.isfinite(value).all():
            raise WeightsError(f'{source}: layer "{layer}": "{param}" must hold finite floating-point numbers')
    extra = sorted(set(state) - set(expected))
    if extra:
        layer = extra[0].partition(".")[0]
        raise WeightsError(f'{source}: layer "{layer}": the network has no parameter "{extra[0]}"')


def load_weights_into(network, path: str | Path) -> None:
    state = read_weights(path)
    check_weights(state, network.state(), str(path))
    network.load_state(state)
