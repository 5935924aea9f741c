"""The ``playground`` command: the window by default, and headless sub-commands.

    playground                      open the window (vanishing-gradients lesson)
    playground train NET|LESSON     train from the terminal
    playground new mlp 784,30,10    write a network file
    playground lessons              list the lessons
    playground download mnist       fetch a dataset into the cache
    playground bench                measure the engine against numpy and PyTorch
    playground ratings              an RBM fills in held-out ratings (--data-file user,item,rating CSV)

Bad input ends with one line on stderr and a non-zero exit, never a traceback
(set PLAYGROUND_DEBUG=1 to see one).
"""
from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path

EXIT_BAD_INPUT = 2


class UserError(Exception):
    """Anything the user can fix: printed as one line."""


def _user_errors():
    """The exception types that carry a message meant for the user."""
    from .datasets import DatasetError
    from .engine.config import ConfigError
    from .engine.layers import RegistryError
    from .model import NetworkFileError, WeightsError
    from .training import DataMismatch
    return (UserError, DatasetError, ConfigError, RegistryError, NetworkFileError, WeightsError, DataMismatch)


# --- argument types: reject bad numbers at the door, naming the option ---------------------
def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


def _non_negative_int(text: str) -> int:
    return 0 if text.strip() == "0" else _positive_int(text)


def _finite_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def _positive_float(text: str) -> float:
    value = _finite_float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be greater than 0")
    return value


def _non_negative_float(text: str) -> float:
    value = _finite_float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} must not be negative")
    return value


def _layer_sizes(text: str) -> list[int]:
    try:
        sizes = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} must be comma-separated layer sizes like 784,30,10") from None
    if len(sizes) < 2 or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} needs at least two positive sizes (inputs and outputs)")
    return sizes


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, then exit 2, like every other bad input
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    from .datasets import DATASET_NAMES
    from .datasets.sequences import SEQUENCE_DATASETS
    from .engine.activations import ACTIVATIONS
    from .engine.costs import COSTS
    from .engine.initializers import INITIALIZERS

    parser = _Parser(prog="playground", description="Build neural networks and watch them learn.")
    parser.add_argument("--lesson", help="open the window with this lesson loaded")
    parser.add_argument("--train-seconds", type=_non_negative_float, default=None,
                        help="train for this many seconds after opening (with --screenshot)")
    parser.add_argument("--screenshot", type=Path, help="save a PNG of the window, then quit")
    parser.add_argument("--panel", help="dashboard tab to show: loss, gradients, weights, activations, data, "
                        "filters, feature-maps, convolution, augmentation or compare")
    parser.add_argument("--data-dir", type=Path, dest="window_data_dir",
                        help="folder of IDX files (MNIST, Fashion-MNIST) for the window")
    commands = parser.add_subparsers(dest="command", parser_class=_Parser)

    train = commands.add_parser("train", help="train a network file or a lesson from the terminal")
    train.add_argument("network", help="a network .json file, or a lesson name (see `playground lessons`)")
    train.add_argument("--dataset", choices=(*DATASET_NAMES, *SEQUENCE_DATASETS))
    train.add_argument("--data-dir", type=Path, help="folder of IDX files (MNIST, Fashion-MNIST or any IDX pair)")
    train.add_argument("--data-file", type=Path, help="CSV file for --dataset csv, TSV pairs file for --dataset pairs")
    train.add_argument("--label-column", help="label column of the CSV file")
    train.add_argument("--epochs", type=_positive_int)
    train.add_argument("--batch-size", type=_positive_int)
    train.add_argument("--lr", type=_positive_float, help="learning rate η")
    train.add_argument("--l2", type=_non_negative_float, help="L2 strength λ in (λ/2n)‖w‖²")
    train.add_argument("--seed", type=_non_negative_int)
    train.add_argument("--train-limit", type=_positive_int, help="use only the first N training examples")
    train.add_argument("--metrics-out", type=Path, help="write every step and epoch as JSON Lines")
    train.add_argument("--save-weights", type=Path, help="write the trained weights (.npz)")
    train.add_argument("--load-weights", type=Path, help="start from these weights (.npz)")
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    train.add_argument("--reverse-source", choices=("yes", "no"),
                       help="encoder-decoders: feed each source sequence backwards (Sutskever et al.)")
    train.add_argument("--beam-width", type=_positive_int, help="encoder-decoders: beam width (1: greedy decoding)")

    new = commands.add_parser("new", help="write a network file")
    new.add_argument("kind", choices=["mlp"])
    new.add_argument("sizes", type=_layer_sizes, help="layer sizes, e.g. 784,30,10")
    new.add_argument("--activation", choices=tuple(a for a in ACTIVATIONS if a != "softmax"), default="sigmoid")
    new.add_argument("--output", choices=("sigmoid", "softmax", "linear"),
                     help="output activation (default: the hidden one)")
    new.add_argument("--cost", choices=tuple(COSTS), help="default: the one that matches the output")
    new.add_argument("--init", choices=tuple(INITIALIZERS), default="normal-scaled")
    new.add_argument("-o", "--out", type=Path, required=True)

    commands.add_parser("lessons", help="list the lessons")

    download = commands.add_parser("download", help="download a dataset into the cache")
    download.add_argument("name", choices=("mnist", "fashion-mnist"))

    bench = commands.add_parser("bench", help="measure the engine against numpy and PyTorch references")
    bench.add_argument("--json", action="store_true", help="one JSON object per workload")
    bench.add_argument("--quick", action="store_true", help="shorter runs")
    bench.add_argument("--gui", action="store_true", help="measure the window's responsiveness while training")
    bench.add_argument("--lesson", dest="bench_lesson", default="vanishing-gradients",
                       help="the lesson the window trains with --gui (default: vanishing-gradients)")

    ratings = commands.add_parser("ratings", help="collaborative filtering: an RBM fills in held-out ratings")
    ratings.add_argument("--data-file", type=Path, help="CSV of user,item,rating lines (default: the built-in example)")
    ratings.add_argument("--min-rating", type=int, default=1, help="lowest rating in the file (default 1)")
    ratings.add_argument("--max-rating", type=int, default=5, help="highest rating in the file (default 5)")
    ratings.add_argument("--hidden", type=_positive_int, help="hidden units")
    ratings.add_argument("--epochs", type=_positive_int)
    ratings.add_argument("--batch-size", type=_positive_int, help="users per mini-batch")
    ratings.add_argument("--lr", type=_positive_float, help="learning rate η")
    ratings.add_argument("--seed", type=_non_negative_int)
    return parser


