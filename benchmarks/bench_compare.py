"""compare_bayes against pm.sample alone on the heights model, in one warm process.

Data: the ten heights of ``ppl_mle.teaching.demo.HEIGHTS``, the normal model with mu and
sigma unknown (flat priors). Every timed call gets a NEW model of the same shape: the
heights plus seeded noise (other data, n = 10), so nothing is compiled for that model yet
while PyTensor's C cache is warm — what a user pays for a second comparison in a session.
For each ``cores`` (1: the chains one after the other in this process; 2: two worker
processes; ``default``: each function's own default — PyMC's, from the number of CPUs, for
``pm.sample``; 1 for data this small for ``compare_bayes``) the script prints the wall time
of

- ``pm.sample`` alone: 4 chains x 1000 draws after 1000 tuning steps (compare_bayes's
  defaults), no progress bar, no convergence checks — the bare sampler on the same model;
- ``ppl_mle.compare_bayes`` with the same draws, tune, chains and cores (the MLE fit, NUTS,
  ArviZ's diagnostics, the Laplace draws, the table; profile intervals off, its default);
- their ratio (the target, at equal cores: at most 2; the ``default`` row is what a
  user calling each without ``cores`` waits).

Each time is the median of REPEATS runs, after one warm-up call of each on the heights.

Run: .venv/bin/python benchmarks/bench_compare.py [--repeats R] [cores ...]
(default: R = 5, cores = default 1 2)
"""

import logging
import sys
import time
import warnings

import numpy as np
import pymc as pm

import ppl_mle
from ppl_mle.teaching.demo import HEIGHTS

DRAWS, TUNE, CHAINS = 1000, 1000, 4
REPEATS = 5


def new_model(seed: int) -> pm.Model:
    """The heights plus seeded noise: a model of the same shape, other data."""
    x = np.asarray(HEIGHTS, dtype=float) + np.random.default_rng(seed).normal(0.0, 2.0, 10)
    return ppl_mle.normal(x)


def sample_alone(model: pm.Model, cores: int | None, seed: int) -> None:
    pm.sample(
        draws=DRAWS,
        tune=TUNE,
        chains=CHAINS,
        cores=cores,
        random_seed=seed,
        progressbar=False,
        compute_convergence_checks=False,
        model=model,
    )


def compare(model: pm.Model, cores: int | None, seed: int) -> None:
    c = ppl_mle.compare_bayes(
        model, draws=DRAWS, tune=TUNE, chains=CHAINS, cores=cores, random_seed=seed
    )
    if not c.trustworthy:
        print("  (a comparison was not trustworthy: " + "; ".join(c.problems) + ")")


def median_time(fn, repeats: int, first_seed: int) -> float:
    times = []
    for k in range(repeats):
        seed = first_seed + k
        model = new_model(seed)  # built outside the clock, as a user's model would be
        t0 = time.perf_counter()
        fn(model, seed)
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def main(cores_list: list[int | None], repeats: int = REPEATS) -> None:
    logging.getLogger("pymc").setLevel(logging.ERROR)
    heights = ppl_mle.normal(np.asarray(HEIGHTS, dtype=float))
    print(f"heights (n = 10), {CHAINS} chains x {DRAWS} draws, tune {TUNE}; median of {repeats}")
    print(f"{'cores':>7} {'pm.sample':>10} {'compare_bayes':>14} {'ratio':>6}")
    for cores in cores_list:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # Warm-up: PyTensor's C code compiled and cached once, worker start-up paid once.
            sample_alone(heights, cores, 0)
            compare(heights, cores, 0)
            t_sample = median_time(lambda m, s, c=cores: sample_alone(m, c, s), repeats, 100)
            t_compare = median_time(lambda m, s, c=cores: compare(m, c, s), repeats, 200)
        print(
            f"{cores or 'default':>7} {t_sample:>9.3f}s {t_compare:>13.3f}s "
            f"{t_compare / t_sample:>6.2f}",
            flush=True,
        )


if __name__ == "__main__":
    args = sys.argv[1:]
    repeats = REPEATS
    if args[:1] == ["--repeats"]:
        repeats, args = int(args[1]), args[2:]
    main([None if a == "default" else int(a) for a in args] or [None, 1, 2], repeats)
