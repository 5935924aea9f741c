"""The Lessons menu groups the lessons by chapter, in the curriculum's order; a lesson opens on the
panel its file names."""

from __future__ import annotations

import dataclasses

from playground.model import sequential_spec
from playground.training.lessons import curriculum, lesson_names, load_lesson


def _lessons_menu(window):
    return next(action.menu() for action in window.menuBar().actions() if action.text() == "&Lessons")


def test_the_lessons_menu_has_one_submenu_per_chapter_in_order(make_window):
    window = make_window()
    chapters = [action for action in _lessons_menu(window).actions() if action.menu() is not None]
    assert [action.text() for action in chapters] == [
        f"&{number}. {chapter.title}" + ("" if chapter.lessons else " (coming)")
        for number, chapter in enumerate(curriculum(), start=1)
    ]
    for action, chapter in zip(chapters, curriculum()):
        assert [entry.text().split(":")[0] for entry in action.menu().actions()] == list(chapter.lessons)
        assert action.isEnabled() == bool(chapter.lessons)


def test_choosing_a_lesson_in_the_menu_loads_it(make_window):
    window = make_window()
    chapter = next(
        action.menu()
        for action in _lessons_menu(window).actions()
        if action.menu() is not None and "parity" in action.text()
    )
    next(entry for entry in chapter.actions() if entry.text().startswith("parity:")).trigger()
    assert window.document.spec.name == "parity"


def test_each_lesson_opens_on_the_panel_its_file_names(make_window):
    window = make_window()
    for name in lesson_names():
        assert window.load_lesson(name)
        panel = load_lesson(name).lesson["panel"]
        lab = window.active_lab()
        if lab is None:
            assert window.dashboard.currentWidget() is window.dashboard.panel_named(panel), name
        else:  # a lab replaces the dashboard and has tabs of its own, one for the lesson's panel
            assert lab.current_view() is lab.lesson_views()[panel], name


def test_a_network_without_a_lesson_opens_on_its_data_where_that_can_be_drawn(make_window):
    window = make_window()
    plane = sequential_spec([2, 4, 2], activation="tanh", output="softmax", cost="log-likelihood", initializer="xavier")
    plane.dataset = dataclasses.replace(plane.dataset, name="circle")
    digits = sequential_spec(
        [784, 4, 10], activation="sigmoid", output="softmax", cost="log-likelihood", initializer="xavier"
    )
    for spec, panel in ((plane, "data"), (digits, "loss")):
        assert window._replace(spec)
        assert window.dashboard.currentWidget() is window.dashboard.panel_named(panel), panel


def test_a_window_warms_the_kernels_of_each_lesson_it_shows(make_window, monkeypatch):
    warmed = []
    monkeypatch.setattr(
        "playground.gui.main_window.start_warm_up", lambda spec, options: warmed.append((spec.name, options.compare))
    )
    window = make_window(load_lesson("vanishing-gradients"), warm_up=True)
    assert window.load_lesson("cnn-mnist")
    # the first variant alone: a comparison's variants train one after another, the first one first
    assert warmed == [("vanishing-gradients", False), ("cnn-mnist", False)]


def test_a_window_told_not_to_warm_up_starts_no_warm_up(make_window, monkeypatch):
    warmed = []
    monkeypatch.setattr("playground.gui.main_window.start_warm_up", lambda spec, options: warmed.append(spec.name))
    window = make_window(load_lesson("vanishing-gradients"), warm_up=False)
    assert window.load_lesson("cnn-mnist")
    assert warmed == []
