"""GUI tests run offscreen: with no display and no platform set, Qt would abort the whole run."""
import os

if not os.environ.get("DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
