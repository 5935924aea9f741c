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
    from .model.files import UnwritablePath
    from .training import DataMismatch
    return (UserError, DatasetError, ConfigError, RegistryError, NetworkFileError, WeightsError, DataMismatch,
            UnwritablePath)


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
    from .engine.network import Network
    from .model import build_network, load_weights_into, network_family, with_overrides
    from .model.files import check_writable
    from .training import EpochRecord, StepChunk, Trainer
    from .training.lessons import load_network_or_lesson
    from .training.metrics import JsonLinesWriter

    for option, target in (("--save-weights", args.save_weights), ("--metrics-out", args.metrics_out)):
        if target is not None:  # a run lost to an unwritable path after training is worse than no run
            check_writable(target, option)
    spec = load_network_or_lesson(args.network)
    family = network_family(spec)
    if family != "feedforward":  # these learn differently: from a stack without labels, or from sequences
        trainer_command = {"rbm": command_train_rbm_stack, "encoder-decoder": command_train_seq2seq,
                           "recurrent": command_train_recurrent}[family]
        return trainer_command(spec, args)
    spec.training = with_overrides(spec.training, epochs=args.epochs, batch_size=args.batch_size,
                                   learning_rate=args.lr, l2=args.l2, seed=args.seed, train_limit=args.train_limit)
    spec.dataset = with_overrides(spec.dataset, name=args.dataset, label_column=args.label_column)
    if spec.dataset.name == "csv" and args.data_file is None:
        raise UserError("--dataset csv needs --data-file FILE (and --label-column NAME)")
    network: Network = build_network(spec)
    training = spec.training
    dataset = _load_dataset(spec, args)
    network.initialize(training.initializer, training.seed)
    if args.load_weights:
        load_weights_into(network, args.load_weights)
    trainer = Trainer(network, dataset, training, augmentation=spec.augmentation)
    writer = JsonLinesWriter(args.metrics_out) if args.metrics_out else None
    print(f"{spec.name or args.network}: {dataset.source}; {len(trainer.x_train)} training examples, "
          f"{network.parameter_count():,} parameters", file=sys.stderr)
    steps_per_epoch = math.ceil(len(trainer.x_train) / trainer.batch_size)
    show_bar = not args.quiet and sys.stderr.isatty()

    def show(event) -> None:
        if writer:
            writer.append(event)
        if isinstance(event, StepChunk) and show_bar:
            done = event.first_step + event.steps - (event.epoch - 1) * steps_per_epoch
            _progress_bar(done, steps_per_epoch, f"epoch {event.epoch}/{training.epochs}  loss {event.losses[-1]:.4f}")
        elif isinstance(event, EpochRecord):
            if show_bar:
                sys.stderr.write("\r" + " " * 79 + "\r")
            print(_epoch_line(event, training.epochs), flush=True)

    finished = _drive(trainer, show, writer)
    return _save_and_report(args, network, finished)


def _load_dataset(spec, args):
    """The examples a lesson or file asks for (or the command line overrides), limited to
    ``train_limit``; a note such as "using the synthetic digits" goes to stderr."""
    from .training.data import load_training_data

    dataset, note = load_training_data(spec.dataset, seed=spec.training.seed, data_dir=args.data_dir,
                                       data_file=args.data_file, chosen_by_user=args.dataset is not None,
                                       progress=None if args.quiet else _download_progress)
    if note:
        print(f"note: {note}", file=sys.stderr)
    if spec.training.train_limit:
        dataset = dataset.limit_train(spec.training.train_limit)
    return dataset


def _drive(trainer, show, writer=None):
    """Run a trainer's generator to its end, showing each event; Ctrl+C stops it between
    mini-batches, and the metrics file is closed either way.  Returns the ``Finished`` event."""
    from .training import Finished

    finished = None
    try:
        for event in trainer.run():
            if isinstance(event, Finished):
                finished = event
            else:
                show(event)
    except KeyboardInterrupt:
        trainer.control.stop()
        print("interrupted", file=sys.stderr)
    finally:
        if writer:
            writer.close()
    return finished


def _save_and_report(args, model, finished) -> int:
    """Save the weights if asked (diverged runs keep their last good ones), and the exit
    status: 1 when the loss exploded, with the layer where it did."""
    from .model import save_weights

    if args.save_weights:
        save_weights(args.save_weights, model.state())
        print(f"weights saved to {args.save_weights}", file=sys.stderr)
    if finished and finished.reason == "diverged":
        print(f"playground: error: {finished.message}", file=sys.stderr)
        return 1
    return 0


