"""The window's actions and menus, declared as data (as napari declares its ``qactions``).

Each ``Command`` names the window method it calls, its shortcut, icon and tip; ``MENUS`` lists,
per menu, the commands in order (``None`` is a separator, ``"canvas:NAME"`` one of the editor's
own actions, and ``"panel:NAME"`` shows a dashboard panel).  Adding a menu entry is one line
here; ``install`` builds the ``QAction`` objects and the menu bar from these tables.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QStyle, QToolBar

S = QStyle.StandardPixmap


@dataclass(frozen=True)
class Command:
    """One action: ``window.<name>_action`` calls ``window.<method>()``."""

    name: str
    text: str
    method: str
    shortcut: str | QKeySequence.StandardKey | None = None
    icon: QStyle.StandardPixmap | None = None
    tip: str = ""


COMMANDS = (
    Command("train", "Train", "train", None, S.SP_MediaPlay, "Start training, or continue a paused run (Space)"),
    Command("pause", "Pause", "pause", None, S.SP_MediaPause, "Pause training (Space)"),
    Command("toggle", "Train / Pause", "toggle_training", "Space", None, "Start or pause training"),
    Command("step", "Step", "step", "Ctrl+Right", S.SP_MediaSkipForward, "Train one mini-batch, then pause"),
    Command("stop", "Stop", "stop", None, S.SP_MediaStop, "End this run (the weights and curves are kept)"),
    Command("reset", "Reset", "reset", "Ctrl+R", S.SP_BrowserReload, "Re-initialise the weights and start a new run"),
    Command("keep", "Keep Run for Comparison", "keep_current_run", tip="Add the current run to Compare runs"),
    Command(
        "find_lr",
        "Find Learning Rate",
        "find_learning_rate",
        tip="Train briefly while η rises, and see which learning rates train (Smith's range test)",
    ),
    Command("new", "&New", "new_project", QKeySequence.New),
    Command("open", "&Open…", "open_dialog", QKeySequence.Open),
    Command("save", "&Save", "save", QKeySequence.Save),
    Command("save_as", "Save &As…", "save_as", QKeySequence.SaveAs),
    Command("save_json", "Save Network as JSON…", "save_network_json"),
    Command("export_png", "Export Plot as PNG…", "export_plot"),
    Command("export_csv", "Export Metrics as CSV…", "export_csv"),
    Command(
        "export_pytorch",
        "Export to PyTorch…",
        "export_to_pytorch",
        tip="Write the network as PyTorch code (model.py, train.py) with its weights (weights.pt)",
    ),
    Command("export_onnx", "Export to ONNX…", "export_to_onnx", tip="Write the network and its weights as model.onnx"),
    Command(
        "import_model",
        "Import PyTorch or ONNX Model…",
        "import_model_dialog",
        tip="Open a model trained elsewhere (a PyTorch state_dict or an ONNX file) with its weights",
    ),
    Command("quit", "&Quit", "close", QKeySequence.Quit),
    Command("about", "About", "about"),
)

#: the dashboard panels the View menu shows: (panel, label, shortcut)
PANELS = (
    ("loss", "Loss && Accuracy", "Ctrl+1"),
    ("gradients", "Gradients", "Ctrl+2"),
    ("weights", "Weights", "Ctrl+3"),
    ("activations", "Activations", "Ctrl+4"),
    ("data", "Decision Boundary / Function Fit", "Ctrl+5"),
    ("compare", "Compare Runs", "Ctrl+6"),
    ("lr-finder", "Learning-Rate Finder", None),
    ("experiments", "Experiments", None),
    ("parallel", "Parallel Speed-Up", None),
    ("evaluation", "Evaluation (Confusion Matrix, Mistakes)", "Ctrl+7"),
    ("filters", "Filters", None),
    ("feature-maps", "Feature Maps", None),
    ("convolution", "The Convolution Explained", None),
    ("augmentation", "Augmentation Preview", None),
)

#: the menu bar: (title, entries); "recent", "docks", "lessons" and "datasets" are built by the window
MENUS = (
    (
        "&File",
        (
            "new",
            "open",
            "recent",
            "import_model",
            None,
            "save",
            "save_as",
            "save_json",
            None,
            "export_pytorch",
            "export_onnx",
            "export_png",
            "export_csv",
            None,
            "quit",
        ),
    ),
    ("&Edit", ("undo", "redo", None, "canvas:delete", "canvas:copy", "canvas:paste", "canvas:select_all")),
    (
        "&View",
        (
            "canvas:auto_layout",
            "canvas:zoom_in",
            "canvas:zoom_out",
            "canvas:fit",
            None,
            "docks",
            None,
            *(f"panel:{name}" for name, _, _ in PANELS),
        ),
    ),
    ("&Training", ("toggle", "train", "pause", "step", "stop", "reset", None, "keep", None, "find_lr")),
    ("&Lessons", ("lessons",)),
    ("&Dataset", ("datasets",)),
    ("&Help", ("about",)),
)


#: the toolbar's commands, in order; the window adds its own widgets after them
TOOLBAR = ("train", "pause", "step", "stop", "reset")


def install_toolbar(window, widgets) -> QToolBar:
    """The training toolbar: the ``TOOLBAR`` commands, a separator, then ``widgets``."""
    toolbar = QToolBar("Training", window)
    toolbar.setObjectName("training-toolbar")
    toolbar.setMovable(False)
    toolbar.setToolButtonStyle(Qt.ToolButtonTextBesideIcon)
    toolbar.addActions([getattr(window, f"{name}_action") for name in TOOLBAR])
    toolbar.addSeparator()
    for widget in widgets:
        toolbar.addWidget(widget)
    window.addToolBar(Qt.TopToolBarArea, toolbar)
    return toolbar


def make_action(window, text: str, slot, shortcut=None, icon=None, tip: str = "") -> QAction:
    """A window-wide action calling ``slot``."""
    action = QAction(text, window)
    if icon is not None:
        action.setIcon(window.style().standardIcon(icon))
    if shortcut is not None:
        action.setShortcuts([QKeySequence(shortcut)])
    if tip:
        action.setToolTip(tip)
        action.setStatusTip(tip)
    action.triggered.connect(lambda _=False: slot())
    window.addAction(action)
    return action


def install(window, special_entries) -> dict[str, QAction]:
    """Build every ``Command`` as ``window.<name>_action`` and the menu bar from ``MENUS``;
    ``special_entries`` maps "recent", "docks", "lessons", "datasets" to ``fill(menu)``
    functions, and "undo"/"redo" to their actions.  Returns the actions by name."""
    actions = dict(special_entries.get("actions", {}))
    for command in COMMANDS:
        action = make_action(
            window, command.text, getattr(window, command.method), command.shortcut, command.icon, command.tip
        )
        setattr(window, f"{command.name}_action", action)
        actions[command.name] = action
    for name, label, shortcut in PANELS:
        actions[f"panel:{name}"] = make_action(window, label, lambda n=name: window.show_panel(n), shortcut)
    bar = window.menuBar()
    for title, entries in MENUS:
        menu = bar.addMenu(title)
        for entry in entries:
            if entry is None:
                menu.addSeparator()
            elif entry.startswith("canvas:"):
                menu.addAction(window.canvas.action(entry.split(":", 1)[1]))
            elif entry in special_entries:
                special_entries[entry](menu)
            else:
                menu.addAction(actions[entry])
    return actions
