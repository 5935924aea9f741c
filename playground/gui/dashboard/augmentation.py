"""Augmentation preview: training images next to the variants the augmentation settings
fabricate from them.

One row per image: the original first, then variants drawn with the current settings, as
the trainer would draw them for an epoch.  It redraws when the settings change (the
inspector's Augmentation section) and "New samples" takes other images and draws again,
so a learner can judge a strength before training with it.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from PySide6.QtWidgets import QHBoxLayout, QPushButton

from ...model import AugmentationSettings
from ...training.augment import augmentation_grid
from .common import IMAGE_COLORMAP, DashboardModel, Panel
from .images import ImageBlock

ROWS = 6
VARIANTS = 7


def describe(settings: AugmentationSettings) -> str:
    """The transformations switched on, in words ("shifts up to 2 px, rotations up to ±10°")."""
    parts = []
    if settings.shift:
        parts.append(f"shifts up to {settings.shift} px")
    if settings.rotation:
        parts.append(f"rotations up to ±{settings.rotation:g}°")
    if settings.scale:
        parts.append(f"scaling by 1 ± {settings.scale:g}")
    if settings.elastic:
        parts.append(f"elastic distortion α = {settings.elastic:g}, σ = {settings.elastic_sigma:g}")
    if settings.noise:
        parts.append(f"noise σ = {settings.noise:g}")
    return ", ".join(parts)


class AugmentationPanel(Panel):
    title = "Augmentation"

    def __init__(self, parent=None):
        super().__init__(parent)
        self.new_samples = QPushButton("New samples")
        self.new_samples.setToolTip("Other training images, and fresh random variants of them")
        self.new_samples.clicked.connect(self._draw_again)
        controls = QHBoxLayout()
        controls.setContentsMargins(6, 4, 6, 0)
        controls.addStretch()
        controls.addWidget(self.new_samples)
        self.headline = self.add_headline(size="10pt")
        self.block = ImageBlock(self.graphics.ci, row=1)
        self.graphics.ci.layout.setRowStretchFactor(2, 10)
        self.layout_.addLayout(controls)
        self.layout_.addWidget(self.graphics)
        self._draws = 0
        self._model: DashboardModel | None = None
        self.grid: np.ndarray | None = None

    def applies_to(self, model: DashboardModel) -> bool:
        return model.image_shape() is not None

    def versions(self, model: DashboardModel) -> tuple:
        return model.augmentation_version, model.dataset_version, model.context_version, self._draws

    def _draw_again(self) -> None:
        self._draws += 1
        if self._model is not None:
            self.refresh(self._model)

    def draw(self, model: DashboardModel) -> None:
        self._model = model
        settings = model.augmentation or AugmentationSettings()
        dataset = model.dataset
        shape = model.image_shape()
        self.new_samples.setEnabled(dataset is not None)
        if dataset is None or shape is None or int(np.prod(dataset.input_shape)) != shape[0] * shape[1]:
            self.grid = None
            self.block.set_visible(False)
            self.say(
                "The preview shows training images once they are loaded: press Train or Step (the data "
                "loads when training starts)."
            )
            return
        rng = np.random.default_rng(self._draws)
        chosen = rng.choice(len(dataset.x_train), size=min(ROWS, len(dataset.x_train)), replace=False)
        images = dataset.x_train[np.sort(chosen)].reshape(-1, 1, *shape)
        # the settings' own seeds for the first draw (what training will see), shifted for "new samples"
        seeds = {
            f.name: getattr(settings, f.name) + self._draws
            for f in dataclasses.fields(settings)
            if f.name.endswith("_seed")
        }
        self.grid = augmentation_grid(images, dataclasses.replace(settings, **seeds), variants=VARIANTS)
        self.block.set_visible(True)
        self.block.show(self.grid, f"Left: the original; then {VARIANTS} variants of it", (0.0, 1.0), IMAGE_COLORMAP)
        if settings.enabled:
            self.say(
                f"Every epoch trains on fresh variants like these: {describe(settings)}. Validation images "
                f"are never changed."
            )
        else:
            self.say(
                "Augmentation is off, so every variant equals its original. Switch it on in the "
                "Inspector's Augmentation section (shift, rotation, scale, elastic, noise)."
            )
