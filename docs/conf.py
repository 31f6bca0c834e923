"""Sphinx configuration of the ppl_mle documentation.

Build: ``sphinx-build -W --keep-going -b html docs docs/_build/html`` (after
``pip install -e ".[docs]"``). The pages are MyST markdown; the notebooks of ``notebooks/``
are copied into ``docs/notebooks/`` at build time and rendered from their stored outputs.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))

import ppl_mle  # noqa: E402

project = "ppl_mle"
author = "the ppl_mle authors"
copyright = "the ppl_mle authors"
release = ppl_mle.__version__
version = release

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
]

# --- the notebooks: copied from notebooks/ (their home) at every build, never executed ----
NOTEBOOKS = ROOT / "notebooks"
NOTEBOOK_COPIES = DOCS / "notebooks"


def _copy_notebooks() -> None:
    """Copy notebooks/*.ipynb into docs/notebooks/ where they changed (atomic replace)."""
    NOTEBOOK_COPIES.mkdir(exist_ok=True)
    for source in sorted(NOTEBOOKS.glob("*.ipynb")):
        target = NOTEBOOK_COPIES / source.name
        if target.exists() and target.read_bytes() == source.read_bytes():
            continue
        fd, tmp = tempfile.mkstemp(dir=NOTEBOOK_COPIES, suffix=".tmp")
        os.close(fd)
        shutil.copyfile(source, tmp)
        os.replace(tmp, target)


_copy_notebooks()

nb_execution_mode = "off"
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3

source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
exclude_patterns = ["_build", "**.ipynb_checkpoints", "**.tmp", "api/_names.md"]
templates_path = ["_templates"]

# --- API reference --------------------------------------------------------------------
API_NAMES = DOCS / "api" / "_names.md"


def _api_groups() -> list[tuple[str, list[str]]]:
    """``ppl_mle.__all__`` in its groups: the comment lines of its literal in __init__.py."""
    source = (ROOT / "ppl_mle" / "__init__.py").read_text(encoding="utf-8")
    body = source.partition("__all__ = [")[2].partition("]")[0]
    groups: list[tuple[str, list[str]]] = [("Other", [])]
    for line in body.splitlines():
        line = line.strip()
        if line.startswith("#"):
            title = line.lstrip("# ").strip()
            groups.append((title[:1].upper() + title[1:], []))
        elif line.startswith('"'):
            groups[-1][1].append(line.strip('",'))
    listed = {name for _, names in groups for name in names}
    groups[0][1].extend(name for name in ppl_mle.__all__ if name not in listed)
    return [(title, names) for title, names in groups if names]


def _autosummary(module: str, names: list[str]) -> list[str]:
    return [
        "```{eval-rst}",
        f".. currentmodule:: {module}",
        "",
        ".. autosummary::",
        "   :toctree: generated",
        "",
        *[f"   {name}" for name in names],
        "```",
        "",
    ]


def _write_api_names() -> None:
    """Write docs/api/_names.md: every public name, in autosummary tables (if it changed)."""
    import ppl_mle.closed_form
    import ppl_mle.teaching

    lines: list[str] = []
    for title, names in _api_groups():
        lines += [f"## {title}", "", *_autosummary("ppl_mle", names)]
    for module in (ppl_mle.closed_form, ppl_mle.teaching):
        summary = (module.__doc__ or "").strip().splitlines()[0]
        lines += [f"## `{module.__name__}`", "", summary, ""]
        lines += _autosummary(module.__name__, sorted(module.__all__))
    text = "\n".join(lines).rstrip() + "\n"
    if not API_NAMES.exists() or API_NAMES.read_text(encoding="utf-8") != text:
        fd, tmp = tempfile.mkstemp(dir=API_NAMES.parent, suffix=".tmp")
        os.close(fd)
        Path(tmp).write_text(text, encoding="utf-8")
        os.replace(tmp, API_NAMES)


_write_api_names()

autosummary_generate = ["api/_names.md"]  # written above; excluded as a page, included by api/index
autosummary_imported_members = True
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_validation_checks: set[str] = set()
numpydoc_xref_param_type = False
nitpicky = False

# --- HTML -------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"ppl_mle {release}"
html_static_path: list[str] = []
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
}
