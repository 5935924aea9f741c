"""A lesson's comparison: its variants trained one after the other, as one run.

``learning-slowdown`` trains a neuron with two costs from two starts, ``rnn-vs-lstm`` an LSTM and
then a SimpleRNN, ``weight-initialization`` the same network under two initialisers.  Each
variant is a run of its own family's trainer (``model.variants`` makes the networks); this
trainer chains them behind one ``TrainingControl``, so Pause, Stop and slow motion act on
whichever is training, and announces each with a ``RunStarted`` so the command line, the metrics
file and the window can tell their records apart.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from .control import TrainingControl
from .protocol import Event, Finished, RunStarted, Trainer


@dataclass
class ComparedRun:
    """One variant of a comparison: its label, what it trains on, its trainer and its own rate."""

    label: str
    description: str
    trainer: Trainer
    learning_rate: float


class ComparisonTrainer:
    """Runs ``runs`` in turn on one ``control``.  A run that diverges is reported and the next
    still runs (the comparison may be about exactly that); Stop ends the whole comparison.  It
    ends with one ``Finished``: "diverged", naming each run that did, or "completed"."""

    def __init__(self, runs: list[ComparedRun], control: TrainingControl):
        if not runs:
            raise ValueError("a comparison needs at least one run")
        self.runs, self.control = runs, control
        #: the run training now (the first before the comparison starts)
        self.current: ComparedRun = runs[0]
        #: each run's own ``Finished``, in order, as they end
        self.finished: list[tuple[ComparedRun, Finished]] = []

    def run(self) -> Iterator[Event]:
        for compared in self.runs:
            self.current = compared
            # each variant trains at its own rate: the comparison may be of rates
            self.control.set_learning_rate(compared.learning_rate)
            yield RunStarted(compared.label, compared.description)
            for event in compared.trainer.run():
                if not isinstance(event, Finished):
                    yield event
                    continue
                self.finished.append((compared, event))
                if event.reason == "stopped":
                    yield event
                    return
        first = self.finished[0][1]
        diverged = [
            f"{compared.label}: {event.message}" for compared, event in self.finished if event.reason == "diverged"
        ]
        if diverged:
            yield Finished("diverged", "; ".join(diverged), None, first.epochs_done, first.steps_done, first.history)
        else:
            yield Finished.completed(
                f"trained {len(self.runs)} variants", first.epochs_done, first.steps_done, first.history
            )


__all__ = ["ComparedRun", "ComparisonTrainer"]
