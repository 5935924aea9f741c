"""Samples: Gibbs chains of the RBM, advancing while you watch.

Alternating v → h → v draws, each unit sampled from its conditional, wander through the
pictures the RBM finds likely.  Started from data they stay near digits (and drift from
one to another); started from noise they show what the model dreams up on its own.
The pictures are the expected pixels E[v | h] of each chain's last step (a sample of
binary pixels is salt and pepper; its expectation is the picture).  The chains run here
on the GUI thread, a few steps per tick while this tab is shown, with the newest weights.
"""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton

from ...engine.rbm_kernels import gibbs
from ..dashboard.common import IMAGE_COLORMAP, Panel
from ..dashboard.images import ImageBlock, balanced_mosaic
from .model import RBMModel

CHAINS = 20
STEPS_PER_TICK = 2
TICK_SECONDS = 0.1
STARTS = ("from data", "from noise")


class SamplesPanel(Panel):
    title = "Samples"

    def __init__(self, parent=None):
        super().__init__(parent)
        controls = QHBoxLayout()
        controls.addWidget(QLabel("Start the chains"))
        self.start = QComboBox()
        self.start.addItems(STARTS)
        self.start.setToolTip("From validation digits, or from random pixels")
        self.start.currentIndexChanged.connect(self.restart)
        controls.addWidget(self.start)
        self.restart_button = QPushButton("Restart")
        self.restart_button.clicked.connect(self.restart)
        controls.addWidget(self.restart_button)
        controls.addStretch(1)
        self.layout_.addLayout(controls)
        self.headline = self.add_headline()
        self.block = ImageBlock(self.graphics, row=1)
        self.layout_.addWidget(self.graphics)
        self.state: np.ndarray | None = None
        self.means: np.ndarray | None = None
        self.steps_done = 0
        self.sample_version = 0
        self._advanced_at = 0.0
        self._rng = np.random.default_rng(0)

    def restart(self) -> None:
        """Forget the chains; the next tick starts new ones."""
        self.state = self.means = None
        self.steps_done = 0
        self.sample_version += 1

    def advance(self, model: RBMModel, force: bool = False) -> bool:
        """A few Gibbs steps of every chain (at most every ``TICK_SECONDS`` unless forced)."""
        rbm, examples = model.first_rbm, model.pixel_examples(CHAINS)
        now = time.perf_counter()
        if rbm is None or examples is None or (not force and now - self._advanced_at < TICK_SECONDS):
            return False
        self._advanced_at = now
        if self.state is None or self.state.shape[1] != rbm.n_visible:
            if self.start.currentText() == "from data":
                self.state = examples.astype(rbm.dtype)
            else:
                self.state = (self._rng.random((CHAINS, rbm.n_visible)) < 0.5).astype(rbm.dtype)
            self.steps_done = 0
        self.state, self.means = gibbs(rbm, self.state, STEPS_PER_TICK)
        self.steps_done += STEPS_PER_TICK
        self.sample_version += 1
        return True

    def versions(self, model: RBMModel) -> tuple:
        return self.sample_version, model.examples_version

    def draw(self, model: RBMModel) -> None:
        if self.means is None or model.examples is None:
            self.block.image.clear()
            self.say("Gibbs chains of the RBM appear here while this tab is shown (after training starts).")
            return
        tiles = self.means.reshape((-1,) + model.examples.image_shape)
        self.block.show(
            balanced_mosaic(tiles),
            f"{len(tiles)} chains, E[v|h] after {self.steps_done} Gibbs steps",
            (0.0, 1.0),
            IMAGE_COLORMAP,
        )
        self.say(
            f"Chains started {self.start.currentText()} · step <b>{self.steps_done}</b> · "
            f"{STEPS_PER_TICK} steps per tick with the newest weights of <b>{model.first_rbm.id}</b>"
        )
