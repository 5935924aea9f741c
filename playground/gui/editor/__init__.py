"""The network editor: a Document (the open network, with undo) and the views that edit it.

    document = Document(load_spec("net.json"))
    editor = EditorWidget(document)          # or embed the three views separately:
    PaletteWidget(), CanvasView(document), InspectorWidget(document)

Views subscribe to ``document.changed``; every edit is one undoable command on
``document.undo_stack``.  Rules of editing live in ``edits`` (no Qt).
"""

from .canvas import LAYERS_MIME, CanvasView
from .document import LOCKED_MESSAGE, Document, layer_colors_for
from .inspector import InspectorWidget
from .palette import LAYER_MIME, PaletteWidget
from .panel import EditorWidget

__all__ = [
    "CanvasView",
    "Document",
    "EditorWidget",
    "InspectorWidget",
    "LAYERS_MIME",
    "LAYER_MIME",
    "LOCKED_MESSAGE",
    "PaletteWidget",
    "layer_colors_for",
]
