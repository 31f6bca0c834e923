"""The core install fits models without the extras; a missing extra is named when needed.

Each check runs in a fresh interpreter in which the extras' packages cannot be imported
(``sys.modules[name] = None`` makes ``import name`` raise ImportError), as on a machine
where ``pip install ppl_mle`` installed the core only.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

EXTRAS = ("dask", "distributed", "sympy")


def _run(code: str, tmp_path, blocked=EXTRAS) -> subprocess.CompletedProcess[str]:
    block = f"import sys\nfor name in {tuple(blocked)!r}:\n    sys.modules[name] = None\n"
    return subprocess.run(
        [sys.executable, "-c", block + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=600,
    )


def test_core_install_fits_and_reads_files_without_the_extras(tmp_path):
    (tmp_path / "x.csv").write_text("x,g\n1.0,a\n2.5,a\n4.0,b\n3.0,b\n7.0,b\n")
    proc = _run(
        """
        import numpy as np, ppl_mle
        fit = ppl_mle.fit_mle(ppl_mle.normal([160, 162, 165, 167, 170, 172, 175, 177, 180, 182]))
        assert abs(float(fit.estimates["sigma"]) - np.sqrt(51.0)) < 1e-12
        big = ppl_mle.fit_mle(ppl_mle.normal_from_source("x.csv", column="x"))
        assert abs(float(big.estimates["mu"]) - 3.5) < 1e-12
        groups = ppl_mle.fit_mle(ppl_mle.normal_from_source("x.csv", column="x", by="g"))
        assert abs(groups.estimates["mu"][1] - 14.0 / 3) < 1e-12
        from ppl_mle.teaching import kl_normal  # the teaching helpers need no SymPy
        assert kl_normal(0.0, 1.0, 0.0, 1.0) == 0.0
        from ppl_mle.teaching.demo import run_demo  # nor does the demo
        for name in ("dask", "distributed", "sympy"):
            assert sys.modules[name] is None
        print("ok")
        """,
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().endswith("ok")


@pytest.mark.parametrize(
    ("code", "extra", "blocked"),
    [
        ("import ppl_mle.teaching.symbolic", "symbolic", EXTRAS),
        ("ppl_mle.teaching.normal_derivation", "symbolic", EXTRAS),
        (
            "ppl_mle.normal_from_source(da.ones(10, chunks=5), client='tcp://127.0.0.1:1')",
            "scale",
            ("distributed",),
        ),
    ],
)
def test_a_missing_extra_is_named(code, extra, blocked, tmp_path):
    proc = _run(
        f"""
        import ppl_mle
        try:
            import dask.array as da
        except ImportError:
            pass
        try:
            {code}
        except ppl_mle.MissingExtraError as exc:
            assert isinstance(exc, ImportError) and isinstance(exc, ppl_mle.PplMleError)
            print(exc)
        """,
        tmp_path,
        blocked,
    )
    assert proc.returncode == 0, proc.stderr
    assert f"pip install 'ppl_mle[{extra}]'" in proc.stdout
