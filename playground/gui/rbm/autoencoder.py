"""The deep autoencoder: its reconstructions and the 2D code of validation digits.

The unrolled stack (encoder = the RBMs, decoder = their mirror) squeezes each digit into
the code layer's few numbers and redraws it from them.  The scatter puts every
validation digit at its code, coloured by its label (which training never saw): digits
of a class gather as the autoencoder learns.  Before fine-tuning starts the pretrained
RBMs themselves are unrolled (decoder weights Wᵀ and the visible biases), which is where
fine-tuning begins.  A code of more than two numbers is shown on its two principal
components.  Computed here from a copy of the newest weights, a few times a second.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from ...runs.rbm_stream import RBMSnapshot
from ..dashboard.common import (
    IMAGE_COLORMAP,
    Panel,
    add_legend,
    set_title,
)
from ..dashboard.images import ImageBlock
from ..sequences.hidden_pca import pca_2d
from .model import RBMModel, picture_row

#: ten colours no two of which look alike (matplotlib's tab10), one per digit of the code plot
DIGIT_COLORS = (
    "#1F77B4", "#FF7F0E", "#2CA02C", "#D62728", "#9467BD",
    "#8C564B", "#E377C2", "#7F7F7F", "#BCBD22", "#17BECF",
)  # fmt: skip

#: digits whose reconstructions are shown
COUNT = 10


def unrolled_layers(snapshot: RBMSnapshot) -> list[tuple[np.ndarray, np.ndarray]]:
    """(weight (out × in), bias) of each sigmoid layer of the autoencoder, input to output:
    the fine-tuned network's when it exists, else the RBMs unrolled with tied weights."""
    if snapshot.network_state is not None and snapshot.fine_tune == "autoencoder":
        state = snapshot.network_state
        return [(state[f"{layer_id}.weight"], state[f"{layer_id}.bias"]) for layer_id in snapshot.network_order]
    encoder = [(rbm.params["weight"], rbm.params["bias"]) for rbm in snapshot.rbms]
    decoder = [(rbm.params["weight"].T, rbm.params["visible_bias"]) for rbm in reversed(snapshot.rbms)]
    return encoder + decoder


def encode_decode(layers, x: np.ndarray, code_depth: int, linear_code: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(code, reconstruction) of the rows of x: the output of layer ``code_depth`` (linear
    with ``linear_code``, else sigmoid like every other layer) and of the last."""
    code = h = np.asarray(x, np.float64)
    for depth, (weight, bias) in enumerate(layers, start=1):
        z = h @ weight.T + bias
        h = z if linear_code and depth == code_depth else 1.0 / (1.0 + np.exp(-z))
        if depth == code_depth:
            code = h
    return code, h


class AutoencoderPanel(Panel):
    title = "Autoencoder"
    min_interval = 0.3

    def __init__(self, parent=None):
        super().__init__(parent)
        self.headline = self.add_headline()
        self.inputs = ImageBlock(self.graphics, row=1)
        self.outputs = ImageBlock(self.graphics, row=3)
        self.plot = self.graphics.addPlot(row=5, col=0)
        self.plot.setLabel("bottom", "code 1")
        self.plot.setLabel("left", "code 2")
        # a legend column right of the axes names all ten digits without covering a point
        self.legend = add_legend(self.plot, "right")
        # one unit of code 1 is as long as one of code 2, so the clusters keep their shapes
        self.plot.getViewBox().setAspectLocked(True)
        self.plot.getViewBox().disableAutoRange()
        self.graphics.ci.layout.setRowStretchFactor(5, 4)  # the scatter takes the room below the digits
        self.layout_.addWidget(self.graphics)
        self._classes: dict[str, pg.PlotDataItem] = {}
        self.code = np.zeros((0, 2))
        self._components = None

    def versions(self, model: RBMModel) -> tuple:
        return model.snapshot_version, model.examples_version

    def class_points(self, label: str, index: int) -> pg.PlotDataItem:
        """The scatter of one class (its own item, so the legend names it)."""
        if label not in self._classes:
            color = DIGIT_COLORS[index % len(DIGIT_COLORS)]
            self._classes[label] = self.plot.plot(
                [], [], pen=None, symbol="o", symbolSize=5, symbolBrush=color, symbolPen=None, name=label
            )
        return self._classes[label]

    def draw(self, model: RBMModel) -> None:
        snapshot, examples = model.snapshot, model.examples
        if snapshot is None or examples is None or not snapshot.rbms:
            self.say(
                "Press <b>Pretrain</b>, then <b>Fine-tune</b>: the autoencoder's reconstructions and the code "
                "of each validation digit appear here."
            )
            return
        linear_code = getattr(snapshot.rbms[-1].config, "hidden", "bernoulli") == "linear"
        code, reconstruction = encode_decode(
            unrolled_layers(snapshot), examples.images, len(snapshot.rbms), linear_code
        )
        if code.shape[1] != 2:
            code, self._components, _ = pca_2d(code, self._components)
        self.code = code
        if examples.image_shape is not None:
            shown = slice(0, COUNT)
            self.inputs.show(
                picture_row(examples.images[shown], examples.image_shape),
                "validation digits",
                (0.0, 1.0),
                IMAGE_COLORMAP,
            )
            self.outputs.show(
                picture_row(reconstruction[shown], examples.image_shape),
                f"through the {len(snapshot.rbms)}-layer encoder and its mirror",
                (0.0, 1.0),
                IMAGE_COLORMAP,
            )
        labels = examples.labels if examples.labels is not None else np.zeros(len(code), np.int64)
        for index, label in enumerate(np.unique(labels)):
            chosen = labels == label
            self.class_points(str(label), index).setData(code[chosen, 0], code[chosen, 1])
        # every point in view: with the aspect locked, the view widens whichever range is short
        finite = code[np.isfinite(code).all(axis=1)]
        if len(finite):
            low, high = finite.min(axis=0), finite.max(axis=0)
            self.plot.setRange(xRange=(low[0], high[0]), yRange=(low[1], high[1]), padding=0.05)
        stage = "fine-tuned" if snapshot.network_state is not None else "pretrained RBMs, unrolled"
        set_title(self.plot, f"code of {len(code)} validation digits ({stage}), coloured by label")
        error = float(((reconstruction - examples.images) ** 2).sum(axis=1).mean())
        self.say(
            f"{stage}: squared reconstruction error <b>{error:.2f}</b> per digit through a code of "
            f"<b>{snapshot.rbms[-1].config.units}</b> numbers"
        )
