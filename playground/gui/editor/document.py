"""The open network as a Qt object: the single source of truth every editor view subscribes to.

Every edit is a pure function of the spec (``edits.py``) wrapped in one QUndoCommand that
remembers the spec before and after.  Specs are replaced, never mutated, so undo is exact
and a view can never change the network behind the undo stack's back.
"""

from __future__ import annotations

from contextlib import contextmanager

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QColor, QKeySequence, QUndoCommand, QUndoStack

from ...model import Analysis, NetworkSpec, analyse, edits
from ...model.edits import EditError
from ..colors import layer_colors

LOCKED_MESSAGE = "Stop training before editing the network"


class _SpecChange(QUndoCommand):
    """One edit: undo shows the spec before it, redo the spec after it."""

    def __init__(self, document: Document, text: str, before: NetworkSpec, after: NetworkSpec):
        super().__init__(text)
        self._document, self._before, self._after = document, before, after

    def redo(self):
        self._document._show(self._after)

    def undo(self):
        self._document._show(self._before)


class Document(QObject):
    """The open network; the single source of truth. Views subscribe; edits go through undoable commands."""

    #: after every edit, undo or redo, or set_spec
    changed = Signal()
    #: after set_spec only: views reset selection and zoom to the new network
    replaced = Signal()
    #: an edit attempted while locked, or an invalid value: one clear sentence
    editRefused = Signal(str)
    lockedChanged = Signal(bool)

    def __init__(self, spec: NetworkSpec, parent=None):
        super().__init__(parent)
        self.undo_stack = QUndoStack(self)
        self._locked = False
        self._spec = edits.with_all_positions(spec)
        self._analysis = analyse(self._spec)

    # --- state --------------------------------------------------------------------------
    @property
    def spec(self) -> NetworkSpec:
        """The current network; treat as read-only (edits replace it)."""
        return self._spec

    @property
    def analysis(self) -> Analysis:
        return self._analysis

    @property
    def locked(self) -> bool:
        return self._locked

    @locked.setter
    def locked(self, value: bool) -> None:
        if bool(value) != self._locked:
            self._locked = bool(value)
            self.lockedChanged.emit(self._locked)

    def is_modified(self) -> bool:
        return not self.undo_stack.isClean()

    def mark_saved(self) -> None:
        self.undo_stack.setClean()

    def set_spec(self, spec: NetworkSpec) -> bool:
        """Replace everything (open a file, load a lesson): history is cleared and the
        document counts as saved.  Refused while locked, because training reads the spec."""
        if self._refuse_if_locked():
            return False
        self.undo_stack.clear()
        self._show(edits.with_all_positions(spec))
        self.undo_stack.setClean()
        self.replaced.emit()
        return True

    def _show(self, spec: NetworkSpec) -> None:
        self._spec = spec
        self._analysis = analyse(spec)
        self.changed.emit()

    # --- edits ----------------------------------------------------------------------------
    @contextmanager
    def refusals(self):
        """Collect the reasons of edits refused inside the block, so the view that made them
        can show the reason where the user is looking; other views' refusals stay out."""
        reasons: list[str] = []
        self.editRefused.connect(reasons.append)
        try:
            yield reasons
        finally:
            self.editRefused.disconnect(reasons.append)

    def _refuse_if_locked(self) -> bool:
        if self._locked:
            self.editRefused.emit(LOCKED_MESSAGE)
        return self._locked

    def _edit(self, text: str, make, *args):
        """Push ``make(spec, *args)`` as one undoable step; returns what ``make`` returned
        (the new spec, or ``(spec, extra)``), or None when the edit was refused."""
        if self._refuse_if_locked():
            return None
        try:
            result = make(self._spec, *args)
        except EditError as error:
            self.editRefused.emit(str(error))
            return None
        after = edits.fit_cost(self._spec, result[0] if isinstance(result, tuple) else result)
        if after.training.cost != self._spec.training.cost and make is not edits.set_setting:
            text += f" (cost: {after.training.cost})"
        if after != self._spec:  # a no-op (e.g. focus leaving an unchanged field) is no step
            self.undo_stack.push(_SpecChange(self, text, self._spec, after))
        return result

    def add_layer(self, type_id: str, position) -> str | None:
        """Add a layer with default settings at ``position`` (top-left, scene units); its new id."""
        result = self._edit(f"Add {type_id} layer", edits.add_layer, type_id, position)
        return result[1] if result else None

    def remove_layers(self, ids, edges=(), state_edges=()) -> bool:
        """Remove the layers and their connections (and any extra ``edges`` and ``state_edges``) in one step."""
        ids, edges, state_edges = list(ids), list(edges), list(state_edges)
        return (
            self._edit(f"Delete {', '.join(ids) or 'connection'}", edits.remove_layers, ids, edges, state_edges)
            is not None
        )

    def move_layers(self, positions: dict, text: str = "Move layers") -> bool:
        """Move layers to new top-left positions; a whole drag (or auto layout) is one call, one step."""
        return self._edit(text, edits.move_layers, positions) is not None

    def connection_problem(self, source_id: str, target_id: str, kind: str = "data") -> str | None:
        """Why this connection would be refused, or None: lets the canvas judge a port while
        dragging, and grey out menu entries.  ``kind`` is "data" or "state" (``edits.EDGE_LISTS``)."""
        return edits.connection_problem(self._spec, source_id, target_id, kind)

    def connect(self, source_id: str, target_id: str, kind: str = "data") -> bool:
        """Add a data edge, or with ``kind="state"`` make ``source_id``'s final state ``target_id``'s initial state."""
        text = f"Connect {source_id} → {target_id}" if kind == "data" else f"Feed {source_id}'s state to {target_id}"
        return self._edit(text, edits.connect, source_id, target_id, kind) is not None

    def disconnect(self, source_id: str, target_id: str, kind: str = "data") -> bool:
        text = f"Disconnect {source_id} → {target_id}" if kind == "data" else f"Remove state {source_id} → {target_id}"
        return self._edit(text, edits.disconnect, source_id, target_id, kind) is not None

    def set_layer_config(self, node_id: str, field_name: str, value) -> bool:
        return self._edit(f"Set {node_id} {field_name}", edits.set_layer_config, node_id, field_name, value) is not None

    def set_training(self, field_name: str, value) -> bool:
        return self._edit(f"Set {field_name}", edits.set_setting, "training", field_name, value) is not None

    def set_dataset(self, field_name: str, value) -> bool:
        return self._edit(f"Set dataset {field_name}", edits.set_setting, "dataset", field_name, value) is not None

    def set_augmentation(self, field_name: str, value) -> bool:
        return (
            self._edit(f"Set augmentation {field_name}", edits.set_setting, "augmentation", field_name, value)
            is not None
        )

    def copy_payload(self, ids) -> str:
        """The layers ``ids`` and the edges among them as JSON text for the clipboard."""
        return edits.copy_payload(self._spec, ids)

    def paste(self, clipboard_payload: str, offset=None) -> list[str]:
        """Add the payload's layers under new unique ids, shifted by ``offset`` (None: next to
        the existing layers, overlapping none); their ids."""
        result = self._edit("Paste layers", edits.paste, clipboard_payload, offset)
        return result[1] if result else []

    # --- history --------------------------------------------------------------------------
    def undo(self) -> None:
        if not self._refuse_if_locked():
            self.undo_stack.undo()

    def redo(self) -> None:
        if not self._refuse_if_locked():
            self.undo_stack.redo()

    def create_undo_action(self, parent) -> QAction:
        """An Undo action (Ctrl+Z) that, unlike QUndoStack.createUndoAction, is off while locked."""
        return _HistoryAction(
            self, parent, "Undo", QKeySequence.Undo, self.undo, self.undo_stack.canUndo, self.undo_stack.undoText
        )

    def create_redo_action(self, parent) -> QAction:
        """A Redo action: the platform's key (Ctrl+Shift+Z on Linux) and Ctrl+Y, which users of any
        platform expect."""
        keys = QKeySequence.keyBindings(QKeySequence.Redo)
        if QKeySequence("Ctrl+Y") not in keys:
            keys.append(QKeySequence("Ctrl+Y"))
        return _HistoryAction(self, parent, "Redo", keys, self.redo, self.undo_stack.canRedo, self.undo_stack.redoText)


class _HistoryAction(QAction):
    """Undo or Redo, enabled when the stack allows it and the document is not locked.

    A QAction subclass so the refresh slot is a bound method: Qt drops the connections
    when the action is deleted, where a closure would outlive it."""

    def __init__(self, document: Document, parent, verb, shortcut, step, available, describe):
        super().__init__(verb, parent)
        self._document, self._verb, self._available, self._describe = document, verb, available, describe
        self.setShortcuts(shortcut if isinstance(shortcut, list) else QKeySequence.keyBindings(shortcut))
        self.triggered.connect(step)
        document.undo_stack.indexChanged.connect(self._refresh)
        document.undo_stack.cleanChanged.connect(self._refresh)
        document.lockedChanged.connect(self._refresh)
        self._refresh()

    def _refresh(self, *_):
        self.setEnabled(self._available() and not self._document.locked)
        self.setText(f"{self._verb} {self._describe()}".strip())


def layer_colors_for(document: Document) -> dict[str, QColor]:
    """The plot colour of each layer with parameters, in feed-forward order, as plots use it."""
    analysis = document.analysis
    return layer_colors([node_id for node_id in analysis.order if analysis.parameter_counts.get(node_id)])
