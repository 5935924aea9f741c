"""The RBM lab's fine-tuning panel: the dashboard's loss panel with the kept fine-tuning runs
overlaid in their colours, so "pretrained" and "from random weights" read side by side."""

from __future__ import annotations

from PySide6.QtCore import Qt

from ..dashboard.common import DashboardModel, pen, smooth
from ..dashboard.loss import LossPanel


class FineTuningPanel(LossPanel):
    """Cost and accuracy of this fine-tuning run, and of the runs kept in ``model.runs``:
    training figures smoothed (solid), validation per epoch (dashed, with dots); the legend
    names every run."""

    title = "Fine-tuning"

    def __init__(self, parent=None):
        super().__init__(parent)
        self._kept: list = []
        self._kept_key = None

    def versions(self, model: DashboardModel) -> tuple:
        return (*super().versions(model), model.runs_version, getattr(model, "pretrain_version", 0))

    def draw(self, model: DashboardModel) -> None:
        super().draw(model)
        self.name_curves(model.run_name or "this run")
        if not len(model.history) and getattr(model, "pretrain_steps", 0):
            self.say(
                "The RBMs are pretraining first (the <b>Energy curves</b> tab shows them); "
                "the fine-tuning cost and accuracy appear here when it begins."
            )
        compared = [
            f"{run.name}: validation accuracy <b>{100 * last.val_accuracy:.1f}%</b>"
            if last.val_accuracy is not None
            else f"{run.name}: validation cost <b>{last.val_loss:.4g}</b>"
            for run in model.runs
            if run.history.epochs and (last := run.history.epochs[-1])
        ]
        if compared and (len(model.history) or model.history.epochs):
            self.say(f"{model.run_name}, {self.headline_text()} · compared with {', '.join(compared)}")
        if self._kept_key == model.runs_version:
            return
        self._kept_key = model.runs_version
        for plot, curve in self._kept:
            plot.removeItem(curve)
        self._kept = []
        for run in model.runs:
            history = run.history
            epochs = history.epochs
            series = [
                (self.loss_plot, history.losses, [e.val_loss for e in epochs]),
                (self.accuracy_plot, history.accuracies, [e.val_accuracy for e in epochs]),
            ]
            for plot, train, val in series:
                steps = history.steps
                if len(steps):
                    span = max(2.0, min(50.0, len(steps) / 15))
                    curve = plot.plot(
                        steps,
                        smooth(train, span),
                        pen=pen(run.color, 1.6),
                        name=f"{run.name}: training",
                        connect="finite",
                    )
                    self._kept.append((plot, curve))
                points = [(e.step, v) for e, v in zip(epochs, val) if v is not None]
                if points:
                    x, y = zip(*points)
                    curve = plot.plot(
                        x,
                        y,
                        pen=pen(run.color, 2, style=Qt.DashLine),
                        symbol="s",
                        symbolSize=6,
                        symbolBrush=run.color,
                        symbolPen=None,
                        name=f"{run.name}: validation",
                    )
                    self._kept.append((plot, curve))

    def headline_text(self) -> str:
        shown = getattr(self.headline, "_shown_text", None)  # (text, wrap width), see ``set_text``
        return shown[0] if shown else ""

    def curve_names(self, plot=None) -> list[str]:
        """The legend's entries of ``plot`` (the cost plot by default), in order."""
        plot = plot or self.loss_plot
        return [label.text for _, label in plot.legend.items]
