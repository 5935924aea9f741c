"""``playground bench``: the engine against references measured in the same process.

Each workload trains the same network on the same data three ways: the engine (its
fused kernels, dense-stack or convolutional, as the trainer runs them), a plain vectorised
numpy float32 implementation of the same step (for the convolution: im2col + matmul), and
PyTorch on the CPU where it is installed.
Machines here are shared and noisy, so only ratios measured in one run mean anything;
each figure is the median of several runs after a warm-up.
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial

import numpy as np

from ..engine.conv_stack import ConvStackRunner
from ..engine.dense_stack import FINISHED, DenseStackRunner
from ..engine.network import Network
from ..engine.optimizers import Optimizer, OptimizerSettings
from ..model import build_network, sequential_spec


@dataclass(frozen=True)
class Workload:
    id: str
    sizes: tuple[int, ...]
    output: str
    cost: str
    batch: int
    instrument: bool
    target: str
    #: the lesson whose network this is, for workloads that are not plain multilayer perceptrons
    lesson: str | None = None


WORKLOADS = (
    Workload("mlp_nielsen", (784, 30, 10), "sigmoid", "quadratic", 10, False, "≥ 2× numpy, ≥ 8× torch"),
    Workload("mlp_softmax", (784, 100, 10), "softmax", "log-likelihood", 64, False, "≥ 1.2× numpy"),
    Workload("deep_sigmoid", (784, 30, 30, 30, 30, 10), "sigmoid", "cross-entropy", 10, True, "≥ 2× numpy"),
    # conv 5×5×20 (ReLU) → max-pool 2×2 → dense 100 (ReLU) → softmax 10: Nielsen's first convolutional network
    Workload("cnn", (784, 100, 10), "softmax", "log-likelihood", 64, False, "≥ 2× numpy, ≥ 2× torch",
             "cnn-mnist"),
)
LEARNING_RATE = 0.1


def _data(n: int, n_out: int):
    rng = np.random.default_rng(0)
    x = rng.random((n, 784), dtype=np.float32)
    y = np.zeros((n, n_out), np.float32)
    y[np.arange(n), rng.integers(0, n_out, n)] = 1.0
    return x, y


def _engine_network(w: Workload) -> Network:
    spec = sequential_spec(list(w.sizes), activation="sigmoid", output=w.output, cost=w.cost,
                           initializer="normal-scaled")
    network = build_network(spec)
    network.initialize("normal-scaled", 0)
    return network


def engine_epoch(w: Workload, x, y, instrument: bool | None = None):
    """A closure training one pass over ``x`` in the trainer's chunks."""
    if w.lesson:
        from ..training.lessons import load_lesson

        network = build_network(load_lesson(w.lesson))
        network.initialize("he", 0)
        runner = ConvStackRunner(network, Optimizer(OptimizerSettings(), network.slots()), w.batch)
    else:
        network = _engine_network(w)
        runner = DenseStackRunner(network, Optimizer(OptimizerSettings(), network.slots()), w.batch)
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


def numpy_cnn_epoch(w: Workload, x, y):
    """The reference for the convolutional workload: the textbook vectorised numpy step, with
    im2col as a strided view copied into a (B·576, 25) matrix and every product a matmul."""
    from numpy.lib.stride_tricks import sliding_window_view

    rng = np.random.default_rng(0)
    kernel, filters, pool, hidden = 5, 20, 2, w.sizes[1]
    side = 28 - kernel + 1
    half = side // pool
    flat = filters * half * half
    conv_w = (rng.standard_normal((filters, kernel * kernel)) * np.sqrt(2 / 25)).astype(np.float32)
    conv_b = np.zeros(filters, np.float32)
    w1 = (rng.standard_normal((hidden, flat)) * np.sqrt(2 / flat)).astype(np.float32)
    b1 = np.zeros(hidden, np.float32)
    w2 = (rng.standard_normal((w.sizes[2], hidden)) * np.sqrt(2 / hidden)).astype(np.float32)
    b2 = np.zeros(w.sizes[2], np.float32)
    order = np.random.default_rng(1).permutation(len(x))
    lr = np.float32(LEARNING_RATE)
    batch = w.batch

    def run():
        nonlocal conv_w, conv_b, w1, b1, w2, b2
        for start in range(0, len(x) - batch + 1, batch):
            rows = order[start:start + batch]
            images, yb = x[rows].reshape(batch, 28, 28), y[rows]
            cols = sliding_window_view(images, (kernel, kernel), axis=(1, 2)).reshape(batch * side * side, -1)
            z = cols @ conv_w.T + conv_b                                    # (B·576, 20)
            a = np.maximum(z, 0).reshape(batch, half, pool, half, pool, filters)
            pooled = a.max(axis=(2, 4))                                     # (B, 12, 12, 20)
            winners = a == pooled[:, :, None, :, None, :]
            features = pooled.transpose(0, 3, 1, 2).reshape(batch, flat)    # NCHW order, as Flatten
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


