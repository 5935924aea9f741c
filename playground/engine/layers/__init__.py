"""Layer types, one file each; importing this package registers them all."""
# imported to register them
from . import avgpool2d, conv2d, dense, dropout, flatten, input, maxpool2d, rbm, reshape  # noqa: F401
from . import embedding, lstm, one_hot, simple_rnn, time_dense  # noqa: F401
from .base import LAYER_TYPES, Layer, RegistryError, ShapeError, layer_class, register_layer

__all__ = ["LAYER_TYPES", "Layer", "RegistryError", "ShapeError", "layer_class", "register_layer"]
