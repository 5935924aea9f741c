"""The palette: every registered layer type, grouped by category, ready to drag onto the canvas.

It reads ``LAYER_TYPES`` and nothing else, so a new layer file appears here with no GUI change.
"""

from __future__ import annotations

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QLabel, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from ...engine.layers import LAYER_TYPES

#: The drag payload: a layer type id, UTF-8.
LAYER_MIME = "application/x-playground-layer"

_TYPE_ROLE = Qt.UserRole


def type_tooltip(type_id: str) -> str:
    """The formula and when to use it: what a learner needs to pick a layer."""
    cls = LAYER_TYPES[type_id]
    return f"{cls.formula}\n{cls.when_to_use}".strip()


def type_title(type_id: str) -> str:
    """The name a learner reads ("MaxPool2D"), declared by the layer type itself."""
    return LAYER_TYPES[type_id].display_name


class _LayerTree(QTreeWidget):
    """A tree whose drags carry the palette's own mime data."""

    def __init__(self, palette: PaletteWidget):
        super().__init__(palette)
        self._palette = palette

    def mimeTypes(self):
        return [LAYER_MIME]

    def mimeData(self, items):
        type_ids = [item.data(0, _TYPE_ROLE) for item in items if item.data(0, _TYPE_ROLE)]
        return self._palette.mime_data_for(type_ids[0]) if type_ids else QMimeData()


class PaletteWidget(QWidget):
    """Layer types grouped by category; drag one onto the canvas, or double-click to add it."""

    #: a type chosen without dragging (double-click or Enter): the editor adds it in view
    layerRequested = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.tree = _LayerTree(self)
        self.tree.setHeaderHidden(True)
        self.tree.setDragEnabled(True)
        self.tree.setDragDropMode(QAbstractItemView.DragOnly)
        self.tree.setRootIsDecorated(False)
        self.tree.setIndentation(12)
        self.tree.itemActivated.connect(self._activated)
        self.tree.setStyleSheet(
            "QTreeWidget { border: none; font-size: 13px; outline: 0; }QTreeWidget::item { padding: 5px 4px; }"
        )
        hint = QLabel("Drag a layer onto the canvas, or double-click it. Hover for its formula.")
        hint.setWordWrap(True)
        hint.setStyleSheet("color: #6B7280; padding: 8px;")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.tree)
        layout.addWidget(hint)
        self._fill()

    def _fill(self) -> None:
        categories: dict[str, QTreeWidgetItem] = {}
        for type_id in sorted(LAYER_TYPES, key=lambda t: (LAYER_TYPES[t].category, t)):
            category = LAYER_TYPES[type_id].category
            if category not in categories:
                group = QTreeWidgetItem(self.tree, [category])
                group.setFlags(Qt.ItemIsEnabled)
                font = group.font(0)
                font.setBold(True)
                group.setFont(0, font)
                categories[category] = group
            item = QTreeWidgetItem(categories[category], [type_title(type_id)])
            item.setData(0, _TYPE_ROLE, type_id)
            item.setToolTip(0, type_tooltip(type_id))
            item.setFlags(Qt.ItemIsEnabled | Qt.ItemIsSelectable | Qt.ItemIsDragEnabled)
        self.tree.expandAll()

    def type_ids(self) -> list[str]:
        """The types offered, in the order shown."""
        found = []
        for g in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(g)
            found += [group.child(i).data(0, _TYPE_ROLE) for i in range(group.childCount())]
        return found

    def mime_data_for(self, type_id: str) -> QMimeData:
        """What dragging ``type_id`` carries; tests build drops from it."""
        data = QMimeData()
        data.setData(LAYER_MIME, type_id.encode("utf-8"))
        return data

    def _activated(self, item: QTreeWidgetItem) -> None:
        type_id = item.data(0, _TYPE_ROLE)
        if type_id:
            self.layerRequested.emit(type_id)
