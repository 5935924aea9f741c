"""Feature maps: what each convolution and pooling layer makes of one input, and the class
probabilities the network gives it.

The input is a validation example (chosen with the spin box) or a digit drawn on the pad;
drawing over an example changes it.  The forward pass runs here, on the GUI thread, through
a network of the panel's own: built from the spec once, loaded with the latest weights
snapshot (a copy the worker handed over), never the worker's network, which may be in the
middle of a step.  One 28×28 example through the lesson's network takes well under a
millisecond.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSpinBox, QVBoxLayout, QWidget

from .common import CLASS_COLORS, DashboardModel, OwnNetwork, Panel, set_title
from .drawing_pad import DrawingPad
from .filters import conv_layer_ids
from .images import ImageBlock, balanced_mosaic, replace_blocks, value_levels

#: layer types whose output is a stack of maps worth showing
MAP_TYPES = ("conv2d", "maxpool2d", "avgpool2d")
#: the most maps drawn per layer
MAX_MAPS = 64
_BAR_COLOR = "#94A3B8"


def layer_outputs(network, x: np.ndarray) -> list[tuple[object, np.ndarray]]:
    """(layer, its output for the one example ``x``) for every layer, in order (copies: layers
    reuse their output buffers)."""
    outputs = []
    out = x.reshape((1,) + tuple(network.input_shape))
    for layer in network.layers:
        out = layer.forward(out, False)
        outputs.append((layer, out[0].copy()))
    return outputs


class FeatureMapsPanel(Panel):
    title = "Feature maps"
    min_interval = 0.25  # a forward pass and some forty images: four times a second while training

    def __init__(self, parent=None):
        super().__init__(parent)
        self.pad = DrawingPad()
        self.pad.changed.connect(self._input_changed)
        self.example = QSpinBox()
        self.example.setPrefix("validation example ")
        self.example.setRange(0, 0)
        self.example.setKeyboardTracking(False)
        self.example.valueChanged.connect(self._load_example)
        self.clear_button = QPushButton("Clear")
        self.clear_button.setToolTip("Blank the pad, to draw a digit of your own")
        self.clear_button.clicked.connect(self.pad.clear)
        self.truth = QLabel()
        self.truth.setWordWrap(True)
        self.truth.setStyleSheet("color: #374151;")
        hint = QLabel("Draw on the pad with the mouse (over an example, or after Clear).")
        hint.setWordWrap(True)
        hint.setStyleSheet("color: #6B7280;")
        side = QWidget()
        column = QVBoxLayout(side)
        column.setContentsMargins(6, 6, 6, 6)
        title = QLabel("<b>Input</b>")
        for widget in (title, self.example, self.pad, self.clear_button, self.truth, hint):
            column.addWidget(widget)
        column.addStretch()
        side.setFixedWidth(self.pad.width() + 14)

        self.headline = self.add_headline(size="10pt")
        self.blocks: dict[str, ImageBlock] = {}
        self.probabilities = pg.PlotItem()
        self.probabilities.setMouseEnabled(False, False)
        self.probabilities.hideButtons()
        self.probabilities.setMenuEnabled(False)
        self.probabilities.setLabel("left", "probability")
        self.probabilities.setYRange(0, 1, padding=0.02)
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.7)
        self.probabilities.addItem(self.bars)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(side)
        row.addWidget(self.graphics, 1)
        self.layout_.addLayout(row)

        self._own = OwnNetwork()
        self._dataset = None
        self._input_version = 0
        self._layout_key: tuple = ()
        self.maps: dict[str, np.ndarray] = {}
        self.output: np.ndarray | None = None
        self._model: DashboardModel | None = None

    # --- what to draw --------------------------------------------------------------------
    def applies_to(self, model: DashboardModel) -> bool:
        return bool(conv_layer_ids(model.network_spec))

    def versions(self, model: DashboardModel) -> tuple:
        return model.weights_version, model.context_version, model.dataset_version, self._input_version

    def _input_changed(self) -> None:
        self._input_version += 1
        if self._model is not None and self.isVisible():
            self.refresh(self._model, force=True)  # the pen's stroke shows at once

    def _load_example(self, index: int) -> None:
        dataset = self._dataset
        if dataset is None or not len(dataset.x_val):
            return
        image = dataset.x_val[min(index, len(dataset.x_val) - 1)]
        self.pad.set_image(image.reshape(self.pad_shape(image)))

    @staticmethod
    def pad_shape(image: np.ndarray) -> tuple[int, int]:
        """(height, width) of a one-channel image, flat or not (a flat 784 is 28×28)."""
        size = image.size
        side = int(round(np.sqrt(size)))
        return tuple(image.shape[-2:]) if image.ndim >= 2 else (side, side)

    def _sync_dataset(self, model: DashboardModel, input_size: int) -> None:
        """Offer the dataset's validation examples, when they fit the network's input (while a
        lesson is replaced, the model may briefly pair one lesson's data with another's network)."""
        dataset = model.dataset
        if dataset is not None and (
            dataset.task != "classification" or not len(dataset.x_val) or dataset.x_val[0].size != input_size
        ):
            dataset = None
        if dataset is self._dataset:
            return
        self._dataset = dataset
        usable = dataset is not None
        self.example.setEnabled(usable)
        self.example.blockSignals(True)
        self.example.setRange(0, len(dataset.x_val) - 1 if usable else 0)
        self.example.blockSignals(False)
        if usable:
            self.pad.blockSignals(True)  # drawn below; no second refresh
            self._load_example(self.example.value())
            self.pad.blockSignals(False)

    # --- drawing ---------------------------------------------------------------------------
    def _rebuild(self, shown: list[tuple[str, np.ndarray]]) -> None:
        layout = self.graphics.ci
        self.blocks = replace_blocks(layout, self.blocks, [layer_id for layer_id, _ in shown], self.probabilities)
        for index, (_, maps) in enumerate(shown):
            # each row of maps as tall as its pictures are on the panel's width, the chart below
            height, width = balanced_mosaic(maps[:MAX_MAPS]).shape
            layout.layout.setRowStretchFactor(2 + 2 * index, max(1, round(100 * height / width)))
        bottom = 1 + 2 * len(shown)
        self.graphics.addItem(self.probabilities, row=bottom, col=0)
        layout.layout.setRowStretchFactor(bottom, 40)

    def draw(self, model: DashboardModel) -> None:
        self._model = model
        network = self._own.for_model(model)
        if network is None or not model.weights:
            self.say("The feature maps appear once the network is valid and has weights.")
            return
        self._sync_dataset(model, int(np.prod(network.input_shape)))
        if self._own.loaded_weights != model.weights_version:
            network.load_state(model.weights)
            self._own.loaded_weights = model.weights_version
        spec_types = {node.id: node.type for node in model.network_spec.nodes}
        pixels = self.pad.pixels
        if pixels.size != int(np.prod(network.input_shape)):
            self.say(
                f"The pad is {pixels.shape[0]}×{pixels.shape[1]}, but the network's input is "
                f"{'×'.join(map(str, network.input_shape))}."
            )
            return
        outputs = layer_outputs(network, pixels)
        shown = [(layer.id, out) for layer, out in outputs if spec_types.get(layer.id) in MAP_TYPES and out.ndim == 3]
        key = tuple((layer_id, maps.shape) for layer_id, maps in shown)
        if key != self._layout_key:
            self._layout_key = key
            self._rebuild(shown)
        self.maps = dict(shown)
        for layer_id, maps in shown:
            levels, colormap = value_levels(maps)
            count, height, width = maps.shape
            amount = f"{min(count, MAX_MAPS)} of {count}" if count > MAX_MAPS else f"{count}"
            kind = {"conv2d": "convolution", "maxpool2d": "max pooling", "avgpool2d": "average pooling"}[
                spec_types[layer_id]
            ]
            self.blocks[layer_id].show(
                balanced_mosaic(maps[:MAX_MAPS]),
                f"<b>{layer_id}</b> ({kind}): {amount} maps of {height}×{width}, {levels[0]:.2g} … {levels[1]:.2g}",
                levels,
                colormap,
            )
        last_layer = outputs[-1][0]
        self.output = outputs[-1][1].ravel()
        self._draw_probabilities(last_layer.config.activation == "softmax")
        self.say(
            "What each layer computes for this input: bright where a map's pattern occurs. "
            "Each layer has its own colour scale."
        )

    def _draw_probabilities(self, softmax: bool) -> None:
        output = self.output
        classes = len(output)
        names = (
            self._dataset.class_names
            if self._dataset is not None and self._dataset.class_names and len(self._dataset.class_names) == classes
            else [str(k) for k in range(classes)]
        )
        best = int(np.argmax(output))
        brushes = [CLASS_COLORS[1] if k == best else _BAR_COLOR for k in range(classes)]
        self.bars.setOpts(x=np.arange(classes), height=output, width=0.7, brushes=brushes, pens=[None] * classes)
        self.probabilities.getAxis("bottom").setTicks([list(enumerate(names))])
        self.probabilities.setXRange(-0.6, classes - 0.4, padding=0)
        what = "probability" if softmax else "output"
        set_title(
            self.probabilities,
            f"Class {what}: the network says {names[best]} ({output[best]:.0%})"
            if softmax
            else f"Outputs: largest for {names[best]} ({output[best]:.2f})",
        )
        dataset = self._dataset
        if dataset is not None and self.example.isEnabled():
            label = dataset.y_val[min(self.example.value(), len(dataset.y_val) - 1)]
            self.truth.setText(f"Validation example labelled <b>{names[int(label)]}</b> (before any drawing on it).")
        else:
            self.truth.setText("No dataset loaded yet: draw a digit, or train to load the examples.")
