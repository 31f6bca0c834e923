"""The documentation: the site builds with warnings as errors, and every example runs.

Conventions of README.md and docs/**/*.md that this file enforces:

- Every fenced ```` ```python ```` block is executed, on its own, in a fresh namespace (so
  each block has its own imports and data), in a temporary working directory, with
  warnings as errors (the suite's ``filterwarnings``) and matplotlib's Agg backend.
- A ```` ```text ```` block that follows a code block (only blank lines between) is that
  block's expected output. It is compared with what the block printed, line by line after
  whitespace is collapsed (blank lines ignored): the text between numbers must be equal,
  and each number must equal the printed one to half a unit in the last digit shown
  (``7.14143`` stands for anything in [7.141425, 7.141435]). A line ``...`` stands for
  any number of printed lines (for what varies from run to run: timings, noise-level
  gradients). A code block without an output block must run without error.
- A ```` ```bash ```` block followed by an output block is run by ``bash`` in the
  temporary directory, with the environment's ``bin`` first on ``PATH``, and compared
  likewise. Other bash blocks (installing, building, the test command) are not run, but
  each ``ppl-mle ...`` command in them must be accepted by the command line's parser.
- Command synopses with placeholders are written in ```` ```text ```` blocks, which are
  not code.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
BIN = Path(sys.executable).parent

_FENCE = re.compile(r"^(`{3,})\s*([\w{}-]*)[^\n]*$")
_NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


@dataclass(frozen=True)
class Block:
    path: Path
    line: int
    lang: str
    code: str
    expected: str | None

    @property
    def id(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def doc_files() -> list[Path]:
    """README.md and the MyST pages of the site (not the build, not the copied notebooks)."""
    pages = [
        p
        for p in sorted(DOCS.rglob("*.md"))
        if not p.relative_to(DOCS).parts[0].startswith(("_build", "notebooks"))
        and "generated" not in p.parts
    ]
    return [ROOT / "README.md", *pages]


def fenced_blocks(path: Path) -> list[tuple[int, str, str]]:
    """(first line number, language, text) of each top-level fenced block of a file."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks, i = [], 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if m is None:
            i += 1
            continue
        fence, lang, start = m.group(1), m.group(2), i + 1
        j = start
        while j < len(lines) and lines[j].strip() != fence:
            j += 1
        blocks.append((start + 1, lang, "\n".join(lines[start:j]) + "\n"))
        i = j + 1
    return blocks


def code_blocks() -> list[Block]:
    """Every python and bash block of the documentation, with its expected output."""
    found = []
    for path in doc_files():
        lines = path.read_text(encoding="utf-8").splitlines()
        fenced = fenced_blocks(path)
        for k, (line, lang, text) in enumerate(fenced):
            if lang not in ("python", "bash"):
                continue
            expected = None
            if k + 1 < len(fenced) and fenced[k + 1][1] == "text":
                end = line + text.count("\n")  # the closing fence of this block (1-based)
                between = lines[end : fenced[k + 1][0] - 2]
                if all(not s.strip() for s in between):
                    expected = fenced[k + 1][2]
            found.append(Block(path, line, lang, text, expected))
    return found


BLOCKS = code_blocks()
PYTHON = [b for b in BLOCKS if b.lang == "python"]
BASH_RUN = [b for b in BLOCKS if b.lang == "bash" and b.expected is not None]
BASH_PARSE = [b for b in BLOCKS if b.lang == "bash" and b.expected is None]


# --- comparing printed output with the output shown ---------------------------------------


_NUMBER_GROUP = f"({_NUMBER.pattern})"


def _pattern(expected: str) -> re.Pattern[str]:
    """A regular expression for a shown line: its numbers captured, ``...`` any text."""
    parts = []
    for piece in re.split(r"(\.\.\.|\s+)", expected.strip()):
        if piece == "...":
            parts.append(".*?")
        elif piece.isspace():
            parts.append(r"\s+")
        elif piece:
            pos = 0
            for m in _NUMBER.finditer(piece):
                parts.append(re.escape(piece[pos : m.start()]) + _NUMBER_GROUP)
                pos = m.end()
            parts.append(re.escape(piece[pos:]))
    return re.compile("".join(parts))


def _half_unit(written: str) -> float:
    """Half a unit in the last digit of a number as written (``7.14`` → 0.005)."""
    mantissa, _, exponent = written.lower().partition("e")
    decimals = len(mantissa.partition(".")[2])
    return 0.5 * 10.0 ** (int(exponent or 0) - decimals)


def _line_matches(expected: str, actual: str) -> bool:
    m = _pattern(expected).fullmatch(actual.strip())
    if m is None:
        return False
    shown = _NUMBER.findall(expected.replace("...", " "))
    return all(
        abs(float(a) - float(e)) <= _half_unit(e) * (1 + 1e-9)
        for e, a in zip(shown, m.groups(), strict=True)
    )


