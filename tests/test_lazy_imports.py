"""``import ppl_mle`` and the command line's answers to bad input do not import PyMC.

The public names of the package are loaded on first use (PEP 562); the heavy vendors load
only when used. Each check runs in a fresh interpreter, since this one has them all loaded.
"""

import subprocess
import sys
import textwrap

import pytest

import ppl_mle

HEAVY = ("pymc", "pytensor", "arviz", "sympy", "matplotlib", "dask", "distributed", "statsmodels")


def _python(*args, cwd=None):
    """Run a fresh interpreter with ``args``; its stdout, stderr and exit status."""
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, timeout=300, cwd=cwd
    )


#: Printed by the code run in a fresh interpreter: the heavy vendors it has imported.
_LOADED = f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))"


def test_import_loads_no_heavy_vendor():
    proc = _python("-c", f"import sys\nimport ppl_mle\n{_LOADED}")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_help_loads_no_heavy_vendor():
    code = f"""
        import sys
        from ppl_mle.cli import main
        try:
            main(["--help"])
        except SystemExit as exc:
            assert exc.code == 0, exc.code
        {_LOADED}
    """
    proc = _python("-c", textwrap.dedent(code))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("usage: ppl-mle")
    assert proc.stdout.splitlines()[-1] == "[]"


def test_version_is_the_installed_one():
    from importlib.metadata import version

    proc = _python("-m", "ppl_mle.cli", "--version")
    assert proc.returncode == 0, proc.stderr
    first, store = proc.stdout.splitlines()
    assert first == f"ppl-mle {version('ppl_mle')}" == f"ppl-mle {ppl_mle.__version__}"
    assert store.startswith("compiled objectives on disk: ")


def test_module_help_answers():
    proc = _python("-m", "ppl_mle.cli", "--help")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("usage: ppl-mle")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["fit", "normal", "missing.csv"], "error: file not found: missing.csv"),
        (["compare", "categorical", "missing.txt"], "error: file not found: missing.txt"),
        (["fit", "pymc", "missing.py"], "error: not a Python script: missing.py"),
        (["fit", "normal", "missing.csv", "--level", "2"], "error: --level must lie"),
        (["fit", "gamma", "x.csv"], "error: argument model: invalid choice"),
    ],
)
def test_bad_input_exits_2_without_pymc(argv, message, tmp_path):
    code = f"import sys\nfrom ppl_mle.cli import main\ncode = main({argv!r})\n{_LOADED}\n"
    proc = _python("-c", code + "sys.exit(code)", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith(message), proc.stderr
    assert len(proc.stderr.splitlines()) == 1, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_public_names_load_on_use():
    code = """
        import sys
        import ppl_mle
        assert "pymc" not in sys.modules
        ppl_mle.closed_form.normal_mle, ppl_mle.DataError, ppl_mle.normal_stats_of  # no PyMC
        assert "pymc" not in sys.modules
        assert ppl_mle.fit_mle is sys.modules["ppl_mle.api.fit_mle"].fit_mle
        assert "fit_mle" in vars(ppl_mle)  # kept: the next access is a plain attribute
        assert "pymc" in sys.modules
    """
    proc = _python("-c", textwrap.dedent(code))
    assert proc.returncode == 0, proc.stderr


def test_fit_module_imported_directly_is_quiet():
    # No filter of the vendors' warnings here (unlike the suite's filterwarnings): the
    # package's own import of the PyMC stack (ppl_mle.model._pytensor) must silence them.
    proc = _python("-W", "error", "-c", "import ppl_mle.fit.objective")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""


def test_every_public_name_is_listed_and_resolves():
    assert set(ppl_mle.__all__) <= set(dir(ppl_mle))
    assert set(ppl_mle._SOURCES) == set(ppl_mle.__all__)
    for name in ppl_mle.__all__:
        assert getattr(ppl_mle, name) is not None, name
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        _ = ppl_mle.no_such_name


def test_the_public_surface_is_the_fit_api():
    names = dir(ppl_mle)
    assert len(ppl_mle.__all__) <= 40
    assert set(names) == {*ppl_mle.__all__, "closed_form", "teaching", "__version__"}
    assert not {"Any", "TYPE_CHECKING", "import_module", "warnings"} & set(names)
    for name in ppl_mle.__all__:  # each resolves, and is documented
        assert getattr(ppl_mle, name).__doc__, name
    # Closed forms and teaching helpers live in their subpackages; the old top-level
    # names still resolve, with a warning that names the new home.
    assert ppl_mle.closed_form.normal_mle is ppl_mle.core.closed_form.normal_mle
    with pytest.warns(FutureWarning, match=r"ppl_mle.kl_normal is now ppl_mle.teaching"):
        assert ppl_mle.kl_normal is ppl_mle.teaching.kl_normal
    with pytest.warns(FutureWarning, match=r"is now ppl_mle.inference.summary.summarize"):
        assert ppl_mle.summarize is not None
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        _ = ppl_mle.nothing
