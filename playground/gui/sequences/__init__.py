"""The sequence lab's views (one per file), the model they read and the worker's stream.

``sequence_lab.SequenceLab`` puts them together; each view also runs on its own with a
``SequenceModel`` filled by hand, which is how the tests drive them.
"""
from .gates import GateActivityView
from .gradient_time import GradientOverTimeView
from .hidden_pca import HiddenStatePCAView, pca_2d
from .job import SequenceJob
from .model import SequenceModel
from .stream import SequenceStream
from .translations import TranslationsView

__all__ = ["GateActivityView", "GradientOverTimeView", "HiddenStatePCAView", "SequenceJob", "SequenceModel",
           "SequenceStream", "TranslationsView", "pca_2d"]
