"""The network description: files, validation and shape inference. No Qt."""
from .settings import AugmentationSettings, DatasetSettings, TrainingSettings, with_overrides
from .spec import (Analysis, NetworkFileError, NetworkSpec, Node, Problem, analyse, build_network, load_spec,
                   network_family, save_spec, sequential_spec, spec_from_dict, spec_to_dict)
from .weights import WeightsError, load_weights_into, read_weights, save_weights

__all__ = ["Analysis", "AugmentationSettings",
           "DatasetSettings", "NetworkFileError", "NetworkSpec", "Node", "Problem", "TrainingSettings",
           "WeightsError", "analyse", "build_network", "load_spec", "load_weights_into", "network_family", "read_weights",
           "save_spec", "save_weights", "sequential_spec", "spec_from_dict", "spec_to_dict", "with_overrides"]
