"""A user's own model-declaration script: fit_mle against pm.find_MAP, each in a fresh process.

The most common use of ppl_mle: a script declares one PyMC model and asks for its MLE. Each
row times whole fresh processes started from here (interpreter start, ``import pymc``, the
model's declaration and the fit), ``ppl_mle.fit_mle(model)`` against
``pm.find_MAP(model=model)`` on the same model, for three models:

- **linear regression** — 5 coefficients + intercept + sigma, n = 200 (Normal and
  HalfNormal priors);
- **categorical** — ``pm.Categorical`` with a Dirichlet prior on p, k = 4, n = 500;
- **Poisson GLM** — log link, 3 coefficients + intercept, n = 300.

Three conditions: **warm** (a compile directory of the benchmark's own, warmed by one run
of each script first: the fewest modules PyTensor can have to index), **cold**
(``PYTENSOR_FLAGS=compiledir=...``, a new empty directory per run: every C module compiled
anew) and **home** (PyTensor's default compile directory as this machine has it, after one
run of each script: what a user's own script meets; its number of modules is printed).
Medians of ``--runs`` runs (3), the scripts alternating, and the ratio fit_mle / find_MAP.
If ``pymc_extras`` is importable — by this interpreter, or by the one named in
``$PPL_MLE_BENCH_EXTRAS_PYTHON`` — its ``find_MAP`` is timed too, with the ratio
fit_mle / pymc_extras. pymc-extras is no dependency of ppl_mle; for a fair comparison run
this script with the interpreter of an environment that holds both (ppl_mle without its
test extras, and pymc-extras 0.10)::

    python3.11 -m venv /tmp/bench-venv
    /tmp/bench-venv/bin/pip install -e . pymc-extras==0.10.0
    /tmp/bench-venv/bin/python benchmarks/bench_user_script.py

In the test environment ``import pymc`` alone takes 0.1–0.15 s longer (pandas and PyMC
import IPython, requests' charset detection and more when they are installed), which
would count against whichever tool runs there.

Run: .venv/bin/python benchmarks/bench_user_script.py [--runs 3] [--models lin,cat,pois]
[--caches warm,cold,home]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MODELS = {
    "lin": (
        "linear regression (d = 7, n = 200)",
        """
X = rng.normal(size=(200, 5))
y = 1.0 + X @ np.array([0.5, -1.0, 2.0, 0.0, 0.3]) + rng.normal(scale=0.7, size=200)
with pm.Model() as model:
    a = pm.Normal("a", 0, 10)
    b = pm.Normal("b", 0, 10, shape=5)
    s = pm.HalfNormal("s", 5)
    pm.Normal("y", a + pm.math.dot(X, b), s, observed=y)
""",
    ),
    "cat": (
        "categorical, Dirichlet p (k = 4, n = 500)",
        """
y = rng.choice(4, size=500, p=[0.1, 0.2, 0.3, 0.4])
with pm.Model() as model:
    p = pm.Dirichlet("p", np.ones(4))
    pm.Categorical("y", p=p, observed=y)
""",
    ),
    "pois": (
        "Poisson GLM, log link (d = 4, n = 300)",
        """
X = rng.normal(size=(300, 3))
y = rng.poisson(np.exp(0.5 + X @ np.array([0.3, -0.2, 0.1])))
with pm.Model() as model:
    a = pm.Normal("a", 0, 10)
    b = pm.Normal("b", 0, 10, shape=3)
    pm.Poisson("y", pm.math.exp(a + pm.math.dot(X, b)), observed=y)
