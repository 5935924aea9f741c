"""Small widgets and helpers the window and the labs use."""

from __future__ import annotations

import math
import threading

from PySide6.QtCore import QEventLoop, Qt, QTimer, Signal
from PySide6.QtWidgets import QComboBox, QDockWidget, QDoubleSpinBox, QLabel, QSizePolicy


class LearningRateBox(QDoubleSpinBox):
    """η, shown compactly (0.5, 1e-05) and stepped by factors of two."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setRange(1e-9, 1e4)  # the limits of the training settings
        self.setDecimals(12)
        self.setKeyboardTracking(False)
        self.setMinimumWidth(90)
        self.setToolTip("Learning rate η. It can be changed while training runs.")

    def textFromValue(self, value: float) -> str:
        return f"{value:.6g}"

    def valueFromText(self, text: str) -> float:
        try:
            return float(text)
        except ValueError:
            return self.value()

    def validate(self, text, pos):
        from PySide6.QtGui import QValidator

        try:
            value = float(text)
            state = QValidator.Acceptable if self.minimum() <= value <= self.maximum() else QValidator.Intermediate
        except ValueError:
            state = QValidator.Intermediate
        return state, text, pos

    def stepBy(self, steps: int) -> None:
        self.setValue(self.value() * 2.0**steps)


#: the speed control's choices, in steps a second (None: full speed)
PACES = (None, 1000.0, 300.0, 100.0, 30.0, 10.0, 3.0, 1.0)


def pace_text(pace: float | None) -> str:
    if pace is None:
        return "Full speed"
    return "1 step/s" if pace == 1 else f"{pace:g} steps/s"


class PaceBox(QComboBox):
    """Full speed, or slow motion at one of ``PACES``; ``paceChanged`` carries steps a second."""

    paceChanged = Signal(object)

    def __init__(self, parent=None):
        super().__init__(parent)
        for pace in PACES:
            self.addItem(pace_text(pace), pace)
        self.setToolTip("How fast training runs: full speed, or slow motion down to one step a second")
        self.currentIndexChanged.connect(lambda index: self.paceChanged.emit(self.itemData(index)))

    def pace(self) -> float | None:
        return self.currentData()

    def set_pace(self, pace: float | None) -> None:
        """Choose ``pace``, or the nearest of ``PACES`` to it."""
        if pace is None:
            self.setCurrentIndex(0)
            return
        nearest = min(range(1, len(PACES)), key=lambda i: abs(math.log(PACES[i] / pace)))
        self.setCurrentIndex(nearest)


def add_dock(window, title: str, widget, name: str, area=Qt.LeftDockWidgetArea) -> QDockWidget:
    """``widget`` in a movable, closable, floatable dock of ``window`` (``name`` keeps its place)."""
    dock = QDockWidget(title, window)
    dock.setObjectName(name)
    dock.setWidget(widget)
    dock.setFeatures(QDockWidget.DockWidgetMovable | QDockWidget.DockWidgetClosable | QDockWidget.DockWidgetFloatable)
    window.addDockWidget(area, dock)
    return dock


class ElidedLabel(QLabel):
    """One line of text, shortened with "…" to the width the layout gives it, the whole of it in
    the tooltip.  It never asks for more width than it has: a plain QLabel's list of compared
    runs once widened the window from 1,280 to 4,071 px."""

    def __init__(self, text: str = "", parent=None):
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self._full = ""
        self.setText(text)

    def setText(self, text: str) -> None:
        self._full = text
        self.setToolTip(text)
        self._elide()

    def full_text(self) -> str:
        return self._full

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        super().setText(self.fontMetrics().elidedText(self._full, Qt.ElideRight, max(self.width(), 0)))


def call_off_gui_thread(window, function, *args):
    """``function(*args)`` on a thread of its own while the GUI thread goes on painting and ticking
    (a nested event loop), for work whose caller needs the answer before it can go on: File › Open
    reads and checks a file from anyone, which may take a while before it is refused.  ``window``
    takes no input meanwhile, so nothing else can start.  Returns the result, or raises what
    ``function`` raised."""
    outcome: dict = {}

    def work():
        try:
            outcome["value"] = function(*args)
        except BaseException as error:  # noqa: BLE001 - handed back to the caller, as it was raised
            outcome["error"] = error

    thread = threading.Thread(target=work, name="playground-open", daemon=True)
    loop = QEventLoop()
    poll = QTimer()
    poll.setInterval(5)
    poll.timeout.connect(lambda: None if thread.is_alive() else loop.quit())
    window.setEnabled(False)
    try:
        thread.start()
        poll.start()
        loop.exec()
        thread.join()
    finally:
        poll.stop()
        window.setEnabled(True)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]
