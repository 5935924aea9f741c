"""The ``lstm`` benchmark workload: one LSTM training step as the sequence trainer runs it.

Sequences of T = 20 steps with 32 inputs, an LSTM of 128 hidden units, a softmax over 32
classes at every step (log-likelihood summed over the steps), mini-batch 32: one full
forward pass, backpropagation through time and an SGD update per batch.  References, each in
a process of its own: the same step in plain numpy float32 (the input projection of all
steps in one matmul, as the engine does, so the comparison is of the kernels and not of
the algorithm), and ``torch.nn.LSTM`` + ``nn.Linear`` + cross-entropy where installed.
"""

from __future__ import annotations

import numpy as np

from .harness import Benchmark

STEPS, FEATURES, HIDDEN, CLASSES, BATCH = 20, 32, 128, 32, 32
LEARNING_RATE = 0.1


def lstm_data(n: int):
    """``n`` random sequences (n, T, features) float32 and a class per step (n, T) int32."""
    rng = np.random.default_rng(0)
    return (
        rng.standard_normal((n, STEPS, FEATURES)).astype(np.float32),
        rng.integers(0, CLASSES, (n, STEPS)).astype(np.int32),
    )


def engine_lstm_epoch(x, labels):
    """The sequence trainer's own steps (forward, BPTT, ‖∂C/∂h_t‖ recorded, SGD) over one pass of ``x``."""
    # imported here: importing the package (as the start-up figure does) need not load the sequence trainer
    from ..engine.layers import layer_class
    from ..engine.network import Network
    from ..model.settings import TrainingSettings
    from ..training.sequence_trainer import SequenceData, SequenceTrainer

    specs = [
        ("in", "input", layer_class("input").Config(shape=(STEPS, FEATURES))),
        ("rec", "lstm", layer_class("lstm").Config(hidden=HIDDEN, return_sequences="yes")),
        ("out", "time_dense", layer_class("time_dense").Config(units=CLASSES, activation="softmax")),
    ]
    network = Network.from_specs(specs, (STEPS, FEATURES), "log-likelihood")
    network.initialize("xavier", 0)
    settings = TrainingSettings(
        cost="log-likelihood", optimizer="sgd", learning_rate=LEARNING_RATE, batch_size=BATCH, epochs=1
    )
    trainer = SequenceTrainer(network, SequenceData("bench", x, labels, x[:BATCH], labels[:BATCH]), settings)
    order = np.random.default_rng(1).permutation(len(x)).astype(np.int64)
    batches = len(x) // BATCH

    def run():
        trainer.train_chunk(1, order, 0, batches)

    return run


