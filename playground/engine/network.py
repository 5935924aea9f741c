"""A built network: layers in order, with their parameters, and one training step.

The network is sequential: each layer feeds the next.  The model package turns a network
file (a graph) into the ordered list this class takes, after validating it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .costs import check_cost_fits, cost_and_delta, cost_code
from .layers import Layer, layer_class
from .parameters import LayerParameters


@dataclass
class LayerReport:
    """Per-layer figures of one step, taken from the gradient before the update.

    ``weight_grad_norm``/``bias_grad_norm`` are ‖∂C/∂W‖ and ‖∂C/∂b‖ of the mini-batch mean
    cost; ‖∂C/∂b‖ = ‖δˡ‖ averaged over the batch is Nielsen's "speed of learning".
    """

    weight_grad_norm: float
    bias_grad_norm: float
    weight_norm: float
    saturation: float | None


class Network(LayerParameters):
    def __init__(self, layers: list[Layer], cost: str):
        if not layers:
            raise ValueError("a network needs at least one layer")
        output = layers[-1]
        if not output.produces_output:
            raise ValueError(f'layer "{output.id}": the last layer must be a layer with an activation (dense)')
        problem = check_cost_fits(cost, output.config.activation)
        if problem:
            raise ValueError(f'layer "{output.id}": {problem}')
        self.layers = layers
        self.cost = cost
        self.cost_code = cost_code(cost)
        self.dtype = layers[0].dtype
        self.input_shape = layers[0].input_shape
        self.output_size = int(np.prod(output.output_shape))

    @classmethod
    def from_specs(cls, specs, input_shape, cost: str, dtype=np.float32) -> Network:
        """Build from ``(layer_id, type_id, config)`` triples in feed-forward order."""
        layers = []
        shape = tuple(input_shape)
        for layer_id, type_id, config in specs:
            layer = layer_class(type_id)(layer_id, config, shape, dtype)
            layers.append(layer)
            shape = layer.output_shape
        return cls(layers, cost)

    # --- forward and backward ----------------------------------------------------------
    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        for layer in self.layers:
            x = layer.forward(x, training)
        return x

    def predict(self, x: np.ndarray, chunk: int = 1000) -> np.ndarray:
        """Outputs for many examples, in chunks so memory stays bounded."""
        outputs = np.empty((len(x), self.output_size), dtype=self.dtype)
        for start in range(0, len(x), chunk):
            part = self.forward(x[start : start + chunk], training=False)
            outputs[start : start + chunk] = part.reshape(len(part), -1)
        return outputs

    def loss_and_gradients(self, x: np.ndarray, targets: np.ndarray) -> tuple[float, np.ndarray]:
        """Forward, cost and backward for one mini-batch; fills every layer's ``grads``.

        Returns the mean cost over the batch and the output activations.
        """
        output_layer = self.layers[-1]
        output = self.forward(x, training=True)
        rows = output_layer.z.shape  # (batch, units), or (batch·T, units) for a per-time-step head
        delta = np.empty(rows, self.dtype)
        total = cost_and_delta(
            self.cost_code,
            output_layer.activation_code,
            output_layer.z,
            output.reshape(rows),
            np.asarray(targets).reshape(rows),
            delta,
            output_layer.config.alpha,
        )
        batch = len(x)
        delta /= batch  # gradients of the mean cost
        dy = output_layer.backward_from_delta(delta, want_dx=len(self.layers) > 1)
        for layer in reversed(self.layers[:-1]):
            dy = layer.backward(dy)
        return total / batch, output

    def reports(self) -> dict[str, LayerReport]:
        """Per-layer gradient and weight norms and saturation of the step just computed."""
        out = {}
        for layer in self.trainable:
            weight = layer.params.get("weight")
            out[layer.id] = LayerReport(
                weight_grad_norm=float(np.linalg.norm(layer.grads["weight"])) if weight is not None else 0.0,
                bias_grad_norm=float(np.linalg.norm(layer.grads["bias"])) if "bias" in layer.grads else 0.0,
                weight_norm=float(np.linalg.norm(weight)) if weight is not None else 0.0,
                saturation=layer.saturation(),
            )
        return out

    def first_nonfinite_layer(self, x: np.ndarray, targets: np.ndarray) -> str:
        """Where NaN or inf first appears for this batch: the first layer, in forward order,
        whose output is not finite; failing that, the first whose gradient is not."""
        out = x
        for layer in self.layers:
            out = layer.forward(out, training=True)
            if not np.isfinite(out).all():
                return layer.id
        self.loss_and_gradients(x, targets)
        for layer in self.trainable:
            if not all(np.isfinite(grad).all() for grad in layer.grads.values()):
                return layer.id
        return self.layers[-1].id
