"""The layer protocol and the registry every part of the program reads.

A layer type is one class in one file under ``playground/engine/layers/``, registered
with ``@register_layer``.  The file format, shape inference, the palette, the inspector
and the generic tests all discover layer types here, so adding a type is one new file
plus its tests.

Protocol (after numpy-ml and Nielsen's ``network2.py``):
- ``forward(x, training)`` returns the output and caches what ``backward`` needs;
- ``backward(dy)`` returns ∂C/∂x and fills ``grads`` (same keys as ``params``) with the
  gradient of the mini-batch *mean* cost;
- the arithmetic lives in ``@njit(nogil=True, cache=True, no_cfunc_wrapper=True)`` kernels on arrays, so kernels
  never see layer objects and can be tested and benchmarked on their own.
"""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np


class ShapeError(ValueError):
    """A layer cannot accept its input shape; the message is the reason, without the layer name."""


class RegistryError(RuntimeError):
    pass


LAYER_TYPES: dict[str, type[Layer]] = {}


def register_layer(cls):
    """Class decorator: make a layer type known under its stable ``type_id``.

    A type that names no ``display_name`` of its own is shown as its id, capitalised
    ("dense" → "Dense"), so a new layer file needs no GUI change to appear in the palette.
    """
    if cls.type_id in LAYER_TYPES:
        raise RegistryError(f'layer type "{cls.type_id}" is registered twice')
    if "display_name" not in cls.__dict__:
        cls.display_name = cls.type_id.replace("_", " ").capitalize()
    LAYER_TYPES[cls.type_id] = cls
    return cls


def layer_class(type_id: str) -> type[Layer]:
    try:
        return LAYER_TYPES[type_id]
    except KeyError:
        raise RegistryError(f'unknown layer type "{type_id}" (known: {", ".join(sorted(LAYER_TYPES))})') from None


class Layer:
    type_id: ClassVar[str]
    #: bumped when the config's meaning changes; the file loader migrates older versions
    version: ClassVar[int] = 1
    #: palette group
    category: ClassVar[str]
    #: how the palette, the canvas and the inspector name the type ("MaxPool2D", not "maxpool2d")
    display_name: ClassVar[str]
    Config: ClassVar[type]
    #: palette tooltip: the formula, and one sentence on when to use it
    formula: ClassVar[str] = ""
    when_to_use: ClassVar[str] = ""
    #: parameters that regularisation (L2/L1) shrinks: weights, never biases
    decaying: ClassVar[tuple[str, ...]] = ("weight",)
    #: a small input shape the generic tests (gradient checks, round trips) feed this type
    example_input_shape: ClassVar[tuple[int, ...]] = (5,)
    #: True for layers that can end a network: they apply an activation the cost can read
    produces_output: ClassVar[bool] = False

    def __init__(self, layer_id: str, config, input_shape: tuple[int, ...], dtype=np.float32):
        self.id = layer_id
        self.config = config
        self.input_shape = tuple(input_shape)
        self.output_shape = self.infer_output_shape(config, self.input_shape)
        self.dtype = np.dtype(dtype)
        shapes = self.parameter_shapes(config, self.input_shape)
        self.params = {name: np.zeros(shape, dtype=self.dtype) for name, shape in shapes.items()}
        self.grads = {name: np.zeros(shape, dtype=self.dtype) for name, shape in shapes.items()}

    # --- shape inference, used by the file loader before any array exists -------------
    @classmethod
    def infer_output_shape(cls, config, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        return input_shape

    @classmethod
    def parameter_shapes(cls, config, input_shape: tuple[int, ...]) -> dict[str, tuple[int, ...]]:
        return {}

    @classmethod
    def parameter_count(cls, config, input_shape: tuple[int, ...]) -> int:
        """Python's exact integers, not numpy's: a hostile shape cannot wrap round to a small
        count, and analysing a long chain does not pay numpy's per-call cost for every layer."""
        return sum(math.prod(shape) for shape in cls.parameter_shapes(config, input_shape).values())

    @classmethod
    def dense_equivalent_count(cls, config, input_shape: tuple[int, ...]) -> int | None:
        """Parameters a Dense layer would need for the same input and output sizes, for layers
        whose point is to need fewer (shared weights); None for the others."""
        return None

    @classmethod
    def migrate(cls, config: dict, from_version: int) -> dict:
        """Rewrite a config saved by an older version of this type into the current form.

        A type that changes the meaning or names of its fields bumps ``version`` and
        overrides this, so files written before the change keep loading.
        """
        return config

    # --- training ----------------------------------------------------------------------
    def initialize(self, initializer: str, rng: np.random.Generator) -> None:
        """Fill the parameters afresh; layers without parameters have nothing to do."""

    def forward(self, x: np.ndarray, training: bool) -> np.ndarray:
        raise NotImplementedError

    def backward(self, dy: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    @property
    def can_saturate(self) -> bool:
        """Whether this layer's units have flat regions where the gradient dies (sigmoid, tanh, ReLU)."""
        return False

    def saturation(self) -> float | None:
        """Fraction of saturated units in the last forward pass, or None where it means nothing."""
        return None
