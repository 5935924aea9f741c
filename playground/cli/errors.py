"""Which failures are the user's to fix: ``main`` prints those as one line and exits with
``EXIT_BAD_INPUT``, where anything else is a bug."""

from __future__ import annotations


class UserError(Exception):
    """Anything the user can fix: printed as one line."""


def user_errors():
    """The exception types that carry a message meant for the user."""
    from ..datasets import DatasetError
    from ..engine.config import ConfigError
    from ..engine.layers import RegistryError
    from ..experiments import ExperimentError, MissingExtra
    from ..files import UnwritablePath
    from ..interop.errors import InteropError
    from ..model import NetworkFileError, WeightsError
    from ..training import DataMismatch

    return (
        UserError,
        DatasetError,
        ConfigError,
        RegistryError,
        NetworkFileError,
        WeightsError,
        DataMismatch,
        UnwritablePath,
        ExperimentError,
        MissingExtra,
        InteropError,
    )
