"""The RBM lab's panels (one per file, the same kind of widget as the dashboard's) and the model
they read (the worker's stream and job are Qt-free, in ``playground.runs``).

``rbm_lab.RBMLab`` puts them together; each panel also runs on its own with an ``RBMModel``
filled by hand or by a short run, which is how the tests drive them.
"""

from .autoencoder import AutoencoderPanel
from .completion import CompletionPanel, hidden_mask
from .curves import EnergyCurvesPanel
from .filters import RBMFiltersPanel
from .model import RBMModel
from .ratings import RatingsPanel
from .reconstructions import ReconstructionsPanel
from .samples import SamplesPanel

__all__ = [
    "AutoencoderPanel",
    "CompletionPanel",
    "EnergyCurvesPanel",
    "RBMFiltersPanel",
    "RBMModel",
    "RatingsPanel",
    "ReconstructionsPanel",
    "SamplesPanel",
    "hidden_mask",
]
