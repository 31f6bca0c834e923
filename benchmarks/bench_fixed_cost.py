"""The fixed cost of a fit: new models, many small fits, the command line, 1e8 rows.

Every row is timed in this process (or, for the command line, in fresh subprocesses started
from here) against a baseline measured the same way, and printed with the ratio:

- **new model, same family** — ``ppl_mle.normal(x)`` + ``fit_mle`` on new data (n = 1e3 and
  1e4) after one fit of another normal model in the process, against ``pm.find_MAP`` on
  the same model (medians of 5);
- **1,000 fits** — 1,000 separate normal models of 1,000 rows each, declared and fitted in
  one loop (the bootstrap / one-group-per-store pattern), the same fits on one model
  whose data are replaced (``replace_data``), and the same data sets as the groups of one
  per-group model (``ppl_mle.normal(x, groups=...)``: one find_MAP for all);
- **1e8 in memory** — ``ppl_mle.normal(x)`` + ``fit_mle`` on 1e8 values already in memory,
  warm (a second such fit), against one ``x.sum()`` pass;
- **command line** — ``ppl-mle --help`` and ``ppl-mle fit normal`` on a 10-row file, each in
  a fresh process, against ``python -c "import pymc"`` (medians of 5; the fit's first run,
  with its on-disk cache folder still empty, on a row of its own).

Run: .venv/bin/python benchmarks/bench_fixed_cost.py [--no-big]
"""

import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pymc as pm

import ppl_mle


def median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def row(what: str, ours: float, base_name: str, base: float) -> None:
    print(
        f"{what:44} {ours:9.4f} s   {base_name:28} {base:9.4f} s   ratio {ours / base:7.2f}",
        flush=True,
    )


def new_models(rng: np.random.Generator) -> None:
    ppl_mle.fit_mle(ppl_mle.normal(rng.normal(size=100)))  # the family's first fit
    for n in (1_000, 10_000):
        data = [rng.normal(5.0, 2.0, size=n) for _ in range(5)]
        it = iter(data)
        ours = median_time(lambda it=it: ppl_mle.fit_mle(ppl_mle.normal(next(it))), 5)
        models = iter([ppl_mle.normal(x) for x in data])
        base = median_time(
            lambda models=models: pm.find_MAP(model=next(models), progressbar=False), 5
        )
        row(f"new normal model, n = {n:,}: declare + fit", ours, "pm.find_MAP same model", base)


def many_fits(rng: np.random.Generator) -> None:
    data = rng.normal(10.0, 3.0, size=(1_000, 1_000))
    t0 = time.perf_counter()
    for x in data:
        result = ppl_mle.fit_mle(ppl_mle.normal(x))
        assert result.converged
    ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    for x in data:
        x.mean(), x.std()
    base = time.perf_counter() - t0
    row("1,000 normal fits of 1,000 rows", ours, "numpy mean and std, each", base)
    model = ppl_mle.normal(data[0])
    t0 = time.perf_counter()
    for x in data:
        model.replace_data(x)
        assert ppl_mle.fit_mle(model).converged
    ours = time.perf_counter() - t0
    row("the same 1,000 fits on one model (replace_data)", ours, "numpy mean and std, each", base)
    t0 = time.perf_counter()
    groups = np.repeat(np.arange(len(data)), data.shape[1])
    result = ppl_mle.fit_mle(ppl_mle.normal(data.ravel(), groups=groups))
    assert result.converged
    ours = time.perf_counter() - t0
    row("the same 1,000 as groups of one model", ours, "numpy mean and std, each", base)


def big(rng: np.random.Generator) -> None:
    x = rng.normal(1e3, 5.0, size=100_000_000)
    ppl_mle.fit_mle(ppl_mle.normal(x))  # warm
    ours = median_time(lambda: ppl_mle.fit_mle(ppl_mle.normal(x)), 3)
    base = median_time(x.sum, 3)
    row("1e8 in memory, declare + fit (warm)", ours, "one x.sum()", base)


def command_line() -> None:
    exe = Path(sys.executable).with_name("ppl-mle")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.txt"
        path.write_text("\n".join(str(v) for v in np.linspace(1.0, 3.0, 10)) + "\n")
        # A cache folder of this run: the first fit finds it empty, the next ones not.
        cache = Path(tmp) / "cache"
        env = {**os.environ, "PYTHONWARNINGS": "ignore", "PPL_MLE_CACHE_DIR": str(cache)}

        def run(args: list[str]) -> None:
            subprocess.run(args, check=True, capture_output=True, env=env)

        base = median_time(lambda: run([sys.executable, "-c", "import pymc"]), 5)
        ours = median_time(lambda: run([str(exe), "--help"]), 3)
        row("ppl-mle --help (fresh process)", ours, 'python -c "import pymc"', base)
        fit = [str(exe), "fit", "normal", str(path)]
        ours = median_time(lambda: run(fit), 1)
        row("ppl-mle fit normal, 10 rows, first run", ours, 'python -c "import pymc"', base)
        ours = median_time(lambda: run(fit), 5)
        row("ppl-mle fit normal, 10 rows (fresh process)", ours, 'python -c "import pymc"', base)


def main() -> None:
    rng = np.random.default_rng(20261127)
    print(f"{os.cpu_count()} cores; every ratio is ours / the baseline on its right")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        new_models(rng)
        many_fits(rng)
        if "--no-big" not in sys.argv:
            big(rng)
    command_line()


if __name__ == "__main__":
    main()
