"""The import contracts in pyproject.toml (Qt stays in playground.gui, layers point one way) and no import cycles."""

import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_hold():
    # beside this interpreter first: CI runs .venv/bin/python without activating the environment
    executable = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")
    if executable is None:
        pytest.fail("import-linter is part of the test extra: pip install -e '.[test]'")
    result = subprocess.run([executable, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "Contracts: 2 kept, 0 broken" in result.stdout


def test_the_headless_packages_run_without_qt():
    """Import everything but the window in a fresh interpreter and check no Qt module came along."""
    code = (
        "import sys; import playground.engine, playground.model, playground.datasets, playground.training, "
        "playground.training.lessons, playground.training.data, playground.training.metrics, playground.bench, "
        "playground.interop, playground.cli; bad = [m for m in sys.modules if m.startswith(('PySide6', 'pyqtgraph'))]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_import_cycles():
    """A cycle hidden in a function (an ``import`` inside a ``def``) still ties two modules into one:
    neither can be read, tested or moved alone, and which one loads first decides whether the import
    works.  grimp reads every import statement in a file, those inside functions included."""
    graph = grimp.build_graph("playground", cache_dir=None)
    cycles = {}
    for importer in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            back = graph.find_shortest_chain(importer=imported, imported=importer)
            if back:
                cycles.setdefault(frozenset(back), " -> ".join((importer, *back)))
    assert not cycles, "import cycles:\n" + "\n".join(sorted(cycles.values()))
