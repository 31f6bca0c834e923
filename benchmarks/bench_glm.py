"""GLMs declared by hand in PyMC: fit_mle against statsmodels and pm.find_MAP, in one process.

Data: n rows, D − 1 standard-normal features scaled by 0.3, coefficients drawn once
(seeded); a Poisson regression (log link), a logistic regression (logit link) and a normal
linear regression (``sigma ~ HalfNormal(5)`` besides), each declared as a user would
(``a ~ Normal(0, 5)``, ``b ~ Normal(0, 1, shape=D - 1)``, the observed variable on
``a + X @ b``). For each n and model the script prints the wall time of

- statsmodels (``GLM(Poisson)`` / ``Logit`` / ``OLS``, the reference),
- ``pm.find_MAP`` on the user's model (its priors: the MAP, not the MLE; no verification),
- ``ppl_mle.fit_mle`` (priors made flat, find_MAP, Newton polish with the exact Hessian,
  verification: gradient, Hessian, the probe along the flattest direction),

the ratios of ours to each, and the agreement with statsmodels (largest absolute
difference of the coefficients). Each time is the median of REPEATS runs after one warm-up
fit (PyTensor's C cache warm, the model's graph compiled in the warm-up for find_MAP only as
far as PyTensor caches it: both sides rebuild their functions per call).

Run: .venv/bin/python benchmarks/bench_glm.py [--coefs D] [n ...]
(default: D = 10, n = 1000 100000 1000000)
"""

import sys
import time
import warnings

import numpy as np
import pymc as pm
import statsmodels.api as sm

import ppl_mle

D = 10
REPEATS = 3


def model_of(x: np.ndarray, y: np.ndarray, kind: str) -> pm.Model:
    with pm.Model() as model:
        a = pm.Normal("a", 0.0, 5.0)
        b = pm.Normal("b", 0.0, 1.0, shape=x.shape[1])
        eta = a + pm.math.dot(x, b)
        if kind == "poisson":
            pm.Poisson("y", mu=pm.math.exp(eta), observed=y)
        elif kind == "logistic":
            pm.Bernoulli("y", logit_p=eta, observed=y)
        else:
            sigma = pm.HalfNormal("sigma", 5.0)
            pm.Normal("y", mu=eta, sigma=sigma, observed=y)
    return model


def reference(x: np.ndarray, y: np.ndarray, kind: str) -> np.ndarray:
    design = sm.add_constant(x)
    if kind == "poisson":
        return np.asarray(sm.GLM(y, design, family=sm.families.Poisson()).fit().params)
    if kind == "logistic":
        return np.asarray(sm.Logit(y, design).fit(disp=0).params)
    return np.asarray(sm.OLS(y, design).fit().params)


def median_time(fn) -> tuple[float, object]:
    times, out = [], None
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), out


def main(ns: list[int], coefs: int = D) -> None:
    rng = np.random.default_rng(20261127)
    beta = rng.normal(0.0, 0.3, size=coefs - 1)
    print(f"{coefs} coefficients (intercept included)")
    print(
        f"{'model':9} {'n':>9} {'statsmodels':>12} {'find_MAP':>9} {'fit_mle':>9} "
        f"{'/sm':>6} {'/find_MAP':>9} {'max |Δβ|':>9}"
    )
    for n in ns:
        x = rng.standard_normal((n, coefs - 1)) * 0.3
        eta = 0.3 + x @ beta
        for kind in ("poisson", "logistic", "normal"):
            if kind == "poisson":
                y = rng.poisson(np.exp(eta))
            elif kind == "logistic":
                y = rng.binomial(1, 1.0 / (1.0 + np.exp(-eta)))
            else:
                y = eta + rng.normal(0.0, 0.5, size=n)
            model = model_of(x, y, kind)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ppl_mle.fit_mle(model)  # warm-up: C code compiled once
                t_sm, params = median_time(lambda x=x, y=y, k=kind: reference(x, y, k))
                t_map, _ = median_time(lambda m=model: pm.find_MAP(model=m, progressbar=False))
                t_fit, result = median_time(lambda m=model: ppl_mle.fit_mle(m))
            ours = np.r_[result.estimates["a"], result.estimates["b"]]
            diff = float(np.max(np.abs(ours - params)))
            print(
                f"{kind:9} {n:>9} {t_sm:>11.3f}s {t_map:>8.3f}s {t_fit:>8.3f}s "
                f"{t_fit / t_sm:>6.1f} {t_fit / t_map:>9.2f} {diff:>9.1e}"
                + ("" if result.converged else "  NOT VERIFIED"),
                flush=True,
            )


if __name__ == "__main__":
    args = sys.argv[1:]
    coefs = D
    if args[:1] == ["--coefs"]:
        coefs, args = int(args[1]), args[2:]
    main([int(a) for a in args] or [1_000, 100_000, 1_000_000], coefs)
