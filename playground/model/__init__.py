"""The network description: files, validation and shape inference. No Qt."""
from .analysis import (Analysis, NetworkFileError, NetworkSpec, Node, Problem, analyse, build_encoder_decoder,
                       build_network, encoder_decoder_spec, load_spec, network_family, parameter_arrays, save_spec,
                       sequential_spec, spec_from_dict, spec_to_dict)
from .settings import AugmentationSettings, DatasetSettings, TrainingSettings, with_overrides
from .weights import WeightsError, load_weights_into, read_weights, save_weights

__all__ = ["Analysis", "AugmentationSettings", "DatasetSettings", "NetworkFileError", "NetworkSpec", "Node", "Problem",
           "TrainingSettings", "WeightsError", "analyse", "build_encoder_decoder", "build_network",
           "encoder_decoder_spec", "load_spec", "load_weights_into", "network_family", "parameter_arrays",
           "read_weights", "save_spec", "save_weights", "sequential_spec", "spec_from_dict", "spec_to_dict",
           "with_overrides"]
