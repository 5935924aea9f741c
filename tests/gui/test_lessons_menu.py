"""The Lessons menu groups the lessons by chapter, in the curriculum's order."""
from __future__ import annotations

from playground.training.lessons import curriculum


def _lessons_menu(window):
    return next(action.menu() for action in window.menuBar().actions() if action.text() == "&Lessons")


def test_the_lessons_menu_has_one_submenu_per_chapter_in_order(make_window):
    window = make_window()
    chapters = [action for action in _lessons_menu(window).actions() if action.menu() is not None]
    assert [action.text() for action in chapters] == [
        f"&{number}. {chapter.title}" + ("" if chapter.lessons else " (coming)")
        for number, chapter in enumerate(curriculum(), start=1)]
    for action, chapter in zip(chapters, curriculum()):
        assert [entry.text().split(":")[0] for entry in action.menu().actions()] == list(chapter.lessons)
        assert action.isEnabled() == bool(chapter.lessons)


def test_choosing_a_lesson_in_the_menu_loads_it(make_window):
    window = make_window()
    chapter = next(action.menu() for action in _lessons_menu(window).actions()
                   if action.menu() is not None and "parity" in action.text())
    next(entry for entry in chapter.actions() if entry.text().startswith("parity:")).trigger()
    assert window.document.spec.name == "parity"