def command_train_seq2seq(spec, args) -> int:
    """``train`` for an encoder-decoder: sentence pairs in, exact match on held-out pairs out."""
    import json

    from .model import load_weights_into, with_overrides
    from .model.spec import build_encoder_decoder
    from .training.seq2seq import Seq2SeqTrainer, load_pair_corpus
    from .training.sequence_events import SequenceEpoch

    spec.training = with_overrides(spec.training, epochs=args.epochs, batch_size=args.batch_size,
                                   learning_rate=args.lr, l2=args.l2, seed=args.seed,
                                   reverse_source=args.reverse_source, beam_width=args.beam_width)
    spec.dataset = with_overrides(spec.dataset, name=args.dataset)
    training = spec.training
    model = build_encoder_decoder(spec)
    corpus = load_pair_corpus(spec.dataset, seed=training.seed, data_file=args.data_file)
    model.initialize(training.initializer, training.seed)
    if args.load_weights:
        load_weights_into(model, args.load_weights)
    trainer = Seq2SeqTrainer(model, corpus, training)
    print(f"{spec.name or args.network}: {corpus.description}; source reversed: {training.reverse_source}, "
          f"beam width {training.beam_width}; {model.parameter_count():,} parameters", file=sys.stderr)
    writer = args.metrics_out.open("w", encoding="utf-8") if args.metrics_out else None  # one line per epoch

    def show(event) -> None:
        if isinstance(event, SequenceEpoch):
            if writer:
                writer.write(json.dumps(event.record()) + "\n")
                writer.flush()
            print(f"epoch {event.epoch:>3}/{training.epochs}  loss {event.loss:.4f}  "
                  f"val loss {event.val_loss:.4f}  exact match {100 * event.exact_match:.1f}%  "
                  f"tokens {100 * event.token_accuracy:.1f}%  {event.seconds:.1f} s  {event.samples_per_s:.0f} pairs/s",
                  flush=True)

    finished = _drive(trainer, show, writer)
    if trainer.history:
        for sample in trainer.history[-1].translations[:3]:
            print(f"  {sample.source}  →  {sample.output}  ({'right' if sample.exact else sample.reference})")
    return _save_and_report(args, model, finished)


def command_train_recurrent(spec, args) -> int:
    """``train`` for a single-chain recurrent net (the adding problem): its run, then the run its
    lesson compares it with (``rnn-vs-lstm``: the same net with a SimpleRNN), on the same data."""
    import json

    import numpy as np

    from .model import save_weights, with_overrides
    from .training import Finished
    from .training.sequence_events import SequenceChunk, SequenceEpoch
    from .training.sequence_trainer import comparison_specs, sequence_trainer_for, time_decay_ratio

    spec.training = with_overrides(spec.training, epochs=args.epochs, batch_size=args.batch_size,
                                   learning_rate=args.lr, l2=args.l2, seed=args.seed)
    writer = args.metrics_out.open("w", encoding="utf-8") if args.metrics_out else None  # one line per epoch
    summary, status = [], 0
    try:
        for label, run_spec in comparison_specs(spec):
            trainer = sequence_trainer_for(run_spec)
            print(f"{label}: the adding problem, T = {run_spec.dataset.sequence_length}; {len(trainer.x_train)} "
                  f"training sequences, {trainer.network.parameter_count():,} parameters", file=sys.stderr)
            norms, finished = [], None
            for event in trainer.run():
                if isinstance(event, SequenceChunk):
                    norms.append(event.time_grad_norms)
                elif isinstance(event, SequenceEpoch):
                    if writer:
                        writer.write(json.dumps({"run": label, **event.record()}) + "\n")
                    print(f"{label:<11} epoch {event.epoch:>3}/{spec.training.epochs}  loss {event.loss:.4f}  "
                          f"val MSE {event.val_mse:.4f}  clips {event.clips_total}  {event.seconds:.1f} s", flush=True)
                elif isinstance(event, Finished):
                    finished = event
            if finished and finished.reason == "diverged":
                print(f"playground: error: {label}: {finished.message}", file=sys.stderr)
                status = 1
            if trainer.history:
                summary.append((label, trainer.history[-1].val_mse, time_decay_ratio(np.concatenate(norms))))
            if args.save_weights and run_spec is spec:
                save_weights(args.save_weights, trainer.network.state())
                print(f"weights saved to {args.save_weights}", file=sys.stderr)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
    finally:
        if writer:
            writer.close()
    for label, mse, ratio in summary:
        print(f"{label:<11} validation MSE {mse:.4f}; ‖∂C/∂h_0‖ / ‖∂C/∂h_T-1‖ = {ratio:.2e} (median over the steps)")
    return status


