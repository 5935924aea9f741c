"""Filters: each hidden unit's incoming weights drawn as a picture of the visible units.

A hidden unit turns on when the image matches its pattern (red: ink helps, blue: ink
hurts).  From small random noise they become strokes, blobs and pieces of digits: the
features the RBM found without labels.  Each tile has its own scale (``weight_mosaic``),
so weak units show their pattern too.
"""

from __future__ import annotations

from ..dashboard.common import SIGNED_COLORMAP, Panel
from ..dashboard.images import ImageBlock
from ..dashboard.weights import weight_mosaic
from .model import RBMModel

#: hidden units drawn (a 10 × 10 grid)
MAX_UNITS = 100


class RBMFiltersPanel(Panel):
    title = "Filters"
    min_interval = 0.5

    def __init__(self, parent=None):
        super().__init__(parent)
        self.headline = self.add_headline()
        self.block = ImageBlock(self.graphics, row=1)
        self.layout_.addWidget(self.graphics)
        self.mosaic = None

    def versions(self, model: RBMModel) -> tuple:
        return model.snapshot_version, model.examples_version

    def draw(self, model: RBMModel) -> None:
        rbm, examples = model.first_rbm, model.examples
        if rbm is None or examples is None or examples.image_shape is None:
            self.say(
                "Press <b>Pretrain</b>: each hidden unit's weights appear here as a picture."
                if examples is None or examples.image_shape
                else "The visible units are not a picture."
            )
            return
        weight = rbm.params["weight"]
        shown = min(MAX_UNITS, len(weight))
        self.mosaic = weight_mosaic(weight, examples.image_shape, shown)
        self.block.show(
            self.mosaic,
            f"weights of hidden units 1–{shown} (each tile scaled to its own largest weight; red +, blue −)",
            (-1.0, 1.0),
            SIGNED_COLORMAP,
        )
        self.say(
            f"<b>{rbm.id}</b>: {shown} of {len(weight)} hidden units · largest weight {float(abs(weight).max()):.2f}"
        )
