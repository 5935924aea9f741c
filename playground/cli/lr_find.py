"""``lr-find``: the learning-rate finder from the terminal (Smith's range test).

It trains the network briefly while η rises exponentially, draws the smoothed loss against η
(a log axis, one row per quarter decade) and prints the suggested range; ``--out`` keeps every
step as JSON.  The computation is ``training.lr_finder``'s, the same the window's finder draws.
"""

from __future__ import annotations

import json
import sys

from .errors import UserError
from .progress import progress_bar

#: characters of the widest bar in the terminal plot
PLOT_WIDTH = 50


def loss_plot(samples: list[tuple[float, float]], low: float | None, high: float | None) -> list[str]:
    """Rows of ``η  loss  bar``: the bar's length grows with the loss above the curve's lowest
    point, and rows inside the suggested range [low, high] are marked with ``<``."""
    if not samples:
        return []
    losses = [loss for _, loss in samples]
    bottom, top = min(losses), max(losses)
    span = (top - bottom) or 1.0
    rows = []
    for rate, loss in samples:
        bar = "#" * (1 + int((PLOT_WIDTH - 1) * (loss - bottom) / span))
        inside = low is not None and low <= rate <= high
        rows.append(f"{rate:10.3g}  {loss:8.4f}  {bar:<{PLOT_WIDTH}}{'  < suggested' if inside else ''}")
    return rows


def command_lr_find(args) -> int:
    from ..files import check_writable
    from ..training.families import RunOptions
    from ..training.lessons import load_network_or_lesson
    from ..training.lr_finder import LearningRateFinder, RangeTestSettings

    if args.out is not None:
        check_writable(args.out, "--out")
    try:
        settings = RangeTestSettings(args.start, args.end, args.steps)
    except ValueError as error:
        raise UserError(f"{error} (--start, --end, --steps)") from None
    spec = load_network_or_lesson(args.network)
    options = RunOptions(
        dataset=args.dataset,
        data_dir=args.data_dir,
        batch_size=args.batch_size,
        seed=args.seed,
        train_limit=args.train_limit,
    )
    finder = LearningRateFinder(spec, options, settings)
    for note in finder.prepared.notes:
        print(f"note: {note}", file=sys.stderr)
    print(f"{spec.name or args.network}: {finder.prepared.description}", file=sys.stderr)
    bar = sys.stderr.isatty()
    try:
        for test in finder.run():
            if bar and test.rates:
                progress_bar(len(test.rates), settings.steps, f"η {test.rates[-1]:.3g}  loss {test.losses[-1]:.4f}")
    except KeyboardInterrupt:
        finder.control.stop()
        print("interrupted", file=sys.stderr)
    if bar:
        sys.stderr.write("\n")
    test = finder.result
    suggestion = test.suggestion()
    print(f"{'η':>10}  {'loss':>8}  (smoothed; longer bar = higher loss)")
    for row in loss_plot(test.samples(), *((suggestion.low, suggestion.high) if suggestion else (None, None))):
        print(row)
    print(test.summary())
    if suggestion is not None:
        print("three rates to compare: " + ", ".join(f"{rate:.3g}" for rate in suggestion.rates()))
    if args.out is not None:
        args.out.write_text(json.dumps(test.to_dict(), indent=1) + "\n", encoding="utf-8")
        print(f"every step written to {args.out}", file=sys.stderr)
    return 0 if suggestion is not None else 1
