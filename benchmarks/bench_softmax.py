"""Softmax regression: fit_mle against statsmodels' MNLogit, in the same process.

Data: n rows, 10 standard-normal features, 5 classes drawn from a softmax model with fixed
coefficients (seeded). Both fits start from nothing the other computed. For each n the
script prints the wall time of statsmodels' MNLogit (Newton, its default) and of
ppl_mle.fit_mle with each Newton method find_MAP can run (``Newton``, the default for
softmax regression; ``trust-exact``; ``Newton-CG``), their ratio, and the agreement: the
largest relative difference of the coefficients and the log-likelihood difference (ours
minus theirs). Each time is the median of REPEATS runs.

Both sides use the exact Hessian, statsmodels' formed from the data directly, ours by the
same closed form (``SoftmaxFamily.hessian``, checked against PyTensor's automatic second
derivatives in the tests); values and gradients are PyTensor's, compiled from the PyMC model.

fit_mle's time includes building and validating the model, compiling it (PyTensor's C
cache warm), find_MAP, Newton polishing and the verification (gradient, Hessian, the
separation check and the probe along the flattest direction); statsmodels' includes its
fit. Standard errors are not timed (one inverse of the Hessian for both).

Run: .venv/bin/python benchmarks/bench_softmax.py [n ...]
"""

import sys
import time

import numpy as np
import statsmodels.api as sm

import ppl_mle

N_FEATURES, N_CLASSES = 10, 5
METHODS = ("Newton", "trust-exact", "Newton-CG")


def data(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    x = rng.standard_normal((n, N_FEATURES))
    beta = rng.normal(0.0, 0.5, size=(N_FEATURES + 1, N_CLASSES))
    beta[:, 0] = 0.0
    logits = beta[0] + x @ beta[1:]
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    u = rng.random((n, 1))
    y = (u > np.cumsum(p, axis=1)).sum(axis=1)
    return x, y


#: Each fit is timed this many times; the median is reported (timings on a shared machine
#: vary by ±20% from run to run).
REPEATS = 3


def timed(fn):
    times, out = [], None
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return out, float(np.median(times))


def main(sizes: list[int]) -> None:
    rng = np.random.default_rng(2026)
    # Warm PyTensor's compile cache on a small problem of the same shape.
    x, y = data(2_000, rng)
    for method in METHODS:
        ppl_mle.fit_mle(ppl_mle.softmax_regression(x, y), method=method)
    header = f"{'n':>9} {'method':>12} {'statsmodels s':>13} {'ppl_mle s':>10} {'ratio':>6}"
    print(header + f" {'max rel diff':>12} {'loglik diff':>12}")
    for n in sizes:
        x, y = data(n, rng)
        ref, t_sm = timed(
            lambda x=x, y=y: sm.MNLogit(y, sm.add_constant(x)).fit(disp=0, maxiter=100)
        )
        for method in METHODS:
            result, t_ours = timed(
                lambda x=x, y=y, method=method: ppl_mle.fit_mle(
                    ppl_mle.softmax_regression(x, y), method=method
                )
            )
            ours = result.estimates["beta"]
            rel = float(np.max(np.abs(ours - ref.params) / np.abs(ref.params)))
            print(
                f"{n:>9} {method:>12} {t_sm:>13.2f} {t_ours:>10.2f} {t_ours / t_sm:>6.2f} "
                f"{rel:>12.2e} {result.loglik - ref.llf:>12.2e}"
            )


if __name__ == "__main__":
    main([int(float(a)) for a in sys.argv[1:]] or [100_000, 1_000_000])
