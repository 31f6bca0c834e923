"""Generalised linear models declared by hand in PyMC, with more coefficients than a
polish evaluates its Hessian afresh at every step for (8): the MLE and its standard errors
against statsmodels.

A user's GLM is fitted through its Hessian-vector product (one compiled graph, a column at a
time); building a vectorised block of products did not finish compiling from 9
coefficients on.
"""

import numpy as np
import pymc as pm
import pytest
import statsmodels.api as sm

import ppl_mle

N, D = 600, 12  # D coefficients: an intercept and D - 1 slopes


@pytest.fixture(scope="module")
def design():
    rng = np.random.default_rng(20261127)
    x = rng.normal(size=(N, D - 1)) * 0.4
    beta = rng.normal(size=D - 1) * 0.4
    return x, beta, rng


def _glm(x, y, likelihood):
    with pm.Model() as model:
        a = pm.Normal("a", 0.0, 5.0)
        b = pm.Normal("b", 0.0, 1.0, shape=x.shape[1])
        likelihood(a + pm.math.dot(x, b), y)
    return model


def _compare(result, reference):
    assert result.converged, result.message
    assert result.estimate_kind == "MLE"
    estimate = np.r_[result.estimates["a"], result.estimates["b"]]
    np.testing.assert_allclose(estimate, reference.params, rtol=1e-7, atol=1e-9)
    se = result.bse[["a", *(f"b[{i}]" for i in range(D - 1))]].to_numpy()
    np.testing.assert_allclose(se, reference.bse, rtol=1e-6)
    assert result.loglik == pytest.approx(reference.llf, rel=1e-10)


def test_poisson_regression_matches_statsmodels(design):
    x, beta, rng = design
    y = rng.poisson(np.exp(0.3 + x @ beta))
    model = _glm(x, y, lambda eta, obs: pm.Poisson("y", mu=pm.math.exp(eta), observed=obs))
    reference = sm.GLM(y, sm.add_constant(x), family=sm.families.Poisson()).fit()
    _compare(ppl_mle.fit_mle(model), reference)


def test_logistic_regression_matches_statsmodels(design):
    x, beta, rng = design
    y = rng.binomial(1, 1.0 / (1.0 + np.exp(-(0.2 + x @ beta))))
    model = _glm(x, y, lambda eta, obs: pm.Bernoulli("y", logit_p=eta, observed=obs))
    reference = sm.Logit(y, sm.add_constant(x)).fit(disp=0, method="newton", tol=1e-12)
    _compare(ppl_mle.fit_mle(model), reference)
