"""Layer types, one file each; importing this package registers them all."""
from . import dense, dropout, input  # noqa: F401  (imported to register)
from .base import LAYER_TYPES, Layer, RegistryError, ShapeError, layer_class, register_layer

__all__ = ["LAYER_TYPES", "Layer", "RegistryError", "ShapeError", "layer_class", "register_layer"]