def command_train_rbm_stack(spec, args) -> int:
    """``train`` for a file with RBMs: greedy pretraining, then the fine-tuning its file names.

    ``--epochs`` and ``--batch-size`` set each RBM's pretraining; fine-tuning keeps the
    file's ``training`` values (``--lr`` and ``--seed`` apply to both).
    """
    import json

    from .model import Node, load_weights_into, with_overrides
    from .training import EpochRecord
    from .training.rbm_trainer import PretrainEpoch, RBMStack, RBMTrainer

    spec.pretraining = with_overrides(spec.pretraining, epochs=args.epochs, batch_size=args.batch_size)
    spec.training = with_overrides(spec.training, learning_rate=args.lr, l2=args.l2, seed=args.seed,
                                   train_limit=args.train_limit)
    if args.lr is not None:
        spec.nodes = [node if node.type != "rbm" else Node(node.id, node.type, with_overrides(
            node.config, learning_rate=args.lr)) for node in spec.nodes]
    spec.dataset = with_overrides(spec.dataset, name=args.dataset, label_column=args.label_column)
    stack = RBMStack(spec)
    dataset = _load_dataset(spec, args)
    stack.initialize(spec.training.initializer, spec.training.seed)
    if args.load_weights:
        load_weights_into(stack, args.load_weights)
    trainer = RBMTrainer(stack, dataset)
    sizes = "-".join(str(n) for n in [stack.n_visible] + [rbm.config.units for rbm in stack.rbms])
    print(f"{spec.name or args.network}: {dataset.source}; {len(trainer.x_train)} training examples, RBMs {sizes}, "
          f"fine-tuning: {spec.pretraining.fine_tune}", file=sys.stderr)
    writer = args.metrics_out.open("w", encoding="utf-8") if args.metrics_out else None  # one line per epoch

    def show(event) -> None:
        if writer and isinstance(event, (PretrainEpoch, EpochRecord)):
            writer.write(json.dumps(event.record()) + "\n")
        if isinstance(event, PretrainEpoch):
            print(_pretrain_line(event, spec.pretraining.epochs), flush=True)
        elif isinstance(event, EpochRecord):
            print("fine-tune " + _epoch_line(event, spec.training.epochs), flush=True)

    return _save_and_report(args, stack, _drive(trainer, show, writer))


def _pretrain_line(record, epochs: int) -> str:
    parts = [f"RBM {record.layer_index + 1}/{record.n_layers} ({record.layer_id})", f"epoch {record.epoch:>3}/{epochs}",
             f"recon error {record.train_reconstruction_error:.3f}", f"val {record.reconstruction_error:.3f}",
             f"free energy {record.free_energy_train:.1f} / val {record.free_energy_validation:.1f}"]
    if math.isfinite(record.pseudo_likelihood):
        parts.append(f"pseudo-LL {record.pseudo_likelihood:.1f}")
    parts.append(f"{record.seconds:.1f} s")
    return "  ".join(parts)


def _epoch_line(record, epochs: int) -> str:
    parts = [f"epoch {record.epoch:>3}/{epochs}", f"loss {record.loss:.4f}", f"val loss {record.val_loss:.4f}"]
    if record.train_accuracy is not None:
        parts += [f"train {100 * record.train_accuracy:.2f}%", f"val {100 * record.val_accuracy:.2f}%"]
    parts += [f"{record.seconds:.1f} s", f"{record.samples_per_s / 1000:.0f}k samples/s"]
    return "  ".join(parts)


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
    from .training.lessons import lesson_names, load_lesson

    for name in lesson_names():
        lesson = load_lesson(name).lesson or {}
        print(f"{name:<28} {lesson.get('title', '')}")
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
    import dataclasses

    from .datasets.ratings import load_ratings_csv, synthetic_ratings
    from .training.collaborative import RatingsRBMSettings, train_ratings_rbm

    chosen = {"hidden_units": args.hidden, "epochs": args.epochs, "batch_size": args.batch_size,
              "learning_rate": args.lr, "seed": args.seed}
    settings = dataclasses.replace(RatingsRBMSettings(), **{key: value for key, value in chosen.items()
                                                            if value is not None})
    if args.data_file is None:
        ratings = synthetic_ratings(seed=settings.seed)
    else:
        ratings = load_ratings_csv(args.data_file, min_rating=args.min_rating, max_rating=args.max_rating,
                                   seed=settings.seed)
    print(f"{ratings.source}; RBM with {settings.hidden_units} hidden units, {ratings.levels}-way softmax items",
          file=sys.stderr)
    last = None
    for last in train_ratings_rbm(ratings, settings):
        print(f"epoch {last.epoch:>3}/{last.epochs}  train RMSE {last.train_rmse:.4f}  held-out RMSE "
              f"{last.heldout_rmse:.4f}  {last.seconds:.2f} s", flush=True)
    if last is not None:
        print(f"held-out RMSE: RBM {last.heldout_rmse:.4f}  item mean {last.item_mean_rmse:.4f}  "
              f"global mean {last.global_mean_rmse:.4f}  ({len(ratings.heldout_values):,} held-out ratings)")
    return 0


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
