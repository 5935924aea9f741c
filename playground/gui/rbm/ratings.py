"""Ratings: the collaborative-filtering example, an RBM filling in held-out ratings.

Synthetic users with latent tastes rate items; most ratings are missing and some known
ones are held out.  An RBM with one softmax visible unit per item learns from the users'
ratings and predicts the held-out ones.  The plot shows its RMSE per epoch, on the
training ratings and the held-out ones, against the item-mean baseline (each item's
average rating) and the global mean: the RBM has learned something about tastes when
its held-out RMSE falls below the item means.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QPushButton

from ...datasets.ratings import synthetic_ratings
from ...training.collaborative import RatingsRBMTrainer
from ..dashboard.common import Panel, pen, set_title
from .model import RBMModel

RBM_COLOR, TRAIN_COLOR, ITEM_MEAN_COLOR, GLOBAL_COLOR = "#D55E00", "#BCD6EA", "#0072B2", "#7F7F7F"


def ratings_runner(spec, control):
    """The built-in ratings example, trained with the example's default settings (``spec`` unused)."""
    yield from RatingsRBMTrainer(synthetic_ratings(), control=control).run()


class RatingsPanel(Panel):
    title = "Ratings"
    trainRequested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        controls = QHBoxLayout()
        self.train_button = QPushButton("Train the ratings example")
        self.train_button.setToolTip("2,000 synthetic users, 100 items, 10% of the ratings known")
        self.train_button.clicked.connect(self.trainRequested.emit)
        controls.addWidget(self.train_button)
        controls.addStretch(1)
        self.layout_.addLayout(controls)
        self.headline = self.add_headline()
        self.plot = self.graphics.addPlot(row=1, col=0)
        self.plot.setLabel("bottom", "epoch")
        self.plot.setLabel("left", "RMSE (rating points)")
        self.plot.addLegend(offset=(-10, 10), labelTextSize="9pt", brush=(255, 255, 255))
        symbols = {"symbol": "o", "symbolSize": 6, "symbolPen": None}
        self.heldout = self.plot.plot(pen=pen(RBM_COLOR, 2), symbolBrush=RBM_COLOR, name="RBM, held-out", **symbols)
        self.train = self.plot.plot(pen=pen(TRAIN_COLOR, 2), name="RBM, training ratings")
        self.item_mean = self.plot.plot(pen=pen(ITEM_MEAN_COLOR, 2, style=Qt.DashLine), name="item means, held-out")
        self.global_mean = self.plot.plot(pen=pen(GLOBAL_COLOR, 1.5, style=Qt.DotLine), name="global mean, held-out")
        self.layout_.addWidget(self.graphics)

    def set_can_train(self, enabled: bool) -> None:
        self.train_button.setEnabled(enabled)

    def versions(self, model: RBMModel) -> tuple:
        return (model.ratings_version,)

    def draw(self, model: RBMModel) -> None:
        records = model.ratings_epochs
        epochs = [r.epoch for r in records]
        self.heldout.setData(epochs, [r.heldout_rmse for r in records])
        self.train.setData(epochs, [r.train_rmse for r in records])
        self.item_mean.setData(epochs, [r.item_mean_rmse for r in records])
        self.global_mean.setData(epochs, [r.global_mean_rmse for r in records])
        if not records:
            self.say("Press <b>Train the ratings example</b>: an RBM learns users' tastes from their ratings.")
            return
        last = records[-1]
        verdict = "beats" if last.heldout_rmse < last.item_mean_rmse else "does not beat (yet)"
        set_title(self.plot, f"epoch {last.epoch} of {last.epochs}")
        self.say(
            f"Held-out RMSE: RBM <b>{last.heldout_rmse:.3f}</b> · item means {last.item_mean_rmse:.3f} · "
            f"global mean {last.global_mean_rmse:.3f}: the RBM {verdict} the item-mean baseline"
        )
