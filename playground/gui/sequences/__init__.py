"""The sequence lab's views (one per file) and the model they read (the worker's stream and job
are Qt-free, in ``playground.runs``).

``sequence_lab.SequenceLab`` puts them together; each view also runs on its own with a
``SequenceModel`` filled by hand, which is how the tests drive them.
"""

from .gates import GateActivityView
from .gradient_time import GradientOverTimeView
from .hidden_pca import HiddenStatePCAView, pca_2d
from .model import SequenceModel
from .translations import TranslationsView

__all__ = [
    "GateActivityView",
    "GradientOverTimeView",
    "HiddenStatePCAView",
    "SequenceModel",
    "TranslationsView",
    "pca_2d",
]
