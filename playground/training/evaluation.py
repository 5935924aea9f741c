"""What a trained network makes of the validation set: the figures behind the evaluation views.

For a classifier, a confusion matrix (rows: the true class, columns: the predicted one), the
accuracy of each class, and the mistakes ranked worst first; for regression, the residuals.
Everything comes from one forward pass over the validation set, through the same chunks and
the same argmax as the trainer's ``evaluate``, so the matrix's diagonal over its total *is* the
validation accuracy the epoch record reports for the same weights.

No Qt here, and no training network: the caller passes a network of its own loaded with a
weights snapshot (the window's evaluation panel builds one from the spec, as the feature-map
panel does), so nothing here ever runs on the network a worker is training.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..engine.network import Network
from .trainer import prepare_data

#: examples per forward pass: the trainer's ``evaluate`` uses the same, so the figures agree
CHUNK = 2000


@dataclass
class Evaluation:
    """One network's outputs on a validation set, and what follows from them."""

    task: str  # "classification" or "regression"
    outputs: np.ndarray  # (n, outputs): the network's output for each example
    labels: np.ndarray  # (n,) true classes (classification) or (n, outputs) targets (regression)
    class_names: list[str]
    #: True when each output row is a probability distribution (a softmax output layer)
    probabilistic: bool = False

    @property
    def n(self) -> int:
        return len(self.outputs)

    # --- classification ------------------------------------------------------------------
    @property
    def predicted(self) -> np.ndarray:
        """The predicted class of each example: the largest output."""
        return self.outputs.argmax(axis=1)

    @property
    def confidence(self) -> np.ndarray:
        """The output (a probability, for softmax) of each example's predicted class."""
        return self.outputs[np.arange(self.n), self.predicted]

    @property
    def true_score(self) -> np.ndarray:
        """The output the network gave each example's true class."""
        return self.outputs[np.arange(self.n), self.labels.astype(np.int64)]

    def confusion(self) -> np.ndarray:
        """(classes, classes) counts: row = true class, column = predicted class; it sums to ``n``."""
        k = self.outputs.shape[1]
        flat = self.labels.astype(np.int64) * k + self.predicted
        return np.bincount(flat, minlength=k * k).reshape(k, k)

    @property
    def accuracy(self) -> float:
        return float(np.trace(self.confusion()) / self.n) if self.n else float("nan")

    def per_class_accuracy(self) -> np.ndarray:
        """Of each class's examples, the fraction predicted right (NaN for a class with none)."""
        confusion = self.confusion()
        totals = confusion.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(totals > 0, np.diag(confusion) / np.maximum(totals, 1), np.nan)

    def misclassified(self) -> np.ndarray:
        """Indices of the wrongly classified examples, worst first: the network's most confident
        mistakes (largest output for the wrong class), ties broken by the least output for the
        true class."""
        wrong = np.flatnonzero(self.predicted != self.labels.astype(np.int64))
        order = np.lexsort((self.true_score[wrong], -self.confidence[wrong]))
        return wrong[order]

    def examples_in(self, true_class: int, predicted_class: int) -> np.ndarray:
        """Indices of the examples of one confusion-matrix cell, most confident first."""
        rows = np.flatnonzero((self.labels.astype(np.int64) == true_class) & (self.predicted == predicted_class))
        return rows[np.argsort(-self.confidence[rows], kind="stable")]

    # --- regression --------------------------------------------------------------------------
    def residuals(self) -> np.ndarray:
        """target − output for each example and output, (n, outputs)."""
        return self.labels.reshape(self.outputs.shape) - self.outputs

    def rms(self) -> float:
        return float(np.sqrt(np.mean(self.residuals() ** 2))) if self.n else float("nan")


def expected_class_names(network, dataset) -> list[str]:
    """The classes a classifier's evaluation names: the dataset's, or the output units' numbers
    where the two disagree (a single sigmoid unit stands for two classes)."""
    classes = max(network.output_size, 2)
    names = list(dataset.class_names or [])
    return names if len(names) == classes else [str(k) for k in range(classes)]


def evaluate_network(network: Network, dataset, softmax: bool | None = None) -> Evaluation:
    """Run ``network`` (not one being trained) over ``dataset``'s validation set.

    Raises ``DataMismatch`` when the data does not fit the network."""
    inputs, targets = prepare_data(network, dataset.x_val, dataset.y_val, dataset.task, dataset.n_outputs, dataset.name)
    outputs = np.empty((len(inputs), network.output_size), np.float64)
    for start in range(0, len(inputs), CHUNK):
        out = network.forward(inputs[start : start + CHUNK], training=False)
        outputs[start : start + len(out)] = out.reshape(len(out), -1)
    if dataset.task == "classification" and network.output_size == 1:
        # one sigmoid unit for two classes: its output is p(class 1), so the rows become (1 − p, p)
        # and the matrix, the confidences and the mistakes read as for two output units
        outputs = np.column_stack([1.0 - outputs[:, 0], outputs[:, 0]])
        if softmax is None:  # a sigmoid's two rows are a probability distribution, as a softmax's are
            softmax = getattr(network.layers[-1].config, "activation", None) == "sigmoid"
    if softmax is None:
        softmax = getattr(network.layers[-1].config, "activation", None) == "softmax"
    classify = dataset.task == "classification"
    names = expected_class_names(network, dataset) if classify else []
    labels = np.asarray(dataset.y_val, np.int64) if classify else targets.astype(np.float64)
    return Evaluation(dataset.task if classify else "regression", outputs, labels, names, bool(softmax))
