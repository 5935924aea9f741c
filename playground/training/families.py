"""The family registry: which trainer a network needs, and who shows it.

Networks learn in different ways: a feed-forward net by backprop on mini-batches, a stack
of RBMs by greedy pretraining, a recurrent net through time, an encoder-decoder on sentence
pairs, the ratings RBM on users' ratings.  Each way is a *family* that registers here, the
way layer types register in ``engine.layers``: it says which network files it takes, how
to prepare a run (apply the chosen options, load the data, build and initialise the
model, make the trainer), what the command line prints for its events, and which of the
window's labs shows it.  The command line, the window and the benchmarks ask this
registry; nothing else tests a network's kind.  Adding a family is one module and one
``register_family`` call.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..model import NetworkSpec
from ..model.variants import VariantError, variant_specs
from .comparison import ComparedRun, ComparisonTrainer
from .control import TrainingControl
from .protocol import Event, Trainer

#: the window's labs a family can name
LABS = ("dashboard", "rbm", "sequence")


@dataclass
class RunOptions:
    """What the person starting a run chose on top of the network file; None keeps the file's value."""

    dataset: str | None = None
    data_dir: Path | None = None
    data_file: Path | None = None
    label_column: str | None = None
    epochs: int | None = None
    batch_size: int | None = None
    learning_rate: float | None = None
    l2: float | None = None
    seed: int | None = None
    train_limit: int | None = None
    reverse_source: str | None = None
    beam_width: int | None = None
    #: train the variants a lesson compares (its ``"compare"`` list), one after the other; off, the
    #: file's own network alone
    compare: bool = True
    #: the ratings RBM's: hidden units, and the range of the ratings in a CSV file
    hidden_units: int | None = None
    min_rating: int = 1
    max_rating: int = 5
    #: a weights file to start from instead of the initialiser's draw
    load_weights: Path | None = None
    #: download progress, ``progress(bytes_done, bytes_total)``, where a dataset must be fetched
    progress: Callable[[int, int], None] | None = None
    #: ``load_data(spec, options) -> (dataset, notes)`` where the caller keeps the data (the
    #: window's store: loaded once for every variant of a comparison, its notes in the window's
    #: words); None: ``training.data.load_run_data``
    load_data: Callable | None = None

    def training_changes(self) -> dict:
        """The chosen values of the settings every family's ``training`` section has, for
        ``with_overrides`` (None ones are left as the file says)."""
        return {
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "learning_rate": self.learning_rate,
            "l2": self.l2,
            "seed": self.seed,
        }


@dataclass
class PreparedRun:
    """A run ready to go: its trainer, the model it trains (what a weights file is written from),
    a line saying what trains on what, and notes such as "using the synthetic digits"."""

    trainer: Trainer
    model: object
    description: str
    epochs: int
    #: mini-batches per epoch, for a progress bar (None: not known in advance)
    steps_per_epoch: int | None = None
    notes: list[str] = field(default_factory=list)
    #: a comparison's variants by label, in the order they train (``trainer`` is then a
    #: ``ComparisonTrainer``); empty for a single network
    parts: dict[str, PreparedRun] = field(default_factory=dict)

    def current(self) -> PreparedRun:
        """The run training now: a comparison's current variant, or this run itself."""
        return self.parts[self.trainer.current.label] if self.parts else self


@dataclass(frozen=True)
class Family:
    """One way of training.  ``matches`` is asked in ``precedence`` order (lowest first); the
    feed-forward family matches everything and comes last."""

    name: str
    lab: str
    precedence: int
    matches: Callable[[NetworkSpec], bool]
    #: ``prepare(spec, options, control)``: the trainer honours ``control`` (a new one when None)
    prepare: Callable[..., PreparedRun]
    #: the command line's line for an event, or None to print nothing for it
    event_line: Callable[[Event, PreparedRun], str | None]
    #: lines printed once the run is over
    summary: Callable[[PreparedRun], list[str]] = lambda run: []

    def start(
        self, spec: NetworkSpec | None, options: RunOptions | None = None, control: TrainingControl | None = None
    ) -> PreparedRun:
        """A run of ``spec`` as ``options`` choose, on a copy: the caller's network file is left
        as it was (the window's document may be the spec)."""
        options = options or RunOptions()
        copied = None if spec is None else dataclasses.replace(spec)
        # a weights file belongs to the file's own network: with one, that network trains alone
        compares = copied is not None and options.compare and options.load_weights is None
        variants = variant_specs(copied) if compares else []
        if len(variants) < 2:
            return self.prepare(copied, options, control)
        control = control or TrainingControl(copied.training.learning_rate)
        parts: dict[str, PreparedRun] = {}
        for label, variant in variants:
            if family_of(variant) is not self:
                raise VariantError(f'variant "{label}" is a {family_of(variant).name} network, not a {self.name} one')
            parts[label] = self.prepare(variant, options, control)
        trainer = ComparisonTrainer(
            [
                ComparedRun(label, part.description, part.trainer, variant.training.learning_rate)
                for (label, part), (_, variant) in zip(parts.items(), variants, strict=True)
            ],
            control,
        )
        first = next(iter(parts.values()))
        description = f"{len(parts)} variants compared: {', '.join(parts)}"
        notes = list(dict.fromkeys(note for part in parts.values() for note in part.notes))
        return PreparedRun(trainer, first.model, description, first.epochs, first.steps_per_epoch, notes, parts=parts)

    def line(self, event: Event, run: PreparedRun) -> str | None:
        """The command line's line for ``event``; in a comparison, it starts with the variant's label."""
        line = self.event_line(event, run.current())
        return f"{run.trainer.current.label:<12} {line}" if line is not None and run.parts else line

    def summary_lines(self, run: PreparedRun) -> list[str]:
        """The lines printed after the run: each variant's, labelled, in a comparison."""
        if not run.parts:
            return self.summary(run)
        return [f"{label:<12} {line}" for label, part in run.parts.items() for line in self.summary(part)]

    def __post_init__(self):
        if self.lab not in LABS:
            raise ValueError(f'family "{self.name}": the lab must be one of {", ".join(LABS)}, not {self.lab!r}')


_FAMILIES: dict[str, Family] = {}


def register_family(family: Family) -> Family:
    """Add ``family``; registering a name twice is an error, as for layer types."""
    if family.name in _FAMILIES:
        raise ValueError(f'a family named "{family.name}" is already registered')
    _FAMILIES[family.name] = family
    return family


def families() -> list[Family]:
    """Every registered family, in the order their ``matches`` are asked."""
    return sorted(_FAMILIES.values(), key=lambda family: family.precedence)


def family_of(spec: NetworkSpec) -> Family:
    """The family that trains ``spec``."""
    for family in families():
        if family.matches(spec):
            return family
    raise LookupError("no registered family takes this network")  # the feed-forward family takes any


def family_named(name: str) -> Family:
    return _FAMILIES[name]


__all__ = ["Family", "LABS", "PreparedRun", "RunOptions", "families", "family_named", "family_of", "register_family"]
