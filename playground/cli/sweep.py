"""``sweep``: an experiment's variants trained side by side, a bar for each running trial and one overall.

The sweep itself is ``experiments.Sweep``; this module only draws its progress on stderr (on a
terminal), prints a line per finished run and the best variants on stdout, and says where the
summary and the metrics went.  Ctrl+C stops the runs between mini-batches; the same command
run again goes on where it stopped.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from .progress import bar

#: the bars are redrawn at most this often for progress alone (a run reports every chunk)
REDRAW_S = 0.1


class SweepDisplay:
    """The sweep's listener: one bar per running trial and an overall one, redrawn in place on a
    terminal's stderr; a line per finished run on stdout, wherever it goes."""

    def __init__(self, sweep, metric: str, live: bool):
        self.sweep, self.metric, self.live = sweep, metric, live
        self.running: dict[str, str] = {}  # each running trial's bar, by key
        self.titles: dict[str, str] = {}
        self._drawn, self._drawn_at = 0, 0.0

    def _clear(self) -> None:
        if self._drawn:
            sys.stderr.write(f"\x1b[{self._drawn}F\x1b[J")
            self._drawn = 0

    def _draw(self) -> None:
        lines = [*self.running.values(), bar(self.sweep.runs_done, self.sweep.total_runs, self._overall())]
        sys.stderr.write("".join(line[:119] + "\n" for line in lines))
        sys.stderr.flush()
        self._drawn, self._drawn_at = len(lines), time.monotonic()

    def _overall(self) -> str:
        return f"{self.sweep.runs_done}/{self.sweep.total_runs} runs done, {len(self.running)} running"

    def _say(self, line: str) -> None:
        if self.live:
            self._clear()
        print(line, flush=True)
        if self.live:
            self._draw()

    def __call__(self, event) -> None:
        from ..experiments import RunBegan, RunEnded, RunProgress, VariantRefused

        if isinstance(event, RunBegan):
            self.titles[event.task.key] = f"trial {event.task.trial} seed {event.task.seed}"
            self.running[event.task.key] = bar(0, 1, self.titles[event.task.key])
        elif isinstance(event, RunProgress) and event.key in self.running:
            self.running[event.key] = bar(event.done, event.total, f"{self.titles[event.key]}  {event.text}")
        elif isinstance(event, RunEnded):
            self.running.pop(event.outcome.key, None)
            self.titles.pop(event.outcome.key, None)
            self._say(self.run_line(event.outcome))
            return
        elif isinstance(event, VariantRefused):
            self._say(f"trial {event.trial:>3}  refused: {event.message}")
            return
        if self.live and (not isinstance(event, RunProgress) or time.monotonic() - self._drawn_at > REDRAW_S):
            self._clear()
            self._draw()

    def run_line(self, outcome) -> str:
        value = "—" if outcome.value is None else f"{outcome.value:.4f}"
        best = "" if outcome.best is None else f" (best {outcome.best:.4f} at epoch {outcome.best_epoch})"
        return (
            f"trial {outcome.trial:>3} seed {outcome.seed}  {outcome.label}  {self.metric} {value}{best}"
            f"  {outcome.status}  {outcome.seconds:.1f} s"
        )

    def close(self) -> None:
        if self.live:
            self._clear()


def command_sweep(args) -> int:
    """``sweep``: train the experiment's variants, then print the best and where the summary went."""
    from ..experiments import load_experiment, require_extra
    from ..experiments.sweep import Sweep
    from ..files import check_writable

    require_extra()
    if args.cluster:
        require_extra("distributed")
    experiment = load_experiment(args.experiment)
    folder = args.out or Path(args.experiment).with_name(f"{Path(args.experiment).stem}-results")
    check_writable(folder / "summary.json", "--out")
    sweep = Sweep(
        experiment,
        workers=args.workers,
        cluster=args.cluster,
        folder=folder,
        data_dir=args.data_dir,
        keep_weights=args.save_weights,
    )
    display = SweepDisplay(sweep, experiment.metric, live=sys.stderr.isatty() and not args.quiet)
    sweep.on_event = display
    where = f"the Dask cluster at {args.cluster}" if args.cluster else f"{args.workers or os.cpu_count()} workers here"
    print(
        f"{experiment.name}: {experiment.trials} variants × {len(experiment.seeds)} seed(s), "
        f"{experiment.search} search on {experiment.metric}, on {where}; results in {folder}",
        file=sys.stderr,
    )
    try:
        result = sweep.run()
    except KeyboardInterrupt:
        display.close()
        print("interrupted: the same command goes on where this one stopped", file=sys.stderr)
        return 130
    finally:
        display.close()
    best = result.best()
    seeds = len(experiment.seeds)
    print(f"best variants ({experiment.metric} after the last epoch{f', mean of {seeds} seeds' if seeds > 1 else ''}):")
    for rank, variant in enumerate(best, start=1):
        spread = f" ± {variant.spread:.4f}" if seeds > 1 else ""
        print(f"{rank}. trial {variant.trial}  {variant.label}  {experiment.metric} {variant.value:.4f}{spread}")
    if not best:
        print("   none: every variant diverged or was pruned")
    print(f"summary: {folder / 'summary.csv'} and summary.json; each run's metrics in {folder / 'runs'}")
    return 0
