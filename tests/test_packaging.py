"""The package as a user gets it: an sdist built from the source, a wheel built from that sdist (as
pip builds one), installed into a fresh virtual environment and run from another folder.

The lessons must travel as package data: nothing may be read from beside the checkout.  The fresh
environment sees the dependencies already installed here through a ``.pth`` file of plain paths
(installing PySide6 and numba again would take minutes and a network); a path line does not run
the editable install's import hook, so ``import playground`` there finds the installed wheel only.
"""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # about half a minute, most of it numba compiling the installed copy

ROOT = Path(__file__).resolve().parents[1]


def run(command, cwd, env=None):
    result = subprocess.run(
        [str(part) for part in command], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return result


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The sdist and the wheel built from it, from a copy of the source (so no build/ or egg-info
    folder lands in the checkout, and no stale one there leaks into the wheel)."""
    work = tmp_path_factory.mktemp("packaging")
    source = work / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    shutil.copytree(ROOT / "playground", source / "playground", ignore=shutil.ignore_patterns("__pycache__"))
    dist = work / "dist"
    run([sys.executable, "-c", f"from setuptools import build_meta; build_meta.build_sdist({str(dist)!r})"], source)
    sdist = next(dist.glob("playground-*.tar.gz"))
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            sdist,
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--quiet",
            "-w",
            dist,
        ],
        work,
    )
    return work, next(dist.glob("playground-*.whl"))


@pytest.fixture(scope="module")
def installed(built):
    """A fresh virtual environment with the wheel installed: its scripts folder and its site-packages."""
    work, wheel = built
    venv = work / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", venv], work)
    python = venv / ("Scripts" if os.name == "nt" else "bin") / "python"
    paths = json.loads(
        run([python, "-c", "import json, sysconfig; print(json.dumps(sysconfig.get_paths()))"], work).stdout
    )
    dependencies = [*site.getsitepackages(), *([site.getusersitepackages()] if site.ENABLE_USER_SITE else [])]
    Path(paths["purelib"], "dependencies.pth").write_text("\n".join(dependencies) + "\n")
    run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", "--quiet", wheel], work)
    return Path(paths["scripts"]), Path(paths["purelib"])


@pytest.fixture
def elsewhere(tmp_path):
    """A working folder away from the checkout, and an environment with nothing pointing back at it."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "PYTHONHOME")}
    env.update(HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / "config"), QT_QPA_PLATFORM="offscreen")
    return folder, env


def test_the_sdist_and_the_wheel_carry_the_lessons(built):
    _, wheel = built
    names = set(zipfile.ZipFile(wheel).namelist())
    lessons = {f"playground/lessons/{path.name}" for path in (ROOT / "playground" / "lessons").glob("*.json")}
    assert "playground/lessons/curriculum.json" in lessons
    assert lessons | {"playground/py.typed"} <= names


def test_the_installed_copy_lists_and_trains_the_lessons(installed, elsewhere):
    scripts, site_packages = installed
    folder, env = elsewhere
    where = run([scripts / "python", "-c", "import playground; print(playground.__file__)"], folder, env).stdout
    assert Path(where.strip()).resolve().is_relative_to(site_packages.resolve()), where

    listing = run([scripts / "playground", "lessons"], folder, env).stdout
    assert listing.startswith("1. ") and "toy-2d" in listing and "Vanishing gradients" in listing

    trained = run([scripts / "playground", "train", "toy-2d", "--epochs", "2", "--quiet"], folder, env).stdout
    assert trained.splitlines()[-1].startswith("epoch   2/2")


def test_the_installed_window_opens_a_lesson_and_takes_a_screenshot(installed, elsewhere):
    scripts, _ = installed
    folder, env = elsewhere
    run([scripts / "playground", "--lesson", "toy-2d", "--train-seconds", "2", "--screenshot", "shot.png"], folder, env)
    assert (folder / "shot.png").read_bytes().startswith(b"\x89PNG")
    assert (folder / "shot.png").stat().st_size > 10_000
