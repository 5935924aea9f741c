"""The inspector's generated forms: edits reach the model through the Document, bad values
are refused with a message, and the forms follow undo and the canvas's selection."""

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLineEdit, QSpinBox

from playground.engine.config import fields_of
from playground.gui.editor import LOCKED_MESSAGE, EditorWidget, InspectorWidget
from playground.gui.editor.forms import ConfigForm, field_label
from playground.model import DatasetSettings, TrainingSettings

from .test_editor_canvas import extra_layer_type  # noqa: F401  (a fixture)


@pytest.fixture
def inspector(qtbot, doc):
    widget = InspectorWidget(doc)
    qtbot.addWidget(widget)
    widget.show()
    return widget


def type_into(qtbot, line: QLineEdit, text: str):
    """Replace the text as a user would, then press Enter."""
    line.selectAll()
    qtbot.keyClicks(line, text)
    qtbot.keyClick(line, Qt.Key_Return)


def test_forms_are_generated_from_the_fields(inspector):
    inspector.show_layer("fc1")
    form = inspector.layer_form
    assert isinstance(form.editor("units"), QSpinBox)
    assert isinstance(form.editor("activation"), QComboBox)
    assert isinstance(form.editor("alpha"), QLineEdit)
    assert form.editor("units").toolTip() == "Number of neurons in the layer."
    for settings, section in ((TrainingSettings, inspector.training_form), (DatasetSettings, inspector.dataset_form)):
        assert [info.name for info in fields_of(settings)] == list(section._editors)
    assert field_label("learning_rate") == "Learning rate" and field_label("n_bits") == "Number of bits"


def test_editing_units_changes_the_model_and_the_card(qtbot, doc):
    editor = EditorWidget(doc)
    qtbot.addWidget(editor)
    editor.show()
    editor.canvas.select(["fc1"])
    assert editor.inspector.layer_id == "fc1"
    units = editor.inspector.layer_form.editor("units")
    assert units.value() == 30
    units.setValue(50)
    assert doc.spec.node("fc1").config.units == 50
    assert doc.analysis.parameter_counts["fc1"] == 39_250
    assert editor.canvas.node_item("fc1").lines()[2:] == ["50", "39,250 params"]
    assert "39,250 parameters" in editor.inspector.layer_stats.text()
    doc.undo_stack.undo()
    assert units.value() == 30 and editor.canvas.node_item("fc1").params_text == "23,550 params"
    editor.canvas.select(["fc1", "out"])
    assert editor.inspector.layer_id is None and editor.inspector.placeholder.isVisibleTo(editor.inspector)


def test_activation_choices_explain_themselves(inspector, doc):
    inspector.show_layer("fc1")
    combo = inspector.layer_form.editor("activation")
    tips = {combo.itemText(i): combo.itemData(i, Qt.ToolTipRole) for i in range(combo.count())}
    assert tips["sigmoid"].startswith("σ(z) = 1/(1+e^(−z))")
    assert "ReLU(z) = max(0, z)" in tips["relu"]
    combo.setCurrentText("relu")
    assert doc.spec.node("fc1").config.activation == "relu"
    assert inspector.layer_form.editor("activation").currentText() == "relu"


def test_small_floats_are_accepted(qtbot, inspector, doc):
    rate = inspector.training_form.editor("learning_rate")
    type_into(qtbot, rate, "1e-4")
    assert doc.spec.training.learning_rate == 1e-4
    assert rate.text() == "0.0001" and not inspector.message.isVisible()


@pytest.mark.parametrize("text, reason", [("nan", "finite"), ("fast", "must be a number"), ("-1", "at least")])
def test_invalid_values_are_refused_with_a_message(qtbot, inspector, doc, text, reason):
    refused = []
    doc.editRefused.connect(refused.append)
    before = doc.spec
    rate = inspector.training_form.editor("learning_rate")
    type_into(qtbot, rate, text)
    assert doc.spec is before and doc.undo_stack.count() == 0
    assert inspector.message.isVisible() and reason in inspector.message.text()
    assert refused == [inspector.message.text()]
    assert rate.text() == "0.5"  # back to the model's value


