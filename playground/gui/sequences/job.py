"""One sequence run on the lab's worker thread.

The generic ``RunnerJob`` (gui/jobs.py) with the sequence lab's stream: every event goes to
the ``SequenceStream``, and the chunks and epochs keep the status line's figures.  The
lab's default runner picks the real sequence or encoder-decoder trainer for the spec,
tests pass a fake one.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ...training.sequence_events import SequenceChunk, SequenceEpoch
from ..jobs import Runner, RunnerJob
from .stream import SequenceStream

__all__ = ["Runner", "SequenceJob"]


@dataclass
class SequenceJob(RunnerJob):
    stream: SequenceStream = field(default_factory=SequenceStream)

    def track(self, event) -> None:
        if isinstance(event, SequenceChunk):
            self.progress.steps = event.first_step + event.steps
            self.progress.epoch = event.epoch
        elif isinstance(event, SequenceEpoch):
            self.progress.epoch = event.epoch
