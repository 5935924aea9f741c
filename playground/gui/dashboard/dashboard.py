"""The dashboard widget: the panels as tabs; only the visible one redraws."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from pyqtgraph.exporters import ImageExporter
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QApplication, QTabWidget

from ...engine.dense_stack import BIAS_GRAD, SATURATION, WEIGHT_GRAD, WEIGHT_NORM
from ...model.project import MetricHistory
from .activations import ActivationPanel
from .augmentation import AugmentationPanel
from .backprop import BackpropPanel
from .bumps import BumpsPanel
from .chain import ChainPanel
from .common import DashboardModel, Panel, apply_quality
from .compare import ComparePanel, keep_run
from .convolution import ConvolutionPanel
from .cost import CostPanel
from .data import DataPanel
from .descent import DescentPanel
from .evaluation import EvaluationPanel
from .experiments import ExperimentsPanel
from .feature_maps import FeatureMapsPanel
from .filters import FiltersPanel
from .gradients import GradientPanel
from .loss import LossPanel
from .lr_finder import LearningRateFinderPanel
from .neuron import NeuronPanel
from .parallel import ParallelPanel
from .weights import WeightPanel


def _without_svg_export() -> None:
    """pyqtgraph's SVG exporter fails on PySide6 6.11 (QT-NOTES.md): keep it out of the
    plots' right-click Export dialog so nobody meets the error."""
    try:
        from pyqtgraph.exporters.Exporter import Exporter
        from pyqtgraph.exporters.SVGExporter import SVGExporter

        if SVGExporter in Exporter.Exporters:
            Exporter.Exporters.remove(SVGExporter)
    except ImportError:  # a pyqtgraph that moved it: nothing to hide
        pass


_without_svg_export()


