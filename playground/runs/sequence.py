"""One sequence run on the lab's worker thread.

The generic ``RunnerJob`` (gui/jobs.py) with the sequence lab's stream: every event goes to
the ``SequenceStream``, and the chunks and epochs keep the status line's figures.  The
lab's default runner picks the real sequence or encoder-decoder trainer for the spec,
tests pass a fake one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..training.sequence_events import SequenceChunk, SequenceEpoch
from .jobs import Runner, RunnerJob
from .sequence_stream import SequenceStream

__all__ = ["ModelBuilt", "Runner", "SequenceJob"]


@dataclass
class ModelBuilt:
    """The runner's first event: the network it built and trains, so the lab can keep the
    trained weights once the run is over (File ▸ Save stores them)."""

    model: object


@dataclass
class SequenceJob(RunnerJob):
    stream: SequenceStream = field(default_factory=SequenceStream)
    #: the network the run trains (written by the worker; read only once it has finished)
    model: object = None

    def track(self, event) -> None:
        if isinstance(event, ModelBuilt):
            self.model = event.model
        elif isinstance(event, SequenceChunk):
            self.progress.steps = event.first_step + event.steps
            self.progress.epoch = event.epoch
        elif isinstance(event, SequenceEpoch):
            self.progress.epoch = event.epoch