def test_negative_units_are_refused(inspector, doc):
    inspector.show_layer("fc1")
    assert inspector.layer_form.editor("units").minimum() == 1  # the spin box will not even go there
    doc.set_layer_config("fc1", "units", -3)  # and the document says why, for any other caller
    assert doc.spec.node("fc1").config.units == 30


def test_shapes_are_typed_as_lists(qtbot, inspector, doc):
    inspector.show_layer("in")
    shape = inspector.layer_form.editor("shape")
    assert shape.text() == "784"
    type_into(qtbot, shape, "1, 28, 28")
    assert doc.spec.node("in").config.shape == (1, 28, 28)
    assert doc.analysis.parameter_counts["fc1"] == 23_550  # dense flattens the image
    type_into(qtbot, shape, "1, two")
    assert "positive whole numbers" in inspector.message.text() and shape.text() == "1, 28, 28"


def test_dataset_section_edits_the_dataset(inspector, doc):
    inspector.dataset_form.editor("name").setCurrentText("spiral")
    assert doc.spec.dataset.name == "spiral"
    inspector.dataset_form.editor("n_samples").setValue(500)
    assert doc.spec.dataset.n_samples == 500 and doc.undo_stack.count() == 2


def test_focus_leaving_an_unchanged_field_is_no_edit(inspector, doc):
    inspector.training_form.editor("l2").editingFinished.emit()
    assert doc.undo_stack.count() == 0


def test_the_form_follows_deletion_and_undo(inspector, doc):
    inspector.show_layer("fc1")
    doc.remove_layers(["fc1"])
    assert inspector.layer_id is None and not inspector._layer_box.isVisibleTo(inspector)


def test_layer_problems_are_listed(inspector, doc):
    loose = doc.add_layer("dense", (300, 0))
    inspector.show_layer(loose)
    assert "not connected to the input" in inspector.layer_problems.text()
    assert inspector.layer_stats.text() == "Output ?  ·  parameters unknown"


def test_locked_forms_are_read_only_and_say_why(inspector, doc):
    inspector.show_layer("fc1")
    doc.locked = True
    assert not inspector.layer_form.isEnabled() and not inspector.training_form.isEnabled()
    assert inspector.message.isVisible() and LOCKED_MESSAGE in inspector.message.text()
    doc.locked = False
    assert inspector.layer_form.isEnabled() and not inspector.message.isVisible()


def test_a_new_layer_type_needs_no_inspector_code(qtbot, inspector, doc, extra_layer_type):  # noqa: F811
    new = doc.add_layer(extra_layer_type, (0, 0))
    inspector.show_layer(new)
    type_into(qtbot, inspector.layer_form.editor("factor"), "3.5")
    inspector.layer_form.editor("mode").setCurrentText("exact")
    config = doc.spec.node(new).config
    assert (config.factor, config.mode) == (3.5, "exact")
    assert inspector.layer_formula.text() == "a = k·x"
    inspector.show_layer("fc1")  # back to a dense layer: the form is rebuilt for its config
    assert inspector.layer_form.editor("units").value() == 30
    shown = [form for form in inspector.findChildren(ConfigForm) if form.isVisibleTo(inspector)]
    assert set(shown) == {
        inspector.training_form,
        inspector.dataset_form,
        inspector.augmentation_form,
        inspector.layer_form,
    }


@pytest.mark.parametrize("locked", [False, True])
def test_the_message_moves_no_field(qtbot, inspector, doc, locked):
    """A click aimed at a field lands on it even if the banner appeared meanwhile."""
    inspector.resize(320, 700)
    qtbot.wait(10)
    fields = [inspector.training_form.editor(name) for name in ("learning_rate", "momentum", "batch_size")]

    def places():
        return [field.mapTo(inspector, field.rect().topLeft()) for field in fields]

    before = places()
    if locked:
        doc.locked = True
    else:
        type_into(qtbot, fields[0], "fast")
    qtbot.wait(10)
    assert inspector.message.isVisible()
    assert places() == before
    banner = inspector.message.geometry()
    assert inspector.rect().contains(banner) and banner.height() >= inspector.message.sizeHint().height() // 2
