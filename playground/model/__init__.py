"""The network description: files, validation and shape inference. No Qt.

``spec`` holds the description, ``analysis`` its shape inference and problems, ``families`` the
rules of each kind of network, ``build`` the engine objects made from it and ``network_file`` its
JSON form; import from here unless a module's own name says more.
"""

from .analysis import Analysis, analyse, parameter_arrays
from .build import build_encoder_decoder, build_network, initialise
from .network_file import load_spec, save_spec, spec_from_dict, spec_to_dict
from .settings import AugmentationSettings, DatasetSettings, TrainingSettings, with_overrides
from .spec import NetworkFileError, NetworkSpec, Node, Problem, empty_spec, encoder_decoder_spec, sequential_spec
from .weights import WeightsError, load_weights_into, read_weights, save_weights

__all__ = [
    "Analysis",
    "AugmentationSettings",
    "DatasetSettings",
    "NetworkFileError",
    "NetworkSpec",
    "Node",
    "Problem",
    "TrainingSettings",
    "WeightsError",
    "analyse",
    "build_encoder_decoder",
    "build_network",
    "empty_spec",
    "initialise",
    "encoder_decoder_spec",
    "load_spec",
    "load_weights_into",
    "parameter_arrays",
    "read_weights",
    "save_spec",
    "save_weights",
    "sequential_spec",
    "spec_from_dict",
    "spec_to_dict",
    "with_overrides",
]
