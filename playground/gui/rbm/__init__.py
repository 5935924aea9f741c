"""The RBM lab's views (one per file) and the model they read (the worker's stream and job are
Qt-free, in ``playground.runs``).

``rbm_lab.RBMLab`` puts them together; each view also runs on its own with an ``RBMModel``
filled by hand or by a short run, which is how the tests drive them.
"""

from .autoencoder import AutoencoderView
from .completion import CompletionView, hidden_mask
from .curves import EnergyCurvesView
from .filters import FiltersView
from .model import RBMModel
from .ratings import RatingsView
from .reconstructions import ReconstructionsView
from .samples import SamplesView

__all__ = [
    "AutoencoderView",
    "CompletionView",
    "EnergyCurvesView",
    "FiltersView",
    "RBMModel",
    "RatingsView",
    "ReconstructionsView",
    "SamplesView",
    "hidden_mask",
]
