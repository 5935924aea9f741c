"""From a network file's dataset settings (plus command-line choices) to a loaded Dataset."""

from __future__ import annotations

from pathlib import Path

from ..datasets import Dataset, is_cached, load_dataset
from ..datasets.catalog import DOWNLOADABLE, accepted_options
from ..model.settings import DatasetSettings


def load_training_data(
    settings: DatasetSettings,
    *,
    seed: int,
    data_dir: str | Path | None = None,
    data_file: str | Path | None = None,
    chosen_by_user: bool = False,
    progress=None,
    cancel=None,
    window: bool = False,
) -> tuple[Dataset, str | None]:
    """Load the dataset a network file names; returns it and a note when a substitute was used.

    An image lesson names MNIST, but a learner on a fresh machine may have no network:
    unless the user asked for MNIST themselves (``chosen_by_user``) or gave local files,
    a set that is not cached is replaced by the built-in synthetic digits, and the note
    says so.  Nothing is downloaded that the user did not ask for.  ``window``: the note says how
    to get the real set in the window's words (its Dataset menu) instead of the command line's.
    """
    name = settings.name
    if name in DOWNLOADABLE and data_dir is None and not chosen_by_user and not is_cached(name):
        how = (
            "Dataset menu: download it or open a folder that holds its files"
            if window
            else f"get the real set with `playground download {name}` or pass --data-dir DIR"
        )
        note = f"{name} is not downloaded, so this uses the built-in synthetic digits instead ({how})"
        return load_dataset("digits", seed=seed), note
    values = {
        "n_samples": settings.n_samples or None,
        "noise": settings.noise,
        "n_bits": settings.n_bits,
        "function": settings.function,
        "label_column": settings.label_column,
        "data_dir": data_dir,
        "data_file": data_file,
    }
    accepted = accepted_options(name)
    options = {key: value for key, value in values.items() if key in accepted}
    return load_dataset(
        name, seed=seed, allow_download=chosen_by_user, progress=progress, cancel=cancel, **options
    ), None


def load_run_data(spec, options) -> tuple[Dataset, list[str]]:
    """The examples ``spec`` asks for, as a run chose them (``families.RunOptions``), limited to
    ``train_limit``; with the notes to show, such as "using the synthetic digits"."""
    dataset, note = load_training_data(
        spec.dataset,
        seed=spec.training.seed,
        data_dir=options.data_dir,
        data_file=options.data_file,
        chosen_by_user=options.dataset is not None,
        progress=options.progress,
    )
    if spec.training.train_limit:
        dataset = dataset.limit_train(spec.training.train_limit)
    return dataset, [note] if note else []
