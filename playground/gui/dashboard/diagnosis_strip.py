"""The diagnosis strip above the dashboard's tabs: one line per problem the run shows now.

It reads the ``DashboardModel``'s history (``training.diagnosis`` does the judging, Qt-free)
and says each problem in one sentence with a link to the lesson that explains it; a click
on the link emits ``lessonRequested`` with the lesson's name, which the window loads.  The
strip is hidden while nothing is wrong.  It judges at most every ``INTERVAL`` seconds and
only when the history changed: the figures it reads are means over the last mini-batches and
a few epoch records, well under a millisecond.
"""

from __future__ import annotations

import html
import time

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from ...training.diagnosis import Flag, diagnose, layer_activations
from ...training.lessons import load_lesson
from .common import DashboardModel

#: the least time between two judgements, in seconds
INTERVAL = 0.5
#: flags shown at once (the rest are counted on the last line)
MOST_SHOWN = 3
_STYLE = "background: #FEF3C7; color: #78350F; border: 1px solid #F59E0B; border-radius: 3px; padding: 3px 6px;"


def lesson_title(name: str) -> str:
    """The lesson's title for the link ("the vanishing-gradients lesson" if it cannot be read)."""
    try:
        return (load_lesson(name).lesson or {}).get("title") or name
    except Exception:  # noqa: BLE001 - a link names the lesson either way
        return name


class DiagnosisStrip(QWidget):
    """Flags from ``diagnose``, one label each, with a link to the lesson."""

    lessonRequested = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.setSpacing(2)
        self.labels: list[QLabel] = []
        for _ in range(MOST_SHOWN):
            label = QLabel()
            label.setTextFormat(Qt.TextFormat.RichText)
            label.setWordWrap(True)
            label.setStyleSheet(_STYLE)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.LinksAccessibleByMouse)
            label.linkActivated.connect(self._link)
            label.hide()
            layout.addWidget(label)
            self.labels.append(label)
        self.flags: list[Flag] = []
        self._seen: tuple = ()
        self._judged_at = -INTERVAL
        self._titles: dict[str, str] = {}
        self.hide()

    def _link(self, href: str) -> None:
        if href.startswith("lesson:"):
            self.lessonRequested.emit(href.partition(":")[2])

    def refresh(self, model: DashboardModel, force: bool = False) -> bool:
        """Judge the history again if it changed (and ``INTERVAL`` has passed); True if the flags changed."""
        seen = (model.history_version, model.context_version, id(model.history))
        now = time.perf_counter()
        if seen == self._seen or (not force and now - self._judged_at < INTERVAL):
            return False
        self._seen, self._judged_at = seen, now
        flags = diagnose(model.history, layer_activations(model.network_spec))
        if flags == self.flags:
            return False
        self.show_flags(flags)
        return True

    def show_flags(self, flags: list[Flag]) -> None:
        self.flags = list(flags)
        shown = flags[:MOST_SHOWN]
        for k, label in enumerate(self.labels):
            if k >= len(shown):
                label.hide()
                continue
            flag = shown[k]
            title = self._titles.get(flag.lesson)
            if title is None:
                title = self._titles[flag.lesson] = lesson_title(flag.lesson)
            more = ""
            if k == len(shown) - 1 and len(flags) > MOST_SHOWN:
                more = f" <i>(and {len(flags) - MOST_SHOWN} more)</i>"
            text = (
                f"⚠ {html.escape(flag.message)} <a href='lesson:{flag.lesson}'>Lesson: {html.escape(title)}</a>{more}"
            )
            if label.text() != text:
                label.setText(text)
            label.setToolTip(f"Opens the lesson “{title}”, which explains this.")
            label.show()
        self.setVisible(bool(flags))

    def texts(self) -> list[str]:
        """The flags' sentences, as shown (for tests and screenshots)."""
        return [flag.message for flag in self.flags]
