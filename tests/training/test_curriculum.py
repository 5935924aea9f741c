"""The curriculum orders the lessons into the lecture's chapters: no lesson left out, none twice,
none listed that does not exist."""

from __future__ import annotations

from collections import Counter

from playground.training.lessons import curriculum, lesson_names


def test_every_lesson_is_in_exactly_one_chapter_and_every_entry_exists():
    listed = Counter(name for chapter in curriculum() for name in chapter.lessons)
    assert sorted(listed) == lesson_names()
    assert all(count == 1 for count in listed.values()), [name for name, count in listed.items() if count > 1]


def test_the_chapters_follow_the_lecture():
    chapters = curriculum()
    assert all(chapter.title for chapter in chapters)
    where = {name: index for index, chapter in enumerate(chapters) for name in chapter.lessons}
    assert (
        where["toy-2d"]
        < where["parity"]
        < where["overfitting"]
        < where["vanishing-gradients"]
        < where["cnn-mnist"]
        < where["rnn-vs-lstm"]
        < where["rbm-mnist"]
    )
