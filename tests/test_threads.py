"""Fits in two threads at once: each gets the answer of its own data.

Models of one structure share their compiled functions, and nothing else: two threads
fitting different data at the same time each get their own closed-form answer.
"""

import threading

import numpy as np
import pymc as pm
import pytest

import ppl_mle

_ROUNDS = 10


def _normal_answer(x: np.ndarray) -> tuple[float, float]:
    return float(x.mean()), float(x.std())


def _user_model(x: np.ndarray) -> pm.Model:
    with pm.Model() as model:
        mu = pm.Flat("mu")
        sigma = pm.HalfFlat("sigma")
        pm.Normal("y", mu, sigma, observed=pm.Data("x", x))
    return model


def _in_two_threads(work) -> list[str]:
    """Run ``work(thread_index, round)`` for every round in two threads; the failures."""
    failures: list[str] = []
    barrier = threading.Barrier(2)

    def run(index: int) -> None:
        for round_ in range(_ROUNDS):
            barrier.wait()
            try:
                work(index, round_)
            except Exception as exc:  # reported below, with the round
                failures.append(f"thread {index}, round {round_}: {type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return failures


@pytest.mark.parametrize("kind", ["normal", "user"])
def test_two_threads_fit_different_data_each_to_its_own_answer(kind):
    rng = np.random.default_rng(7)
    # Far apart, so an answer computed on the other thread's data cannot pass.
    data = {
        (i, r): rng.normal(10.0 if i == 0 else -1e3, 1.0 + 5.0 * i, size=50 + 7 * r + i)
        for i in range(2)
        for r in range(_ROUNDS)
    }

    def work(index: int, round_: int) -> None:
        x = data[index, round_]
        model = ppl_mle.normal(x) if kind == "normal" else _user_model(x)
        result = ppl_mle.fit_mle(model, on_failure="raise")
        mu, sigma = _normal_answer(x)
        assert float(result.estimates["mu"]) == pytest.approx(mu, rel=1e-8, abs=1e-10)
        assert float(result.estimates["sigma"]) == pytest.approx(sigma, rel=1e-7)

    assert _in_two_threads(work) == []


def test_two_threads_refit_their_own_models_with_replaced_data():
    rng = np.random.default_rng(8)
    models = [ppl_mle.normal(rng.normal(size=20)), ppl_mle.normal(rng.normal(size=30))]

    def work(index: int, round_: int) -> None:
        x = rng.normal(100.0 * index + round_, 2.0, size=40)
        models[index].replace_data(x)
        result = ppl_mle.fit_mle(models[index], on_failure="raise")
        mu, sigma = _normal_answer(x)
        assert float(result.estimates["mu"]) == pytest.approx(mu, rel=1e-9, abs=1e-10)
        assert float(result.estimates["sigma"]) == pytest.approx(sigma, rel=1e-7)

    assert _in_two_threads(work) == []
