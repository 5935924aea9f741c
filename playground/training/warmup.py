"""Compile the engine's kernels before anyone waits for them.

numba compiles a kernel on its first call and caches the machine code on disk
(``cache=True``).  On a fresh install the first training step therefore takes about
ten seconds; once cached, a new process reaches its first step in about 1.5 s.  The
window calls ``warm_up`` on a background thread at start-up, so the first press of Train
finds the kernels ready.  Activations and costs are runtime codes, not types, so one tiny
run of each path compiles what every dense network needs.
"""

from __future__ import annotations

import contextlib
import threading

import numpy as np

from ..datasets import Dataset
from ..engine.dense_stack import DenseStackPass
from ..model import build_network, sequential_spec
from ..model.settings import TrainingSettings
from .trainer import FeedForwardTrainer


def warm_up() -> None:
    """Train a 2-4-2 network for one short epoch, on the fused path and on the generic path, and run
    the backprop explainer's float64 pass once."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((12, 2)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    data = Dataset(
        name="warm-up",
        x_train=x,
        y_train=y,
        x_val=x[:4],
        y_val=y[:4],
        input_shape=(2,),
        n_outputs=2,
        task="classification",
        source="warm-up",
    )
    spec = sequential_spec(
        [2, 4, 2], activation="sigmoid", output="softmax", cost="log-likelihood", initializer="xavier"
    )
    network = build_network(spec)
    network.initialize("xavier", 0)
    # batch size 5 leaves a short last batch of 2, which takes the generic path
    for _ in FeedForwardTrainer(network, data, TrainingSettings(cost="log-likelihood", batch_size=5, epochs=1)).run():
        pass
    explained = build_network(spec, np.float64)
    DenseStackPass(explained).run(x[:1], np.eye(2)[y[:1]])


def start_warm_up() -> threading.Thread:
    """Compile (or load from numba's cache) the common kernels on a thread of their own, while the
    learner reads the lesson, so the first press of Train does not wait for them.  Join it
    before the process exits."""

    def run():
        with contextlib.suppress(Exception):  # only a head start: the first Train compiles what it needs
            warm_up()

    thread = threading.Thread(target=run, name="playground-warm-up", daemon=True)
    _threads[:] = [*(t for t in _threads if t.is_alive()), thread]
    thread.start()
    return thread


#: the warm-up threads started in this process
_threads: list[threading.Thread] = []


def warming_up() -> bool:
    """Whether a warm-up thread is still compiling (a run started now waits for its kernels)."""
    return any(thread.is_alive() for thread in _threads)
