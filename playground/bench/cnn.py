"""The ``cnn`` workload: Nielsen's first convolutional network (conv 5×5×20 (ReLU) → max-pool 2×2
→ dense 100 (ReLU) → softmax 10, the ``cnn-mnist`` lesson's) through the engine's fused
conv-stack kernel, against im2col + matmul in numpy float32 and ``nn.Conv2d`` in PyTorch."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..engine.conv_stack import ConvStackRunner
from ..engine.optimizers import Optimizer, OptimizerSettings
from ..model import build_network
from .feedforward import LEARNING_RATE, Workload, random_images, stack_epoch, torch_epoch
from .harness import Benchmark

CNN = Workload(
    "cnn",
    (784, 100, 10),
    "softmax",
    "log-likelihood",
    64,
    False,
    1.2,
    "conv 5×5×20 → max-pool 2 → dense 100 → 10, mini-batch 64",
)
LESSON = "cnn-mnist"


def engine_epoch(x, y):
    """A closure training one pass over ``x`` in the trainer's chunks, on the lesson's network."""
    # imported here: importing the package (as the start-up figure does) need not load the lessons
    from ..training.lessons import load_lesson

    network = build_network(load_lesson(LESSON))
    network.initialize("he", 0)
    runner = ConvStackRunner(network, Optimizer(OptimizerSettings(), network.slots()), CNN.batch)
    return stack_epoch(CNN, runner, x, y)


def numpy_epoch(x, y):
    """The reference: the textbook vectorised numpy step, with im2col as a strided view copied
    into a (B·576, 25) matrix and every product a matmul."""
    rng = np.random.default_rng(0)
    kernel, filters, pool, hidden = 5, 20, 2, CNN.sizes[1]
    side = 28 - kernel + 1
    half = side // pool
    flat = filters * half * half
    conv_w = (rng.standard_normal((filters, kernel * kernel)) * np.sqrt(2 / 25)).astype(np.float32)
    conv_b = np.zeros(filters, np.float32)
    w1 = (rng.standard_normal((hidden, flat)) * np.sqrt(2 / flat)).astype(np.float32)
    b1 = np.zeros(hidden, np.float32)
    w2 = (rng.standard_normal((CNN.sizes[2], hidden)) * np.sqrt(2 / hidden)).astype(np.float32)
    b2 = np.zeros(CNN.sizes[2], np.float32)
    order = np.random.default_rng(1).permutation(len(x))
    lr = np.float32(LEARNING_RATE)
    batch = CNN.batch

    def run():
        nonlocal conv_w, conv_b, w1, b1, w2, b2
        for start in range(0, len(x) - batch + 1, batch):
            rows = order[start : start + batch]
            images, yb = x[rows].reshape(batch, 28, 28), y[rows]
            cols = sliding_window_view(images, (kernel, kernel), axis=(1, 2)).reshape(batch * side * side, -1)
            z = cols @ conv_w.T + conv_b  # (B·576, 20)
            a = np.maximum(z, 0).reshape(batch, half, pool, half, pool, filters)
            pooled = a.max(axis=(2, 4))  # (B, 12, 12, 20)
            winners = a == pooled[:, :, None, :, None, :]
            features = pooled.transpose(0, 3, 1, 2).reshape(batch, flat)  # NCHW order, as Flatten
            h = np.maximum(features @ w1.T + b1, 0)
            logits = h @ w2.T + b2
            e = np.exp(logits - logits.max(axis=1, keepdims=True))
            delta = (e / e.sum(axis=1, keepdims=True) - yb) / batch
            grad_w2, grad_b2 = delta.T @ h, delta.sum(axis=0)
            dh = (delta @ w2) * (h > 0)
            grad_w1, grad_b1 = dh.T @ features, dh.sum(axis=0)
            dpooled = (dh @ w1).reshape(batch, filters, half, half).transpose(0, 2, 3, 1)
            dz = (winners * dpooled[:, :, None, :, None, :]).reshape(batch * side * side, filters) * (z > 0)
            grad_conv_w, grad_conv_b = dz.T @ cols, dz.sum(axis=0)
            w2 -= lr * grad_w2
            b2 -= lr * grad_b2
            w1 -= lr * grad_w1
            b1 -= lr * grad_b1
            conv_w -= lr * grad_conv_w
            conv_b -= lr * grad_conv_b

    return run


def _torch_layers(nn) -> list:
    """The same network in ``torch.nn`` modules, on NCHW images."""
    return [
        nn.Unflatten(1, (1, 28, 28)),
        nn.Conv2d(1, 20, 5),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(2880, CNN.sizes[1]),
        nn.ReLU(),
        nn.Linear(CNN.sizes[1], CNN.sizes[2]),
    ]


def cnn_flops(
    side: int = 28, kernel: int = 5, filters: int = 20, pool: int = 2, hidden: int = 100, classes: int = 10
) -> int:
    """Floating-point operations of one image's forward and backward pass, counted in the products
    (2 per multiply-add; ReLU, pooling and softmax not counted): the convolution's forward pass and
    its filters' gradient, each (side−kernel+1)²·filters·kernel² multiply-adds (no gradient for the
    input image), and for each dense layer the forward product, the weight gradient and the delta
    passed down."""
    out = side - kernel + 1
    conv = out * out * filters * kernel * kernel
    flat = filters * (out // pool) ** 2
    return 2 * (2 * conv + 3 * (flat * hidden + hidden * classes))


def cnn_benchmark() -> Benchmark:
    def data(n: int):
        return random_images(n, CNN.sizes[-1])

    contenders = {
        "engine": lambda n: engine_epoch(*data(n)),
        "numpy": lambda n: numpy_epoch(*data(n)),
        "torch": lambda n: torch_epoch(CNN, *data(n), _torch_layers),
    }
    # a convolutional step costs about 40 dense ones: a quarter of the dense workloads' samples
    return Benchmark(CNN.id, CNN.description, CNN.target, 4000, 1000, cnn_flops(), contenders)
