"""Reconstructions: validation digits and what the RBM makes of them after one up-down pass.

v → p(h | v) → E[v | h]: the hidden units must carry enough of the digit for the visible
units to redraw it.  At first every reconstruction is the same blur (the visible biases
alone); within an epoch they sharpen into the digits they came from.  The pass is computed
here, on the GUI thread, from a copy of the newest weights: ten images cost nothing.
"""

from __future__ import annotations

from ...engine.rbm_kernels import reconstruct
from ..dashboard.common import IMAGE_COLORMAP, Panel
from ..dashboard.images import ImageBlock
from .model import RBMModel, picture_row

#: validation digits in the row
COUNT = 10


class ReconstructionsPanel(Panel):
    title = "Reconstructions"
    min_interval = 0.25

    def __init__(self, parent=None):
        super().__init__(parent)
        self.headline = self.add_headline()
        self.inputs = ImageBlock(self.graphics, row=1)
        self.outputs = ImageBlock(self.graphics, row=3)
        self.layout_.addWidget(self.graphics)
        self.reconstructions = None

    def versions(self, model: RBMModel) -> tuple:
        return model.snapshot_version, model.examples_version

    def draw(self, model: RBMModel) -> None:
        rbm, images = model.first_rbm, model.pixel_examples(COUNT)
        if rbm is None or images is None:
            self.say(
                "Press <b>Pretrain</b>: validation digits and the RBM's reconstructions of them appear here."
                if images is None or model.examples.image_shape
                else "The visible units are not a picture."
            )
            return
        self.reconstructions, squared, cross_entropy = reconstruct(rbm, images)
        shape = model.examples.image_shape
        self.inputs.show(picture_row(images, shape), "validation examples", (0.0, 1.0), IMAGE_COLORMAP)
        self.outputs.show(
            picture_row(self.reconstructions, shape),
            "after one up-down pass  v → p(h|v) → E[v|h]",
            (0.0, 1.0),
            IMAGE_COLORMAP,
        )
        self.say(
            f"<b>{rbm.id}</b>: squared error <b>{squared:.2f}</b> per image, cross-entropy "
            f"{cross_entropy:.1f} (these {len(images)} images)"
        )
