"""GUI tests run offscreen: with no display and no platform set, Qt would abort the whole run."""
import os

import pytest

if not os.environ.get("DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(autouse=True)
def empty_clipboard_after_each_test():
    """Clear the clipboard before Qt shuts down: the offscreen platform segfaults at exit
    when the clipboard still owns mime data that a test put there."""
    yield
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is not None:
        app.clipboard().clear()
