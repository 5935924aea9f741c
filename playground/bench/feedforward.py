"""What the dense and the convolutional workloads share: both train feed-forward networks on
784-pixel images with SGD, the engine through a fused stack runner in the trainer's chunks,
PyTorch through ``nn.Sequential``, autograd and ``optim.SGD``.  Only the networks differ.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..engine.dense_stack import FINISHED

LEARNING_RATE = 0.1


@dataclass(frozen=True)
class Workload:
    id: str
    sizes: tuple[int, ...]
    output: str
    cost: str
    batch: int
    instrument: bool
    #: the engine's ratio to the best reference that ``playground bench`` asks for
    target: float
    description: str


def random_images(n: int, n_out: int):
    """``n`` random 784-pixel images float32 and a one-hot label of ``n_out`` classes each."""
    rng = np.random.default_rng(0)
    x = rng.random((n, 784), dtype=np.float32)
    y = np.zeros((n, n_out), np.float32)
    y[np.arange(n), rng.integers(0, n_out, n)] = 1.0
    return x, y


def stack_epoch(w: Workload, runner, x, y, instrument: bool | None = None):
    """A closure training one pass over ``x`` in the trainer's chunks with a fused stack ``runner``."""
    control = np.array([0.0, LEARNING_RATE])
    batches = len(x) // w.batch
    order = np.random.default_rng(1).permutation(len(x)).astype(np.int64)
    on = w.instrument if instrument is None else instrument

    def run():
        for first in range(0, batches, 500):
            done, ended, *_ = runner.run(x, y, order, first, min(500, batches - first), control, 0.0, 0.0, on)
            if ended != FINISHED:  # a diverged run would stop early and look fast
                raise RuntimeError(f"the {w.id} benchmark did not finish its batches (end code {ended})")

    return run


def torch_epoch(w: Workload, x, y, layers_of):
    """PyTorch CPU, the idiomatic way: nn.Sequential of ``layers_of(torch.nn)``, autograd and optim.SGD
    (at the threads its process was started with: the harness tries one and every core)."""
    import torch

    model = torch.nn.Sequential(*layers_of(torch.nn))
    optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)
    labels = ty.argmax(dim=1)
    order = torch.from_numpy(np.random.default_rng(1).permutation(len(x)))

    def loss_of(out, rows):
        if w.cost == "quadratic":
            return 0.5 * ((out - ty[rows]) ** 2).sum(dim=1).mean()
        if w.cost == "cross-entropy":
            return torch.nn.functional.binary_cross_entropy(out, ty[rows], reduction="sum") / len(rows)
        return torch.nn.functional.cross_entropy(out, labels[rows])

    def run():
        for start in range(0, len(x) - w.batch + 1, w.batch):
            rows = order[start : start + w.batch]
            optimizer.zero_grad(set_to_none=True)
            loss = loss_of(model(tx[rows]), rows)
            loss.backward()
            if w.instrument:
                [p.grad.norm() for p in model.parameters()]
            optimizer.step()

    return run