def numpy_epoch(w: Workload, x, y):
    """The reference: the textbook vectorised numpy step, float32, allocating as numpy does."""
    rng = np.random.default_rng(0)
    sizes = w.sizes
    weights = [(rng.standard_normal((o, i)) / np.sqrt(i)).astype(np.float32) for i, o in zip(sizes[:-1], sizes[1:])]
    biases = [rng.standard_normal(o).astype(np.float32) for o in sizes[1:]]
    order = np.random.default_rng(1).permutation(len(x))
    lr = np.float32(LEARNING_RATE)

    def sigmoid(z):
        return 1.0 / (1.0 + np.exp(-z))

    def run():
        for start in range(0, len(x) - w.batch + 1, w.batch):
            rows = order[start:start + w.batch]
            xb, yb = x[rows], y[rows]
            activations = [xb]
            for layer, (weight, bias) in enumerate(zip(weights, biases)):
                z = activations[-1] @ weight.T + bias
                if layer == len(weights) - 1 and w.output == "softmax":
                    e = np.exp(z - z.max(axis=1, keepdims=True))
                    activations.append(e / e.sum(axis=1, keepdims=True))
                else:
                    activations.append(sigmoid(z))
            out = activations[-1]
            delta = (out - yb) * out * (1 - out) if w.cost == "quadratic" else out - yb
            delta /= w.batch
            for layer in range(len(weights) - 1, -1, -1):
                grad_w = delta.T @ activations[layer]
                grad_b = delta.sum(axis=0)
                if w.instrument:
                    np.linalg.norm(grad_w), np.linalg.norm(grad_b)
                if layer:
                    a = activations[layer]
                    delta = (delta @ weights[layer]) * a * (1 - a)
                weights[layer] -= lr * grad_w
                biases[layer] -= lr * grad_b
    return run


def torch_epoch(w: Workload, x, y):
    """PyTorch CPU, the idiomatic way: nn.Sequential, autograd and optim.SGD."""
    import torch

    torch.set_num_threads(2)
    layers = []
    if w.lesson:  # the convolutional workload: nn.Conv2d and friends, on NCHW images
        layers = [torch.nn.Unflatten(1, (1, 28, 28)), torch.nn.Conv2d(1, 20, 5), torch.nn.ReLU(),
                  torch.nn.MaxPool2d(2), torch.nn.Flatten(), torch.nn.Linear(2880, w.sizes[1]), torch.nn.ReLU(),
                  torch.nn.Linear(w.sizes[1], w.sizes[2])]
    for i, (n_in, n_out) in enumerate(zip(w.sizes[:-1], w.sizes[1:]) if not w.lesson else ()):
        layers.append(torch.nn.Linear(n_in, n_out))
        if i < len(w.sizes) - 2 or w.output == "sigmoid":
            layers.append(torch.nn.Sigmoid())
    model = torch.nn.Sequential(*layers)
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
            rows = order[start:start + w.batch]
            optimizer.zero_grad(set_to_none=True)
            loss = loss_of(model(tx[rows]), rows)
            loss.backward()
            if w.instrument:
                [p.grad.norm() for p in model.parameters()]
            optimizer.step()
    return run


def samples_per_second(run, n: int, repeats: int) -> float:
    run()  # warm-up: compilation, caches, allocator
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return n / statistics.median(times)


@contextmanager
def _threads(library: str, count: int | None):
    """Run a reference at ``count`` threads (None: as its run set itself up)."""
    if count is None:
        yield
    elif library == "torch":
        import torch

        before = torch.get_num_threads()
        torch.set_num_threads(count)
        try:
            yield
        finally:
            torch.set_num_threads(before)
    else:
        from threadpoolctl import threadpool_limits

        with threadpool_limits(count, user_api="blas"):
            yield


def _better_thread_count(run, n: int, library: str) -> int:
    """1 or 2: the thread count at which a reference runs faster, from two timed passes at each."""
    rates = {}
    for count in (1, 2):
        with _threads(library, count):
            rates[count] = samples_per_second(run, n, 2)
    return max(rates, key=rates.get)


