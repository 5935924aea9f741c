"""The lessons: network files with a ``lesson`` section of text, and ``curriculum.json``, which
orders them into the chapters of the lecture.

Package data rather than files beside the checkout, so an installed wheel finds them like a
source tree does; ``playground.training.lessons`` reads them through ``importlib.resources``.
To add a lesson, drop its network file here and list its name in a chapter of the curriculum.
"""
