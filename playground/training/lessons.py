"""Lessons are network files in ``resources/presets`` with a ``lesson`` section of text."""
from __future__ import annotations

from pathlib import Path

from ..model.network_file import read_network_file
from ..model.spec import NetworkFileError, NetworkSpec, load_spec

PRESETS_DIR = Path(__file__).resolve().parents[2] / "resources" / "presets"


def lesson_names() -> list[str]:
    return sorted(path.stem for path in PRESETS_DIR.glob("*.json"))


def load_lesson(name: str) -> NetworkSpec:
    path = PRESETS_DIR / f"{name}.json"
    if not path.is_file():
        raise NetworkFileError(f'no lesson called "{name}" (lessons: {", ".join(lesson_names())})')
    return load_spec(path)


def load_network_or_lesson(argument: str) -> NetworkSpec:
    """A path to a network file, or the name of a lesson."""
    path = Path(argument)
    if path.suffix == ".json" or path.exists():
        return read_network_file(path)  # from anyone: within the budgets
    if argument in lesson_names():
        return load_lesson(argument)
    raise NetworkFileError(f'{argument}: no such file, and no lesson has that name '
                           f'(lessons: {", ".join(lesson_names())})')