def _torch_available() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def compare_with_references(workload: str, target: str, n: int, repeats: int, engine_run, make_numpy_run,
                            make_torch_run, best_threads: bool = True) -> dict:
    """The engine's samples/s and its ratios to the references, all measured in this process.

    With ``best_threads`` each reference runs at its better setting, 1 or 2 threads, picked
    first: a 2-thread BLAS or torch intra-op pool collapses when the other core is busy
    (measured: torch 6.7k samples/s on 1 thread, 0.5k on 2), and the ratio must not flatter
    the engine for that.  Then the engine and the references take turns, one timed pass each
    per round over ``repeats`` rounds, and each figure is its median: the shared machine has
    slow spells (the same engine pass ran at 9k and at 13k samples/s a minute apart), and
    taking turns makes a spell hit every contender alike rather than whichever was running.
    """
    contenders = {"engine": (engine_run, "", None), "numpy": (make_numpy_run(), "numpy", None)}
    if _torch_available():
        contenders["torch"] = (make_torch_run(), "torch", None)
    threads = {}
    if best_threads:
        for name in ("numpy", "torch"):
            if name in contenders:
                run, library, _ = contenders[name]
                threads[name] = _better_thread_count(run, n, library)
                contenders[name] = (run, library, threads[name])
    seconds = {name: [] for name in contenders}
    for round_index in range(repeats + 1):  # round 0 warms up: compilation, caches, allocator
        for name, (run, library, count) in contenders.items():
            with _threads(library, count):
                start = time.perf_counter()
                run()
                if round_index:
                    seconds[name].append(time.perf_counter() - start)
    rates = {name: n / statistics.median(times) for name, times in seconds.items()}
    engine, reference, torch_rate = rates["engine"], rates["numpy"], rates.get("torch")
    result = {"workload": workload, "engine_samples_per_s": round(engine), "numpy_samples_per_s": round(reference),
              "torch_samples_per_s": None if torch_rate is None else round(torch_rate),
              "ratio_vs_numpy": round(engine / reference, 2),
              "ratio_vs_torch": None if torch_rate is None else round(engine / torch_rate, 2),
              "target": target}
    if threads:
        result["reference_threads"] = threads
    return result


def measure(w: Workload, quick: bool) -> dict:
    n = 4000 if quick else 16000
    repeats = 3 if quick else 5
    if w.lesson:
        n //= 4  # a convolutional step costs about 40 dense ones
    x, y = _data(n, w.sizes[-1])
    numpy_reference = numpy_cnn_epoch if w.lesson else numpy_epoch
    result = compare_with_references(w.id, w.target, n, repeats, engine_epoch(w, x, y),
                                     lambda: numpy_reference(w, x, y), lambda: torch_epoch(w, x, y),
                                     best_threads=bool(w.lesson))
    if w.instrument:
        bare = samples_per_second(engine_epoch(w, x, y, instrument=False), n, repeats)
        result["instrumentation_cost"] = round(max(0.0, bare / result["engine_samples_per_s"] - 1.0), 3)
    return result


STARTUP_SCRIPT = """
import time; start = time.perf_counter()
import numpy as np
from playground.bench import WORKLOADS, engine_epoch, _data
w = WORKLOADS[0]; x, y = _data(w.batch, w.sizes[-1])
engine_epoch(w, x, y)()
print(time.perf_counter() - start)
"""


def startup_seconds() -> float:
    """Seconds from a fresh interpreter to the end of its first training step, numba cache warm."""
    command = [sys.executable, "-c", STARTUP_SCRIPT]
    subprocess.run(command, check=True, capture_output=True)  # fills the cache if it was cold
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - start


def machine_description() -> str:
    from threadpoolctl import threadpool_info

    blas = {info.get("architecture") for info in threadpool_info() if info.get("user_api") == "blas"}
    coretype = os.environ.get("OPENBLAS_CORETYPE", "auto")
    return (f"{os.cpu_count()} cores, numpy {np.__version__}, OpenBLAS kernels {'/'.join(sorted(map(str, blas)))} "
            f"(OPENBLAS_CORETYPE={coretype})")


def _measures():
    """One function per workload, taking ``quick`` and returning its result: the table above, then
    the workloads that build their own networks and references (playground/bench/lstm.py, rbm.py)."""
    from .lstm import measure_lstm
    from .rbm import measure_rbm

    return [partial(measure, w) for w in WORKLOADS] + [measure_lstm, measure_rbm]


def run_benchmarks(json_output: bool = False, quick: bool = False) -> int:
    if not json_output:
        print(f"machine: {machine_description()}")
        print(f"{'workload':<14}{'engine/s':>11}{'numpy/s':>11}{'torch/s':>11}{'×numpy':>8}{'×torch':>8}  target")
    for measure_one in _measures():
        result = measure_one(quick)
        if json_output:
            print(json.dumps(result), flush=True)
            continue
        torch_text = "—" if result["torch_samples_per_s"] is None else f"{result['torch_samples_per_s']:,}"
        ratio_torch = "—" if result["ratio_vs_torch"] is None else f"{result['ratio_vs_torch']:.2f}"
        extra = (f"  (instrumentation costs {100 * result['instrumentation_cost']:.1f}% of a step)"
                 if "instrumentation_cost" in result else "")
        if "reference_threads" in result:
            settings = [f"{library} {count} thread{'s' if count > 1 else ''}"
                        for library, count in result["reference_threads"].items()]
            extra += "  (references at their faster setting: " + ", ".join(settings) + ")"
        print(f"{result['workload']:<14}{result['engine_samples_per_s']:>11,}{result['numpy_samples_per_s']:>11,}"
              f"{torch_text:>11}{result['ratio_vs_numpy']:>8.2f}{ratio_torch:>8}  {result['target']}{extra}", flush=True)
    startup = startup_seconds()
    if json_output:
        print(json.dumps({"workload": "startup", "seconds_to_first_step": round(startup, 2)}))
    else:
        print(f"start-up: a fresh process reaches its first training step in {startup:.2f} s (target ≤ 3 s)")
    return 0
