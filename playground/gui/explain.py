"""Explain this number: one unit's or one weight's activation, δ and gradient, with the formulas
that produced them.

Double-clicking a Dense layer on the canvas (or a connection into one), or choosing "Explain
this number…" from its right-click menu, opens this popup.  Its numbers come from
``training.backprop.BackpropExplainer``: the engine's own forward and backward pass, in float64,
of the newest weights on the data set's first training example.  The spin boxes pick the unit j
(and for a connection the input k); the formulas follow.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QSpinBox, QVBoxLayout

from ..training.backprop import EXAMPLE_NAME, BackpropExplainer, Quantity, number, why_not_explained


class ExplainPopup(QDialog):
    """The numbers of unit j of ``layer`` (1 is the first Dense layer), or with ``weights`` of the
    connection into it, weight wⱼₖ."""

    def __init__(self, explainer: BackpropExplainer, layer: int, weights: bool = False, parent=None):
        super().__init__(parent)
        self.explainer, self.layer, self.weights = explainer, layer, weights
        layer_id = explainer.layer_ids[layer - 1]
        below = explainer.layer_ids[layer - 2] if layer > 1 else "the input"
        units, inputs = explainer.sizes[layer], explainer.sizes[layer - 1]
        what = f"the weights from {below} into {layer_id}" if weights else f"{layer_id}"
        self.setWindowTitle(f"Explain this number: {what}")
        self.setAttribute(Qt.WA_DeleteOnClose)
        heading = QLabel(
            f"<b>{what}</b> (layer {layer} of {explainer.depth}, {units} {explainer.activation_names[layer - 1]} "
            f"units), on {EXAMPLE_NAME}: cost C = {number(explainer.cost)}. The numbers are the engine's, for "
            f"the newest weights, in float64."
        )
        heading.setWordWrap(True)
        self.unit = QSpinBox()
        self.unit.setRange(1, units)
        self.unit.setPrefix("unit j = ")
        self.source = QSpinBox()
        self.source.setRange(1, inputs)
        self.source.setPrefix("input k = ")
        pickers = QFormLayout()
        pickers.addRow(f"Unit of {layer_id}", self.unit)
        if weights:
            pickers.addRow(f"Unit of {below}", self.source)
        self.formulas = QLabel()
        self.formulas.setTextFormat(Qt.RichText)
        self.formulas.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.formulas.setStyleSheet("font-size: 13px; padding: 6px;")
        self.formulas.setMinimumWidth(680)
        self.formulas.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.rejected.connect(self.close)
        column = QVBoxLayout(self)
        column.addWidget(heading)
        column.addLayout(pickers)
        column.addWidget(self.formulas, 1)
        column.addWidget(buttons)
        self.unit.valueChanged.connect(self.show_numbers)
        self.source.valueChanged.connect(self.show_numbers)
        self.show_numbers()

    def quantities(self) -> list[Quantity]:
        """What the popup shows now, each with its formula."""
        j = self.unit.value() - 1
        if self.weights:
            return self.explainer.explain_weight(self.layer, j, self.source.value() - 1)
        return self.explainer.explain_unit(self.layer, j)

    def show_numbers(self) -> None:
        names = {"z": "weighted input", "a": "activation", "delta": "error δ = ∂C/∂z"}
        lines = []
        if self.weights:
            j, k = self.unit.value() - 1, self.source.value() - 1
            symbol = self.explainer.parameter_name(self.layer, "weight", (j, k))
            lines.append(f"{self._name('weight')} {symbol} = {number(self.explainer.weights[self.layer][j, k])}")
        for quantity in self.quantities():
            lines.append(f"{self._name(names.get(quantity.kind, 'gradient'))} {quantity.formula}")
        self.formulas.setText("<br>".join(lines))

    @staticmethod
    def _name(text: str) -> str:
        return f"<span style='color:#6B7280'>{text}:</span>"


def explain(model, spec, layer_id: str, source_id: str = "", parent=None) -> ExplainPopup | str:
    """The popup for a double-click on ``layer_id`` (or on the connection ``source_id`` → ``layer_id``)
    of the dashboard's ``model``, or the one-line reason it cannot be shown.  ``spec`` is the
    network on the canvas, whose reason is given when the dashboard holds no network of its own."""
    spec = model.network_spec or spec
    problem = why_not_explained(spec)
    if problem:
        return problem
    if not model.weights:
        return "The network has no weights yet."
    if model.dataset is None or not len(model.dataset.x_train):
        return "Explain this number uses the first training example: press Train or Step once to load the data."
    try:
        explainer = BackpropExplainer.for_dataset(spec, model.weights, model.dataset)
    except (ValueError, IndexError, KeyError) as error:  # data of another network, mid-switch
        return f"The data does not fit this network ({error})."
    if layer_id not in explainer.layer_ids:
        return f'"{layer_id}" is the input: its activations are the example itself. Double-click a Dense layer.'
    return ExplainPopup(explainer, explainer.layer_ids.index(layer_id) + 1, weights=bool(source_id), parent=parent)
