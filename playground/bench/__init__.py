"""``playground bench``: the engine against references, each contender in a process of its own.

Each workload trains the same network on the same data three ways: the engine (its fused
kernels, as the trainer runs them), a plain vectorised numpy float32 implementation of the
same step, and PyTorch on the CPU where it is installed.  ``--under-load`` measures the engine
beside a busy loop at its own thread count and at one; ``--scale`` times epochs of 50,000 images.

``sweep`` is different: eight variants of one network trained side by side against one after
another (``experiments.Sweep``), wall times and their ratio.

``harness`` starts the contenders' processes in turns and builds the result; ``contender`` is
what runs in each of them; one module per family (``dense``, ``cnn``, ``lstm``, ``rbm``;
``feedforward`` holds what dense and cnn share) defines its ``Benchmark``: its contenders'
builders and its FLOP count; ``workloads`` lists them by name and ``runner`` prints them.
Imports point one way, runner -> workloads -> families -> harness, so each family can be
read and run alone.  The window's benchmark needs Qt and lives in ``playground/gui/bench.py``;
what both describe of the machine is in ``playground/machine.py``.
"""

from .runner import run_benchmarks

__all__ = ["run_benchmarks"]
