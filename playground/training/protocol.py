"""One way a training run works, whatever it trains.

Every trainer (feed-forward, RBM stack, recurrent, encoder-decoder, ratings) is a plain
object whose ``run()`` generator yields events and honours a shared ``TrainingControl``.
Whoever drives it (the command line, the window's worker thread, a benchmark, a test)
needs to know nothing else, so a trainer added later gets pause, single steps, stop,
metrics files and the window for free.

- Events: a *chunk* of consecutive mini-batches, an *epoch* with its held-out figures,
  and one final ``Finished`` whose reason is one of ``FINISH_REASONS``.  Each event knows
  the JSON Lines records a metrics file keeps of it.
- ``run_batches``: the loop every trainer shares. It waits while paused, ends on stop,
  grants single steps, sizes chunks so that stop and pause stay prompt, and hands back a
  divergence the moment a chunk reports one.  In slow motion (``TrainingControl.set_pace``)
  it runs one batch a chunk and waits between chunks, so every family gets the same pace.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from .control import TrainingControl

#: why a run ended: it did all its epochs, it was asked to stop, or its loss became NaN or infinite
FINISH_REASONS = ("completed", "stopped", "diverged")


class Event:
    """Anything a trainer yields.  ``records()`` are the JSON-ready dicts a metrics file keeps
    of it (none by default: bulky figures such as sample translations stay out of the file)."""

    def records(self) -> Iterator[dict]:
        return iter(())


class ChunkEvent(Event):
    """Figures of ``steps`` consecutive mini-batches from global step ``first_step`` (a dataclass
    subclass supplies ``epoch``, ``first_step`` and ``losses``)."""

    @property
    def steps(self) -> int:
        return len(self.losses)


class EpochEvent(Event):
    """After a pass over the training set; ``record()`` is its one line in a metrics file."""

    def record(self) -> dict:
        raise NotImplementedError

    def records(self) -> Iterator[dict]:
        yield self.record()


@dataclass
class RunStarted(Event):
    """A trainer that runs several networks in turn (a lesson's comparison) announces each one;
    a metrics file labels the records that follow with ``label``."""

    label: str
    description: str = ""


@dataclass
class Finished(Event):
    """The last event of every run.  Build it with ``completed``, ``stopped`` or ``diverged``, so
    that every family says the same thing in the same words."""

    reason: str  # one of FINISH_REASONS
    message: str = ""
    layer: str | None = None  # where NaN/inf first appeared, for "diverged"
    epochs_done: int = 0
    steps_done: int = 0
    history: list = field(default_factory=list)

    def __post_init__(self):
        if self.reason not in FINISH_REASONS:
            raise ValueError(f"a run finishes {', '.join(FINISH_REASONS)}, not {self.reason!r}")

    @classmethod
    def completed(cls, message: str, epochs_done: int, steps_done: int, history: list) -> Finished:
        return cls("completed", message, None, epochs_done, steps_done, history)

    @classmethod
    def stopped(cls, epochs_done: int, steps_done: int, history: list, what: str = "training") -> Finished:
        return cls("stopped", f"{what} stopped", None, epochs_done, steps_done, history)

    @classmethod
    def diverged(
        cls, layer: str, step: int, epoch: int, steps_done: int, history: list, advice: str, located: bool = True
    ) -> Finished:
        """The loss exploded at ``step`` of ``epoch``; ``advice`` says what to try.  ``located``: the
        trainer found ``layer`` as where NaN or infinity first appeared (else it is only the layer
        the run watches, and the message does not claim more)."""
        where = f'first appeared in layer "{layer}" ' if located else ""
        return cls(
            "diverged",
            f"the loss exploded: NaN or infinity {where}at step {step} (epoch {epoch}); "
            f"training stopped and the last good weights are kept. {advice}",
            layer,
            epoch - 1,
            steps_done,
            history,
        )


class Trainer(Protocol):
    """What every family's trainer offers: the control it honours and the generator of its events,
    which ends with exactly one ``Finished``."""

    control: TrainingControl

    def run(self) -> Iterator[Event]: ...


@dataclass
class ChunkResult:
    """What one call of a trainer's chunk function did: ``done`` mini-batches, the event that
    reports them (None when there is nothing to show), and where the loss diverged, if it did."""

    done: int
    event: Event | None
    divergence: object = None


class ChunkSizer:
    """How many mini-batches the next chunk runs: about ``seconds`` of work once a batch has been
    timed (one before), or a fixed ``steps``.  Small chunks keep stop, pause and the live plots
    prompt; large ones keep the per-chunk overhead negligible."""

    def __init__(self, seconds: float | None = None, steps: int | None = None):
        self.seconds, self.steps = seconds, steps
        self.seconds_per_batch: float | None = None

    def size(self, left: int) -> int:
        if self.steps is not None:
            return min(self.steps, left)
        if self.seconds_per_batch is None:
            return 1
        return max(1, min(left, int(self.seconds / self.seconds_per_batch)))

    def measured(self, seconds: float, batches: int) -> None:
        if batches:
            self.seconds_per_batch = seconds / batches


class _Stopped:
    """The type of ``STOPPED``: compared by identity, never equal to a trainer's divergence."""

    def __repr__(self) -> str:
        return "STOPPED"


#: slow motion's chunks: about this many a second at most, so each is one batch up to this pace
SLOW_CHUNKS_PER_SECOND = 30


def slow_chunk(steps_per_second: float, left: int) -> int:
    """Batches per chunk in slow motion: one (so the views can show every step) up to
    ``SLOW_CHUNKS_PER_SECOND`` steps a second, then as many as keep to that many chunks a second."""
    return max(1, min(left, int(steps_per_second / SLOW_CHUNKS_PER_SECOND)))


#: what ``run_batches`` returns when the control asked to stop
STOPPED = _Stopped()

ChunkFunction = Callable[[int, int], ChunkResult]


def run_batches(
    control: TrainingControl, count: int, train_chunk: ChunkFunction, sizer: ChunkSizer
) -> Generator[Event, None, object]:
    """Train mini-batches ``0 .. count-1`` through ``train_chunk(first, wanted)``, yielding each
    chunk's event.  Returns None when all are done, ``STOPPED`` when stopped (between chunks, or
    inside one whose kernel saw the stop flag), or the chunk's divergence as soon as one reports it.
    """
    first = 0
    while first < count:
        control.wait_while_paused()
        if control.stopped:
            return STOPPED
        # single steps asked for by the user run as one chunk: they are few, and shown together;
        # slow motion runs one batch a chunk, so the views can show every step
        pace = control.steps_per_second
        if control.step_budget is not None:
            wanted = control.take_budget(count - first)
        else:
            wanted = control.take_budget(sizer.size(count - first) if pace is None else slow_chunk(pace, count - first))
        tick = time.perf_counter()
        result = train_chunk(first, wanted)
        elapsed = time.perf_counter() - tick
        if pace is None:
            sizer.measured(elapsed, result.done)
        if result.event is not None:
            yield result.event
        if result.divergence is not None:
            return result.divergence
        first += result.done
        if pace is not None:
            control.wait_between_steps(result.done / pace - (time.perf_counter() - tick))
    return None


__all__ = [
    "ChunkEvent",
    "ChunkResult",
    "ChunkSizer",
    "EpochEvent",
    "Event",
    "FINISH_REASONS",
    "Finished",
    "RunStarted",
    "STOPPED",
    "Trainer",
    "run_batches",
]
