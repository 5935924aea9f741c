"""What an export starts from: a network file, a project or a lesson, with its weights, and the
examples train.py needs where the playground generates them rather than reading a file."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..datasets.catalog import CATALOGUE
from ..datasets.sequences import reverse_within_lengths
from ..model import NetworkSpec, build_network, initialise, read_weights
from ..model.project import load_project
from ..training.data import load_training_data
from ..training.lessons import load_network_or_lesson
from ..training.seq2seq import load_pair_corpus
from ..training.sequence_trainer import load_sequence_data


def export_source(argument: str, weights_path: str | Path | None = None) -> tuple[NetworkSpec, dict, str]:
    """(spec, every parameter, where it came from) for ``NET.json``, ``PROJECT.npz`` or a lesson name.

    The weights are ``weights_path``'s, else the project's, else the network's initial draw.
    """
    path = Path(argument)
    if path.suffix.lower() == ".npz":
        project = load_project(path)
        spec, weights, source = project.spec, project.weights, f"the project {path.name}"
    else:
        spec = load_network_or_lesson(argument)
        weights = None
        source = (
            f"the network file {path.name}" if path.suffix == ".json" or path.exists() else f'the lesson "{argument}"'
        )
    if weights_path is not None:
        weights = read_weights(weights_path, build_network(spec).state())
        source += f" with the weights of {Path(weights_path).name}"
    elif weights is None:
        source += " (initial weights)"
    return spec, exported_weights(spec, weights), source


def exported_weights(spec: NetworkSpec, weights: dict | None) -> dict[str, np.ndarray]:
    """``weights``, or where there are none the network's initial draw (its initialiser and seed):
    the very weights a run in the playground would start from."""
    if weights is None:
        network = build_network(spec)
        initialise(network, spec)
        weights = network.state()
    return {key: np.asarray(value) for key, value in weights.items()}


def generated_examples(spec: NetworkSpec) -> dict[str, np.ndarray] | None:
    """x_train, y_train, x_val, y_val of a data set the playground makes itself (the adding problem,
    the 2D sets, parity, functions, synthetic digits); None for data read from files (IDX, CSV)."""
    settings = spec.dataset
    entry = CATALOGUE[settings.name]
    if entry.kind == "pairs" and settings.name != "pairs":  # "pairs" is read from a file
        return _pair_arrays(spec)
    if entry.kind == "sequence":
        data = load_sequence_data(settings, spec.training.seed)
    elif entry.kind in ("plane", "bits", "function") or settings.name == "digits":
        data, _ = load_training_data(settings, seed=spec.training.seed)
    else:
        return None
    return {"x_train": data.x_train, "y_train": data.y_train, "x_val": data.x_val, "y_val": data.y_val}


def _pair_arrays(spec: NetworkSpec) -> dict[str, np.ndarray]:
    """An encoder-decoder's pairs as its training reads them: source ids (reversed within their
    length where the file says so), their lengths, and target ids ending in <eos>, per split."""
    corpus = load_pair_corpus(spec.dataset, seed=spec.training.seed)
    reverse = spec.training.reverse_source == "yes"
    arrays = {}
    for split, pairs in (("train", corpus.train), ("val", corpus.val)):
        source = reverse_within_lengths(pairs.source, pairs.source_lengths) if reverse else pairs.source
        arrays |= {
            f"source_{split}": source,
            f"source_lengths_{split}": pairs.source_lengths,
            f"target_{split}": pairs.target,
        }
    return arrays
