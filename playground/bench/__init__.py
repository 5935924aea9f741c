"""``playground bench``: the engine against references measured in the same process.

Each workload trains the same network on the same data three ways: the engine (its fused
kernels, as the trainer runs them), a plain vectorised numpy float32 implementation of the
same step, and PyTorch on the CPU where it is installed.

``sweep`` is different: eight variants of one network trained side by side against one after
another (``experiments.Sweep``), wall times and their ratio.

``harness`` times the three in turns and builds the result; one module per family (``dense``,
``cnn``, ``lstm``, ``rbm``; ``feedforward`` holds what dense and cnn share) builds its runs
and hands them to the harness; ``workloads`` lists them in order and ``runner`` prints them.
Imports point one way, runner -> workloads -> families -> harness, so each family can be
read and run alone.  The window's benchmark needs Qt and lives in ``playground/gui/bench.py``.
"""

from .harness import compare_with_references
from .runner import run_benchmarks

__all__ = ["compare_with_references", "run_benchmarks"]
