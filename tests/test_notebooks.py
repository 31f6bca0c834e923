"""The teaching notebooks run, teach, and carry the outputs of a fresh run.

Each notebook in notebooks/ is executed from top to bottom in a fresh kernel (nbclient, via
``notebooks/execute.py``, the script that stores the outputs). The fresh run must show its
derivation in LaTeX and draw at least one picture; its key numbers (the JSON printed by the
cell tagged ``key-numbers``) must equal, to 1e-9 relative, those stored in
``notebooks/key_numbers.json`` and in the committed notebook's own outputs; and every code
cell that prints or draws in the fresh run must have stored outputs of the same kinds.
"""

import importlib.util
import json
import math
from pathlib import Path

import nbformat
import pytest

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
_spec = importlib.util.spec_from_file_location("notebooks_execute", NOTEBOOK_DIR / "execute.py")
assert _spec is not None and _spec.loader is not None
runner = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(runner)

NOTEBOOKS = runner.NOTEBOOKS
STORED_KEYS = json.loads(runner.KEY_NUMBERS.read_text())


def test_there_are_seven_notebooks():
    assert len(NOTEBOOKS) == 7
    assert sorted(STORED_KEYS) == [path.stem for path in NOTEBOOKS]


def _code_cells(nb):
    return [cell for cell in nb.cells if cell.cell_type == "code"]


def _kinds(cell):
    """What a cell shows: stdout streams and the MIME types of displayed data (not stderr)."""
    kinds = []
    for out in cell.get("outputs", []):
        if out["output_type"] == "stream":
            if out["name"] == "stdout" and (not kinds or kinds[-1] != "stdout"):
                kinds.append("stdout")
        elif out["output_type"] in ("display_data", "execute_result"):
            kinds.append(tuple(sorted(out["data"])))
        else:
            kinds.append(out["output_type"])
    return kinds


def _images(nb):
    return [
        out
        for cell in _code_cells(nb)
        for out in cell.get("outputs", [])
        if "image/png" in out.get("data", {})
    ]


def _shows_latex(nb):
    latex_outputs = any(
        "text/latex" in out.get("data", {})
        for cell in _code_cells(nb)
        for out in cell.get("outputs", [])
    )
    markdown_maths = any(cell.cell_type == "markdown" and "$" in cell.source for cell in nb.cells)
    return latex_outputs or markdown_maths


def _assert_same_numbers(found, expected, what):
    assert found.keys() == expected.keys(), what
    different = {
        name: (found[name], expected[name])
        for name in expected
        if not runner.close(found[name], expected[name], rel=1e-9)
    }
    assert not different, f"{what}: {different}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook(path):
    stored = nbformat.read(path, as_version=4)
    fresh, _ = runner.execute(path, timeout=900)  # raises on any error in a cell

    assert _images(fresh), "the fresh run drew no picture"
    assert _images(stored), "the committed notebook stores no picture"
    assert _shows_latex(fresh), "no derivation in LaTeX"
    for cell in fresh.cells:
        name = cell.get("metadata", {}).get("figure")
        if name:
            assert (runner.FIGURES / name).is_file(), f"notebooks/figures/{name} is missing"

    # The committed notebook carries the outputs a fresh run produces, cell by cell.
    assert [c.source for c in _code_cells(stored)] == [c.source for c in _code_cells(fresh)]
    for index, (old, new) in enumerate(zip(_code_cells(stored), _code_cells(fresh), strict=True)):
        assert _kinds(old) == _kinds(new), f"code cell {index}: stored outputs differ in kind"

    # The key numbers: fresh run = key_numbers.json = the committed notebook's own output.
    fresh_keys = runner.key_numbers(fresh)
    assert fresh_keys and all(math.isfinite(v) for v in fresh_keys.values())
    _assert_same_numbers(fresh_keys, STORED_KEYS[path.stem], "fresh run vs key_numbers.json")
    _assert_same_numbers(
        runner.key_numbers(stored), STORED_KEYS[path.stem], "stored outputs vs key_numbers.json"
    )
