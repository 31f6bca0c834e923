"""Which 95 % interval to trust: the coverage of Wald, profile and bootstrap intervals.

For each case, ``--reps`` data sets (2,000) are drawn from a known truth, each is fitted
with ``ppl_mle.fit_mle``, and the share of data sets whose interval contains the truth is
counted for

- **Wald**: ``result.conf_int(method="wald")``, estimate ± 1.96 SE (delta method for a
  Deterministic);
- **profile**: ``result.conf_int(method="profile")``, the likelihood-ratio interval (the
  default of ``conf_int``);
- **bootstrap**: ``result.bootstrap(--boot, method="percentile")``, the parametric
  bootstrap's percentile interval (and its BCa interval), on the first ``--boot-reps``
  data sets (500: each costs ``--boot`` refits).

The cases: the normal σ at n = 5, 10 and 30 (truth σ = 1, μ = 0; the exact coverages of the
Wald and profile intervals follow from nσ̂²/σ² ~ χ²(n−1), printed beside); a categorical
θ near 0 (θ = (0.02, 0.49, 0.49), n = 100: the interval of θ₁); and the coefficient of
variation cv = σ/μ of a normal sample (μ = 10, σ = 3, n = 20), a ``pm.Deterministic``.

A coverage estimated from R data sets has the Monte Carlo standard error
sqrt(c(1 − c)/R): 0.0049 at c = 0.95 and R = 2,000; 0.0097 at R = 500. An interval whose
bound is NaN (the fit could not vouch for it) counts as a miss and is counted apart.

Run: .venv/bin/python benchmarks/bench_coverage.py [--reps 2000] [--boot 199]
     [--boot-reps 500] [--cases "n = 5,cv"] [--json rows.json] [--figure coverage.png]
(cases run in separate processes are printed and drawn together by ``--from-json a.json
b.json``).
"""

from __future__ import annotations

import argparse
import json
import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pymc as pm
from scipy import optimize, stats

import ppl_mle

Q = float(stats.chi2.ppf(0.95, df=1))
Z = float(stats.norm.ppf(0.975))
METHODS = ("wald", "profile", "bootstrap percentile", "bootstrap bca")


@dataclass
class Case:
    """One coverage experiment: a model refitted on drawn data, one quantity's truth."""

    name: str
    label: str  # the row of the result's tables
    truth: float
    model: Callable[[np.ndarray], object]  # declares the model for the first data set
    replace: Callable[[object, np.ndarray], None]  # puts the next data set in
    draw: Callable[[np.random.Generator], np.ndarray]
    exact: dict[str, float] | None = None


def exact_sigma_coverage(n: int) -> dict[str, float]:
    """Exact coverage of the Wald and profile intervals of a normal σ (μ unknown).

    With W = σ̂²/σ², nW ~ χ²(n−1). Wald, σ̂ ± z σ̂/sqrt(2n): 1/(1 + c)² ≤ W ≤ 1/(1 − c)²,
    c = z/sqrt(2n) (no upper limit where c ≥ 1); profile: n(W − 1 − log W) ≤ q.
    """
    chi2 = stats.chi2(n - 1)
    c = Z / math.sqrt(2 * n)
    upper = chi2.cdf(n / (1 - c) ** 2) if c < 1 else 1.0
    wald = upper - chi2.cdf(n / (1 + c) ** 2)

    def deviance(w: float) -> float:
        return n * (w - 1 - math.log(w)) - Q

    lo, hi = optimize.brentq(deviance, 1e-9, 1.0), optimize.brentq(deviance, 1.0, 1e3)
    return {"wald": float(wald), "profile": float(chi2.cdf(n * hi) - chi2.cdf(n * lo))}


def _replace(model: object, data: np.ndarray) -> None:
    model.replace_data(data)  # type: ignore[attr-defined]


def _cv_model(data: np.ndarray) -> pm.Model:
    with pm.Model() as model:
        x = pm.Data("x", data)
        mu = pm.Flat("mu")
        sigma = pm.HalfFlat("sigma")
        pm.Deterministic("cv", sigma / mu)
        pm.Normal("y", mu, sigma, observed=x)
    return model


def _cv_replace(model: object, data: np.ndarray) -> None:
    with model:  # type: ignore[attr-defined]
        pm.set_data({"x": data})


def cases() -> list[Case]:
    out = []
    for n in (5, 10, 30):
        out.append(
            Case(
                name=f"normal sigma, n = {n}",
                label="sigma",
                truth=1.0,
                model=ppl_mle.normal,
                replace=_replace,
                draw=lambda rng, n=n: rng.normal(0.0, 1.0, n),
                exact=exact_sigma_coverage(n),
            )
        )
    theta = np.array([0.02, 0.49, 0.49])
    categories = ["rare", "b", "c"]
    out.append(
        Case(
            name="categorical theta = 0.02, n = 100",
            label="theta[rare]",
            truth=float(theta[0]),
            model=lambda y: ppl_mle.categorical(y, categories=categories),
            replace=_replace,
            draw=lambda rng: np.asarray(categories)[rng.choice(3, size=100, p=theta)],
        )
    )
    out.append(
        Case(
            name="cv = sigma / mu, n = 20",
            label="cv",
            truth=0.3,
            model=_cv_model,
            replace=_cv_replace,
            draw=lambda rng: rng.normal(10.0, 3.0, 20),
        )
    )
    return out


