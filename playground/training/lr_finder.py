"""The learning-rate finder: Leslie Smith's range test, through the one training protocol.

Smith ("Cyclical Learning Rates for Training Neural Networks", 2017, section 3.3) trains a
network briefly while the learning rate rises from very small to very large, and plots the
loss against the rate.  Too small a rate and the loss barely moves; in a band of good rates it
falls fast; past that band it stops falling, grows ragged, and finally explodes.  The band is
where to train, and it takes a few hundred mini-batches to find, not a grid of full runs.

How it trains: the network's own family prepares a run exactly as ``playground train`` would
(same data, initialiser, batch size, cost), and the finder steps that trainer one mini-batch at a
time through its ``TrainingControl`` (as the window's Step button does), multiplying η by a
constant factor between steps.  The control's learning rate is read between batches, so each
batch trains at its own rate.  The network on the canvas is never touched: the run trains a copy.

How the range is suggested (``suggest``): the mini-batch losses are noisy, so they are first
smoothed with a centred moving average over a tenth of the steps (about 0.6 of a decade of η;
a centred average does not lag behind the rising rate as an exponential one would).  Then:

- the *upper end* is a third of the rate where the smoothed loss is lowest: at the minimum the
  rate is already at the edge of divergence (the next rates make the loss rise), so a margin
  below it is the largest rate that trains steadily;
- the *lower end* is the rate at which the smoothed loss falls fastest per decade of η (the
  steepest descent of the curve on its log axis): the loss surely learns there.  When that point
  lies above the upper end (a curve that falls steeply only just before its minimum), the lower
  end is a tenth of the minimum's rate instead, the usual "one decade below the minimum";
- when the smoothed loss never falls by ``MIN_FALL`` of its starting value, no rate in the range
  trained within the test, and nothing is suggested (more steps, or a wider range, may tell).

The three rates an experiment can start from are the two ends and their geometric mean.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from ..model import NetworkSpec
from .control import TrainingControl
from .families import PreparedRun, RunOptions, family_of
from .protocol import ChunkEvent, Finished

#: the upper end of the range lies this factor below the rate of the lowest smoothed loss
MARGIN_BELOW_MINIMUM = 3.0
#: the lower end when the steepest descent comes too late: this factor below the lowest loss's rate
DECADE_BELOW_MINIMUM = 10.0
#: the smoothed loss must fall by at least this fraction of its start for a range to be suggested
MIN_FALL = 0.03


@dataclass(frozen=True)
class RangeTestSettings:
    """From ``start`` to ``end`` over ``steps`` mini-batches, η multiplied by the same factor each
    step; the test ends early once the smoothed loss is ``divergence`` times its lowest value (or
    NaN).  ``window``: steps of the centred moving average (0: a tenth of ``steps``)."""

    start: float = 1e-5
    end: float = 10.0
    steps: int = 400
    divergence: float = 4.0
    window: int = 0

    def __post_init__(self):
        if not (0 < self.start < self.end and math.isfinite(self.end)):
            raise ValueError(f"the rates must rise from a positive start, not {self.start!r} to {self.end!r}")
        if self.steps < 10:
            raise ValueError(f"the range test needs at least 10 steps, not {self.steps}")
        if self.divergence <= 1:
            raise ValueError(f"the divergence factor must be above 1, not {self.divergence}")

    @property
    def factor(self) -> float:
        """What η is multiplied by between two steps."""
        return (self.end / self.start) ** (1.0 / (self.steps - 1))

    def rate(self, step: int) -> float:
        return self.start * self.factor**step

    @property
    def smoothing_window(self) -> int:
        return self.window or max(5, self.steps // 10)


def smooth(losses: np.ndarray, window: int) -> np.ndarray:
    """Centred moving average over ``window`` steps (fewer at the two ends, where fewer exist)."""
    losses = np.asarray(losses, np.float64)
    if len(losses) == 0:
        return losses
    half = max(0, window // 2)
    kernel = np.ones(2 * half + 1)
    padded = np.concatenate([np.zeros(half), losses, np.zeros(half)])
    counts = np.concatenate([np.zeros(half), np.ones(len(losses)), np.zeros(half)])
    return np.convolve(padded, kernel, "valid") / np.convolve(counts, kernel, "valid")


@dataclass(frozen=True)
class Suggestion:
    """The suggested range [``low``, ``high``], and the two rates it comes from."""

    low: float
    high: float
    steepest: float  # where the smoothed loss falls fastest per decade
    minimum: float  # where the smoothed loss is lowest

    def rates(self) -> list[float]:
        """Three rates across the range, for an experiment: its two ends and their geometric mean."""
        return [self.low, math.sqrt(self.low * self.high), self.high]

    def sentence(self) -> str:
        if self.low == self.steepest:
            lower = f"where the loss falls fastest ({self.steepest:.3g})"
        else:
            lower = "a tenth of where it is lowest"
        return (
            f"Suggested η from {self.low:.3g} to {self.high:.3g}: from {lower} "
            f"to a third of where it is lowest ({self.minimum:.3g})."
        )


def suggest(rates: np.ndarray, losses: np.ndarray, window: int) -> Suggestion | None:
    """The range the module docstring describes, from a range test's ``rates`` and mini-batch
    ``losses`` (NaN where a batch diverged); None when too few finite points exist to tell."""
    rates, losses = np.asarray(rates, np.float64), np.asarray(losses, np.float64)
    finite = np.isfinite(losses)
    if finite.sum() < 5:
        return None
    end = int(np.argmin(finite)) if not finite.all() else len(losses)  # up to the first NaN
    smoothed = smooth(losses[:end], window)
    lowest = int(np.argmin(smoothed))
    if smoothed[lowest] > (1 - MIN_FALL) * smoothed[0]:
        return None  # the loss never really fell: no rate in the range trained within the test
    slopes = np.gradient(smoothed[: lowest + 1], np.log10(rates[: lowest + 1]))
    steepest = float(rates[int(np.argmin(slopes))])
    high = rates[lowest] / MARGIN_BELOW_MINIMUM
    low = steepest if steepest < high else rates[lowest] / DECADE_BELOW_MINIMUM
    return Suggestion(float(low), float(high), steepest, float(rates[lowest]))


@dataclass
class RangeTest:
    """A range test's figures so far: the rate and loss of every step, and how it ended."""

    settings: RangeTestSettings
    rates: list[float] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    #: None while it runs; then "completed" (all steps), "diverged" or "stopped"
    ended: str | None = None

    @property
    def smoothed(self) -> np.ndarray:
        finite = np.isfinite(self.losses)
        end = int(np.argmin(finite)) if not finite.all() else len(self.losses)
        return smooth(np.asarray(self.losses[:end]), self.settings.smoothing_window)

    def suggestion(self) -> Suggestion | None:
        return suggest(np.asarray(self.rates), np.asarray(self.losses), self.settings.smoothing_window)

    def diverging(self) -> bool:
        """The smoothed loss has risen ``divergence`` times above its lowest value: stop here."""
        smoothed = self.smoothed
        return len(smoothed) > 1 and smoothed[-1] > self.settings.divergence * max(smoothed.min(), 1e-12)

    def samples(self, per_decade: int = 4) -> list[tuple[float, float]]:
        """(η, smoothed loss) about ``per_decade`` times a decade: the curve, thinned for a table."""
        smoothed = self.smoothed
        if len(smoothed) == 0:
            return []
        every = max(1, round(math.log(10) / math.log(self.settings.factor) / per_decade))
        picks = list(range(0, len(smoothed), every))
        if picks[-1] != len(smoothed) - 1:
            picks.append(len(smoothed) - 1)
        return [(self.rates[i], float(smoothed[i])) for i in picks]

    def to_dict(self) -> dict:
        """The test as JSON: every step's rate and loss (null where not finite), the smoothed curve,
        how it ended and the suggested range."""
        suggestion = self.suggestion()
        return {
            "rates": self.rates,
            "losses": [loss if math.isfinite(loss) else None for loss in self.losses],
            "smoothed": self.smoothed.tolist(),
            "ended": self.ended,
            "suggestion": None if suggestion is None else dataclasses.asdict(suggestion),
            "summary": self.summary(),
        }

    def summary(self) -> str:
        """One line: how the test ended and the suggested range, or why there is none."""
        how = {
            "completed": f"η rose from {self.settings.start:.3g} to {self.rates[-1]:.3g}",
            "diverged": f"the loss blew up at η = {self.rates[-1]:.3g}" if self.rates else "the loss blew up",
            "stopped": "stopped",
        }.get(self.ended or "", "running")
        suggestion = self.suggestion()
        if suggestion is None:
            return f"{how}; the loss hardly fell, so no range can be suggested: try more steps or a wider range."
        return f"{how} over {len(self.rates)} mini-batches. {suggestion.sentence()}"


