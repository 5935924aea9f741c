"""The `Dataset` every loader returns, the errors they raise, and the shared split.

Every data source in the playground, from a generated spiral to the real MNIST files,
ends up as the same plain object of numpy arrays, so the trainer, the plots and the
tests never need to know where the numbers came from. `source` carries that story for
the human instead: one sentence saying what was loaded and how it was split, because a
learner comparing two runs needs to know whether they saw the same data.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

TASKS = ("classification", "regression")

#: Share of shuffled examples held out for validation by generators and CSV import.
VALIDATION_FRACTION = 0.2


class DatasetError(Exception):
    """A problem the user can fix; the message is one sentence naming the file, line or option.

    The message is the command line's (it may name ``--data-dir``); ``window`` says the same
    in the window's words where they differ (a folder chosen in the Dataset menu, not an option).
    """

    def __init__(self, message: str = "", *, window: str | None = None):
        super().__init__(message)
        self.window = window


def window_message(error: BaseException) -> str:
    """``error``'s one line as the window says it: no command-line options."""
    return getattr(error, "window", None) or str(error)


class DatasetUnavailable(DatasetError):
    """The data set is not on this computer and could not (or may not) be downloaded."""


class DownloadCancelled(DatasetError):
    """The user cancelled a download; a separate type so a GUI can stay quiet about it."""


@dataclass
class Dataset:
    """Training, validation and optional test arrays plus what a network needs to fit them.

    Inputs are float32 with shape ``(n, *input_shape)``; images are channels-first without
    the batch axis, e.g. ``(1, 28, 28)``. Classification targets are int64 class indices of
    shape ``(n,)``; regression targets are float32 of shape ``(n, n_outputs)``.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    input_shape: tuple[int, ...]
    n_outputs: int
    task: str
    source: str
    class_names: list[str] | None = None
    x_test: np.ndarray | None = None
    y_test: np.ndarray | None = None

    def __post_init__(self) -> None:
        """Catch a loader that builds inconsistent arrays here, not deep inside training."""
        if self.task not in TASKS:
            raise ValueError(f"task must be one of {TASKS}, not {self.task!r}")
        splits = [("train", self.x_train, self.y_train), ("val", self.x_val, self.y_val)]
        if self.x_test is not None:
            splits.append(("test", self.x_test, self.y_test))
        for split, x, y in splits:
            if x.shape[1:] != self.input_shape:
                raise ValueError(f"x_{split} has shape {x.shape}, expected (n, *{self.input_shape})")
            if y is None or len(y) != len(x):
                raise ValueError(f"y_{split} must hold one target per row of x_{split}")

    def limit_train(self, n: int) -> Dataset:
        """Keep only the first `n` training examples (the ``--train-limit`` option).

        Taking the *first* n rather than a random n keeps runs comparable: two learners
        who both type ``--train-limit 1000`` train on exactly the same images.
        """
        if n < 1:
            raise DatasetError(
                f"--train-limit must be at least 1, not {n}", window=f"the training limit must be at least 1, not {n}"
            )
        kept = min(n, len(self.x_train))
        return dataclasses.replace(
            self,
            x_train=self.x_train[:kept],
            y_train=self.y_train[:kept],
            source=f"{self.source}; training limited to the first {kept:,} examples",
        )


def shuffled_split(x: np.ndarray, y: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Shuffle rows with `seed`, then hold out the last `VALIDATION_FRACTION` for validation.

    Generators build their examples class by class and CSV files are often sorted by
    label, so an unshuffled split would validate on classes the network never trained on.
    At least one example always lands on each side.
    """
    order = np.random.default_rng(seed).permutation(len(x))
    n_val = min(max(1, round(len(x) * VALIDATION_FRACTION)), len(x) - 1)
    train, val = order[:-n_val], order[-n_val:]
    return x[train], y[train], x[val], y[val]
