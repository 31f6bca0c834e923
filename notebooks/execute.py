"""Execute the teaching notebooks in place: outputs stored, key numbers and pictures exported.

Run from the repository root (all six, or the ones named)::

    .venv/bin/python notebooks/execute.py
    .venv/bin/python notebooks/execute.py 03_categorical.ipynb

Each notebook runs top to bottom in a fresh ``python3`` kernel with ``notebooks/`` as its
working directory (nbclient). Its outputs are stored in the ``.ipynb`` without the volatile
parts (execution timing metadata, memory addresses), so that a fresh run reproduces them.

Two conventions link a notebook to this script and to ``tests/test_notebooks.py``:

- the code cell tagged ``key-numbers`` (its last) prints one JSON object, the numbers the
  notebook stands for (``{"mu_hat": 171.0, ...}``); they are collected, one object per
  notebook, in ``notebooks/key_numbers.json``, and the tests compare a fresh run with them;
- a code cell whose metadata has ``"figure": "nb01_loglik_surface.png"`` has its first
  PNG output written to ``notebooks/figures/`` under that name (the pictures the README
  shows), so a figure on the page and in the README are the same bytes.
"""

from __future__ import annotations

import base64
import json
import math
import re
import sys
import time
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

HERE = Path(__file__).resolve().parent
NOTEBOOKS = sorted(HERE.glob("[0-9][0-9]_*.ipynb"))
KEY_NUMBERS = HERE / "key_numbers.json"
FIGURES = HERE / "figures"
KEY_TAG = "key-numbers"
#: A memory address in a repr (``<Figure at 0x7f3a…>``): differs at every run.
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def execute(path: Path, timeout: int = 600) -> tuple[Any, float]:
    """Run the notebook at ``path`` in a fresh kernel; return it (outputs cleaned) and seconds."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        record_timing=False,
        resources={"metadata": {"path": str(path.parent)}},
    )
    start = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - start
    clean(nb)
    return nb, elapsed


def clean(nb: Any) -> None:
    """Drop what differs between two runs of the same notebook: timings and addresses."""
    nb.metadata.pop("widgets", None)
    nb.metadata["language_info"] = {"name": "python"}
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                out["text"] = _ADDRESS.sub("", out["text"])
            data = out.get("data", {})
            if "text/plain" in data:
                data["text/plain"] = _ADDRESS.sub("", data["text/plain"])


def key_numbers(nb: Any) -> dict[str, float]:
    """The JSON object printed by the cell tagged ``key-numbers``."""
    cells = [c for c in nb.cells if KEY_TAG in c.get("metadata", {}).get("tags", [])]
    if len(cells) != 1:
        raise ValueError(f"expected one cell tagged {KEY_TAG!r}, found {len(cells)}")
    text = "".join(
        out["text"]
        for out in cells[0].get("outputs", [])
        if out.get("output_type") == "stream" and out.get("name") == "stdout"
    )
    values = json.loads(text[text.index("{") :])
    return {str(k): float(v) for k, v in values.items()}


def close(a: float, b: float, rel: float = 1e-9) -> bool:
    """Equal to ``rel`` relative (exactly equal for zeros and infinities)."""
    return a == b or math.isclose(a, b, rel_tol=rel, abs_tol=0.0)


def export_figures(nb: Any) -> list[Path]:
    """Write the first PNG of each cell with a ``figure`` file name to ``figures/``."""
    written = []
    for cell in nb.cells:
        name = cell.get("metadata", {}).get("figure")
        if not name:
            continue
        pngs = [o["data"]["image/png"] for o in cell.outputs if "image/png" in o.get("data", {})]
        if not pngs:
            raise ValueError(f"cell for {name} drew no picture")
        FIGURES.mkdir(exist_ok=True)
        target = FIGURES / name
        target.write_bytes(base64.b64decode(pngs[0]))
        written.append(target)
    return written


def main(argv: list[str]) -> int:
    """Execute the named notebooks (all by default), store them and their key numbers."""
    paths = [HERE / Path(a).name for a in argv] or NOTEBOOKS
    stored = json.loads(KEY_NUMBERS.read_text()) if KEY_NUMBERS.exists() else {}
    failed = False
    for path in paths:
        try:
            nb, elapsed = execute(path)
        except CellExecutionError as error:
            print(f"{path.name}: FAILED\n{error}")
            failed = True
            continue
        nbformat.write(nb, path)
        stored[path.stem] = key_numbers(nb)
        figures = ", ".join(p.name for p in export_figures(nb))
        print(f"{path.name}: {elapsed:.1f} s, {len(stored[path.stem])} key numbers, {figures}")
    KEY_NUMBERS.write_text(json.dumps(dict(sorted(stored.items())), indent=1) + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
