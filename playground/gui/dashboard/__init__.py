"""The live dashboard: pyqtgraph panels that read a ``DashboardModel``.

common       the model, downsampling, smoothing, layer names, the Panel base
loss         training and validation cost and accuracy
gradients    gradient magnitude per layer (speed of learning) and the slow/fast ratio
weights      first-layer weights as images, weight histograms
activations  saturated units per layer
data         decision boundary (2D classification) and function fit (1-D regression)
evaluation   the validation set: confusion matrix, per-class accuracy, the mistakes, residuals
filters      every convolutional layer's kernels, one shared signed colour scale
feature_maps each conv and pool layer's maps for one input (a validation example or
             a drawing on ``drawing_pad``), and the class probabilities
convolution  the worked example: a 3×3 kernel stepping over a 5×5 image
augmentation training images and their augmented variants
backprop     one forward and backward pass of a small dense network, step by step, and a
             gradient check
descent      loss surfaces with the optimiser's paths, a mini-batch gradient's noise, and runs
             compared by examples seen and computing time (the gradient-descent lesson)
chain        ∂C/∂b¹ as the lecture's product of f′(z)·w factors, live (the exploding-gradients lesson)
images       image blocks and colour scales the image panels share
compare      earlier runs overlaid on the current one
lr_finder    the learning-rate finder: the cost against a rising η, the suggested range
parallel     the parallelisation lesson: one step on one core and on all, N variants at once
experiments  variants trained side by side: curves with bands over seeds, results table, heat map
preview      fake data, to run any panel on its own (``python -m playground.gui.dashboard``)
"""

from ...model.network_file import PANEL_NAMES  # the tabs by name, as lesson files and --panel name them
from .common import DashboardModel, Panel, RunRecord
from .dashboard import Dashboard, export_png, metrics_csv

__all__ = ["PANEL_NAMES", "Dashboard", "DashboardModel", "Panel", "RunRecord", "export_png", "metrics_csv"]
