"""Cost of a verified fit against plain find_MAP, in the same process.

Prints, for the normal model at several n, the wall time of ``pymc.find_MAP`` on the same
PyMC model (given the same good start, so both find the MLE) and of ``ppl_mle.fit_mle``,
and their ratio. fit_mle adds one compilation (objective, gradient and Hessian) and a few
Newton steps; the ratio shows what verification costs.

Run: .venv/bin/python benchmarks/bench_fit.py
"""

import time

import numpy as np
import pymc as pm

import ppl_mle


def best_of(fn, repeat=3):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main():
    rng = np.random.default_rng(0)
    print(f"{'n':>10} {'find_MAP s':>11} {'fit_mle s':>10} {'ratio':>7}")
    for n in (1_000, 100_000, 1_000_000):
        x = rng.normal(5.0, 2.0, size=n)
        start = {
            "mu": float(np.median(x)),
            "sigma": 1.4826 * float(np.median(abs(x - np.median(x)))),
        }

        def plain(x=x, start=start):
            model = ppl_mle.normal(x)
            pm.find_MAP(model=model, start=start, progressbar=False)

        def verified(x=x):
            ppl_mle.fit_mle(ppl_mle.normal(x))

        plain()  # warm PyTensor's compile cache for both
        verified()
        t_plain, t_ours = best_of(plain), best_of(verified)
        print(f"{n:>10} {t_plain:>11.3f} {t_ours:>10.3f} {t_ours / t_plain:>7.2f}")


if __name__ == "__main__":
    main()
