"""Gate activity: how far an LSTM's forget and input gates are open at each time step.

The cell state is c_t = f_t ⊙ c_{t−1} + i_t ⊙ g_t: a forget gate near 1 keeps what the
cell holds (and lets the error flow back along time unchanged), an input gate near 0
keeps new input out.  On the adding problem a trained LSTM opens its input gate at the
two marked positions and otherwise holds its memory.  The first plot shows the mean
gate values against t for the latest mini-batch (dashed: this run's first measurement,
or the compared run's); the second shows their mean over t as training goes on.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt

from ..dashboard.common import Panel, RangeKeeper, downsample, pen, set_text
from .model import SequenceModel

FORGET, INPUT = "#0072B2", "#D55E00"


class GateActivityPanel(Panel):
    title = "Gates"

    def __init__(self, parent=None):
        super().__init__(parent)
        self.headline = self.add_headline()
        self.profile_plot = self.graphics.addPlot(row=1, col=0, title="Mean gate value per time step")
        self.profile_plot.setLabel("bottom", "time step t")
        self.profile_plot.setYRange(0, 1, padding=0.02)
        self.profile_plot.setMouseEnabled(y=False)
        self.profile_plot.addLegend(offset=(10, 10), labelTextSize="9pt", brush=(255, 255, 255, 220))
        self.forget = self.profile_plot.plot(pen=pen(FORGET, 2.2), name="forget gate f (latest)")
        self.input = self.profile_plot.plot(pen=pen(INPUT, 2.2), name="input gate i (latest)")
        self.forget_before = self.profile_plot.plot(pen=pen(FORGET, 1.4, 150, Qt.DashLine), name="f, start of run")
        self.input_before = self.profile_plot.plot(pen=pen(INPUT, 1.4, 150, Qt.DashLine), name="i, start of run")
        self.history_plot = self.graphics.addPlot(row=2, col=0, title="Mean over time steps, during training")
        self.history_plot.setLabel("bottom", "mini-batch step")
        self.history_plot.setYRange(0, 1, padding=0.02)
        self.history_plot.setMouseEnabled(y=False)
        self.forget_history = self.history_plot.plot(pen=pen(FORGET, 2))
        self.input_history = self.history_plot.plot(pen=pen(INPUT, 2))
        self.history_ranges = RangeKeeper(self.history_plot, y_floor=0.0)
        self.graphics.ci.layout.setRowStretchFactor(1, 3)
        self.graphics.ci.layout.setRowStretchFactor(2, 2)
        self.layout_.addWidget(self.graphics, 1)

    def versions(self, model: SequenceModel) -> tuple:
        return model.gates_version, model.kept_version

    def draw(self, model: SequenceModel) -> None:
        if model.gates is None:
            for curve in (
                self.forget,
                self.input,
                self.forget_before,
                self.input_before,
                self.forget_history,
                self.input_history,
            ):
                curve.setData([], [])
            self.say("Gate activity appears here while an LSTM trains (a SimpleRNN has no gates).")
            return
        step, forget, input_ = model.gates
        t = np.arange(len(forget))
        self.forget.setData(t, forget)
        self.input.setData(t, input_)
        before, label = self._reference(model)
        if before is not None:
            self.forget_before.setData(np.arange(len(before[0])), before[0])
            self.input_before.setData(np.arange(len(before[1])), before[1])
            self._rename(label)
        rows = model.gate_means
        if len(rows):
            x, y = downsample(rows.steps, rows.values)
            self.forget_history.setData(x, y[:, 0], connect="finite")
            self.input_history.setData(x, y[:, 1], connect="finite")
            self.history_ranges.update(float(x[-1]), 0.0, 1.0)
        self.say(
            f"Step {step + 1}: forget gate mean <b>{forget.mean():.2f}</b> (1 keeps the memory), "
            f"input gate mean <b>{input_.mean():.2f}</b> (0 keeps new input out)."
        )

    def _reference(self, model: SequenceModel):
        """What the dashed curves show: the last compared LSTM run, else this run's first gates."""
        compared = [kept for kept in model.kept if kept.gates is not None]
        if compared:
            return compared[-1].gates, compared[-1].name
        if model.first_gates is not None:
            return model.first_gates[1:], "start of run"
        return None, ""

    def _rename(self, label: str) -> None:
        legend = self.profile_plot.legend
        for sample, text in legend.items:
            if sample.item is self.forget_before:
                set_text(text, f"f, {label}")
            elif sample.item is self.input_before:
                set_text(text, f"i, {label}")
