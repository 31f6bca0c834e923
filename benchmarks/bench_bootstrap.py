"""The parametric bootstrap: 999 verified refits, against the loops a user would write.

Every row is timed in this process and printed with its ratio to a baseline measured the
same way:

- **normal, 999 refits** — ``result.bootstrap(999)`` of ``ppl_mle.normal(x)`` (n = 100; the
  first call, which compiles the forward sampler, and a second one), against ``fit_mle``
  after ``replace_data`` on the same model (the documented refit loop; 100 fits timed and
  scaled to 999) and against numpy's closed form on numpy's draws (a floor: no
  verification at all);
- **Poisson GLM, 5 coefficients, 999 refits** — ``result.bootstrap(999)`` of a user's
  ``pm.Model`` (n = 500, constant observations: the bootstrap copies the model with data
  containers of its own), against statsmodels' ``GLM(...).fit()`` on 999 data sets drawn
  by numpy, and against ``fit_mle`` after ``pm.set_data`` on a ``pm.Data`` version of the
  model (100 fits timed and scaled to 999);
- **BCa** — the same normal bootstrap with ``method="bca"`` (one more compiled function:
  the observations' scores);
- **threads** — two bootstraps of 500 refits each in two threads, against the same two
  one after the other (the refits hold the GIL: threads do not pay).

Targets on this 2-core machine: normal ≤ 10 s, GLM ≤ 60 s.

Run: .venv/bin/python benchmarks/bench_bootstrap.py
"""

import time
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pymc as pm
import statsmodels.api as sm

import ppl_mle


def timed(fn) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def row(what: str, ours: float, base_name: str, base: float) -> None:
    print(
        f"{what:46} {ours:9.3f} s   {base_name:40} {base:9.3f} s   ratio {ours / base:7.2f}",
        flush=True,
    )


def normal(rng: np.random.Generator) -> None:
    x = rng.normal(10.0, 3.0, size=100)
    model = ppl_mle.normal(x)
    result = ppl_mle.fit_mle(model)
    first, boot = timed(lambda: result.bootstrap(999, random_seed=1))
    assert boot.n_verified == 999, boot
    second, _ = timed(lambda: result.bootstrap(999, random_seed=2))
    bca, _ = timed(lambda: result.bootstrap(999, random_seed=3, method="bca"))
    # Baselines: the documented refit loop on a model of the same family, and numpy
    loop = ppl_mle.normal(x)
    ppl_mle.fit_mle(loop)
    draws = rng.normal(float(result.estimates["mu"]), float(result.estimates["sigma"]), (100, 100))

    def refit_loop() -> None:
        for d in draws:
            loop.replace_data(d)
            assert ppl_mle.fit_mle(loop).converged

    loop_time = timed(refit_loop)[0] * 999 / 100

    def numpy_loop() -> None:
        g = np.random.default_rng(0)
        for _ in range(999):
            d = g.normal(10.0, 3.0, size=100)
            d.mean(), d.std()

    floor = timed(numpy_loop)[0]
    row(
        "normal n=100, 999 refits (first call)",
        first,
        "fit_mle + replace_data ×999 (from 100)",
        loop_time,
    )
    row(
        "normal n=100, 999 refits (second call)",
        second,
        "fit_mle + replace_data ×999 (from 100)",
        loop_time,
    )
    row("normal n=100, 999 refits (second call)", second, "numpy draws + mean/std ×999", floor)
    row("normal n=100, 999 refits, BCa", bca, "the same, percentile", second)
    threads(result, second)


def threads(result: ppl_mle.MLEResult, serial_999: float) -> None:
    result.bootstrap(5, random_seed=0)

    def serial() -> None:
        result.bootstrap(500, random_seed=1)
        result.bootstrap(500, random_seed=2)

    def parallel() -> None:
        with ThreadPoolExecutor(2) as pool:
            futures = [pool.submit(result.bootstrap, 500, random_seed=s) for s in (1, 2)]
            [f.result() for f in futures]

    base = timed(serial)[0]
    ours = timed(parallel)[0]
    row("normal, 2 × 500 refits in 2 threads", ours, "2 × 500 one after the other", base)


def glm(rng: np.random.Generator) -> None:
    n, k = 500, 4
    X = rng.normal(size=(n, k)) * 0.5
    beta = np.array([0.4, -0.3, 0.2, 0.1])
    y = rng.poisson(np.exp(0.5 + X @ beta))
    with pm.Model() as model:
        b0 = pm.Normal("b0", 0.0, 10.0)
        b = pm.Normal("b", 0.0, 10.0, shape=k)
        pm.Poisson("y", mu=pm.math.exp(b0 + pm.math.dot(X, b)), observed=y)
    result = ppl_mle.fit_mle(model)
    first, boot = timed(lambda: result.bootstrap(999, random_seed=1))
    assert boot.n_verified == 999, boot
    second, _ = timed(lambda: result.bootstrap(999, random_seed=2))
    # statsmodels on 999 data sets drawn by numpy at the same MLE
    design = sm.add_constant(X)
    mean = np.exp(design @ result.params.to_numpy())
    data = np.random.default_rng(3).poisson(mean, size=(999, n))

    def statsmodels_loop() -> None:
        for d in data:
            sm.GLM(d, design, family=sm.families.Poisson()).fit()

    sm_time = timed(statsmodels_loop)[0]
    # fit_mle after pm.set_data, on a pm.Data version of the model
    with pm.Model() as data_model:
        yd = pm.Data("y_obs", y)
        c0 = pm.Normal("b0", 0.0, 10.0)
        c = pm.Normal("b", 0.0, 10.0, shape=k)
        pm.Poisson("y", mu=pm.math.exp(c0 + pm.math.dot(X, c)), observed=yd)
    ppl_mle.fit_mle(data_model)

    def refit_loop() -> None:
        for d in data[:100]:
            with data_model:
                pm.set_data({"y_obs": d})
            assert ppl_mle.fit_mle(data_model).converged

    loop_time = timed(refit_loop)[0] * 999 / 100
    row("Poisson GLM 5 coef., 999 refits (first call)", first, "statsmodels GLM.fit ×999", sm_time)
    row("Poisson GLM 5 coef., 999 refits (second)", second, "statsmodels GLM.fit ×999", sm_time)
    row(
        "Poisson GLM 5 coef., 999 refits (second)",
        second,
        "fit_mle + pm.set_data ×999 (from 100)",
        loop_time,
    )


def main() -> None:
    warnings.simplefilter("error")
    warnings.filterwarnings("ignore", message=r"\s*ArviZ is undergoing", category=FutureWarning)
    rng = np.random.default_rng(2024)
    normal(rng)
    glm(rng)


if __name__ == "__main__":
    main()