def _matches(expected: list[str], actual: list[str]) -> bool:
    """Whether the printed lines match the shown ones (``...`` matches any run of lines)."""
    if not expected:
        return not actual
    if expected[0] == "...":
        return any(_matches(expected[1:], actual[i:]) for i in range(len(actual) + 1))
    return (
        bool(actual)
        and _line_matches(expected[0], actual[0])
        and _matches(expected[1:], actual[1:])
    )


def assert_output(expected: str, printed: str) -> None:
    want = [s.strip() for s in expected.splitlines() if s.strip()]
    got = [s.rstrip() for s in printed.splitlines() if s.strip()]
    assert _matches(want, got), (
        "the output shown in the documentation differs from the output printed:\n"
        + "--- shown ---\n"
        + "\n".join(want)
        + "\n--- printed ---\n"
        + "\n".join(got)
    )


def test_comparison_rules() -> None:
    """The comparison itself: digits as shown, text exact, ``...`` for any lines."""
    assert _line_matches("sigma 7.14143 (n = 10)", "sigma    7.141428428 (n = 10)")
    assert not _line_matches("sigma 7.14143", "sigma 7.14145")
    assert not _line_matches("sigma 7.14143", "mu 7.14143")
    assert _line_matches("p = 1.8e-07", "p = 1.796e-07")
    assert not _line_matches("p = 1.8e-07", "p = 1.9e-07")
    assert _line_matches("n = 10", "n = 10.4")
    assert not _line_matches("a 1 2", "a 1 2 3")
    assert _line_matches("norm ..., step ... SE; PASS", "norm 1.6e-15, step 3e-16 SE; PASS")
    assert not _line_matches("norm ..., step", "norm 1.6e-15; step")
    assert _line_matches("mu 171 2.25832", "mu   171.0000001   2.258318")
    assert _matches(["a", "...", "d 1"], ["a", "b", "c", "d 1"])
    assert _matches(["a", "..."], ["a"])
    assert not _matches(["a", "b"], ["a", "b", "c"])


# --- the blocks ---------------------------------------------------------------------------


def test_blocks_found() -> None:
    """The extractor sees the README's examples and the guide's (a renamed fence would not)."""
    readme = [b for b in PYTHON if b.path.name == "README.md"]
    assert len(readme) >= 2
    assert len(BASH_RUN) >= 1
    assert len(PYTHON) >= 15


@pytest.mark.parametrize("block", PYTHON, ids=[b.id for b in PYTHON])
def test_python_block(block: Block, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import matplotlib.pyplot as plt

    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    namespace = {"__name__": "__main__"}
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(block.code, block.id, "exec"), namespace)
    finally:
        plt.close("all")
    if block.expected is not None:
        assert_output(block.expected, out.getvalue())


@pytest.fixture(scope="module")
def cli_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One folder of compiled objectives for the command lines of these blocks (not ~)."""
    return tmp_path_factory.mktemp("ppl_mle_cache")


@pytest.mark.parametrize("block", BASH_RUN, ids=[b.id for b in BASH_RUN])
def test_bash_block(block: Block, tmp_path: Path, cli_cache: Path) -> None:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    env["PPL_MLE_CACHE_DIR"] = str(cli_cache)
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", block.code],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert block.expected is not None
    assert_output(block.expected, done.stdout)


def _ppl_mle_commands(code: str) -> list[list[str]]:
    """The argument lists of every ``ppl-mle`` command in a shell block."""
    commands = []
    for line in code.replace("\\\n", " ").splitlines():
        for part in re.split(r"&&|\|\||;|\|", line.split("#")[0]):
            words = shlex.split(part)
            if words and Path(words[0]).name == "ppl-mle":
                commands.append(words[1:])
    return commands


@pytest.mark.parametrize("block", BASH_PARSE, ids=[b.id for b in BASH_PARSE])
def test_bash_commands_parse(block: Block) -> None:
    from ppl_mle.cli import _parser

    for args in _ppl_mle_commands(block.code):
        if "--version" in args or "--help" in args:
            continue
        _parser().parse_args(args)  # raises on an option or command that does not exist


def test_readme_test_command_is_ci() -> None:
    """The README's test command is the one .ci/run runs, byte for byte."""
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()[-1]
    assert ci.startswith("python3 -m venv .venv")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"```bash\n{ci}\n```" in readme


def test_docs_build(tmp_path: Path) -> None:
    """The site builds with warnings as errors (the notebooks from their stored outputs)."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-W",
            "--keep-going",
            "-q",
            "-b",
            "html",
            "-d",
            str(tmp_path / "doctrees"),
            str(DOCS),
            str(tmp_path / "html"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    html = tmp_path / "html"
    for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):
        assert (html / "notebooks" / f"{notebook.stem}.html").exists(), notebook.name
    import ppl_mle
    import ppl_mle.closed_form
    import ppl_mle.teaching

    names = [f"ppl_mle.{name}" for name in ppl_mle.__all__]
    for module in (ppl_mle.closed_form, ppl_mle.teaching):
        names += [f"{module.__name__}.{name}" for name in module.__all__]
    missing = [n for n in names if not (html / "api" / "generated" / f"{n}.html").exists()]
    assert not missing, f"public names without an API page: {missing}"
