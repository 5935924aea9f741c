"""Layer types, one file each; importing this package registers them all."""

# imported to register them
from . import (  # noqa: F401  # noqa: F401
    avgpool2d,
    conv2d,
    dense,
    dropout,
    embedding,
    flatten,
    input,
    lstm,
    maxpool2d,
    one_hot,
    rbm,
    reshape,
    simple_rnn,
    time_dense,
)
from .base import LAYER_TYPES, Layer, RegistryError, ShapeError, layer_class, register_layer

__all__ = ["LAYER_TYPES", "Layer", "RegistryError", "ShapeError", "layer_class", "register_layer"]
