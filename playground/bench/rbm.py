"""The ``rbm`` benchmark workload: CD-1 on a 784-500 RBM, mini-batches of 20.

Three implementations of the same step (Hinton's: sampled hidden states drive the
reconstruction, probabilities elsewhere, momentum and weight cost) run on the same data
each in a process of its own: the engine's fused kernel (``engine/rbm_kernels.cd_batches``), the
textbook vectorised numpy version (Hinton's Matlab code, line for line) and PyTorch.
"""

from __future__ import annotations

import numpy as np

from ..engine.layers import layer_class
from ..engine.layers.dropout import seed_kernel_random
from ..engine.rbm_kernels import CDRunner
from .harness import Benchmark

N_VISIBLE, N_HIDDEN, BATCH = 784, 500, 20
LEARNING_RATE, MOMENTUM, WEIGHT_COST = 0.1, 0.5, 2e-4


def _data(n: int) -> np.ndarray:
    return np.random.default_rng(0).random((n, N_VISIBLE), dtype=np.float32)


def engine_rbm_epoch(x: np.ndarray):
    cls = layer_class("rbm")
    layer = cls("rbm", cls.Config(units=N_HIDDEN, learning_rate=LEARNING_RATE, weight_cost=WEIGHT_COST), (N_VISIBLE,))
    layer.initialize("", np.random.default_rng(0))
    runner = CDRunner(layer, BATCH)
    control = np.zeros(2)
    order = np.random.default_rng(1).permutation(len(x)).astype(np.int64)
    batches = len(x) // BATCH
    seed_kernel_random(0)

    def run():
        done = len(runner.run(x, order, 0, batches, control, MOMENTUM))
        if done != batches:
            raise RuntimeError(f"the rbm benchmark did only {done} of {batches} batches")

    return run


def numpy_rbm_epoch(x: np.ndarray):
    """Hinton and Salakhutdinov's ``rbm.m`` in numpy, float32."""
    rng = np.random.default_rng(0)
    vishid = (0.01 * rng.standard_normal((N_VISIBLE, N_HIDDEN))).astype(np.float32)
    hidbiases, visbiases = np.zeros(N_HIDDEN, np.float32), np.zeros(N_VISIBLE, np.float32)
    vishidinc, hidbiasinc, visbiasinc = np.zeros_like(vishid), np.zeros_like(hidbiases), np.zeros_like(visbiases)
    order = np.random.default_rng(1).permutation(len(x))
    epsilon, momentum, weightcost = np.float32(LEARNING_RATE), np.float32(MOMENTUM), np.float32(WEIGHT_COST)

    def run():
        nonlocal vishid, hidbiases, visbiases, vishidinc, hidbiasinc, visbiasinc
        for start in range(0, len(x) - BATCH + 1, BATCH):
            data = x[order[start : start + BATCH]]
            poshidprobs = 1 / (1 + np.exp(-(data @ vishid + hidbiases)))
            posprods = data.T @ poshidprobs
            poshidstates = (poshidprobs > rng.random(poshidprobs.shape, dtype=np.float32)).astype(np.float32)
            negdata = 1 / (1 + np.exp(-(poshidstates @ vishid.T + visbiases)))
            neghidprobs = 1 / (1 + np.exp(-(negdata @ vishid + hidbiases)))
            negprods = negdata.T @ neghidprobs
            ((data - negdata) ** 2).sum()  # the reconstruction error the loop reports
            vishidinc = momentum * vishidinc + epsilon * ((posprods - negprods) / BATCH - weightcost * vishid)
            visbiasinc = momentum * visbiasinc + (epsilon / BATCH) * (data.sum(axis=0) - negdata.sum(axis=0))
            hidbiasinc = momentum * hidbiasinc + (epsilon / BATCH) * (poshidprobs.sum(axis=0) - neghidprobs.sum(axis=0))
            vishid = vishid + vishidinc
            visbiases = visbiases + visbiasinc
            hidbiases = hidbiases + hidbiasinc

    return run


def torch_rbm_epoch(x: np.ndarray):
    """The same step in PyTorch tensors (no autograd: CD is not the gradient of a loss), updated in place."""
    import torch

    generator = torch.Generator().manual_seed(0)
    weight = 0.01 * torch.randn(N_HIDDEN, N_VISIBLE, generator=generator)
    hidden_bias, visible_bias = torch.zeros(N_HIDDEN), torch.zeros(N_VISIBLE)
    steps = [torch.zeros_like(weight), torch.zeros_like(visible_bias), torch.zeros_like(hidden_bias)]
    tx = torch.from_numpy(x)
    order = torch.from_numpy(np.random.default_rng(1).permutation(len(x)))

    def run():
        with torch.no_grad():
            for start in range(0, len(x) - BATCH + 1, BATCH):
                data = tx[order[start : start + BATCH]]
                positive = torch.sigmoid(torch.addmm(hidden_bias, data, weight.T))
                sample = torch.bernoulli(positive, generator=generator)
                negative_v = torch.sigmoid(torch.addmm(visible_bias, sample, weight))
                negative_h = torch.sigmoid(torch.addmm(hidden_bias, negative_v, weight.T))
                gradient = positive.T @ data - negative_h.T @ negative_v
                steps[0].mul_(MOMENTUM).add_(gradient, alpha=LEARNING_RATE / BATCH).add_(
                    weight, alpha=-LEARNING_RATE * WEIGHT_COST
                )
                steps[1].mul_(MOMENTUM).add_((data - negative_v).sum(0), alpha=LEARNING_RATE / BATCH)
                steps[2].mul_(MOMENTUM).add_((positive - negative_h).sum(0), alpha=LEARNING_RATE / BATCH)
                weight.add_(steps[0])
                visible_bias.add_(steps[1])
                hidden_bias.add_(steps[2])

    return run


def rbm_flops(visible: int = N_VISIBLE, hidden: int = N_HIDDEN) -> int:
    """Floating-point operations of one sample's CD-1 step, counted in the products (2 per
    multiply-add; sampling and sigmoids not counted): p(h | v), the reconstruction p(v | h),
    p(h | v') and the positive and negative statistics vᵀh and v'ᵀh', each visible·hidden."""
    return 2 * 5 * visible * hidden


def rbm_benchmark() -> Benchmark:
    contenders = {
        "engine": lambda n: engine_rbm_epoch(_data(n)),
        "numpy": lambda n: numpy_rbm_epoch(_data(n)),
        "torch": lambda n: torch_rbm_epoch(_data(n)),
    }
    description = "784-500 RBM, one CD-1 step with momentum and weight cost, mini-batch 20"
    return Benchmark("rbm", description, 1.2, 8000, 2000, rbm_flops(), contenders)