def run_case(case: Case, reps: int, boot: int, boot_reps: int, seed: int) -> dict[str, object]:
    rng = np.random.default_rng(seed)
    model = case.model(case.draw(rng))
    hits = dict.fromkeys(METHODS, 0)
    nan = dict.fromkeys(METHODS, 0)
    tried = dict.fromkeys(METHODS, 0)
    excluded = 0
    t0 = time.perf_counter()
    for r in range(reps):
        if r:
            case.replace(model, case.draw(rng))
        result = ppl_mle.fit_mle(model)
        bounds = {
            m: result.conf_int(method=m).loc[case.label].to_numpy() for m in ("wald", "profile")
        }
        if r < boot_reps:
            with warnings.catch_warnings():
                # a refit left out is counted below; the warning says the same
                warnings.simplefilter("ignore", ppl_mle.ConvergenceWarning)
                draws = result.bootstrap(boot, random_seed=seed + r, method="bca")
            excluded += draws.n_excluded
            bounds["bootstrap bca"] = draws.conf_int().loc[case.label].to_numpy()
            bounds["bootstrap percentile"] = (
                draws.conf_int(method="percentile").loc[case.label].to_numpy()
            )
        for m, (lo, hi) in bounds.items():
            tried[m] += 1
            if np.isnan(lo) or np.isnan(hi):
                nan[m] += 1
            elif lo <= case.truth <= hi:
                hits[m] += 1
    seconds = time.perf_counter() - t0
    coverage = {m: hits[m] / tried[m] for m in METHODS if tried[m]}
    return {
        "case": case.name,
        "coverage": coverage,
        "reps": {m: tried[m] for m in METHODS if tried[m]},
        "nan": {m: nan[m] for m in METHODS if tried[m]},
        "exact": case.exact,
        "bootstrap_refits_excluded": excluded,
        "seconds": seconds,
    }


def print_row(row: dict[str, object]) -> None:
    coverage, reps = row["coverage"], row["reps"]
    cells = []
    for m in METHODS:
        if m in coverage:  # type: ignore[operator]
            c, r = coverage[m], reps[m]  # type: ignore[index]
            cells.append(f"{m} {c:.3f} ±{math.sqrt(max(c * (1 - c), 0.0475) / r):.3f}")
    exact = row["exact"]
    extra = f"   exact: wald {exact['wald']:.3f}, profile {exact['profile']:.3f}" if exact else ""
    print(f"{row['case']:36} " + "   ".join(cells) + extra, f"({row['seconds']:.0f} s)", flush=True)


def figure(rows: list[dict[str, object]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 3.6))
    names = [str(r["case"]) for r in rows]
    width = 0.2
    for i, m in enumerate(METHODS):
        values = [r["coverage"].get(m, np.nan) for r in rows]  # type: ignore[attr-defined]
        ax.bar(np.arange(len(rows)) + (i - 1.5) * width, values, width, label=m)
    ax.axhline(0.95, color="k", lw=1, ls="--")
    ax.set_ylim(0.6, 1.06)
    ax.set_xticks(np.arange(len(rows)), names, rotation=15, ha="right", fontsize=8)
    ax.set_ylabel("coverage of a nominal 95 % interval")
    ax.legend(fontsize=8, ncol=4, loc="upper center")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=2000)
    parser.add_argument("--boot", type=int, default=199)
    parser.add_argument("--boot-reps", type=int, default=500)
    parser.add_argument("--seed", type=int, default=20261204)
    parser.add_argument("--cases", default="", help="substrings of the case names to run")
    parser.add_argument("--json", type=Path, help="write the rows here")
    parser.add_argument("--figure", type=Path, help="draw the coverages here (png)")
    parser.add_argument(
        "--from-json", type=Path, nargs="+", help="print and draw rows written before"
    )
    args = parser.parse_args()
    rows: list[dict[str, object]] = []
    for path in args.from_json or ():
        for row in json.loads(path.read_text()):
            print_row(row)
            rows.append(row)
    for i, case in enumerate(() if args.from_json else cases()):
        if args.cases and not any(s in case.name for s in args.cases.split(",")):
            continue
        row = run_case(case, args.reps, args.boot, min(args.boot_reps, args.reps), args.seed + i)
        print_row(row)
        rows.append(row)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n")
    if args.figure:
        figure(rows, args.figure)


if __name__ == "__main__":
    main()
