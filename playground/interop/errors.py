"""The one error type of the export and import: the message names the layer, node or file and why."""

from __future__ import annotations


class InteropError(ValueError):
    """An export or import that cannot be done; nothing has been written."""


class NoTwin(InteropError):
    """A layer or setting PyTorch (or the playground) has no counterpart for."""