class LearningRateFinder:
    """Runs the range test on ``spec`` (the options choose data and batch size as for a run):
    ``run()`` yields the ``RangeTest`` after every mini-batch, so a window can draw it live, and
    leaves it in ``result`` when done.  ``control.stop()`` from another thread ends it early."""

    def __init__(
        self,
        spec: NetworkSpec,
        options: RunOptions | None = None,
        settings: RangeTestSettings | None = None,
        control: TrainingControl | None = None,
    ):
        self.settings = settings or RangeTestSettings()
        self.control = control or TrainingControl(self.settings.start)
        self.control.set_learning_rate(self.settings.start)
        # one step per epoch at least: enough epochs that the data never runs out first; a lesson's
        # comparison is of whole runs, so the finder tests the file's own network
        options = dataclasses.replace(options or RunOptions(), epochs=self.settings.steps, compare=False)
        self.prepared: PreparedRun = family_of(spec).start(spec, options, self.control)
        self.result = RangeTest(self.settings)

    def run(self) -> Iterator[RangeTest]:
        test, control = self.result, self.control
        control.step(1)
        for event in self.prepared.trainer.run():
            if isinstance(event, Finished):
                # the chunk before a "diverged" already reported the batch whose loss was not finite
                test.ended = event.reason
                if event.reason == "stopped" and len(test.rates) >= self.settings.steps:
                    test.ended = "completed"
                elif event.reason == "stopped" and test.diverging():
                    test.ended = "diverged"
                yield test
                return
            if not isinstance(event, ChunkEvent):
                continue
            for loss in event.losses:
                test.rates.append(control.learning_rate)
                test.losses.append(float(loss))
            yield test
            if len(test.rates) >= self.settings.steps or test.diverging():
                control.stop()
            elif not control.stopped:
                control.set_learning_rate(self.settings.rate(len(test.rates)))
                control.step(1)


def find_learning_rate(
    spec: NetworkSpec, options: RunOptions | None = None, settings: RangeTestSettings | None = None
) -> RangeTest:
    """Run the range test to its end, headless; the finished ``RangeTest``."""
    finder = LearningRateFinder(spec, options, settings)
    for _ in finder.run():
        pass
    return finder.result


__all__ = [
    "LearningRateFinder",
    "RangeTest",
    "RangeTestSettings",
    "Suggestion",
    "find_learning_rate",
    "smooth",
    "suggest",
]
