"""The ``playground`` command's arguments: the window's options, one sub-parser per command, and
argument types that reject a bad number at the door, naming the option, before anything runs."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from ..exits import EXIT_BAD_INPUT


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


def _window_options() -> argparse.ArgumentParser:
    """The window's options, which the command line takes when no sub-command is given."""
    options = _Parser(prog="playground", add_help=False)
    options.add_argument("--lesson", help="open the window with this lesson loaded")
    options.add_argument(
        "--train-seconds",
        type=_non_negative_float,
        default=None,
        help="train for this many seconds after opening (with --screenshot)",
    )
    options.add_argument("--screenshot", type=Path, help="save a PNG of the window, then quit")
    options.add_argument(
        "--panel",
        help="dashboard tab to show: loss, gradients, weights, activations, data, evaluation, "
        "filters, feature-maps, convolution, augmentation, cost, compare, backprop, neuron, bumps, descent, "
        "chain, lr-finder, experiments or parallel",
    )
    options.add_argument(
        "--data-dir",
        type=Path,
        dest="window_data_dir",
        help="folder of IDX files (MNIST, Fashion-MNIST) for the window",
    )
    return options


def take_window_file(argv: list[str], commands) -> tuple[str | None, list[str]]:
    """``playground FILE [options]``: the file to open in the window, and the arguments without it.

    argparse cannot put an optional positional beside sub-commands (it reads FILE as an unknown
    command), so the first word that is neither a window option nor its value is taken out first
    when it looks like a file (a .json or .npz name, or a path that exists) and no word names one
    of the ``commands``; anything else, a mistyped command included, is left to argparse as before.
    """
    _, rest = _window_options().parse_known_args(argv)
    if not rest or any(word in commands for word in rest):
        return None, argv
    if not (Path(rest[0]).suffix.lower() in (".json", ".npz") or Path(rest[0]).exists()):
        return None, argv
    index = argv.index(rest[0])
    return rest[0], argv[:index] + argv[index + 1 :]


