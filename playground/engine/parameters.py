"""The parameter protocol shared by everything built from layers.

A feed-forward network, an encoder-decoder and a stack of RBMs train differently, but an
optimiser, a weights file and the window's snapshots need the same few things from each:
initialise every layer from one seed, list (parameter, gradient, decays) slots, and read or
write the parameters keyed ``"<layer_id>.<param>"``.  Keeping those in one place means the
three agree on the weights-file format by construction.
"""

from __future__ import annotations

import numpy as np


class LayerParameters:
    """Mixin for a model whose ``layers`` (a list of engine layers) hold all its parameters."""

    layers: list

    @property
    def trainable(self) -> list:
        """The layers that have parameters, in order (the metric rows of the window follow it)."""
        return [layer for layer in self.layers if layer.params]

    def initialize(self, initializer: str, seed: int) -> None:
        rng = np.random.default_rng(seed)
        for layer in self.layers:
            layer.initialize(initializer, rng)

    def slots(self):
        """(parameter, gradient, decays) for every parameter, in a fixed order."""
        return [
            (layer.params[name], layer.grads[name], name in layer.decaying)
            for layer in self.trainable
            for name in layer.params
        ]

    def state(self) -> dict[str, np.ndarray]:
        """Parameters keyed ``"<layer_id>.<param>"``, as stored in a weights file (views, not copies)."""
        return {f"{layer.id}.{name}": value for layer in self.trainable for name, value in layer.params.items()}

    def load_state(self, state: dict[str, np.ndarray]) -> None:
        """Copy values in place (a subset of the keys is fine), so buffers other objects hold
        (an optimiser, a fused kernel) stay valid."""
        own = self.state()
        for key, value in state.items():
            own[key][...] = value

    def copy_state(self) -> dict[str, np.ndarray]:
        return {key: value.copy() for key, value in self.state().items()}

    def parameter_count(self) -> int:
        return sum(value.size for value in self.state().values())
