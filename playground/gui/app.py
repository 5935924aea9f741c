"""Starting the window: ``playground [FILE]`` (and ``--lesson``, ``--train-seconds``, ``--screenshot``)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from ..exits import EXIT_BAD_INPUT


def create_application():
    """The QApplication (created once), with the names QSettings and the title bar use,
    in a process whose numpy BLAS runs on one thread (see ``pin_numpy_blas_to_one_thread``)."""
    from PySide6.QtWidgets import QApplication

    from ..engine.blas import pin_numpy_blas_to_one_thread

    pin_numpy_blas_to_one_thread()

    app = QApplication.instance()
    if app is None:
        app = QApplication(sys.argv[:1] or ["playground"])
    app.setOrganizationName("playground")
    app.setApplicationName("playground")
    app.setApplicationDisplayName("Deep Learning Playground")
    return app


def install_error_dialog(window) -> None:
    """An unexpected exception in a slot becomes one dialog with one line (the traceback goes
    to stderr for whoever reports the bug), instead of a silent failure."""
    import traceback

    from PySide6.QtWidgets import QMessageBox

    showing = {"now": False}

    def hook(kind, value, tb):
        traceback.print_exception(kind, value, tb, file=sys.stderr)
        if showing["now"] or issubclass(kind, KeyboardInterrupt):
            return
        showing["now"] = True
        try:
            QMessageBox.critical(
                window,
                "Something went wrong",
                f"Internal error: {kind.__name__}: {value}\n\nYour work is still open. To keep a copy, use "
                f"File › Save As… with a new name, so no good file is overwritten. Please "
                f"report this (details are on the terminal).",
            )
        finally:
            showing["now"] = False

    sys.excepthook = hook


def run_app(
    lesson: str | None = None,
    train_seconds: float | None = None,
    screenshot: str | Path | None = None,
    panel: str | None = None,
    data_dir: str | Path | None = None,
    path: str | Path | None = None,
) -> int:
    """Open the main window with ``lesson`` (default: vanishing gradients), or with the network
    or project in ``path``, and run until it closes.

    With ``screenshot``: train for ``train_seconds`` (if given), save a PNG of the window
    mid-training, stop and join the worker, and exit 0.  ``panel`` picks the dashboard tab
    shown (one of ``PANEL_NAMES``); ``data_dir`` is a folder of IDX files for MNIST-like sets.
    A bad lesson, file or panel name prints one line and returns 2.
    """
    from ..model import NetworkFileError
    from ..model.project import ProjectError, open_file
    from ..training.lessons import load_lesson
    from .main_window import DEFAULT_LESSON

    try:
        if path is not None and lesson is not None:
            raise NetworkFileError(f"open {path} or the lesson {lesson}, not both")
        # the file is read here first so that a bad one is one line on the terminal, not a dialog
        spec = open_file(path).spec if path is not None else load_lesson(lesson or DEFAULT_LESSON)
    except (NetworkFileError, ProjectError) as error:
        print(f"playground: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if screenshot is not None and not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    from PySide6.QtCore import QTimer

    from .dashboard import PANEL_NAMES
    from .main_window import MainWindow

    if panel is not None and panel not in PANEL_NAMES:
        print(f"playground: error: unknown panel {panel!r} (choose from {', '.join(PANEL_NAMES)})", file=sys.stderr)
        return EXIT_BAD_INPUT

    app = create_application()
    shooting = screenshot is not None
    if shooting:
        # quit explicitly once the picture is taken: closing the last window would otherwise
        # also post a Quit event that outlives this call (and ends the caller's next event loop)
        app.setQuitOnLastWindowClosed(False)
    window = MainWindow(spec, autosave=not shooting, offer_recovery=not shooting, data_dir=data_dir)
    if shooting:
        window.ask_about_data = False  # a picture never waits for an answer
    else:
        install_error_dialog(window)
    window.show()
    if path is not None:
        window.open_path(path, ask=False)  # with its weights and history, as File › Open does
    if panel is not None:
        window.dashboard.show_panel(panel)
    outcome = {"code": 0}

    def shoot():
        window._tick()
        window.dashboard.refresh(force=True)
        app.processEvents()
        path = Path(screenshot)
        if path.parent and not path.parent.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
        if not window.grab().save(str(path), "PNG"):
            print(f"playground: error: could not write the screenshot {path}", file=sys.stderr)
            outcome["code"] = 1
        window.prompt_on_close = False
        window.close()
        app.exit(outcome["code"])

    def start():
        if train_seconds:
            window.train()
            QTimer.singleShot(int(train_seconds * 1000), shoot if shooting else window.pause)
        elif shooting:
            QTimer.singleShot(700, shoot)

    QTimer.singleShot(300, start)
    code = app.exec()
    if shooting:
        window.shutdown()
        app.setQuitOnLastWindowClosed(True)
        return outcome["code"]
    return code
