"""The inspector: the selected layer's settings, then how to train, on what data, and with which
fabricated examples (augmentation).

All four sections are ``ConfigForm``s generated from dataclass fields.  Edits go to the
Document (undoable, validated there); the forms redraw from the document after every
change, so undo and the canvas keep them current with no bookkeeping here.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QLabel, QScrollArea, QVBoxLayout, QWidget

from ...engine.layers import LAYER_TYPES
from ...model import AugmentationSettings, DatasetSettings, TrainingSettings
from .document import LOCKED_MESSAGE, Document
from .forms import ConfigForm
from .items import shape_text

_SECTION_STYLE = "font-weight: 600; font-size: 13px; color: #111827; padding: 10px 0 0 0;"
_MUTED_STYLE = "color: #4B5563;"
_FORMULA_STYLE = (
    "font-family: 'DejaVu Sans Mono', monospace; background: #F1F5F9; padding: 4px 6px; border-radius: 4px;"
)
_ERROR_STYLE = "color: #B91C1C;"
_MESSAGE_STYLE = "color: #991B1B; background: #FEF2F2; border: 1px solid #FCA5A5; border-radius: 4px; padding: 6px;"


def _label(style: str = "", wrap: bool = True) -> QLabel:
    label = QLabel()
    label.setStyleSheet(style)
    label.setWordWrap(wrap)
    label.setTextInteractionFlags(Qt.TextSelectableByMouse)
    return label


class _Banner(QLabel):
    """A message that floats over the bottom of the inspector: showing or hiding it moves no
    field (one that pushed the forms down sent a click meant for one field to the next).  A
    click dismisses it."""

    MARGIN = 8

    def __init__(self, parent: QWidget):
        super().__init__(parent)
        self.setStyleSheet(_MESSAGE_STYLE)
        self.setWordWrap(True)
        self.setToolTip("Click to dismiss")
        self.hide()

    def say(self, text: str) -> None:
        """Show ``text`` (an empty one hides the banner)."""
        self.setText(text)
        self.setVisible(bool(text))
        self.place()

    def place(self) -> None:
        parent = self.parentWidget()
        width = max(parent.width() - 2 * self.MARGIN, 40)
        height = self.heightForWidth(width)
        height = height if height > 0 else self.sizeHint().height()
        self.setGeometry(self.MARGIN, parent.height() - height - self.MARGIN, width, height)
        self.raise_()

    def mousePressEvent(self, event) -> None:
        self.hide()
        event.accept()


def _section(title: str) -> QLabel:
    label = QLabel(title)
    label.setStyleSheet(_SECTION_STYLE)
    return label


class InspectorWidget(QWidget):
    """Settings of the selected layer, of training and of the dataset, generated from their fields."""

    def __init__(self, document: Document, parent=None):
        super().__init__(parent)
        self.document = document
        self.layer_id: str | None = None
        self.layer_form: ConfigForm | None = None

        #: why the last edit here was refused, or that training locks the forms
        self.message = _Banner(self)
        self.layer_title = _label("font-size: 15px; font-weight: 600;")
        self.layer_formula = _label(_FORMULA_STYLE)
        self.layer_about = _label(_MUTED_STYLE)
        self.layer_stats = _label(_MUTED_STYLE)
        self.layer_problems = _label(_ERROR_STYLE)
        self.placeholder = _label(_MUTED_STYLE)
        self.placeholder.setText("Select a layer on the canvas to edit it.")
        self.training_form = ConfigForm(TrainingSettings)
        self.training_form.edited.connect(lambda name, value: self._apply(document.set_training, name, value))
        self.dataset_form = ConfigForm(DatasetSettings)
        self.dataset_form.edited.connect(lambda name, value: self._apply(document.set_dataset, name, value))
        self.augmentation_form = ConfigForm(AugmentationSettings)
        self.augmentation_form.edited.connect(lambda name, value: self._apply(document.set_augmentation, name, value))
        self.augmentation_form.setToolTip(
            "Fabricated training examples: every strength at 0 switches its "
            "transformation off. The Augmentation tab previews them."
        )

        self._layer_box = QWidget()
        self._layer_layout = QVBoxLayout(self._layer_box)
        self._layer_layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self.layer_title, self.layer_formula, self.layer_about, self.layer_stats, self.layer_problems):
            self._layer_layout.addWidget(widget)

        content = QWidget()
        column = QVBoxLayout(content)
        column.setContentsMargins(12, 4, 12, 64)  # room to scroll the last field above the banner
        for widget in (
            _section("Layer"),
            self.placeholder,
            self._layer_box,
            _section("Training"),
            self.training_form,
            _section("Dataset"),
            self.dataset_form,
            _section("Augmentation"),
            self.augmentation_form,
        ):
            column.addWidget(widget)
        column.addStretch()
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.NoFrame)
        scroll.setWidget(content)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        self.message.raise_()

        document.changed.connect(self._refresh)
        document.lockedChanged.connect(self._on_locked)
        self.show_layer(None)

    def show_layer(self, node_id: str | None) -> None:
        """Edit this layer (None: no layer); the canvas's selection drives it."""
        self.layer_id = node_id
        self._refresh()

    def _apply(self, setter, *args) -> None:
        """Send one edit; a refusal shows its reason here and the form goes back to the model."""
        with self.document.refusals() as reasons:
            setter(*args)
        self.message.say(reasons[0] if reasons else "")
        if reasons:
            self._refresh_forms()

    def _refresh(self) -> None:
        spec, analysis = self.document.spec, self.document.analysis
        if self.layer_id is not None and self.layer_id not in {node.id for node in spec.nodes}:
            self.layer_id = None  # deleted, or its addition undone
        node = spec.node(self.layer_id) if self.layer_id else None
        self.placeholder.setVisible(node is None)
        self._layer_box.setVisible(node is not None)
        if node is not None:
            cls = LAYER_TYPES[node.type]
            if self.layer_form is None or self.layer_form.config_type is not cls.Config:
                self._replace_layer_form(cls.Config)
            self.layer_title.setText(f"{node.id}  ·  {cls.display_name}")
            self.layer_formula.setText(cls.formula)
            self.layer_about.setText(cls.when_to_use)
            count = analysis.parameter_counts.get(node.id)
            self.layer_stats.setText(
                f"Output {shape_text(analysis.output_shapes.get(node.id))}  ·  "
                + ("parameters unknown" if count is None else f"{count:,} parameters")
            )
            problems = [p.message for p in analysis.problems if p.node == node.id]
            self.layer_problems.setText("\n".join(problems))
            self.layer_problems.setVisible(bool(problems))
        self._refresh_forms()

    def _replace_layer_form(self, config_type) -> None:
        if self.layer_form is not None:  # out of the layout now: deletion waits for the event loop
            self._layer_layout.removeWidget(self.layer_form)
            self.layer_form.hide()
            self.layer_form.deleteLater()
        self.layer_form = ConfigForm(config_type)
        self.layer_form.edited.connect(
            lambda name, value: self._apply(self.document.set_layer_config, self.layer_id, name, value)
        )
        self.layer_form.setEnabled(not self.document.locked)
        self._layer_layout.addWidget(self.layer_form)
        self.layer_form.show()  # a widget added to a visible parent stays hidden otherwise

    def _refresh_forms(self) -> None:
        spec = self.document.spec
        if self.layer_form is not None and self.layer_id is not None:
            self.layer_form.show_values(spec.node(self.layer_id).config)
        self.training_form.show_values(spec.training)
        self.dataset_form.show_values(spec.dataset)
        self.augmentation_form.show_values(spec.augmentation)

    def _on_locked(self, locked: bool) -> None:
        """While training runs the forms are read-only, and the banner says why."""
        for form in (self.layer_form, self.training_form, self.dataset_form, self.augmentation_form):
            if form is not None:
                form.setEnabled(not locked)
        self.message.say(f"{LOCKED_MESSAGE}." if locked else "")

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.message.place()
