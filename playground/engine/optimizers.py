"""Optimisers: mini-batch SGD with optional momentum, and Adam.

Regularisation is applied here, to weights only (never biases, as in Nielsen's book):
L2 adds (λ/n)·w to the gradient, the derivative of (λ/2n)‖w‖², so each step shrinks the
weights by a factor (1 − ηλ/n) — "weight decay".  L1 adds (λ/n)·sign(w), which pulls
small weights to exactly zero.  ``n`` is the size of the training set, which is why the
trainer passes λ/n and not λ.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

from .numeric import FAST_MATH, like

OPTIMIZERS = ("sgd", "adam")


@njit(nogil=True, cache=True, no_cfunc_wrapper=True, fastmath=FAST_MATH, error_model="numpy")
def sgd_update(param, grad, velocity, lr, momentum, l2, l1):
    """In-place v ← μv − η(g + l2·w + l1·sign w); w ← w + v, on flat arrays.

    Returns (Σg², Σw²) of the gradient and of the weights before the update: the loop
    reads both anyway, so the per-layer figures cost no extra pass over memory.
    """
    grad_squares = like(param, 0.0)
    weight_squares = like(param, 0.0)
    lr, momentum, l2, l1 = like(param, lr), like(param, momentum), like(param, l2), like(param, l1)
    if momentum == 0.0 and l1 == 0.0:
        # plain SGD with weight decay, the common case: w ← (1 − ηλ/n)·w − η·g, no velocity to keep
        decay = 1 - lr * l2
        for i in range(param.size):
            w = param[i]
            g = grad[i]
            grad_squares += g * g
            weight_squares += w * w
            param[i] = decay * w - lr * g
        return grad_squares, weight_squares
    for i in range(param.size):
        w = param[i]
        grad_squares += grad[i] * grad[i]
        weight_squares += w * w
        g = grad[i] + l2 * w + l1 * np.sign(w)
        v = momentum * velocity[i] - lr * g
        velocity[i] = v
        param[i] = w + v
    return grad_squares, weight_squares


@njit(nogil=True, cache=True, no_cfunc_wrapper=True, fastmath=FAST_MATH, error_model="numpy")
def adam_update(param, grad, first, second, lr, beta1, beta2, eps, step, l2, l1):
    """In-place Adam step (Kingma & Ba) with bias-corrected moments, on flat arrays.

    Returns (Σg², Σw²) before the update, as ``sgd_update`` does.
    """
    correction1 = like(param, 1.0 - beta1**step)
    correction2 = like(param, 1.0 - beta2**step)
    lr, beta1, beta2, eps, l2, l1 = (
        like(param, lr),
        like(param, beta1),
        like(param, beta2),
        like(param, eps),
        like(param, l2),
        like(param, l1),
    )
    grad_squares = like(param, 0.0)
    weight_squares = like(param, 0.0)
    for i in range(param.size):
        w = param[i]
        grad_squares += grad[i] * grad[i]
        weight_squares += w * w
        g = grad[i] + l2 * w + l1 * np.sign(w)
        m = beta1 * first[i] + (1 - beta1) * g
        v = beta2 * second[i] + (1 - beta2) * g * g
        first[i] = m
        second[i] = v
        param[i] = w - lr * (m / correction1) / (np.sqrt(v / correction2) + eps)
    return grad_squares, weight_squares


@dataclass
class OptimizerSettings:
    name: str = "sgd"
    momentum: float = 0.0
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8


class Optimizer:
    """Holds the per-parameter state (velocities or moments) for one network.

    ``slots`` is the network's list of (param, grad, decays) triples; the optimiser keeps
    one state array per slot, allocated once, so a step allocates nothing.
    """

    def __init__(self, settings: OptimizerSettings, slots):
        if settings.name not in OPTIMIZERS:
            raise ValueError(f'unknown optimiser "{settings.name}" (choose from {", ".join(OPTIMIZERS)})')
        self.settings = settings
        self.slots = [(p.reshape(-1), g.reshape(-1), decays) for p, g, decays in slots]
        self.first = [np.zeros_like(p) for p, _, _ in self.slots]
        self.second = [np.zeros_like(p) for p, _, _ in self.slots] if settings.name == "adam" else []
        self.steps = 0

    def step(self, lr: float, l2: float, l1: float) -> None:
        """Apply one update; ``l2`` and ``l1`` are λ/n (already divided by the training-set size)."""
        self.steps += 1
        s = self.settings
        for index, (param, grad, decays) in enumerate(self.slots):
            l2_here = l2 if decays else 0.0
            l1_here = l1 if decays else 0.0
            if s.name == "sgd":
                sgd_update(param, grad, self.first[index], lr, s.momentum, l2_here, l1_here)
            else:
                adam_update(
                    param,
                    grad,
                    self.first[index],
                    self.second[index],
                    lr,
                    s.beta1,
                    s.beta2,
                    s.eps,
                    self.steps,
                    l2_here,
                    l1_here,
                )


def clip_by_norm(grads, max_norm: float) -> tuple[float, bool]:
    """Rescale every gradient by c/‖g‖ when the whole gradient's norm ‖g‖ exceeds c = ``max_norm``.

    The cure for exploding gradients (Pascanu et al. 2013): the direction is kept, only the
    step is shortened.  Off when ``max_norm`` ≤ 0; a non-finite norm is left for the trainer's
    divergence check to report.  Returns (‖g‖ before clipping, whether it clipped); with clipping
    off the norm is not computed (NaN): the trainers call this every step.
    """
    if max_norm <= 0:
        return math.nan, False
    norm = math.sqrt(sum(float(np.dot(grad.reshape(-1), grad.reshape(-1))) for grad in grads))
    if norm <= max_norm or not math.isfinite(norm):
        return norm, False
    for grad in grads:
        grad *= grad.dtype.type(max_norm / norm)
    return norm, True