# --- sub-commands -------------------------------------------------------------------------
def _progress_bar(done: int, total: int, text: str) -> None:
    width = 30
    filled = int(width * done / max(total, 1))
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {text}")
    sys.stderr.flush()


def command_train(args) -> int:
    """``train``: whatever the network's family, one run through the family registry, one line per
    epoch on stdout, every event into the metrics file."""
    from .training.families import family_of
    from .training.lessons import load_network_or_lesson

    spec = load_network_or_lesson(args.network)
    if args.dataset == "csv" and args.data_file is None:
        raise UserError("--dataset csv needs --data-file FILE (and --label-column NAME)")
    return _run_family(family_of(spec), spec, _run_options(args), args, spec.name or args.network)


def _run_options(args):
    from .training.families import RunOptions

    def chosen(name):
        return getattr(args, name, None)

    return RunOptions(dataset=chosen("dataset"), data_dir=chosen("data_dir"), data_file=chosen("data_file"),
                      label_column=chosen("label_column"), epochs=chosen("epochs"), batch_size=chosen("batch_size"),
                      learning_rate=chosen("lr"), l2=chosen("l2"), seed=chosen("seed"),
                      train_limit=chosen("train_limit"), reverse_source=chosen("reverse_source"),
                      beam_width=chosen("beam_width"), load_weights=chosen("load_weights"),
                      hidden_units=chosen("hidden"), min_rating=chosen("min_rating") or 1,
                      max_rating=chosen("max_rating") or 5,
                      progress=None if chosen("quiet") else _download_progress)


