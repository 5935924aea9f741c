"""The ``playground`` command: the window by default, and headless sub-commands.

    playground                      open the window (vanishing-gradients lesson)
    playground FILE.json|FILE.npz   open a network or a project in the window
    playground train NET|LESSON     train from the terminal
    playground lr-find NET|LESSON   the learning-rate finder: suggest a range for η
    playground new mlp 784,30,10    write a network file
    playground export NET --to pytorch|onnx -o DIR    PyTorch code and weights, or ONNX
    playground import model.pt|model.onnx -o PROJECT.npz  a model trained elsewhere, as a project
    playground lessons              list the lessons
    playground download mnist       fetch a dataset into the cache
    playground bench                measure the engine against numpy and PyTorch
    playground ratings              an RBM fills in held-out ratings (--data-file user,item,rating CSV)
    playground sweep EXPERIMENT     train an experiment's variants side by side (--workers, --cluster, --out)

Bad input ends with one line on stderr and a non-zero exit, never a traceback
(set PLAYGROUND_DEBUG=1 to see one).

Modules, for finding your way:
    parser     the arguments: argument types, the window's options, one sub-parser per command
    train      ``train`` and ``ratings``: one run through the family registry
    lr_find    ``lr-find``: the range test, drawn in the terminal
    sweep      ``sweep``: an experiment's variants, a bar per running trial, the best variants
    interop    ``export`` and ``import``: PyTorch and ONNX
    commands   ``new``, ``lessons``, ``download``, ``bench``, and the window
    progress   the progress bar on stderr
    errors     which failures are the user's to fix
"""

from __future__ import annotations

import os
import sys

from ..exits import EXIT_BAD_INPUT
from .commands import command_bench, command_download, command_lessons, command_new, command_window
from .errors import user_errors
from .interop import command_export, command_import
from .lr_find import command_lr_find
from .parser import build_parser, take_window_file
from .sweep import command_sweep
from .train import command_ratings, command_train

COMMANDS = {
    "train": command_train,
    "lr-find": command_lr_find,
    "new": command_new,
    "lessons": command_lessons,
    "download": command_download,
    "bench": command_bench,
    "ratings": command_ratings,
    "sweep": command_sweep,
    "export": command_export,
    "import": command_import,
    None: command_window,
}


def main(argv: list[str] | None = None) -> int:
    path, argv = take_window_file(sys.argv[1:] if argv is None else list(argv), COMMANDS)
    args = build_parser().parse_args(argv)
    args.file = path
    try:
        return COMMANDS[args.command](args)
    except user_errors() as error:
        print(f"playground: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # a bug: still one line for the user, the traceback on request
        if os.environ.get("PLAYGROUND_DEBUG"):
            raise
        print(
            f"playground: internal error: {error.__class__.__name__}: {error} (set PLAYGROUND_DEBUG=1 for details)",
            file=sys.stderr,
        )
        return 1
