"""Restricted Boltzmann machine: an undirected model of P(v, h), trained to make the data likely.

Parameters, keyed as in every weights file:

- ``weight`` (hidden, visible): PyTorch's ``Linear`` layout, the same as Dense.  So the
  RBM's ``weight`` and ``bias`` (the *hidden* biases c) are exactly the parameters of the
  sigmoid Dense layer it becomes in a deep belief net: fine-tuning copies them as they are.
- ``bias`` (hidden): c.
- ``visible_bias`` (visible): b, used only when the RBM models or reconstructs its input.

Two ways to train it.  Unsupervised, by contrastive divergence (``engine/rbm_kernels.py``,
driven by ``training/rbm_trainer.py``), with the hyper-parameters of this config.  And in a
feed-forward network, where an RBM acts as the sigmoid layer a = σ(Wx + c) with a normal
backward pass: a stack Input → rbm → rbm → dense(softmax) is an ordinary network for
backprop once pretraining is done.  The visible biases play no part there: their gradient
is zero.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..activations import (
    LINEAR,
    SIGMOID,
    activation_backward,
    activation_forward,
    saturated_fraction,
)
from ..config import option
from .base import Layer, ShapeError, register_layer
from .buffers import BatchBuffers
from .dense import dense_backward, dense_forward

VISIBLE_TYPES = ("bernoulli", "gaussian")
HIDDEN_TYPES = ("bernoulli", "linear")
METHODS = ("cd", "pcd")


@dataclass(frozen=True)
class RBMConfig:
    units: int = option(500, help="Hidden units: the features the RBM learns.", minimum=1, maximum=100_000)
    visible_units: int = option(
        0,
        help="Visible units the RBM expects (0: as many as its input gives). "
        "Set it to refuse a stack whose sizes do not chain.",
        minimum=0,
        maximum=10_000_000,
    )
    visible: str = option(
        "bernoulli",
        help="Visible units: bernoulli for pixels in [0, 1], gaussian (σ = 1) for standardised real values.",
        choices=VISIBLE_TYPES,
    )
    hidden: str = option(
        "bernoulli",
        help="Hidden units: bernoulli (binary features), or linear: p(h | v) = N(Wv + c, 1), real-valued "
        "codes that spread out (Hinton and Salakhutdinov's code layer); as a layer, a = Wv + c.",
        choices=HIDDEN_TYPES,
    )
    method: str = option(
        "cd",
        help="cd: every negative phase starts at the data; pcd (persistent CD): it "
        "continues chains kept between mini-batches.",
        choices=METHODS,
    )
    cd_k: int = option(1, help="Gibbs steps in each negative phase (the k of CD-k).", minimum=1, maximum=1000)
    learning_rate: float = option(0.1, help="η of the contrastive-divergence updates.", minimum=1e-9, maximum=100.0)
    initial_momentum: float = option(
        0.5,
        help="Momentum for the first epochs, while the gradient is large (Hinton's practical guide: 0.5).",
        minimum=0.0,
        maximum=0.999,
    )
    final_momentum: float = option(0.9, help="Momentum after the switch (Hinton: 0.9).", minimum=0.0, maximum=0.999)
    momentum_switch_epoch: int = option(
        6,
        help="Epoch from which the final momentum is used (Hinton's code: after the first 5).",
        minimum=1,
        maximum=100_000,
    )
    weight_cost: float = option(
        2e-4, help="λ of the weight cost (L2) on the weights (Hinton: 2e-4).", minimum=0.0, maximum=1.0
    )


@register_layer
class RBM(Layer):
    type_id = "rbm"
    display_name = "RBM"
    category = "Unsupervised"
    Config = RBMConfig
    formula = "E(v,h) = −bᵀv − cᵀh − hᵀWv;  as a layer: a = σ(Wv + c)"
    when_to_use = (
        "Learn features without labels (pretraining a deep belief net), fill in missing inputs, "
        "or model ratings; in a network it acts as a sigmoid layer."
    )

    @classmethod
    def visible_count(cls, config, input_shape) -> int:
        n_in = math.prod(input_shape) if input_shape else 0
        if n_in < 1:
            raise ShapeError("has no inputs")
        if config.visible_units and config.visible_units != n_in:
            raise ShapeError(
                f"expects {config.visible_units} visible units but its input gives {n_in}: "
                f"the sizes of the stack do not chain"
            )
        return n_in

    @classmethod
    def infer_output_shape(cls, config, input_shape):
        cls.visible_count(config, input_shape)
        return (config.units,)

    @classmethod
    def parameter_shapes(cls, config, input_shape):
        n_visible = cls.visible_count(config, input_shape)
        return {"weight": (config.units, n_visible), "bias": (config.units,), "visible_bias": (n_visible,)}

    def __init__(self, layer_id, config, input_shape, dtype=np.float32):
        super().__init__(layer_id, config, input_shape, dtype)
        self.n_visible = int(np.prod(self.input_shape))
        self._work = BatchBuffers()

    @property
    def gaussian(self) -> bool:
        return self.config.visible == "gaussian"

    @property
    def linear_hidden(self) -> bool:
        return self.config.hidden == "linear"

    @property
    def activation(self) -> int:
        """The activation of the feed-forward layer it acts as: σ, or the identity for linear hidden units."""
        return LINEAR if self.linear_hidden else SIGMOID

    def initialize(self, initializer, rng):
        """Small random weights N(0, 0.01²) and zero biases, as Hinton's guide recommends.

        The network's initialiser is ignored on purpose: an RBM's units must start nearly
        unsaturated and symmetric-broken, and its visible biases are set from the data
        (log p/(1 − p)) by the trainer, which sees the data.
        """
        self.params["weight"][...] = rng.normal(0.0, 0.01, self.params["weight"].shape)
        self.params["bias"][...] = 0.0
        self.params["visible_bias"][...] = 0.0

    def forward(self, x, training):
        batch = x.shape[0]
        units = (self.config.units,)
        self.z = self._work.get(batch, "z", units, self.dtype)
        self.a = self._work.get(batch, "a", units, self.dtype)
        self.x = np.ascontiguousarray(x.reshape(batch, self.n_visible), dtype=self.dtype)
        dense_forward(self.x, self.params["weight"], self.params["bias"], self.z)
        activation_forward(self.activation, self.z, self.a, 0.0)
        return self.a

    def backward(self, dy):
        batch = self.x.shape[0]
        dz = self._work.get(batch, "dz", (self.config.units,), self.dtype)
        dx = self._work.get(batch, "dx", (self.n_visible,), self.dtype)
        activation_backward(self.activation, self.z, self.a, np.ascontiguousarray(dy), dz, 0.0)
        dense_backward(self.x, dz, self.params["weight"], self.grads["weight"], self.grads["bias"], dx, True)
        self.grads["visible_bias"][...] = 0.0
        return dx.reshape((batch,) + self.input_shape)

    @property
    def can_saturate(self):
        return not self.linear_hidden

    def saturation(self):
        return 0.0 if self.linear_hidden else float(saturated_fraction(SIGMOID, self.a))
