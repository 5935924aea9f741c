"""What the layers that end in an activation function share (Dense, Conv2D).

Both apply f(z) with f named by ``config.activation`` (and leaky ReLU's slope by
``config.alpha``), and keep the activations of the last forward pass in ``self.a``, from
which the instrumentation reads how many units sit where f is flat.
"""

from __future__ import annotations

import numpy as np

from ..activations import ACTIVATIONS, activation_code, saturated_fraction
from ..config import option
from .base import Layer


def alpha_option():
    """The ``alpha`` field: the slope of leaky ReLU for z < 0."""
    return option(0.01, help="Slope of leaky ReLU for z < 0 (ignored by other activations).", minimum=0.0, maximum=1.0)


class ActivatedLayer(Layer):
    """Base of the layers whose output ``self.a`` is f(z) for ``config.activation`` (not registered itself)."""

    def __init__(self, layer_id, config, input_shape, dtype=np.float32):
        super().__init__(layer_id, config, input_shape, dtype)
        self.activation_code = activation_code(config.activation)

    @property
    def can_saturate(self):
        """Sigmoid and tanh saturate; a ReLU saturates at 0 (its figure is the fraction of dead units)."""
        info = ACTIVATIONS[self.config.activation]
        return info.saturating or info.dies

    def saturation(self):
        """The fraction of units of the last batch stuck where f is flat (``saturated_fraction``):
        for sigmoid and tanh, derivative below 1% of its maximum; for ReLU, 0 on every example."""
        if not self.can_saturate:
            return None
        return float(saturated_fraction(self.activation_code, self.a.reshape(self.a.shape[0], -1)))
