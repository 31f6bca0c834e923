"""PyTensor's floatX = float32: declared models stay in float64, a user's model is refused.

Under floatX = float32 PyMC stores a model's constants, data containers and observations
in float32, rounding the data: no estimate of such a model is the MLE of the user's
float64 data to the last digit.
"""

import numpy as np
import pymc as pm
import pytensor
import pytest

import ppl_mle
from ppl_mle import FitStatus

X = np.random.default_rng(20261205).normal(3.0, 2.0, 60)


def test_a_users_model_in_float32_is_refused_with_the_reason():
    with pytensor.config.change_flags(floatX="float32"):
        with pm.Model() as model:
            mu = pm.Normal("mu", 0.0, 10.0)
            sigma = pm.HalfNormal("sigma", 5.0)
            pm.Normal("y", mu, sigma, observed=X)
        with pytest.raises(ppl_mle.ModelError, match=r"floatX = float32.*ppl_mle fits in float64"):
            ppl_mle.fit_mle(model)
    # Declared in float64 (PyTensor's default), the same model fits.
    with pm.Model() as model:
        mu = pm.Normal("mu", 0.0, 10.0)
        sigma = pm.HalfNormal("sigma", 5.0)
        pm.Normal("y", mu, sigma, observed=X)
    result = ppl_mle.fit_mle(model, on_failure="raise")
    assert float(result.estimates["mu"]) == pytest.approx(X.mean(), rel=1e-14)


def test_declared_models_keep_float64_data_under_float32():
    groups = np.repeat(["a", "b", "c"], 20)
    labels = np.array([0, 1, 1, 2, 2, 2, 2])
    with pytensor.config.change_flags(floatX="float32"):
        normal = ppl_mle.fit_mle(ppl_mle.normal(X), on_failure="raise")
        known = ppl_mle.fit_mle(ppl_mle.normal(X, sigma=2.0), on_failure="raise")
        categorical = ppl_mle.fit_mle(ppl_mle.categorical(labels), on_failure="raise")
        grouped = ppl_mle.fit_mle(ppl_mle.normal(X, groups=groups), on_failure="raise")
    for result in (normal, known, categorical, grouped):
        assert result.status is FitStatus.VERIFIED, result.message
    # The closed forms of the float64 data (float32 data would be off by ~1e-8).
    assert float(normal.estimates["mu"]) == pytest.approx(X.mean(), rel=1e-14)
    assert float(normal.estimates["sigma"]) == pytest.approx(X.std(), rel=1e-14)
    assert float(known.estimates["mu"]) == pytest.approx(X.mean(), rel=1e-14)
    np.testing.assert_allclose(categorical.estimates["theta"], [1 / 7, 2 / 7, 4 / 7], rtol=1e-14)
    means = [X[groups == g].mean() for g in "abc"]
    np.testing.assert_allclose(grouped.params.to_numpy()[:3], means, rtol=1e-13)