class Dashboard(QTabWidget):
    """Loss, gradients, weights, activations, the data view, the evaluation, run comparison and, for image
    networks, filters, feature maps, the convolution explained and the augmentation preview, as tabs."""

    keepRunRequested = Signal()
    #: a view's controls set parameters by hand (the Neuron view's sliders, the Bumps view's handles):
    #: the weights dict
    weightsEdited = Signal(object)

    def __init__(self, model: DashboardModel | None = None, parent=None):
        super().__init__(parent)
        self.model = model or DashboardModel()
        #: a moment of the run the timeline went back to (``DashboardModel.replay``), or None: live
        self.replayed: DashboardModel | None = None
        self.loss = LossPanel()
        self.gradients = GradientPanel()
        self.weights = WeightPanel()
        self.activations = ActivationPanel()
        self.data = DataPanel()
        self.evaluation = EvaluationPanel()
        self.compare = ComparePanel()
        self.compare.keepRequested.connect(self.keepRunRequested)
        self.filters = FiltersPanel()
        self.feature_maps = FeatureMapsPanel()
        self.convolution = ConvolutionPanel()
        self.augmentation = AugmentationPanel()
        self.backprop = BackpropPanel()
        self.neuron = NeuronPanel()
        self.neuron.weightsEdited.connect(self.weightsEdited)
        self.bumps = BumpsPanel()
        self.bumps.weightsEdited.connect(self.weightsEdited)
        self.cost = CostPanel()
        self.descent = DescentPanel()
        self.chain = ChainPanel()
        self.lr_finder = LearningRateFinderPanel()
        self.experiments = ExperimentsPanel()
        self.parallel = ParallelPanel()
        self.lr_finder.experimentRequested.connect(self.compare_rates)
        #: tabs shown only where they mean something (conv layers, image input, a single neuron, a
        #: hidden layer of sigmoid pairs on one input, a small dense network,
        #: one sigmoid neuron's cost, the gradient-descent lesson, a stack of dense layers, the
        #: parallelisation lesson)
        self.optional_panels: list[Panel] = [
            self.neuron,
            self.bumps,
            self.backprop,
            self.filters,
            self.feature_maps,
            self.convolution,
            self.augmentation,
            self.cost,
            self.descent,
            self.chain,
            self.parallel,
        ]
        #: tools, not views of the run: their tabs appear once asked for (the View or Training menu, a
        #: lesson that opens on one, ``--panel``), so the run's own tabs keep room for their names
        self.tool_panels: list[Panel] = [self.lr_finder, self.experiments]
        self._tools_shown: list[Panel] = []
        self.panels: list[Panel] = [
            self.loss,
            self.gradients,
            self.weights,
            self.activations,
            self.data,
            self.evaluation,
            *self.optional_panels,
            self.compare,
            self.lr_finder,
            self.experiments,
        ]
        tips = {
            "Loss": "Training and validation cost and accuracy",
            "Gradients": "Gradient magnitude per layer: the speed at which each layer learns",
            "Weights": "The first layer's weights as images, and each layer's weight histogram",
            "Activations": "Saturated units per layer",
            "Boundary": "The network's output over the input plane (2D data) or its fitted curve (1-D data)",
            "Compare": "Earlier runs overlaid on the current one",
            "Evaluation": "The validation set: confusion matrix, accuracy of each class and the mistakes "
            "(residuals for regression)",
            "Filters": "Every convolutional layer's kernels, on one shared colour scale",
            "Feature maps": "What each convolution and pooling layer computes for one input, and the class "
            "probabilities",
            "Convolution": "A 3×3 kernel stepping over a 5×5 image: the multiply-add at each position",
            "Augmentation": "Training images and the variants augmentation fabricates",
            "Backprop": "One forward and backward pass of a small dense network, number by number, and a "
            "gradient check",
            "Neuron": "One sigmoid neuron: its output over the plane, the step beside it, the formula with numbers",
            "Bumps": "Universal approximation by hand: pairs of steep sigmoids make bumps, and their sum the function",
            "LR finder": "The learning-rate finder: the cost against a rising η, and the range to train in",
            "Parallel": "One training step on one core and on all, and N variants in the time of one: measured here",
            "Experiments": "Variants of this network trained side by side on every core: curves, results, heat map",
            "Cost": "The sigmoid's slope at the neuron's z, the error each cost sends back, and the softmax "
            "with the log-likelihood cost",
            "Descent": "Loss surfaces with the optimiser's path, the noise of a mini-batch's gradient, and "
            "batch sizes compared by examples seen and computing time",
            "Gradient chain": "∂C/∂b of the first layer as a product of one f′(z)·w factor per layer, for one "
            "example: above 1 the gradient explodes, below 1 it vanishes",
        }
        for panel in self.panels:
            self.setTabToolTip(self.addTab(panel, panel.title), tips.get(panel.title, ""))
        self.setDocumentMode(True)
        # every tab in view: with the image tabs there are nine, more than fit a 1280-pixel window
        # at Qt's spacing, and scroll arrows hid the last ones; tighter tabs, eliding if need be
        self.setUsesScrollButtons(False)
        self.setElideMode(Qt.ElideRight)
        self.tabBar().setStyleSheet("QTabBar::tab { padding: 4px 7px; min-width: 24px; }")
        self.currentChanged.connect(lambda _: self.refresh(force=True))
        self.update_tabs()
        self._primed_shown = False

    def showEvent(self, event):
        super().showEvent(event)
        if not self._primed_shown:  # the first time the pages have a real size to lay out at
            self._primed_shown = True
            self.prime()

    def current_panel(self) -> Panel:
        return self.currentWidget()

    def update_tabs(self) -> None:
        """Show the data tab and the image tabs only where they mean something, and name the data
        tab for what it draws."""
        mode = DataPanel.mode_for(self.model)
        index = self.indexOf(self.data)
        self.setTabVisible(index, mode is not None)
        self.setTabText(index, "Fit" if mode == "fit" else "Boundary")
        for panel in self.optional_panels:
            self.setTabVisible(self.indexOf(panel), panel.applies_to(self.model))
        for panel in self.tool_panels:
            self.setTabVisible(self.indexOf(panel), panel in self._tools_shown)

    def refresh(self, force: bool = False) -> bool:
        """Redraw the visible panel if what it shows has changed; hidden ones catch up when shown."""
        panel = self.current_panel()
        if panel is None or not self.isVisible() and not force:
            return False
        drawn = panel.refresh(self.shown_model(), force)
        if drawn and getattr(self, "_draft", False):
            apply_quality(panel, True)  # curves created by this draw
        return drawn

    def shown_model(self) -> DashboardModel:
        """What the panels draw: the replayed moment, or the live model."""
        return self.replayed if self.replayed is not None else self.model

    def set_draft(self, draft: bool) -> None:
        """Draft quality while training, full quality at rest (``apply_quality``)."""
        if draft == getattr(self, "_draft", None):
            return
        self._draft = draft
        for panel in self.panels:
            apply_quality(panel, draft)

    def prime(self) -> None:
        """Draw every page once, hidden ones too, so that switching tabs during training only
        updates curves that already exist (creating them costs a few tens of milliseconds)."""
        current = self.currentWidget()
        for panel in self.panels:
            if not self.isTabVisible(self.indexOf(panel)):
                continue
            if panel is not current and current is not None and current.width() > 0:
                # lay the hidden page out at its future size now (Qt would wait until it is shown)
                panel.setGeometry(current.geometry())
                panel.layout().activate()
                for widget in (panel, panel.graphics):
                    QApplication.sendEvent(widget, QResizeEvent(widget.size(), QSize(-1, -1)))
            panel.refresh(self.model, force=True)

    def show_panel(self, name: str) -> None:
        panel = self.panel_named(name)
        if panel in self.tool_panels:  # asked for: its tab stays from now on
            if panel not in self._tools_shown:
                self._tools_shown.append(panel)
            self.setTabVisible(self.indexOf(panel), True)
        if self.isTabVisible(self.indexOf(panel)):
            self.setCurrentWidget(panel)

    def panel_named(self, name: str) -> Panel:
        """The panel for a name of ``PANEL_NAMES`` (the View menu's and the command line's)."""
        return getattr(self, name.replace("-", "_"))

    def shutdown(self) -> None:
        """Stop and join the work panels run on their own (the finder's, the experiments', the measurements)."""
        self.lr_finder.shutdown()
        self.experiments.shutdown()
        self.parallel.shutdown()

    def compare_rates(self, rates: list) -> None:
        """The finder's three rates, trained side by side in the Experiments view."""
        self.show_panel("experiments")
        self.experiments.load_grid({"learning_rate": rates})
        self.experiments.run()

    def keep_current_run(self, name: str):
        record = keep_run(self.model, name)
        self.refresh(force=True)
        return record

    def export_png(self, path: str | Path, panel: Panel | None = None) -> None:
        export_png(panel or self.current_panel(), path)


