"""The workloads ``playground bench`` measures, by name, in the order it prints them.

Each is a ``harness.Benchmark``: its contenders' builders, its FLOP count and its target.  The
contender processes look a workload up here by its name (``contender.py``).  A new workload is a
module beside this one and a line here.
"""

from __future__ import annotations

from .cnn import cnn_benchmark
from .dense import WORKLOADS as DENSE_WORKLOADS
from .dense import dense_benchmark
from .harness import Benchmark
from .lstm import lstm_benchmark
from .rbm import rbm_benchmark

BENCHMARKS: dict[str, Benchmark] = {
    benchmark.id: benchmark
    for benchmark in (*map(dense_benchmark, DENSE_WORKLOADS), cnn_benchmark(), lstm_benchmark(), rbm_benchmark())
}
