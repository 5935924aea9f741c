"""The metric stream a window reads while a comparison trains: a reader never takes the steps of
a variant that began while it looked as the previous variant's."""

from __future__ import annotations

import numpy as np

from playground.training import RunStarted, StepChunk
from playground.training.metrics import MetricStream


def chunk(first_step: int, steps: int) -> StepChunk:
    return StepChunk(1, first_step, np.arange(steps, dtype=np.float64), None, ["fc"], np.zeros((steps, 1, 4)), steps)


def test_a_read_stops_at_the_start_of_a_run_the_reader_has_not_taken_in():
    stream = MetricStream(capacity=100)
    stream.append(RunStarted("first"))
    stream.append(chunk(0, 5))
    starts = stream.run_starts()  # the reader looks: one run has begun …
    stream.append(RunStarted("second"))  # … and before it reads the steps, the next one begins
    stream.append(chunk(0, 3))
    total, first = stream.read_since(0, 0, runs_seen=len(starts))
    assert total == 5 and len(first.steps) == 5  # only the first run's steps
    assert [label for _, _, label in stream.run_starts()] == ["first", "second"]
    total, second = stream.read_since(total, 0, runs_seen=2)
    assert total == 8 and list(second.losses) == [0.0, 1.0, 2.0]
    # without runs_seen, a read takes everything there is
    assert stream.read_since(0, 0)[0] == 8
