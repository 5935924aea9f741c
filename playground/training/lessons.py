"""Lessons: the network files in the ``playground.lessons`` package, each with a ``lesson``
section of text, and the curriculum that orders them into the lecture's chapters.

They are read through ``importlib.resources``, never from a path beside the source tree, so an
installed wheel finds them exactly as a checkout or an editable install does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from ..model import NetworkFileError, NetworkSpec, load_spec
from ..model.network_file import spec_from_json

#: the folder of lesson files, as ``importlib.resources`` sees it (a plain path when installed as files)
LESSONS = files("playground.lessons")
CURRICULUM_FILE = "curriculum.json"


@dataclass(frozen=True)
class Chapter:
    """One chapter of the lecture and its lessons, in teaching order; a chapter may have none yet."""

    title: str
    lessons: tuple[str, ...]


def lesson_names() -> list[str]:
    return sorted(
        entry.name.removesuffix(".json")
        for entry in LESSONS.iterdir()
        if entry.name.endswith(".json") and entry.name != CURRICULUM_FILE
    )


def curriculum() -> list[Chapter]:
    """The chapters in the lecture's order (``curriculum.json``); the tests check that every lesson
    is in exactly one chapter and that every name listed is a lesson."""
    data = json.loads((LESSONS / CURRICULUM_FILE).read_text(encoding="utf-8"))
    return [Chapter(chapter["title"], tuple(chapter["lessons"])) for chapter in data["chapters"]]


def load_lesson(name: str) -> NetworkSpec:
    if name not in lesson_names():
        raise NetworkFileError(f'no lesson called "{name}" (lessons: {", ".join(lesson_names())})')
    resource = LESSONS / f"{name}.json"
    return spec_from_json(resource.read_text(encoding="utf-8"), str(resource))


def load_network_or_lesson(argument: str) -> NetworkSpec:
    """A path to a network file, or the name of a lesson."""
    path = Path(argument)
    if path.suffix == ".json" or path.exists():
        return load_spec(path)  # from anyone: within the budgets
    if argument in lesson_names():
        return load_lesson(argument)
    raise NetworkFileError(
        f"{argument}: no such file, and no lesson has that name (lessons: {', '.join(lesson_names())})"
    )
