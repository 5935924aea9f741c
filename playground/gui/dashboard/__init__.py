"""The live dashboard: pyqtgraph panels that read a ``DashboardModel``.

    common       the model, downsampling, smoothing, layer names, the Panel base
    loss         training and validation cost and accuracy
    gradients    gradient magnitude per layer (speed of learning) and the slow/fast ratio
    weights      first-layer weights as images, weight histograms
    activations  saturated units per layer
    data         decision boundary (2D classification) and function fit (1-D regression)
    compare      earlier runs overlaid on the current one
    preview      fake data, to run any panel on its own (``python -m playground.gui.dashboard``)
"""
from .common import DashboardModel, Panel, RunRecord
from .dashboard import Dashboard, export_png, metrics_csv

__all__ = ["Dashboard", "DashboardModel", "Panel", "RunRecord", "export_png", "metrics_csv"]
