"""``train`` and ``ratings``: one run through the family registry, whatever the network.

The family says how to prepare the run and what to print of each event; this module only
drives the trainer to its end, draws the progress bar, writes every event to the metrics
file and saves the weights, so a new family needs nothing here.
"""

from __future__ import annotations

import sys

from .errors import UserError
from .progress import download_progress, progress_bar


def command_train(args) -> int:
    """``train``: whatever the network's family, one run through the family registry, one line per
    epoch on stdout, every event into the metrics file."""
    from ..files import check_writable
    from ..training.families import family_of
    from ..training.lessons import load_network_or_lesson

    for option, target in (("--save-weights", args.save_weights), ("--metrics-out", args.metrics_out)):
        if target is not None:  # a run lost to an unwritable path after training is worse than no run
            check_writable(target, option)
    spec = load_network_or_lesson(args.network)
    if args.dataset == "csv" and args.data_file is None:
        raise UserError("--dataset csv needs --data-file FILE (and --label-column NAME)")
    return _run_family(family_of(spec), spec, _run_options(args), args, spec.name or args.network)


def command_ratings(args) -> int:
    """``ratings``: train the collaborative-filtering RBM, print per-epoch RMSE, then RBM against the baselines."""
    from ..training.families import family_named

    return _run_family(family_named("ratings"), None, _run_options(args), args, "ratings")


def _run_options(args):
    from ..training.families import RunOptions

    def chosen(name):
        return getattr(args, name, None)

    return RunOptions(
        dataset=chosen("dataset"),
        data_dir=chosen("data_dir"),
        data_file=chosen("data_file"),
        label_column=chosen("label_column"),
        epochs=chosen("epochs"),
        batch_size=chosen("batch_size"),
        learning_rate=chosen("lr"),
        l2=chosen("l2"),
        seed=chosen("seed"),
        train_limit=chosen("train_limit"),
        reverse_source=chosen("reverse_source"),
        beam_width=chosen("beam_width"),
        load_weights=chosen("load_weights"),
        hidden_units=chosen("hidden"),
        min_rating=chosen("min_rating") or 1,
        max_rating=chosen("max_rating") or 5,
        progress=None if chosen("quiet") else download_progress,
    )


def _run_family(family, spec, options, args, name: str) -> int:
    """Prepare the run, drive its trainer to the end, print what the family says of each event, save
    the weights if asked (diverged runs keep their last good ones).  Exit status 1 when the loss
    exploded, with the layer where it did; Ctrl+C stops between mini-batches."""
    from ..model import save_weights
    from ..training import ChunkEvent, Finished, RunStarted
    from ..training.lesson_figures import lesson_figures
    from ..training.metrics import JsonLinesWriter
    from ..training.report import lesson_report

    lesson_report(spec)  # a report that cannot be made is refused before anything trains
    run = family.start(spec, options)
    # the lesson's effect in numbers beside the epoch lines (lesson_figures.py): the backprop lesson's
    # gradient check before and after, learning-slowdown's cost at five epochs, gradient-descent's
    # gradient noise per batch size
    figures = lesson_figures(spec, run, name)
    for figure in figures:
        figure.begin()
    for note in run.notes:
        print(f"note: {note}", file=sys.stderr)
    if run.description:
        print(f"{name}: {run.description}", file=sys.stderr)
    writer = JsonLinesWriter(args.metrics_out) if getattr(args, "metrics_out", None) else None
    show_bar = run.steps_per_epoch is not None and not getattr(args, "quiet", False) and sys.stderr.isatty()
    finished = None
    for figure in figures:
        for line in figure.before():
            print(line, flush=True)
    try:
        for event in run.trainer.run():
            if writer:
                writer.append(event)
            for figure in figures:
                figure.observe(event)
            if isinstance(event, Finished):
                finished = event
            elif isinstance(event, RunStarted):
                print(f"{event.label}: {event.description}", file=sys.stderr)
            elif isinstance(event, ChunkEvent) and show_bar:
                now = run.current()  # a comparison's variants may differ in batch size and epochs
                done = event.first_step + event.steps - (event.epoch - 1) * now.steps_per_epoch
                progress_bar(
                    done, now.steps_per_epoch, f"epoch {event.epoch}/{now.epochs}  loss {event.losses[-1]:.4f}"
                )
            line = family.line(event, run)
            if line is not None:
                if show_bar:
                    sys.stderr.write("\r" + " " * 79 + "\r")
                print(line, flush=True)
    except KeyboardInterrupt:
        run.trainer.control.stop()
        print("interrupted", file=sys.stderr)
    finally:
        if writer:
            writer.close()
    for line in [line for figure in figures for line in figure.lines()] + family.summary_lines(run):
        print(line)
    if getattr(args, "save_weights", None):
        try:
            save_weights(args.save_weights, run.model.state())
        except OSError as error:  # the path passed its check before training; the disk filled, or a permission changed
            raise UserError(
                f"--save-weights {args.save_weights} cannot be written after training "
                f"({error.strerror or error}): the trained weights were NOT saved"
            ) from None
        print(f"weights saved to {args.save_weights}", file=sys.stderr)
    if finished and finished.reason == "diverged":
        print(f"playground: error: {finished.message}", file=sys.stderr)
        return 1
    return 0