""",
    ),
}

FITS = {
    "fit_mle": "import ppl_mle\nresult = ppl_mle.fit_mle(model)\nassert result.converged\n",
    "find_MAP": "result = pm.find_MAP(model=model, progressbar=False)\n",
    "pymc_extras": (
        "import pymc_extras as pmx\nresult = pmx.find_MAP(model=model, progressbar=False)\n"
    ),
}


def script(model: str, fit: str) -> str:
    """The user's script: imports, the model's declaration, one fit."""
    return (
        "import numpy as np\nimport pymc as pm\n"
        "rng = np.random.default_rng(1)\n" + MODELS[model][1] + FITS[fit]
    )


def extras_python() -> str | None:
    """An interpreter that imports pymc_extras, or None."""
    given = os.environ.get("PPL_MLE_BENCH_EXTRAS_PYTHON")
    for python in (given, sys.executable):
        if python and _imports(python, "pymc_extras"):
            return python
    return None


def _imports(python: str, module: str) -> bool:
    check = subprocess.run([python, "-c", f"import {module}"], capture_output=True, check=False)
    return check.returncode == 0


def run_once(python: str, path: Path, compiledir: Path | None, cache: Path) -> float:
    """Wall time of one fresh process running ``path`` (PyTensor's own compiledir if None)."""
    env = dict(os.environ)
    if compiledir is not None:
        flags = env.get("PYTENSOR_FLAGS", "")
        env["PYTENSOR_FLAGS"] = ",".join(f for f in (flags, f"compiledir={compiledir}") if f)
    env["PPL_MLE_CACHE_DIR"] = str(cache)
    t0 = time.perf_counter()
    done = subprocess.run([python, str(path)], env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - t0
    if done.returncode != 0:
        raise RuntimeError(f"{path.name} failed:\n{done.stderr[-2000:]}")
    return elapsed


def home_modules() -> int:
    """The number of compiled modules in PyTensor's default compile directory."""
    found = subprocess.run(
        [sys.executable, "-c", "import pytensor; print(pytensor.config.compiledir)"],
        capture_output=True,
        text=True,
        check=True,
    )
    folder = Path(found.stdout.strip().splitlines()[-1])
    return sum(1 for p in folder.glob("tmp*") if p.is_dir())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--caches", default="warm,cold,home", help="which of warm,cold,home")
    args = parser.parse_args()
    tools = {"fit_mle": sys.executable, "find_MAP": sys.executable}
    extras = extras_python()
    if extras is not None:
        tools["pymc_extras"] = extras
    print(
        f"machine: {os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), "
        f"{platform.platform()}, Python {platform.python_version()}"
    )
    print(f"interpreters: {tools}")
    print(f"wall time of a fresh process (import pymc included), median of {args.runs}")
    print(f"home: PyTensor's default compile directory, {home_modules()} modules before the runs")
    header = f"{'model':42} {'cache':5} " + " ".join(f"{t:>12}" for t in tools)
    header += "   fit_mle/find_MAP" + ("   fit_mle/extras" if extras else "")
    print(header, flush=True)
    with tempfile.TemporaryDirectory(prefix="bench_user_script_") as tmp:
        root = Path(tmp)
        for model in args.models.split(","):
            paths = {}
            for tool in tools:
                paths[tool] = root / f"{model}_{tool}.py"
                paths[tool].write_text(script(model, tool))
            for cache in args.caches.split(","):
                times: dict[str, list[float]] = {tool: [] for tool in tools}
                warm_dir = root / f"warm_{model}"
                for tool, python in tools.items():  # fill the compile directory
                    if cache != "cold":
                        where = warm_dir / tool if cache == "warm" else None
                        run_once(python, paths[tool], where, root / "ppl_cache")
                for i in range(args.runs):
                    for tool, python in tools.items():
                        compiledir: Path | None = None
                        ppl_cache = root / "ppl_cache"
                        if cache == "warm":
                            compiledir = warm_dir / tool
                        elif cache == "cold":
                            compiledir = root / f"cold_{model}_{tool}_{i}"
                            ppl_cache = root / f"cold_cache_{model}_{tool}_{i}"
                        times[tool].append(run_once(python, paths[tool], compiledir, ppl_cache))
                        if compiledir is not None and cache == "cold":
                            shutil.rmtree(compiledir, ignore_errors=True)
                medians = {tool: statistics.median(t) for tool, t in times.items()}
                line = f"{MODELS[model][0]:42} {cache:5} "
                line += " ".join(f"{medians[t]:10.2f} s" for t in tools)
                line += f"   {medians['fit_mle'] / medians['find_MAP']:16.2f}"
                if extras:
                    line += f"   {medians['fit_mle'] / medians['pymc_extras']:14.2f}"
                spread = "; ".join(f"{t} {min(v):.1f}-{max(v):.1f}" for t, v in times.items())
                print(f"{line}   (ranges: {spread})", flush=True)


if __name__ == "__main__":
    main()
