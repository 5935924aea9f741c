"""The workloads ``playground bench`` measures, in the order it prints them.

Each is a function taking ``quick`` and returning its result, as ``compare_with_references``
builds it: the dense table, then the workloads that build their own networks and references.
A new workload is a module beside this one and a line here.
"""

from __future__ import annotations

from functools import partial

from .cnn import measure_cnn
from .dense import WORKLOADS as DENSE_WORKLOADS
from .dense import measure_dense
from .lstm import measure_lstm
from .rbm import measure_rbm

MEASURES = (*(partial(measure_dense, w) for w in DENSE_WORKLOADS), measure_cnn, measure_lstm, measure_rbm)
