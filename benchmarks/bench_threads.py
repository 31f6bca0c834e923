"""Fits from two threads against one: the throughput of a process fitting in parallel.

Models of one structure share their compiled functions and nothing else; a lock is held
only while a model is declared or a function compiled, and each compiled function is
called by one thread at a time. This times the same fits done by one thread and split
between two, after one warm-up fit of each kind (nothing left to compile), for

- **normal models** — new ``ppl_mle.normal`` models of 1,000 rows (declare + fit);
- **a user's model** — ``pm.Normal`` with ``pm.Data`` and weak priors (made flat by the
  fit), its data replaced before each fit (one model per thread).

Each fit is checked against its closed form. Printed: fits per second with one thread,
with two, and the ratio two / one (2.0 would be perfect scaling; the GIL and PyMC's
Python-level work in find_MAP keep it lower).

Run: .venv/bin/python benchmarks/bench_threads.py [--fits 200]
"""

from __future__ import annotations

import argparse
import os
import platform
import threading
import time
from collections.abc import Callable

import numpy as np
import pymc as pm

import ppl_mle


def _check(result: ppl_mle.MLEResult, x: np.ndarray) -> None:
    assert abs(float(result.estimates["mu"]) - x.mean()) <= 1e-12 * abs(x.mean()) + 1e-12


def normal_fit(x: np.ndarray, _thread: int) -> None:
    """Declare a normal model of ``x`` and fit it."""
    _check(ppl_mle.fit_mle(ppl_mle.normal(x)), x)


def user_models(threads: int) -> Callable[[np.ndarray, int], None]:
    """One user's model per thread, refitted on each data set."""
    models = []
    for _ in range(threads):
        with pm.Model() as model:
            data = pm.Data("x", np.zeros(1000))
            mu = pm.Normal("mu", 0.0, 100.0)
            sigma = pm.HalfNormal("sigma", 100.0)
            pm.Normal("y", mu, sigma, observed=data)
        models.append(model)

    def fit(x: np.ndarray, thread: int) -> None:
        pm.set_data({"x": x}, model=models[thread])
        _check(ppl_mle.fit_mle(models[thread]), x)

    return fit


def throughput(fit: Callable[[np.ndarray, int], None], data: np.ndarray, threads: int) -> float:
    """Fits per second, ``data``'s rows split between ``threads`` threads."""
    parts = np.array_split(np.arange(len(data)), threads)

    def run(index: int) -> None:
        for row in parts[index]:
            fit(data[row], index)

    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    t0 = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return len(data) / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fits", type=int, default=200)
    args = parser.parse_args()
    print(
        f"machine: {os.cpu_count()} CPUs, {platform.platform()}, "
        f"Python {platform.python_version()}; {args.fits} fits of 1,000 rows each"
    )
    rng = np.random.default_rng(0)
    data = rng.normal(10.0, 3.0, size=(args.fits, 1000))
    print(f"{'fits':38} {'1 thread':>12} {'2 threads':>12} {'ratio':>7}")
    for name, make in (
        ("new normal models (declare + fit)", lambda threads: normal_fit),
        ("a user's pm.Data model, data replaced", user_models),
    ):
        for threads in (1, 2):  # warm-up: compile what these fits need
            throughput(make(threads), data[:2], threads)
        one = throughput(make(1), data, 1)
        two = throughput(make(2), data, 2)
        print(f"{name:38} {one:8.1f} /s {two:8.1f} /s {two / one:7.2f}", flush=True)


if __name__ == "__main__":
    main()