def export_png(panel: Panel, path: str | Path) -> None:
    """Save a panel's plots as PNG through pyqtgraph's ImageExporter (its SVG exporter is broken);
    a panel painted with QPainter (no plots to export) is grabbed as it shows on screen."""
    item = panel.export_item()
    if item is None:
        if not panel.grab().save(str(path), "PNG"):
            raise OSError(f"could not write {path}")
        return
    exporter = ImageExporter(item)
    width = int(max(panel.graphics.width(), 400))
    exporter.parameters()["width"] = width
    if not exporter.export(str(path)) and not Path(path).exists():
        raise OSError(f"could not write {path}")


def metrics_csv(history: MetricHistory) -> str:
    """The run's figures as CSV: one row per recorded mini-batch, then one per epoch (empty
    cells are figures a row does not have; "nan" is a figure that was not a number)."""
    per_layer = []
    for layer_id in history.layer_ids:
        per_layer += [
            f"{layer_id}_grad_weight",
            f"{layer_id}_grad_bias",
            f"{layer_id}_weight_norm",
            f"{layer_id}_saturation",
        ]
    header = ["kind", "epoch", "step", "loss", "accuracy", "val_loss", "val_accuracy", *per_layer]
    lines = [",".join(header)]
    n = len(history)
    if n:
        columns = (WEIGHT_GRAD, BIAS_GRAD, WEIGHT_NORM, SATURATION)
        metrics = history.layer_metrics[:, :, list(columns)].reshape(n, -1)
        table = np.column_stack([history.epoch_of_step, history.steps, history.losses, history.accuracies, metrics])
        body = io.StringIO()
        np.savetxt(body, table, fmt=["%d", "%d"] + ["%.6g"] * (table.shape[1] - 2), delimiter=",")
        for row in body.getvalue().splitlines():
            epoch, step, loss, accuracy, rest = row.split(",", 4) if per_layer else (row.split(",", 3) + [""])
            lines.append(",".join(["step", epoch, step, loss, accuracy, "", ""] + ([rest] if per_layer else [])))

    def number(value):
        return "" if value is None else f"{float(value):.6g}"

    for e in history.epochs:
        lines.append(
            ",".join(
                [
                    "epoch",
                    str(e.epoch),
                    str(e.step),
                    number(e.loss),
                    number(e.train_accuracy),
                    number(e.val_loss),
                    number(e.val_accuracy),
                ]
                + [""] * len(per_layer)
            )
        )
    return "\n".join(lines) + "\n"
