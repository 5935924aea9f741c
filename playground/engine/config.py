"""Layer hyper-parameters as data.

Each layer type declares one frozen dataclass whose fields are its hyper-parameters.
Everything else is derived from those fields: reading and writing the JSON file, the
inspector's editor in the window, and the validation of values a user typed.  Writing
any of these by hand for each layer would let them drift apart (numpy-ml's RBM shipped a
misspelt config key that way).
"""

from __future__ import annotations

import dataclasses
import functools
import math
import typing
from dataclasses import dataclass, field
from typing import Any


class ConfigError(ValueError):
    """A config value that cannot be used; the message names the field and the reason."""


def option(
    default,
    *,
    help: str,
    minimum: float | None = None,
    maximum: float | None = None,
    choices: tuple[str, ...] | None = None,
):
    """A config field with the metadata the validator and the inspector read."""
    metadata = {"help": help, "minimum": minimum, "maximum": maximum, "choices": choices}
    if isinstance(default, (list, tuple)):
        return field(default_factory=lambda: tuple(default), metadata=metadata)
    return field(default=default, metadata=metadata)


@dataclass(frozen=True)
class FieldInfo:
    """What an editor needs to offer one field: its kind, limits and help text."""

    name: str
    kind: str  # "int", "float", "choice", "text" or "shape"
    default: Any
    help: str
    minimum: float | None
    maximum: float | None
    choices: tuple[str, ...] | None


def _kind_of(annotation, choices) -> str:
    kind = {"int": "int", "float": "float", "str": "choice", "tuple": "shape"}[annotation.__name__]
    return "text" if kind == "choice" and not choices else kind


@functools.cache
def fields_of(config_type) -> tuple[FieldInfo, ...]:
    """The fields of a config class, worked out once per class: reading a network file asks
    for them once per layer, and resolving the annotations each time cost 60 µs a layer."""
    hints = typing.get_type_hints(config_type)
    infos = []
    for f in dataclasses.fields(config_type):
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        meta = f.metadata
        infos.append(
            FieldInfo(
                f.name,
                _kind_of(hints[f.name], meta.get("choices")),
                default,
                meta.get("help", ""),
                meta.get("minimum"),
                meta.get("maximum"),
                meta.get("choices"),
            )
        )
    return tuple(infos)


def _check_number(info: FieldInfo, value):
    if info.kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            else:
                raise ConfigError(f'"{info.name}" must be a whole number, not {value!r}')
    else:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f'"{info.name}" must be a number, not {value!r}')
        value = float(value)
        if not math.isfinite(value):
            raise ConfigError(f'"{info.name}" must be a finite number, not {value!r}')
    if info.minimum is not None and value < info.minimum:
        raise ConfigError(f'"{info.name}" must be at least {info.minimum}, not {value}')
    if info.maximum is not None and value > info.maximum:
        raise ConfigError(f'"{info.name}" must be at most {info.maximum}, not {value}')
    return value


def check_value(info: FieldInfo, value):
    """Return ``value`` converted to the field's type, or raise ConfigError saying why not."""
    if info.kind in ("int", "float"):
        return _check_number(info, value)
    if info.kind == "text":
        if not isinstance(value, str):
            raise ConfigError(f'"{info.name}" must be text, not {value!r}')
        return value
    if info.kind == "choice":
        if value not in (info.choices or ()):
            raise ConfigError(f'"{info.name}" must be one of {", ".join(info.choices or ())}, not {value!r}')
        return value
    if (
        not isinstance(value, (list, tuple))
        or not value
        or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value)
    ):
        raise ConfigError(f'"{info.name}" must be a list of positive whole numbers, not {value!r}')
    return tuple(value)


def config_from_dict(config_type, data: dict):
    """Build a config from JSON data strictly: unknown keys and bad values are errors."""
    if not isinstance(data, dict):
        raise ConfigError(f"config must be an object, not {type(data).__name__}")
    infos = {info.name: info for info in fields_of(config_type)}
    unknown = sorted(set(data) - set(infos))
    if unknown:
        raise ConfigError(f'unknown setting "{unknown[0]}" (known: {", ".join(infos) or "none"})')
    values = {name: check_value(infos[name], value) for name, value in data.items()}
    return config_type(**values)


def config_to_dict(config) -> dict:
    return {
        f.name: list(v) if isinstance(v := getattr(config, f.name), tuple) else v for f in dataclasses.fields(config)
    }
