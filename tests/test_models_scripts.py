"""Every script in models/ runs as a user would run it, and prints a passing check."""

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPTS = sorted((Path(__file__).resolve().parents[1] / "models").glob("*.py"))


def test_there_are_scripts():
    assert {"heights.py", "categories.py"} <= {p.name for p in SCRIPTS}


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_script_runs(script):
    proc = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "", proc.stderr
    assert "Traceback" not in proc.stdout
    assert "FAIL" not in proc.stdout and "NOT VERIFIED" not in proc.stdout
