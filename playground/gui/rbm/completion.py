"""Incomplete data: hide part of each digit and let the RBM fill it in.

The visible pixels are clamped and the hidden ones Gibbs-sampled given them
(``complete``: many chains, their expected pixels averaged), so the RBM draws what its
model of digits says belongs there.  The baseline is the training mean image: the best
guess of a model that ignores the pixels it can see.  The headline compares the two on
the hidden pixels (mean squared error per hidden pixel): an RBM that learned digits must
beat it.  Painting a region with the mouse hides exactly the pixels painted.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout

from ...engine.rbm_kernels import complete
from ..dashboard.common import IMAGE_COLORMAP, Panel
from ..dashboard.drawing_pad import DrawingPad
from ..dashboard.images import ImageBlock
from .model import RBMModel, picture_row

HIDE_KINDS = ("top half", "bottom half", "left half", "right half", "square", "random pixels", "painted region")
#: validation digits completed and shown
COUNT = 8
#: chains per digit and Gibbs steps per chain (the completion averages them all)
CHAINS, STEPS = 8, 15
#: hidden share of the pixels for "random pixels"
RANDOM_SHARE = 0.6
#: hidden pixels drawn at this grey, between the black background and the white ink
HIDDEN_GREY = 0.5


def hidden_mask(kind: str, shape: tuple[int, int], painted: np.ndarray | None = None, seed: int = 0) -> np.ndarray:
    """True where ``kind`` hides a pixel of an image of ``shape`` (the same mask for every digit)."""
    height, width = shape
    mask = np.zeros(shape, bool)
    if kind == "top half":
        mask[: height // 2] = True
    elif kind == "bottom half":
        mask[height // 2 :] = True
    elif kind == "left half":
        mask[:, : width // 2] = True
    elif kind == "right half":
        mask[:, width // 2 :] = True
    elif kind == "square":
        top, left = height // 4, width // 4
        mask[top : top + height // 2, left : left + width // 2] = True
    elif kind == "random pixels":
        mask = np.random.default_rng(seed).random(shape) < RANDOM_SHARE
    elif kind == "painted region":
        if painted is not None:
            mask = np.asarray(painted).reshape(shape) > 0.3
    else:
        raise ValueError(f'unknown way to hide pixels "{kind}"; choose one of {", ".join(HIDE_KINDS)}')
    return mask


def hidden_pixel_error(guess: np.ndarray, original: np.ndarray, hidden: np.ndarray) -> float:
    """Mean squared error over the hidden pixels of every row (NaN when nothing is hidden)."""
    if not hidden.any():
        return float("nan")
    return float(((guess - original)[:, hidden.reshape(-1)] ** 2).mean())


class CompletionPanel(Panel):
    title = "Incomplete data"
    min_interval = 1.0

    def __init__(self, parent=None):
        super().__init__(parent)
        row = QHBoxLayout()
        side = QVBoxLayout()
        side.addWidget(QLabel("Hide"))
        self.kind = QComboBox()
        self.kind.addItems(HIDE_KINDS)
        self.kind.currentIndexChanged.connect(self._mask_changed)
        side.addWidget(self.kind)
        self.pad = DrawingPad()
        self.pad.setToolTip("Paint the pixels to hide (choose “painted region”)")
        self.pad.changed.connect(self._pad_changed)
        side.addWidget(self.pad)
        self.clear_button = QPushButton("Clear painting")
        self.clear_button.clicked.connect(self.pad.clear)
        side.addWidget(self.clear_button)
        self.again = QPushButton("Fill in again")
        self.again.setToolTip("New Gibbs chains with the newest weights")
        self.again.clicked.connect(self._mask_changed)
        side.addWidget(self.again)
        side.addStretch(1)
        row.addLayout(side)
        self.headline = self.add_headline()
        self.original = ImageBlock(self.graphics, row=1)
        self.masked = ImageBlock(self.graphics, row=3)
        self.completed = ImageBlock(self.graphics, row=5)
        row.addWidget(self.graphics, 1)
        self.layout_.addLayout(row, 1)
        self.mask_version = 0
        self.errors: tuple[float, float] | None = None  # (RBM completion, mean-image fill)
        self.completion: np.ndarray | None = None
        self._set_pad_enabled()

    def _set_pad_enabled(self) -> None:
        painting = self.kind.currentText() == "painted region"
        self.pad.setEnabled(painting)
        self.clear_button.setEnabled(painting)

    def _mask_changed(self) -> None:
        self._set_pad_enabled()
        self.mask_version += 1

    def _pad_changed(self) -> None:
        if self.kind.currentText() == "painted region":
            self.mask_version += 1

    def versions(self, model: RBMModel) -> tuple:
        return model.snapshot_version, model.examples_version, self.mask_version

    def draw(self, model: RBMModel) -> None:
        rbm, images = model.first_rbm, model.pixel_examples(COUNT)
        if rbm is None or images is None:
            self.say("Press <b>Pretrain</b>: then hide part of each digit here and watch the RBM fill it in.")
            return
        shape = model.examples.image_shape
        hidden = hidden_mask(self.kind.currentText(), shape, self.pad.pixels)
        known = np.broadcast_to(~hidden.reshape(-1), images.shape)
        self.completion = complete(rbm, images, known, steps=STEPS, chains=CHAINS, fill=model.examples.mean_image)
        masked = np.where(known, images, HIDDEN_GREY)
        mean_fill = np.where(known, images, model.examples.mean_image)
        self.errors = (
            hidden_pixel_error(self.completion, images, hidden),
            hidden_pixel_error(mean_fill, images, hidden),
        )
        self.original.show(picture_row(images, shape), "original", (0.0, 1.0), IMAGE_COLORMAP)
        self.masked.show(
            picture_row(masked, shape), f"{self.kind.currentText()} hidden (grey)", (0.0, 1.0), IMAGE_COLORMAP
        )
        self.completed.show(
            picture_row(self.completion, shape),
            f"filled in by clamped Gibbs sampling ({CHAINS} chains × {STEPS} steps, averaged)",
            (0.0, 1.0),
            IMAGE_COLORMAP,
        )
        if not hidden.any():
            self.say("Nothing is hidden: paint a region on the pad, or choose another way to hide pixels.")
            return
        rbm_error, mean_error = self.errors
        verdict = "better" if rbm_error < mean_error else "worse"
        self.say(
            f"Pixel error on the {int(hidden.sum())} hidden pixels (mean squared): RBM <b>{rbm_error:.4f}</b> · "
            f"training mean image {mean_error:.4f} · the RBM is {verdict}"
        )
