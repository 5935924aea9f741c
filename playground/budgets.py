"""Limits on what a file, a dataset or a network may ask of this machine.

Files come from anyone, so every reader checks what a file *claims* (a shape, a count, a
size) against a budget here before it allocates or decompresses anything.  Each budget is a
named constant with the reason for its size, and every refusal names the budget it hit, so
a learner who meets one knows what to change.
"""
from __future__ import annotations

import os


def _physical_memory_bytes() -> int:
    """The machine's memory, or 8 GiB where the system does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return 8 * 1024**3


#: Bytes a float32 parameter costs during training: the weight, its gradient, an optimiser's
#: two moments (Adam), the window's latest-weights snapshot and a saved copy.
BYTES_PER_TRAINED_PARAMETER = 4 * 6

#: A network may hold at most this many parameters: enough for half the machine's memory in
#: training, so a network that can never train is refused before anything is allocated.
MAX_PARAMETERS = _physical_memory_bytes() // 2 // BYTES_PER_TRAINED_PARAMETER


def parameter_budget_message(count: int) -> str:
    """Why a network of ``count`` parameters is refused (the parameter budget)."""
    return (f"the network has {count:,} parameters, more than the parameter budget of {MAX_PARAMETERS:,} "
            f"(half this machine's memory at {BYTES_PER_TRAINED_PARAMETER} bytes per parameter in training)")