def build_parser() -> argparse.ArgumentParser:
    from ..datasets.catalog import CATALOGUE, DOWNLOADABLE
    from ..engine.activations import ACTIVATIONS
    from ..engine.costs import COSTS
    from ..engine.initializers import INITIALIZERS

    # every data set but a recurrent network's: the adding problem is its only one, built from its file
    switchable = tuple(name for name, entry in CATALOGUE.items() if entry.kind != "sequence")

    parser = _Parser(
        prog="playground",
        parents=[_window_options()],
        description="Build neural networks and watch them learn. `playground FILE.json|FILE.npz` "
        "opens a network or a project in the window.",
    )
    commands = parser.add_subparsers(dest="command", parser_class=_Parser)

    train = commands.add_parser("train", help="train a network file or a lesson from the terminal")
    train.add_argument("network", help="a network .json file, or a lesson name (see `playground lessons`)")
    train.add_argument("--dataset", choices=switchable)
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
    train.add_argument(
        "--reverse-source",
        choices=("yes", "no"),
        help="encoder-decoders: feed each source sequence backwards (Sutskever et al.)",
    )
    train.add_argument("--beam-width", type=_positive_int, help="encoder-decoders: beam width (1: greedy decoding)")

    export = commands.add_parser("export", help="write a network as PyTorch code and weights, or as ONNX")
    export.add_argument("network", help="a network .json file, a project .npz, or a lesson name")
    export.add_argument("--to", choices=("pytorch", "onnx"), default="pytorch", help="what to write")
    export.add_argument("-o", "--out", type=Path, required=True, help="the folder to write into")
    export.add_argument("--weights", type=Path, help="export these weights (.npz) instead of the file's")

    bring_in = commands.add_parser("import", help="a PyTorch state_dict or an ONNX model as a playground project")
    bring_in.add_argument("model", type=Path, help="a .pt state_dict or a .onnx model")
    bring_in.add_argument("--as", dest="network", type=Path, help="the network file it was trained as (.json)")
    bring_in.add_argument("-o", "--out", type=Path, required=True, help="the project to write (.npz)")

    finder = commands.add_parser(
        "lr-find", help="the learning-rate finder: train briefly while η rises, suggest a range (Smith's test)"
    )
    finder.add_argument("network", help="a network .json file, or a lesson name (see `playground lessons`)")
    finder.add_argument("--dataset", choices=switchable)
    finder.add_argument("--data-dir", type=Path, help="folder of IDX files (MNIST, Fashion-MNIST or any IDX pair)")
    finder.add_argument("--batch-size", type=_positive_int)
    finder.add_argument("--seed", type=_non_negative_int)
    finder.add_argument("--train-limit", type=_positive_int, help="use only the first N training examples")
    finder.add_argument("--start", type=_positive_float, default=1e-5, help="the first η (default 1e-5)")
    finder.add_argument("--end", type=_positive_float, default=10.0, help="the last η (default 10)")
    finder.add_argument("--steps", type=_positive_int, default=400, help="mini-batches, one η each (default 400)")
    finder.add_argument("--out", type=Path, help="write every step's η and loss, and the suggestion, as JSON")

    new = commands.add_parser("new", help="write a network file")
    new.add_argument("kind", choices=["mlp"])
    new.add_argument("sizes", type=_layer_sizes, help="layer sizes, e.g. 784,30,10")
    new.add_argument("--activation", choices=tuple(a for a in ACTIVATIONS if a != "softmax"), default="sigmoid")
    new.add_argument(
        "--output", choices=("sigmoid", "softmax", "linear"), help="output activation (default: the hidden one)"
    )
    new.add_argument("--cost", choices=tuple(COSTS), help="default: the one that matches the output")
    new.add_argument("--init", choices=tuple(INITIALIZERS), default="normal-scaled")
    new.add_argument("-o", "--out", type=Path, required=True)

    commands.add_parser("lessons", help="list the lessons")

    download = commands.add_parser("download", help="download a dataset into the cache")
    download.add_argument("name", choices=DOWNLOADABLE)

    bench = commands.add_parser("bench", help="measure the engine against numpy and PyTorch references")
    bench.add_argument("--json", action="store_true", help="one JSON object per workload")
    bench.add_argument("--quick", action="store_true", help="shorter runs")
    bench.add_argument("--gui", action="store_true", help="measure the window's responsiveness while training")
    bench.add_argument(
        "--lesson",
        dest="bench_lesson",
        default="vanishing-gradients",
        help="the lesson the window trains with --gui (default: vanishing-gradients)",
    )
    bench.add_argument(
        "--sweep", action="store_true", help="only the sweep: 8 variants side by side against one after another"
    )
    bench.add_argument(
        "--cold-start",
        action="store_true",
        help="time to the first training step per family, each in a fresh process, on an empty and a filled "
        "numba cache",
    )
    bench.add_argument("--data-dir", type=Path, help="folder of the MNIST IDX files for the sweep workload")
    bench.add_argument("--workload", metavar="NAME", help="only this workload (e.g. lstm; default: all of them)")
    bench.add_argument(
        "--rounds",
        type=_positive_int,
        help="rounds in which the contenders take turns (default 3, 2 with --quick, 5 with --under-load)",
    )
    bench.add_argument(
        "--under-load",
        action="store_true",
        help="with a busy loop keeping one core busy: the engine at its own thread count against one thread",
    )
    bench.add_argument("--pin-load", action="store_true", help="with --under-load: pin the busy loop to core 0")
    bench.add_argument(
        "--scale",
        action="store_true",
        help="seconds per epoch of 50,000 images for cnn-mnist and the 784-1000-500-250-30 autoencoder, and memory",
    )
    bench.add_argument("--soak", action="store_true", help="train each lab in the window and watch its memory")
    bench.add_argument("--minutes", type=_positive_float, default=10.0, help="minutes per lab with --soak (default 10)")
    bench.add_argument(
        "--lab",
        dest="soak_labs",
        action="append",
        choices=("dashboard", "cnn", "rbm", "sequence"),
        help="with --soak: only this lab (repeat for several; default: all four)",
    )

    sweep = commands.add_parser("sweep", help="train an experiment's variants side by side (a hyper-parameter search)")
    sweep.add_argument("experiment", type=Path, help="an experiment .json file (see the README's Experiments)")
    sweep.add_argument(
        "--workers", type=_positive_int, help="runs at once (default: every core, or every cluster thread)"
    )
    sweep.add_argument("--cluster", metavar="ADDRESS", help="run on this Dask scheduler, e.g. tcp://HOST:8786")
    sweep.add_argument(
        "--out", type=Path, help="folder for the study, metrics and summary (default: EXPERIMENT-results beside it)"
    )
    sweep.add_argument("--data-dir", type=Path, help="folder of IDX files (MNIST, Fashion-MNIST or any IDX pair)")
    sweep.add_argument(
        "--save-weights", action="store_true", help="keep each run's trained weights in the folder (weights/)"
    )
    sweep.add_argument("--quiet", action="store_true", help="no progress bars")

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