def _run_family(family, spec, options, args, name: str) -> int:
    """Prepare the run, drive its trainer to the end, print what the family says of each event, save
    the weights if asked (diverged runs keep their last good ones).  Exit status 1 when the loss
    exploded, with the layer where it did; Ctrl+C stops between mini-batches."""
    from .model import save_weights
    from .training import ChunkEvent, Finished, RunStarted
    from .training.metrics import JsonLinesWriter

    run = family.prepare(spec, options)
    for note in run.notes:
        print(f"note: {note}", file=sys.stderr)
    if run.description:
        print(f"{name}: {run.description}", file=sys.stderr)
    writer = JsonLinesWriter(args.metrics_out) if getattr(args, "metrics_out", None) else None
    show_bar = run.steps_per_epoch is not None and not getattr(args, "quiet", False) and sys.stderr.isatty()
    finished = None
    try:
        for event in run.trainer.run():
            if writer:
                writer.append(event)
            if isinstance(event, Finished):
                finished = event
            elif isinstance(event, RunStarted):
                print(f"{event.label}: {event.description}", file=sys.stderr)
            elif isinstance(event, ChunkEvent) and show_bar:
                done = event.first_step + event.steps - (event.epoch - 1) * run.steps_per_epoch
                _progress_bar(done, run.steps_per_epoch, f"epoch {event.epoch}/{run.epochs}  "
                              f"loss {event.losses[-1]:.4f}")
            line = family.event_line(event, run)
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
    for line in family.summary(run):
        print(line)
    if getattr(args, "save_weights", None):
        save_weights(args.save_weights, run.model.state())
        print(f"weights saved to {args.save_weights}", file=sys.stderr)
    if finished and finished.reason == "diverged":
        print(f"playground: error: {finished.message}", file=sys.stderr)
        return 1
    return 0


def _download_progress(done: int, total: int) -> None:
    if sys.stderr.isatty():
        _progress_bar(done, total, f"downloading {done / 1e6:.1f}/{total / 1e6:.1f} MB")
        if done >= total:
            sys.stderr.write("\n")


def command_new(args) -> int:
    from .engine.costs import check_cost_fits, default_cost_for
    from .model import save_spec, sequential_spec

    output = args.output or args.activation
    cost = args.cost or default_cost_for(output)
    problem = check_cost_fits(cost, output)
    if problem:
        raise UserError(problem)
    spec = sequential_spec(args.sizes, activation=args.activation, output=output, cost=cost,
                           initializer=args.init, name=args.out.stem)
    save_spec(spec, args.out)
    print(f"wrote {args.out}: {'-'.join(map(str, args.sizes))} {args.activation}, {output} output, {cost} cost")
    return 0


def command_lessons(args) -> int:
    """The lessons chapter by chapter, in the order the lecture teaches them (the Lessons menu's order)."""
    from .training.lessons import curriculum, load_lesson

    for number, chapter in enumerate(curriculum(), start=1):
        print(f"{number}. {chapter.title}")
        for name in chapter.lessons:
            print(f"   {name:<28} {(load_lesson(name).lesson or {}).get('title', '')}")
        if not chapter.lessons:
            print("   (coming)")
    return 0


def command_download(args) -> int:
    from .datasets import download

    folder = download(args.name, progress=_download_progress)
    print(f"{args.name} is in {folder}")
    return 0


def command_bench(args) -> int:
    if args.gui:
        from .gui.bench import run_gui_benchmark
        return run_gui_benchmark(json_output=args.json, quick=args.quick, lesson=args.bench_lesson)
    from .bench import run_benchmarks
    return run_benchmarks(json_output=args.json, quick=args.quick)


def command_ratings(args) -> int:
    """``ratings``: train the collaborative-filtering RBM, print per-epoch RMSE, then RBM against the baselines."""
    from .training.families import family_named

    return _run_family(family_named("ratings"), None, _run_options(args), args, "ratings")


def command_window(args) -> int:
    try:
        from .gui.app import run_app
    except ImportError as error:
        raise UserError(f"the window cannot start: {error}") from None
    return run_app(lesson=args.lesson, train_seconds=args.train_seconds, screenshot=args.screenshot,
                   panel=args.panel, data_dir=args.window_data_dir)


COMMANDS = {"train": command_train, "new": command_new, "lessons": command_lessons, "download": command_download,
            "bench": command_bench, "ratings": command_ratings, None: command_window}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except _user_errors() as error:
        print(f"playground: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # a bug: still one line for the user, the traceback on request
        if os.environ.get("PLAYGROUND_DEBUG"):
            raise
        print(f"playground: internal error: {error.__class__.__name__}: {error} "
              f"(set PLAYGROUND_DEBUG=1 for details)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
