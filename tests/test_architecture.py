"""The import contracts in pyproject.toml: Qt stays in playground.gui, and layers point one way."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_hold():
    executable = shutil.which("lint-imports")
    if executable is None:
        pytest.fail("import-linter is part of the test extra: pip install -e '.[test]'")
    result = subprocess.run([executable, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "Contracts: 2 kept, 0 broken" in result.stdout


def test_the_headless_packages_run_without_qt():
    """Import everything but the window in a fresh interpreter and check no Qt module came along."""
    code = ("import sys; import playground.engine, playground.model, playground.datasets, playground.training, "
            "playground.training.lessons, playground.training.data, playground.training.metrics, playground.bench, "
            "playground.cli; bad = [m for m in sys.modules if m.startswith(('PySide6', 'pyqtgraph'))]; "
            "print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