def numpy_lstm_epoch(x, labels):
    """Plain numpy float32: the textbook LSTM step, vectorised over the batch, loops over time."""
    rng = np.random.default_rng(0)
    h4 = 4 * HIDDEN
    w_ih = (rng.standard_normal((h4, FEATURES)) * 0.1).astype(np.float32)
    w_hh = (rng.standard_normal((h4, HIDDEN)) * 0.1).astype(np.float32)
    bias = np.zeros(h4, np.float32)
    w_out = (rng.standard_normal((CLASSES, HIDDEN)) * 0.1).astype(np.float32)
    b_out = np.zeros(CLASSES, np.float32)
    order = np.random.default_rng(1).permutation(len(x))

    def sigmoid(z):
        return 0.5 + 0.5 * np.tanh(0.5 * z)

    def step(xb, yb):
        batch = len(xb)
        xs = xb.transpose(1, 0, 2)  # (T, B, F)
        zx = (xs.reshape(-1, FEATURES) @ w_ih.T + bias).reshape(STEPS, batch, h4)
        hs = np.zeros((STEPS + 1, batch, HIDDEN), np.float32)
        cs = np.zeros_like(hs)
        gates = np.empty((STEPS, batch, h4), np.float32)
        for t in range(STEPS):
            z = zx[t] + hs[t] @ w_hh.T
            g = gates[t]
            g[:, : 2 * HIDDEN] = sigmoid(z[:, : 2 * HIDDEN])
            g[:, 2 * HIDDEN : 3 * HIDDEN] = np.tanh(z[:, 2 * HIDDEN : 3 * HIDDEN])
            g[:, 3 * HIDDEN :] = sigmoid(z[:, 3 * HIDDEN :])
            cs[t + 1] = g[:, HIDDEN : 2 * HIDDEN] * cs[t] + g[:, :HIDDEN] * g[:, 2 * HIDDEN : 3 * HIDDEN]
            hs[t + 1] = g[:, 3 * HIDDEN :] * np.tanh(cs[t + 1])
        out = hs[1:].reshape(-1, HIDDEN)
        logits = out @ w_out.T + b_out
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        p[np.arange(len(p)), yb.T.reshape(-1)] -= 1.0
        p /= batch
        grad_w_out, grad_b_out = p.T @ out, p.sum(axis=0)
        dhs = (p @ w_out).reshape(STEPS, batch, HIDDEN)
        deltas = np.empty_like(gates)
        dh = np.zeros((batch, HIDDEN), np.float32)
        dc = np.zeros_like(dh)
        for t in range(STEPS - 1, -1, -1):
            g = gates[t]
            i, f, gg, o = g[:, :HIDDEN], g[:, HIDDEN : 2 * HIDDEN], g[:, 2 * HIDDEN : 3 * HIDDEN], g[:, 3 * HIDDEN :]
            dh = dh + dhs[t]
            tc = np.tanh(cs[t + 1])
            dc = dc + dh * o * (1 - tc * tc)
            d = deltas[t]
            d[:, :HIDDEN] = dc * gg * i * (1 - i)
            d[:, HIDDEN : 2 * HIDDEN] = dc * cs[t] * f * (1 - f)
            d[:, 2 * HIDDEN : 3 * HIDDEN] = dc * i * (1 - gg * gg)
            d[:, 3 * HIDDEN :] = dh * tc * o * (1 - o)
            dc = dc * f
            dh = d @ w_hh
        flat = deltas.reshape(-1, h4)
        w_ih[...] -= LEARNING_RATE * (flat.T @ xs.reshape(-1, FEATURES))
        w_hh[...] -= LEARNING_RATE * (flat.T @ hs[:STEPS].reshape(-1, HIDDEN))
        bias[...] -= LEARNING_RATE * flat.sum(axis=0)
        w_out[...] -= LEARNING_RATE * grad_w_out
        b_out[...] -= LEARNING_RATE * grad_b_out

    def run():
        for start in range(0, len(x) - BATCH + 1, BATCH):
            rows = order[start : start + BATCH]
            step(x[rows], labels[rows])

    return run


def torch_lstm_epoch(x, labels):
    """PyTorch CPU, the idiomatic way: nn.LSTM (its fused kernel), nn.Linear, cross-entropy, optim.SGD."""
    import torch

    torch.manual_seed(0)
    lstm = torch.nn.LSTM(FEATURES, HIDDEN, batch_first=True)
    head = torch.nn.Linear(HIDDEN, CLASSES)
    optimizer = torch.optim.SGD(list(lstm.parameters()) + list(head.parameters()), lr=LEARNING_RATE)
    tx, ty = torch.from_numpy(x), torch.from_numpy(labels.astype(np.int64))
    order = torch.from_numpy(np.random.default_rng(1).permutation(len(x)))

    def run():
        for start in range(0, len(x) - BATCH + 1, BATCH):
            rows = order[start : start + BATCH]
            optimizer.zero_grad(set_to_none=True)
            out, _ = lstm(tx[rows])
            logits = head(out)
            # summed over the steps, averaged over the batch: the engine's log-likelihood
            loss = (
                torch.nn.functional.cross_entropy(logits.reshape(-1, CLASSES), ty[rows].reshape(-1), reduction="sum")
                / BATCH
            )
            loss.backward()
            optimizer.step()

    return run


def lstm_flops(steps: int = STEPS, features: int = FEATURES, hidden: int = HIDDEN, classes: int = CLASSES) -> int:
    """Floating-point operations of one sequence's forward pass and backpropagation through time,
    counted in the products (2 per multiply-add; gate non-linearities not counted): per step, the
    input projection 4H×F (forward and weight gradient; no gradient for the input), the recurrent
    4H×H and the head C×H (each forward, weight gradient and the delta passed back to h)."""
    per_step = 2 * (4 * hidden * features) + 3 * (4 * hidden * hidden) + 3 * (classes * hidden)
    return 2 * steps * per_step


def lstm_benchmark() -> Benchmark:
    contenders = {
        "engine": lambda n: engine_lstm_epoch(*lstm_data(n)),
        "numpy": lambda n: numpy_lstm_epoch(*lstm_data(n)),
        "torch": lambda n: torch_lstm_epoch(*lstm_data(n)),
    }
    description = (
        "LSTM T = 20, input 32, hidden 128, batch 32, softmax over 32 classes per step, forward + BPTT + SGD"
        " (a sample is a sequence)"
    )
    return Benchmark("lstm", description, 1.2, 4096, 1024, lstm_flops(), contenders)
