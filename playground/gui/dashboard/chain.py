"""The gradient chain: the lecture's ∂C/∂b₁ = σ′(z₁)·w₂·σ′(z₂)·w₃·…·∂C/∂a₄, with live numbers.

For one validation example the panel's own copy of the network (loaded with the newest weights,
never the worker's) runs the engine's forward and backward pass; ``training.gradient_chain``
splits each layer's step back into the slope factor f′(z) and the weight factor w, whose product
is how much the gradient grows (red, above 1) or shrinks (blue, below 1) on the way to the input.
The formula shows every factor with its value, and a bar chart the factors on a log scale around 1.
"""

from __future__ import annotations

import html

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSpinBox

from ...training.gradient_chain import ChainLink, chain_applies, chain_sentence, gradient_chain
from .common import DashboardModel, OwnNetwork, Panel, set_title

GROWS = "#B91C1C"
SHRINKS = "#1D4ED8"


def factor_color(factor: float | None) -> str:
    return GROWS if factor is not None and factor > 1 else SHRINKS


def chain_html(links: list[ChainLink]) -> str:
    """The formula with every factor filled in: a box per layer, red where it grows the gradient."""

    def box(lines: list[str], color: str) -> str:
        return (
            f"<td style='border:1px solid {color}; padding:3px 6px; color:{color}' align='center'>"
            f"{'<br>'.join(lines)}</td>"
        )

    def value(number: float | None) -> str:
        return "NaN" if number is None or not np.isfinite(number) else f"{number:.3g}"

    first, last = links[0], links[-1]
    cells = [
        box(["‖∂C/∂b‖", html.escape(first.layer), f"<b>{value(first.bias_gradient)}</b>"], "#111827"),
        "<td>&nbsp;=&nbsp;</td>",
    ]
    for link in links[:-1]:
        cells.append(
            box(
                [
                    f"f′(z) of {html.escape(link.layer)}: {value(link.slope_factor)}",
                    f"w of {html.escape(link.next_layer)}: {value(link.weight_factor)}",
                    f"<b>{value(link.factor)}</b>",
                ],
                factor_color(link.factor),
            )
        )
        cells.append("<td>&nbsp;×&nbsp;</td>")
    cells.append(box(["‖∂C/∂b‖", html.escape(last.layer), f"<b>{value(last.bias_gradient)}</b>"], "#111827"))
    return f"<table cellspacing='0'><tr>{''.join(cells)}</tr></table>"


def example_and_target(dataset, index: int, input_size: int, outputs: int):
    """Validation example ``index`` and its target row, or None where the data does not fit the network."""
    if dataset is None or not len(dataset.x_val) or dataset.x_val[0].size != input_size:
        return None
    index = min(index, len(dataset.x_val) - 1)
    x = np.asarray(dataset.x_val[index]).reshape(-1)
    if dataset.task == "classification":
        target = np.zeros(outputs, np.float32)
        target[int(dataset.y_val[index])] = 1.0
    else:
        target = np.asarray(dataset.y_val[index], np.float32).reshape(-1)
        if target.size != outputs:
            return None
    return x, target


class ChainPanel(Panel):
    title = "Gradient chain"
    min_interval = 0.2  # one example's forward and backward pass: cheap, but not on every snapshot

    def __init__(self, parent=None):
        super().__init__(parent)
        controls = QHBoxLayout()
        controls.setContentsMargins(6, 4, 6, 0)
        self.example = QSpinBox()
        self.example.setPrefix("validation example ")
        self.example.setRange(0, 0)
        self.example.setKeyboardTracking(False)
        self.example.valueChanged.connect(self._redraw)
        controls.addWidget(self.example)
        controls.addStretch(1)
        self.layout_.addLayout(controls)
        self.formula = QLabel()
        self.formula.setTextFormat(Qt.RichText)
        self.formula.setWordWrap(True)
        self.formula.setStyleSheet("font-size: 12px; padding: 4px 8px;")
        self.layout_.addWidget(self.formula)
        self.headline = self.add_headline()
        self.plot = self.graphics.addPlot(row=1, col=0)
        self.plot.setLogMode(y=True)
        self.plot.setMouseEnabled(x=False)
        self.plot.addLine(y=0.0, pen=pg.mkPen("#6B7280", width=1, style=Qt.DashLine))  # log10(1)
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.6)
        self.plot.addItem(self.bars)
        self.layout_.addWidget(self.graphics, 1)
        self._own = OwnNetwork()
        self._model: DashboardModel | None = None
        #: the chain drawn last (tests read it)
        self.links: list[ChainLink] = []

    def _redraw(self) -> None:
        if self._model is not None:
            self.refresh(self._model, force=True)

    def applies_to(self, model: DashboardModel) -> bool:
        spec = model.network_spec
        if spec is None:
            return False
        layers = [node for node in spec.nodes if node.type != "input"]
        return len(layers) >= 3 and all(node.type == "dense" for node in layers)

    def versions(self, model: DashboardModel) -> tuple:
        return model.weights_version, model.context_version, model.dataset_version

    def draw(self, model: DashboardModel) -> None:
        self._model = model
        network = self._own.for_model(model)
        if not chain_applies(network) or not model.weights:
            self._clear("The chain appears for a stack of dense layers once it has weights.")
            return
        if self._own.loaded_weights != model.weights_version:
            network.load_state(model.weights)
            self._own.loaded_weights = model.weights_version
        dataset = model.dataset
        if dataset is not None:
            self.example.setMaximum(max(len(dataset.x_val) - 1, 0))
        pair = example_and_target(dataset, self.example.value(), int(np.prod(network.input_shape)), network.output_size)
        if pair is None:
            self._clear("Press <b>Train</b>: the chain is drawn for a validation example once the data is loaded.")
            return
        with np.errstate(all="ignore"):
            self.links = gradient_chain(network, *pair)
        self.formula.setText(chain_html(self.links))
        factors = np.array([link.factor for link in self.links[:-1]], np.float64)
        shown = np.where(np.isfinite(factors) & (factors > 0), factors, np.nan)
        self.bars.setOpts(
            x=np.arange(len(shown)),
            height=np.log10(np.nan_to_num(shown, nan=1.0)),
            brushes=[factor_color(f) for f in shown],
            pens=[pg.mkPen(None)] * len(shown),
        )
        self.plot.getAxis("bottom").setTicks([[(k, link.layer) for k, link in enumerate(self.links[:-1])]])
        self.plot.setXRange(-0.6, len(shown) - 0.4, padding=0)
        finite = np.log10(shown[np.isfinite(shown)])
        low, high = (min(float(finite.min()), -0.3), max(float(finite.max()), 0.3)) if len(finite) else (-1, 1)
        self.plot.setYRange(low - 0.1, high + 0.1, padding=0)
        set_title(
            self.plot,
            "Each layer's factor f′(z)·w, log scale (red: above 1, the gradient grows toward the input)",
        )
        self.say(html.escape(chain_sentence(self.links)))

    def _clear(self, text: str) -> None:
        self.links = []
        self.formula.setText("")
        self.bars.setOpts(x=[], height=[])
        self.say(text)
