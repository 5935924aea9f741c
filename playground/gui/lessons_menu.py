"""The Lessons menu: one submenu per chapter of the curriculum, its lessons in teaching order.

A chapter with no lesson yet stays in the menu, greyed out and marked "(coming)", so the learner
sees the whole course and where each lesson sits in it.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QMenu

from ..model import NetworkFileError
from ..training.lessons import curriculum, load_lesson


def fill_lessons_menu(menu: QMenu, open_lesson: Callable[[str], object]) -> None:
    """Add the chapters to ``menu``; choosing a lesson calls ``open_lesson`` with its name.
    A lesson file that does not load is left out rather than breaking the whole menu."""
    for number, chapter in enumerate(curriculum(), start=1):
        submenu = menu.addMenu(f"&{number}. {chapter.title}" + ("" if chapter.lessons else " (coming)"))
        submenu.menuAction().setEnabled(bool(chapter.lessons))
        for name in chapter.lessons:
            try:
                title = (load_lesson(name).lesson or {}).get("title") or name
            except NetworkFileError:
                continue
            action = submenu.addAction(f"{name}: {title}")
            action.triggered.connect(lambda _=False, n=name: open_lesson(n))
