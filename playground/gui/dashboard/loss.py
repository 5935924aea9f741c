"""Loss and accuracy: training figures per mini-batch (smoothed) and validation per epoch."""

from __future__ import annotations

import numpy as np

from .common import MAX_POINTS, DashboardModel, Panel, RangeKeeper, add_legend, downsample, pen, smooth

TRAIN, TRAIN_RAW, VALIDATION = "#0072B2", "#BCD6EA", "#D55E00"  # opaque light blue: no alpha blending


class LossPanel(Panel):
    title = "Loss"

    def __init__(self, parent=None):
        super().__init__(parent)
        self.headline = self.add_headline()
        self.loss_plot = self.graphics.addPlot(row=1, col=0, title="Cost")
        self.accuracy_plot = self.graphics.addPlot(row=2, col=0, title="Accuracy")
        for plot in (self.loss_plot, self.accuracy_plot):
            plot.setLabel("bottom", "mini-batch step")
            add_legend(plot, "below", columns=2)
        self.accuracy_plot.setXLink(self.loss_plot)
        self.accuracy_plot.disableAutoRange()
        self.accuracy_plot.setYRange(0, 1, padding=0.02)
        self.ranges = RangeKeeper(self.loss_plot, y_floor=0.0)
        self.train_raw = self.loss_plot.plot(pen=pen(TRAIN_RAW, 1))
        self.train_loss = self.loss_plot.plot(pen=pen(TRAIN, 2), name="training (smoothed)")
        self.val_loss = self.loss_plot.plot(
            pen=pen(VALIDATION, 2),
            symbol="o",
            symbolSize=6,
            symbolBrush=VALIDATION,
            symbolPen=None,
            name="validation (per epoch)",
        )
        self.train_accuracy = self.accuracy_plot.plot(pen=pen(TRAIN, 2), name="training (smoothed)")
        self.val_accuracy = self.accuracy_plot.plot(
            pen=pen(VALIDATION, 2),
            symbol="o",
            symbolSize=6,
            symbolBrush=VALIDATION,
            symbolPen=None,
            name="validation (per epoch)",
        )
        self.layout_.addWidget(self.graphics)

    def name_curves(self, run: str) -> None:
        """Name this run's curves in the legends after ``run`` (where other runs overlay them)."""
        for plot, curves in (
            (self.loss_plot, (self.train_loss, self.val_loss)),
            (self.accuracy_plot, (self.train_accuracy, self.val_accuracy)),
        ):
            for curve, what in zip(curves, ("training", "validation")):
                label = plot.legend.getLabel(curve)
                if label is not None and label.text != f"{run}: {what}":
                    label.setText(f"{run}: {what}")

    def draw(self, model: DashboardModel) -> None:
        history = model.history
        steps = history.steps
        classify = len(history) > 0 and not np.isnan(history.accuracies[-min(len(history), 100) :]).all()
        if len(steps) == 0 and not history.epochs:
            for curve in (self.train_raw, self.train_loss, self.val_loss, self.train_accuracy, self.val_accuracy):
                curve.setData([], [])
            self.ranges.reset()
            self.say("Press <b>Train</b> to see the cost fall.")
            return
        x, losses = downsample(steps, history.losses)
        span = max(2.0, min(50.0, len(x) / 15)) if len(steps) <= MAX_POINTS else max(2.0, len(x) / 50)
        self.train_raw.setData(x, losses, connect="finite")
        self.train_loss.setData(x, smooth(losses, span), connect="finite")
        epochs = history.epochs
        val_x, val_y = [e.step for e in epochs], [e.val_loss for e in epochs]
        self.val_loss.setData(val_x, val_y)
        with np.errstate(invalid="ignore"):
            shown = np.concatenate([losses[np.isfinite(losses)], np.asarray(val_y, float)[np.isfinite(val_y)]])
        if len(shown):
            x_last = max(float(x[-1]) if len(x) else 0.0, float(val_x[-1]) if val_x else 0.0)
            self.ranges.update(x_last, float(shown.min()), float(np.percentile(shown, 99.5)))
        self.accuracy_plot.setVisible(classify)
        if classify:
            _, accuracies = downsample(steps, history.accuracies)
            self.train_accuracy.setData(x, smooth(accuracies, span), connect="finite")
            self.val_accuracy.setData(
                [e.step for e in epochs if e.val_accuracy is not None],
                [e.val_accuracy for e in epochs if e.val_accuracy is not None],
            )
        parts = []
        if epochs:
            last = epochs[-1]
            parts.append(
                f"after epoch {last.epoch}: training cost {last.loss:.4g}, validation cost {last.val_loss:.4g}"
            )
            if last.val_accuracy is not None:
                parts.append(f"validation accuracy <b>{100 * last.val_accuracy:.1f}%</b>")
        elif len(steps):
            parts.append(f"step {int(steps[-1])}: cost {float(smooth(losses, span)[-1]):.4g}")
        self.say(" · ".join(parts))
