"""The lesson's side panel: what to do, what to watch, and why it happens, in plain words."""

from __future__ import annotations

import html

from PySide6.QtWidgets import QTextBrowser

SECTIONS = (("what_to_do", "What to do"), ("what_to_watch", "What to watch"), ("why", "Why it happens"))


def lesson_html(spec) -> str:
    lesson = spec.lesson or {}
    if not lesson:
        return (
            "<h3>Your own network</h3><p>Drag layers from the palette onto the canvas, connect them, and "
            "press <b>Train</b>. The <b>Lessons</b> menu has guided experiments.</p>"
        )
    parts = [f"<h3>{html.escape(str(lesson.get('title') or spec.name or 'Lesson'))}</h3>"]
    for key, title in SECTIONS:
        text = lesson.get(key)
        if text:
            parts.append(f"<p><b>{title}.</b> {html.escape(str(text))}</p>")
    return "\n".join(parts)


class LessonPanel(QTextBrowser):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setOpenExternalLinks(False)
        self.setReadOnly(True)
        self.document().setDefaultStyleSheet("h3 { margin-bottom: 4px; } p { margin-top: 2px; line-height: 125%; }")
        self.setStyleSheet("QTextBrowser { border: none; padding: 6px; font-size: 13px; }")
        self._shown = None

    def set_lesson(self, spec) -> None:
        text = lesson_html(spec)
        if text != self._shown:
            self._shown = text
            self.setHtml(text)
