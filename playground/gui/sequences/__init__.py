"""The sequence lab's panels (one per file, the same kind of widget as the dashboard's) and the model
they read (the worker's stream and job are Qt-free, in ``playground.runs``).

``sequence_lab.SequenceLab`` puts them together; each panel also runs on its own with a
``SequenceModel`` filled by hand, which is how the tests drive them.
"""

from .gates import GateActivityPanel
from .gradient_time import GradientOverTimePanel
from .hidden_pca import HiddenStatePCAPanel, pca_2d
from .model import SequenceModel
from .translations import TranslationsPanel

__all__ = [
    "GateActivityPanel",
    "GradientOverTimePanel",
    "HiddenStatePCAPanel",
    "SequenceModel",
    "TranslationsPanel",
    "pca_2d",
]
