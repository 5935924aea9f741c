"""One colour per layer, shared by the canvas nodes and every plot of that layer."""

from __future__ import annotations

from PySide6.QtGui import QColor

# Colour-blind-friendly qualitative palette (Okabe & Ito), then a few extra hues.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000", "#8C564B", "#7F7F7F")


def layer_color(index: int) -> QColor:
    """The colour of the ``index``-th layer that has parameters, in feed-forward order."""
    return QColor(PALETTE[index % len(PALETTE)])


def layer_colors(layer_ids: list[str]) -> dict[str, QColor]:
    return {layer_id: layer_color(i) for i, layer_id in enumerate(layer_ids)}
