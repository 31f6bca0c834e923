"""Scale: the MLE of 1e8 rows at the speed of one read.

Prints, in one run on this machine:

1. Normal, in-memory float64, n = 1e6, 1e7, 1e8: ``fit_mle(normal(x))`` (statistics path)
   against plain ``pymc.find_MAP`` on the raw-data model (same good start) and against
   one ``x.sum()`` pass. The fit is split into its data-dependent part (validation and the
   sufficient statistics: one read) and the fixed per-model overhead (declaring the
   statistics model, compiling it, find_MAP, verification), measured on the statistics
   alone.
2. Categorical, 1e8 integer labels, k = 10: ``categorical(labels)`` (counts) against
   ``numpy.bincount``.
3. Out of core: 2e8 normal values in 20 Parquet shards on disk: ``normal_stats_of(folder)``
   against Dask's own ``mean()`` over the same files, each in a fresh process, with its
   peak resident memory.
4. NUTS on the statistics model: ``compare_bayes`` (4 chains x 1000 draws) at n = 1e7
   against n = 100.

Run: .venv/bin/python benchmarks/bench_scale.py [--quick]   (--quick: 1e6 and 1e7 only)
"""

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pymc as pm

import ppl_mle


def timed(fn, repeat=1):
    best, out = np.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return out, best


def normal_in_memory(sizes, raw_up_to):
    rng = np.random.default_rng(0)
    print("1. normal, in-memory float64")
    print(
        f"{'n':>12} {'x.sum() s':>10} {'data part s':>12} {'fixed s':>8} {'fit_mle s':>10} "
        f"{'find_MAP s':>11} {'vs find_MAP':>12} {'data/sum':>9}"
    )
    # Warm the compile cache of both models.
    warm = rng.normal(5.0, 2.0, 1000)
    ppl_mle.fit_mle(ppl_mle.normal(warm, sufficient=True))
    ppl_mle.fit_mle(ppl_mle.normal(warm, sufficient=False))
    for n in sizes:
        x = rng.normal(5.0, 2.0, n)
        _, t_sum = timed(x.sum, repeat=3)
        stats, t_data = timed(lambda x=x: ppl_mle.closed_form.normal_stats(x), repeat=3)
        _, t_fixed = timed(
            lambda s=stats: ppl_mle.fit_mle(ppl_mle.normal.from_stats(s.n, s.mean, s.ss))
        )
        result, t_fit = timed(lambda x=x: ppl_mle.fit_mle(ppl_mle.normal(x)))
        assert result.converged and result.check_analytic().passed
        t_raw = np.nan
        if n <= raw_up_to:
            start = {"mu": float(np.median(x[:100_000])), "sigma": float(np.std(x[:100_000]))}

            def raw(x=x, start=start):
                with pm.Model():
                    mu = pm.Flat("mu")
                    sigma = pm.HalfFlat("sigma")
                    pm.Normal("x", mu, sigma, observed=x)
                    return pm.find_MAP(start=start, progressbar=False)

            _, t_raw = timed(raw)
        print(
            f"{n:>12.0e} {t_sum:>10.4f} {t_data:>12.4f} {t_fixed:>8.3f} {t_fit:>10.3f} "
            f"{t_raw:>11.2f} {t_raw / t_fit:>11.1f}x {t_data / t_sum:>8.2f}x"
        )
        del x


def categorical_counts(n):
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 10, n)
    _, t_bincount = timed(lambda: np.bincount(labels), repeat=3)
    model, t_model = timed(lambda: ppl_mle.categorical(labels), repeat=3)
    result, t_fit = timed(lambda: ppl_mle.fit_mle(model))
    assert result.check_analytic().passed
    print(f"\n2. categorical, {n:.0e} labels, k = 10")
    print(
        f"numpy.bincount {t_bincount:.3f} s; categorical(labels) {t_model:.3f} s "
        f"({t_model / t_bincount:.2f}x bincount); fit_mle {t_fit:.3f} s"
    )


_CHILD = """
import json, sys, time
kind, folder = sys.argv[1], sys.argv[2]
if kind == "ppl_mle":
    import ppl_mle  # imported before the clock starts, as dask is below
else:
    import dask.dataframe as dd
t0 = time.perf_counter()
if kind == "ppl_mle":
    value = ppl_mle.normal_stats_of(folder, "x", progress=False).mean
else:
    value = float(dd.read_parquet(folder, columns=["x"])["x"].mean().compute())
elapsed = time.perf_counter() - t0
# VmHWM: this process's own peak resident memory (ru_maxrss would include the parent's
# high-water mark inherited across fork).
status = open("/proc/self/status").read().splitlines()
rss = [int(line.split()[1]) for line in status if line.startswith("VmHWM")][0] / 1024
print(json.dumps({"seconds": elapsed, "peak_mb": rss, "mean": value}))
"""


def out_of_core(n, shards=20):
    import pandas as pd

    print(f"\n3. out of core: {n:.0e} normal values in {shards} Parquet shards")
    folder = Path(tempfile.mkdtemp(prefix="ppl_mle_shards_"))
    rng = np.random.default_rng(2)
    for i in range(shards):
        pd.DataFrame({"x": rng.normal(5.0, 2.0, n // shards)}).to_parquet(
            folder / f"part-{i:03d}.parquet"
        )
    runs = {}
    for kind in ("dask", "ppl_mle"):
        proc = subprocess.run(
            [sys.executable, "-c", _CHILD, kind, str(folder)],
            capture_output=True,
            text=True,
            check=True,
        )
        runs[kind] = json.loads(proc.stdout.strip().splitlines()[-1])
    d, p = runs["dask"], runs["ppl_mle"]
    print(
        f"dask mean() {d['seconds']:.2f} s (peak {d['peak_mb']:.0f} MB); "
        f"normal_stats_of {p['seconds']:.2f} s (peak {p['peak_mb']:.0f} MB); "
        f"ratio {p['seconds'] / d['seconds']:.2f}x; means agree to "
        f"{abs(p['mean'] - d['mean']) / abs(d['mean']):.1e}"
    )
    for file in folder.iterdir():
        file.unlink()
    folder.rmdir()


def nuts(big):
    rng = np.random.default_rng(3)
    print("\n4. NUTS on the statistics model, 4 chains x 1000 draws")
    times = {}
    for n in (100, big):
        stats = ppl_mle.closed_form.normal_stats(rng.normal(5.0, 2.0, n))
        model = ppl_mle.normal.from_stats(stats.n, stats.mean, stats.ss)
        _, times[n] = timed(lambda m=model: ppl_mle.compare_bayes(m, random_seed=1))
    print(
        f"n = 100: {times[100]:.1f} s; n = {big:.0e}: {times[big]:.1f} s; "
        f"ratio {times[big] / times[100]:.2f}x"
    )


def main():
    quick = "--quick" in sys.argv
    sizes = [1_000_000, 10_000_000] if quick else [1_000_000, 10_000_000, 100_000_000]
    normal_in_memory(sizes, raw_up_to=sizes[-1])
    categorical_counts(10_000_000 if quick else 100_000_000)
    out_of_core(20_000_000 if quick else 200_000_000)
    nuts(10_000_000)


if __name__ == "__main__":
    main()
