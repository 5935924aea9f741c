"""The whole editor in one widget: palette, canvas and inspector side by side, wired together."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QSplitter

from .canvas import CanvasView
from .document import Document
from .inspector import InspectorWidget
from .palette import PaletteWidget


class EditorWidget(QSplitter):
    """Palette | canvas | inspector.  The canvas's selection drives the inspector, and a
    palette entry chosen without dragging is added in the middle of the canvas."""

    def __init__(self, document: Document, parent=None):
        super().__init__(Qt.Horizontal, parent)
        self.palette_panel = PaletteWidget()
        self.canvas = CanvasView(document)
        self.inspector = InspectorWidget(document)
        for widget in (self.palette_panel, self.canvas, self.inspector):
            self.addWidget(widget)
        self.setStretchFactor(1, 1)
        self.setSizes([170, 640, 300])
        self.canvas.selectionChangedTo.connect(self._show_selection)
        self.palette_panel.layerRequested.connect(self.canvas.add_layer_in_view)

    def _show_selection(self, ids: list[str]) -> None:
        self.inspector.show_layer(ids[0] if len(ids) == 1 else None)
