"""Per-group MLE at scale: ours against pandas and Dask groupby on the same data.

Rows (each timed in this process against a baseline run on the same data, ratio printed):

- **in memory** — ``ppl_mle.normal(x, groups=g)`` + ``fit_mle`` (statistics per group,
  find_MAP with the block-diagonal Newton method, every group verified) against pandas
  ``df.groupby("g")["x"].agg(["mean", "var"])``; the largest relative difference of the
  means and variances from pandas' is printed too;
- **Parquet shards** — ``ppl_mle.normal.from_source(folder, column="x", by="g")`` + fit
  against Dask's ``dd.read_parquet(folder).groupby("g")["x"].agg(["mean", "var"])``, each
  in a fresh process so that its peak memory (max RSS) is its own;
- **the Newton step is O(groups)** — one block Hessian (k + s Hessian-vector products) and
  one block solve at 1e4, 1e5 and 1e6 groups, per group.

Run: .venv/bin/python benchmarks/bench_groups.py [--rows 1e8] [--groups 1e6]
     [--shard-rows 2e8] [--shard-groups 1e5] [--shards 20]
The defaults are the target sizes (1e8 rows / 1e6 groups in memory, 2e8 rows / 1e5 groups
in 20 shards): several minutes and ~15 GiB. ``--quick`` runs 1e7 / 1e5 and 2e7 / 1e4.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd


def _row(what: str, ours: float, base_name: str, base: float, extra: str = "") -> None:
    print(
        f"{what:46} {ours:8.2f} s   {base_name:34} {base:8.2f} s   ratio {ours / base:6.2f}{extra}",
        flush=True,
    )


def in_memory(rows: int, groups: int) -> None:
    import ppl_mle

    rng = np.random.default_rng(1)
    g = rng.integers(0, groups, rows)
    x = rng.normal(100.0, 5.0, rows) + (g % 97)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ppl_mle.fit_mle(ppl_mle.normal(x[:10_000], groups=g[:10_000] % 50))  # compile once
    t0 = time.perf_counter()
    base = pd.DataFrame({"g": g, "x": x}).groupby("g")["x"].agg(["mean", "var"])
    t_base = time.perf_counter() - t0
    t0 = time.perf_counter()
    model = ppl_mle.normal(x, groups=g)
    t_declare = time.perf_counter() - t0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = ppl_mle.fit_mle(model)
    t_ours = time.perf_counter() - t0
    n = model.family.n
    verified = int(np.sum(result.group_status == ppl_mle.FitStatus.VERIFIED))
    mean_diff = np.max(np.abs(result.estimates["mu"] - base["mean"].to_numpy()) / 5.0)
    var = result.estimates["sigma"] ** 2 * n / np.maximum(n - 1, 1)
    var_diff = np.nanmax(np.abs(var - base["var"].to_numpy()) / base["var"].to_numpy())
    _row(
        f"{rows:.0e} rows, {groups:.0e} groups: declare + fit",
        t_ours,
        "pandas groupby mean, var",
        t_base,
        f"   (statistics {t_declare:.2f} s; {verified} groups verified; "
        f"vs pandas: mean {mean_diff:.1e}, var {var_diff:.1e})",
    )


def _write_shards(folder: Path, rows: int, groups: int, shards: int) -> None:
    rng = np.random.default_rng(2)
    per = rows // shards
    for i in range(shards):
        g = rng.integers(0, groups, per)
        x = rng.normal(1e6, 3.0, per) + (g % 11)
        pd.DataFrame({"g": g, "x": x}).to_parquet(folder / f"part{i:03d}.parquet")


def _part(kind: str, folder: str) -> None:
    """One side of the shard comparison, in this (fresh) process: prints JSON.

    Imports are done before the clock starts (PyMC's alone take seconds); peak memory is
    the process's high-water mark (VmHWM: unlike ``ru_maxrss`` it is not inherited from
    the parent across ``exec``).
    """
    import dask.dataframe as dd

    import ppl_mle

    ppl_mle.fit_mle  # noqa: B018  (loads PyMC now)
    t0 = time.perf_counter()
    if kind == "dask":
        out = dd.read_parquet(folder).groupby("g")["x"].agg(["mean", "var"]).compute()
        groups = len(out)
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = ppl_mle.normal.from_source(folder, column="x", by="g")
            result = ppl_mle.fit_mle(model)
        groups = int(np.sum(result.group_status == ppl_mle.FitStatus.VERIFIED))
    seconds = time.perf_counter() - t0
    status = Path("/proc/self/status").read_text().splitlines()
    hwm = [line for line in status if line.startswith("VmHWM:")]
    peak = int(hwm[0].split()[1]) / 2**20 if hwm else float("nan")  # KiB -> GiB
    print(json.dumps({"seconds": seconds, "peak_gib": peak, "groups": groups}))


def shards(rows: int, groups: int, count: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        _write_shards(folder, rows, groups, count)
        found = {}
        for kind in ("dask", "ours"):
            out = subprocess.run(
                [sys.executable, __file__, "--part", kind, str(folder)],
                capture_output=True,
                text=True,
                check=True,
                env={**os.environ, "PYTHONWARNINGS": "ignore"},
            )
            found[kind] = json.loads(out.stdout.strip().splitlines()[-1])
    _row(
        f"{rows:.0e} rows in {count} Parquet shards, {groups:.0e} groups",
        found["ours"]["seconds"],
        "Dask groupby mean, var",
        found["dask"]["seconds"],
        f"   (peak memory: ours {found['ours']['peak_gib']:.2f} GiB, Dask "
        f"{found['dask']['peak_gib']:.2f} GiB; {found['ours']['groups']} groups verified)",
    )


def newton_step_cost() -> None:
    from ppl_mle.core.grouped import GroupedNormalFamily, group_stats
    from ppl_mle.fit.grouped import _BlockHessian, _layouts, _start
    from ppl_mle.fit.objective import objective_for
    from ppl_mle.model.grouped import grouped_model_for

    print("one block Newton step (block Hessian by autodiff + block solve), per group:")
    for groups in (10_000, 100_000, 1_000_000):
        rng = np.random.default_rng(3)
        codes = np.repeat(np.arange(groups), 3)
        x = rng.normal(size=codes.size)
        family = GroupedNormalFamily(tuple(range(groups)), group_stats(x, codes, groups))
        model = grouped_model_for(family)
        objective = objective_for(model)
        layout, _ = _layouts(objective, model, groups)
        blocks = _BlockHessian(objective, layout)
        z = objective.from_point(_start(family))
        blocks(z)  # compiled
        t0 = time.perf_counter()
        for _ in range(3):
            g = objective.value_and_grad(z)[1]
            (-blocks(z)).solve(g)
            z = z + 1e-9
        per = (time.perf_counter() - t0) / 3 / groups
        print(f"  {groups:>9,} groups: {per * 1e9:7.1f} ns per group", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=float, default=1e8)
    parser.add_argument("--groups", type=float, default=1e6)
    parser.add_argument("--shard-rows", type=float, default=2e8)
    parser.add_argument("--shard-groups", type=float, default=1e5)
    parser.add_argument("--shards", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="1e7/1e5 and 2e7/1e4 rows/groups")
    parser.add_argument("--part", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.part:
        _part(*args.part)
        return
    if args.quick:
        args.rows, args.groups, args.shard_rows, args.shard_groups = 1e7, 1e5, 2e7, 1e4
    print(f"{os.cpu_count()} cores; every ratio is ours / the baseline on its right")
    in_memory(int(args.rows), int(args.groups))
    shards(int(args.shard_rows), int(args.shard_groups), args.shards)
    newton_step_cost()


if __name__ == "__main__":
    main()
