"""A refit after replace_data uses the new data everywhere: estimates, Hessian, standard errors."""

import numpy as np
import pytest

import ppl_mle


def _categorical_se(labels, categories):
    counts = np.array([np.sum(np.asarray(labels) == c) for c in categories], dtype=float)
    theta = counts / counts.sum()
    return theta, np.sqrt(theta * (1.0 - theta) / counts.sum())


def test_categorical_refit_takes_the_hessian_of_the_new_data():
    categories = ["a", "b", "c"]
    first = ["a"] * 7 + ["b"] * 5 + ["c"] * 3
    second = ["a", "a", "a", "b", "b", "c"]
    model = ppl_mle.categorical(first, categories=categories)
    ppl_mle.fit_mle(model).summary()  # compiles, and memoises the first data's objective
    model.replace_data(second)
    result = ppl_mle.fit_mle(model)
    theta, se = _categorical_se(second, categories)
    np.testing.assert_allclose(result.estimates["theta"], theta, rtol=1e-12)
    np.testing.assert_allclose(result.standard_errors().to_numpy(), se, rtol=1e-8)
    assert result.check_analytic().passed


@pytest.mark.parametrize("n", [5, 40])
def test_normal_refit_standard_errors_follow_n(n):
    model = ppl_mle.normal(np.arange(12.0) ** 1.5)
    ppl_mle.fit_mle(model).summary()
    data = np.random.default_rng(n).normal(3.0, 2.0, size=n)
    model.replace_data(data)
    result = ppl_mle.fit_mle(model)
    sd = data.std()
    se = result.standard_errors()
    np.testing.assert_allclose(se["mu"], sd / np.sqrt(n), rtol=1e-8)
    np.testing.assert_allclose(se["sigma"], sd / np.sqrt(2 * n), rtol=1e-8)
