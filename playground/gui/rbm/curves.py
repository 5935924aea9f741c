"""Energy and free-energy curves over pretraining, one colour per RBM of the stack.

- Reconstruction error: per mini-batch while training (smoothed), and the validation
  figures of each epoch (squared error and cross-entropy).
- Mean free energy of training and of validation examples.  F(v) is lower where the
  model puts more probability; while the two stay together the RBM generalises, a
  validation curve drifting above the training one (a widening gap) is overfitting.
- The stochastic pseudo-likelihood of validation examples: higher is better.

The label above the plots says which RBM is pretraining now and how far it is.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar

from ..dashboard.common import CLASS_COLORS, Panel, downsample, pen, smooth
from .model import RBMModel


def layer_color(index: int) -> str:
    return CLASS_COLORS[index % len(CLASS_COLORS)]


class EnergyCurvesPanel(Panel):
    title = "Energy curves"

    def __init__(self, parent=None):
        super().__init__(parent)
        stage = QHBoxLayout()
        self.stage = QLabel("")
        self.stage.setTextFormat(Qt.RichText)
        stage.addWidget(self.stage, 1)
        self.progress = QProgressBar()
        self.progress.setMinimumWidth(200)
        self.progress.setFormat("pretraining %p%")
        stage.addWidget(self.progress)
        self.layout_.addLayout(stage)
        self.headline = self.add_headline(colspan=2)
        titles = {
            "error": "Reconstruction error (squared, per image)",
            "entropy": "Validation cross-entropy",
            "energy": "Mean free energy: training ── validation - -",
            "pl": "Validation pseudo-likelihood",
        }
        self.plots = {}
        for index, (key, title) in enumerate(titles.items()):
            plot = self.graphics.addPlot(row=1 + index // 2, col=index % 2, title=title)
            plot.setLabel("bottom", "mini-batch step" if key == "error" else "epoch (all RBMs in turn)")
            self.plots[key] = plot
        self.plots["error"].addLegend(offset=(-10, 10), labelTextSize="9pt", brush=(255, 255, 255))
        self.layout_.addWidget(self.graphics)
        self._curves: dict[tuple[str, int], object] = {}

    def versions(self, model: RBMModel) -> tuple:
        return (model.pretrain_version,)

    def curve(self, key: str, index: int, name: str | None = None, dashed: bool = False, symbols: bool = False):
        """The curve of RBM ``index`` in plot ``key``/variant, made on first use."""
        slot = (key + ("-dashed" if dashed else "") + ("-symbols" if symbols else ""), index)
        if slot not in self._curves:
            color = layer_color(index)
            style = Qt.DashLine if dashed else None
            extra = {"symbol": "o", "symbolSize": 6, "symbolBrush": color, "symbolPen": None} if symbols else {}
            self._curves[slot] = self.plots[key].plot(pen=pen(color, 2, style=style), name=name, **extra)
        return self._curves[slot]

    def draw(self, model: RBMModel) -> None:
        for curve in self._curves.values():
            curve.setData([], [])
        history, records = model.pretrain_history, model.pretrain_epochs
        if not len(history.steps) and not records:
            self.stage.setText("")
            self.progress.setValue(0)
            self.say("Press <b>Pretrain</b>: the reconstruction error and the free energies of each RBM appear here.")
            return
        steps, errors = history.steps, history.losses
        layers = model.layer_of_steps(steps)
        for index in np.unique(layers):
            x, y = downsample(steps[layers == index], errors[layers == index])
            self.curve("error", int(index), f"{model.layer_name(int(index))} training (smoothed)").setData(
                x, smooth(y, max(2.0, len(x) / 30)), connect="finite"
            )
        ordinal = {}
        for record in records:  # each epoch of each RBM gets the next position on the x axis
            ordinal[(record.layer_index, record.epoch)] = len(ordinal) + 1
        for index in sorted({r.layer_index for r in records}):
            mine = [r for r in records if r.layer_index == index]
            x = [ordinal[(r.layer_index, r.epoch)] for r in mine]
            name = f"{mine[0].layer_id} validation (per epoch)"
            self.curve("error", index, name, symbols=True).setData(
                [r.step for r in mine], [r.reconstruction_error for r in mine]
            )
            self.curve("entropy", index, symbols=True).setData(x, [r.reconstruction_cross_entropy for r in mine])
            self.curve("energy", index, symbols=True).setData(x, [r.free_energy_train for r in mine])
            self.curve("energy", index, dashed=True).setData(x, [r.free_energy_validation for r in mine])
            self.curve("pl", index, symbols=True).setData(x, [r.pseudo_likelihood for r in mine])
        self._show_stage(model)
        if records:
            last = records[-1]
            gap = last.free_energy_gap
            self.say(
                f"<b>{last.layer_id}</b> after epoch {last.epoch}: validation reconstruction error "
                f"<b>{last.reconstruction_error:.2f}</b> (training {last.train_reconstruction_error:.2f}) · "
                f"free-energy gap validation − training <b>{gap:+.2f}</b>"
                + (
                    f" · pseudo-likelihood {last.pseudo_likelihood:.1f}"
                    if math.isfinite(last.pseudo_likelihood)
                    else ""
                )
            )

    def _show_stage(self, model: RBMModel) -> None:
        """Which RBM is (or was last) pretraining, and how much of all pretraining is done."""
        steps, records = model.pretrain_history.steps, model.pretrain_epochs
        index = int(model.layer_of_steps(steps[-1:])[0]) if len(steps) else records[-1].layer_index
        n_layers = records[-1].n_layers if records else max(index + 1, 1)
        epochs = getattr(getattr(model.network_spec, "pretraining", None), "epochs", 0)
        done = len(records)
        total = n_layers * epochs if epochs else max(done, 1)
        color = layer_color(index)
        rbm_id = model.layer_name(index)
        phase = "pretrained" if done >= total else "pretraining"
        self.stage.setText(
            f"<span style='color:{color}'>■</span> {phase} RBM <b>{index + 1}</b> of {n_layers} "
            f"(<b>{rbm_id}</b>) · {done} of {total} RBM-epochs done"
        )
        self.progress.setValue(int(100 * min(done, total) / total))
