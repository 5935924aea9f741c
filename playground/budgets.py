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
    return (
        f"the network has {count:,} parameters, more than the parameter budget of {MAX_PARAMETERS:,} "
        f"(half this machine's memory at {BYTES_PER_TRAINED_PARAMETER} bytes per parameter in training)"
    )


def _size(count: int) -> str:
    return f"{count / 1024**3:.1f} GB" if count >= 1024**3 else f"{count / 1024**2:.1f} MB"


def over_budget(claim: str, budget: str) -> str:
    """``claim`` followed by the budget it exceeds, by name and value, so a learner can find it here.

    The value is looked up when the message is made, so a test that shrinks a budget sees
    its own number in the message.
    """
    value = globals()[budget]
    shown = _size(value) if budget.endswith("_BYTES") else f"{value:,}"
    return f"{claim}, more than the budget {budget} = {shown}"


# --- files the playground writes -----------------------------------------------------------
#: A save or a download in progress touches its temporary file far more often than this, so an
#: older one was left by a killed process and is removed at the next save or download there.
STALE_TEMPORARY_S = 600

# --- network files and projects ------------------------------------------------------------
#: A network of MAX_LAYERS layers is 0.6 MB of JSON as the playground writes it; the rest is room for
#: long ids and lessons.  Python's JSON parser holds the GIL for a whole file (about 50 ms per MB),
#: so the window, which reads files on another thread, still pauses that long: no more than 1 MB.
MAX_JSON_BYTES = 1024**2
#: A network file nests 6 levels deep, and Python's JSON parser recurses once per level.
MAX_JSON_DEPTH = 64
#: Far beyond any lesson (the largest has a few dozen).  The window opens this many in 1 s, but a long
#: run keeps 1.6 MB of metrics per layer (3 GB at this count), so more would not train sensibly.
MAX_LAYERS = 2_000
#: Connections between layers: a layer has one input, or two where branches merge.
MAX_CONNECTIONS = 2 * MAX_LAYERS
#: Every member of a project or weights file together, uncompressed: the arrays are held in memory.
MAX_ARCHIVE_BYTES = 2 * 1024**3
#: At most 4 parameter arrays per layer, plus the header, the network and 5 history columns.
MAX_ARCHIVE_MEMBERS = 4 * MAX_LAYERS + 16
#: The window keeps at most 50,000 history rows, so a file with twenty times that is not its own.
MAX_HISTORY_ROWS = 1_000_000

# --- experiments ---------------------------------------------------------------------------
#: Training runs in one experiment (variants × seeds): every run keeps a metrics file and a row of
#: the summary, and Optuna's samplers slow down as a study grows past a few thousand trials.
MAX_EXPERIMENT_RUNS = 10_000

# --- data sets -----------------------------------------------------------------------------
#: Images or rows in one data set: 28 times MNIST's 70,000, and the arrays live in memory.
MAX_EXAMPLES = 2_000_000
#: A loaded data set's float32 arrays: MNIST takes 220 MB, and training needs memory besides.
MAX_DATASET_BYTES = 2 * 1024**3
#: A CSV file on disk: a million rows of twenty numbers is about 170 MB.
MAX_CSV_BYTES = 1024**3
#: Feature columns of a CSV file: each one is an input of the network's first layer.
MAX_CSV_COLUMNS = 10_000
#: A sentence-pairs file is held in memory by the trainer, all of it.
MAX_PAIRS_FILE_BYTES = 64 * 1024**2
#: Sentence pairs in one file: each is encoded and padded in memory.
MAX_PAIRS = 1_000_000
#: Longer sequences make backpropagation through time slow and every batch's padding wasteful.
MAX_SEQUENCE_TOKENS = 200
#: A ratings file on disk: five million ratings are about 100 MB.
MAX_RATINGS_FILE_BYTES = 200_000_000
#: Ratings in one file: each becomes a training example of the RBM.
MAX_RATINGS = 5_000_000
#: Users in one ratings file: each is one visible vector of the RBM.
MAX_USERS = 1_000_000
#: The RBM keeps items × rating levels × hidden units weights.
MAX_ITEMS = 20_000
#: A message lists this many problems of a file and counts the rest: enough to see the pattern.
MAX_REPORTED_PROBLEMS = 10

# --- downloads -----------------------------------------------------------------------------
#: A download that receives fewer than DOWNLOAD_STALL_BYTES in this many seconds has stalled.
DOWNLOAD_STALL_S = 30
#: A mirror that drips a byte now and then is as good as a dead one.
DOWNLOAD_STALL_BYTES = 16 * 1024
#: One file may take this long in all: the largest (26 MB) needs 15 KB/s to arrive in time.
DOWNLOAD_DEADLINE_S = 30 * 60
#: Mirrors move their files now and then, but a chain longer than this is a loop.
MAX_REDIRECTS = 5
