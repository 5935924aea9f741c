"""Editors generated from a config dataclass: one row per field, chosen by the field's kind.

Layer configs and the training settings declare their fields with the same ``option()``
metadata, so one generator serves both and a new layer type needs no inspector code.
The form only reports what the user entered (``edited``); the Document validates it with
``check_value``, so a NaN or a negative count is refused with the same message the file
loader gives.
"""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtWidgets import QComboBox, QFormLayout, QLabel, QLineEdit, QSpinBox, QWidget

from ...datasets.catalog import CATALOGUE
from ...engine.activations import ACTIVATIONS
from ...engine.config import FieldInfo, fields_of
from ...engine.costs import COSTS
from ...engine.initializers import INITIALIZERS
from ...model.edits import parse_number, parse_shape

#: Per-choice explanations, by field name: shown as each choice's tooltip.
CHOICE_HELP = {
    "activation": lambda name: f"{ACTIVATIONS[name].formula}\n{ACTIVATIONS[name].when_to_use}",
    "cost": lambda name: COSTS[name].formula,
    "initializer": lambda name: INITIALIZERS[name].description,
    "name": lambda name: CATALOGUE[name].title,  # the dataset's name, the only choice field so called
}

_INT_LIMIT = 2**31 - 1  # what a QSpinBox holds
#: One label width for every form, so the inspector's sections line up.
_LABEL_WIDTH = 124

#: Words of field names that read better spelt out or in capitals.
_LABEL_WORDS = {"l1": "L1", "l2": "L2", "n": "Number of"}


def field_label(name: str) -> str:
    """``learning_rate`` → "Learning rate", ``n_bits`` → "Number of bits"."""
    words = [_LABEL_WORDS.get(word, word) for word in name.split("_")]
    text = " ".join(words)
    return text[0].upper() + text[1:]


class _SpinEditor:
    """Whole numbers: a spin box limited to the field's range."""

    def __init__(self, info: FieldInfo, report):
        self.widget = QSpinBox()
        self.widget.setRange(
            -_INT_LIMIT if info.minimum is None else int(info.minimum),
            _INT_LIMIT if info.maximum is None else int(info.maximum),
        )
        self.widget.setKeyboardTracking(False)  # one edit per Enter or arrow click, not per digit
        self.widget.setGroupSeparatorShown(True)
        self.widget.valueChanged.connect(lambda value: report(info.name, value))

    def show(self, value) -> None:
        self.widget.setValue(value)


class _ChoiceEditor:
    """A fixed set of names; each choice explains itself in its tooltip where it can."""

    def __init__(self, info: FieldInfo, report):
        self.widget = QComboBox()
        explain = CHOICE_HELP.get(info.name)
        for index, choice in enumerate(info.choices):
            self.widget.addItem(choice)
            if explain:
                self.widget.setItemData(index, explain(choice), Qt.ToolTipRole)
        self.widget.currentTextChanged.connect(lambda text: report(info.name, text))

    def show(self, value) -> None:
        self.widget.setCurrentText(value)


class _LineEditor:
    """Free text parsed on Enter or focus loss: floats (so 1e-4 is easy to type), shapes, text."""

    def __init__(self, info: FieldInfo, report, parse, show_as):
        self.widget = QLineEdit()
        self._show_as = show_as

        def finished():
            if self.widget.isModified():  # focus merely leaving the field is no edit
                self.widget.setModified(False)
                report(info.name, parse(self.widget.text()))

        self.widget.editingFinished.connect(finished)

    def show(self, value) -> None:
        self.widget.setText(self._show_as(value))


#: How each free-text kind is read from and shown in a line edit.
_LINE_KINDS = {
    "float": (parse_number, lambda v: repr(float(v))),  # repr: exact and short (0.0001, 1e-09)
    "shape": (parse_shape, lambda v: ", ".join(str(n) for n in v)),
    "text": (str, str),
}


def _make_editor(info: FieldInfo, report):
    if info.kind == "int":
        return _SpinEditor(info, report)
    if info.kind == "choice":
        return _ChoiceEditor(info, report)
    return _LineEditor(info, report, *_LINE_KINDS[info.kind])


class ConfigForm(QWidget):
    """A form for one config dataclass; ``edited(field, value)`` is what the user entered,
    still to be validated by the Document."""

    edited = Signal(str, object)

    def __init__(self, config_type, parent=None):
        super().__init__(parent)
        self.config_type = config_type
        layout = QFormLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setFieldGrowthPolicy(QFormLayout.AllNonFixedFieldsGrow)
        self._editors = {}
        for info in fields_of(config_type):
            editor = _make_editor(info, self.edited.emit)
            editor.widget.setToolTip(info.help)
            editor.widget.setObjectName(info.name)
            label = QLabel(field_label(info.name))
            label.setToolTip(info.help)
            label.setMinimumWidth(_LABEL_WIDTH)
            layout.addRow(label, editor.widget)
            self._editors[info.name] = editor

    def editor(self, field_name: str) -> QWidget:
        """The widget editing ``field_name``."""
        return self._editors[field_name].widget

    def show_values(self, config) -> None:
        """Show ``config`` without reporting edits: a refresh is not the user typing."""
        for name, editor in self._editors.items():
            with QSignalBlocker(editor.widget):
                editor.show(getattr(config, name))
