"""A likelihood whose support depends on a parameter: the MLE on the bound the data set.

Every MLE here is known in closed form. For x ~ Uniform(a, θ) the likelihood is (θ − a)⁻ⁿ
for θ >= max(x) and 0 below: θ̂ = max(x) and ℓ = −n·log(max(x) − a); for Uniform(θ, b),
θ̂ = min(x); for Uniform(a, b) both free, (min(x), max(x)). For a Pareto(α, m), m̂ = min(x)
and α̂ = n / Σ log(xᵢ/m̂), whose standard error given m is α̂/√n.
"""

import math

import numpy as np
import pymc as pm
import pytest
from scipy import stats

import ppl_mle
from ppl_mle import FitStatus

X = np.random.default_rng(7).uniform(2.0, 7.0, 25)
N = X.size
Q95 = float(stats.chi2.ppf(0.95, 1))


def assert_on_data_bound(result, name, value):
    assert result.status is FitStatus.DATA_BOUND and result.converged, result.message
    assert float(result.estimates[name]) == value  # exactly: the observation itself
    assert result.estimates_frame().loc[name, "on_boundary"]
    assert "On a bound set by the data" in result.message


@pytest.fixture(scope="module")
def upper_bound_model():
    with pm.Model() as model:
        theta = pm.Uniform("theta", 0.0, 100.0)
        pm.Uniform("x", 0.0, theta, observed=X)
    return model


def test_upper_end_of_a_uniform_is_the_largest_observation(upper_bound_model):
    result = ppl_mle.fit_mle(upper_bound_model)
    assert_on_data_bound(result, "theta", X.max())
    assert result.loglik == pytest.approx(-N * math.log(X.max()), rel=1e-15)
    assert "theta = 6.9" in result.message and "the largest observation of x" in result.message


@pytest.mark.parametrize("start", [10.0, 50.0, 99.0])
def test_from_a_start_above_the_bound_the_fit_reaches_it(upper_bound_model, start):
    result = ppl_mle.fit_mle(upper_bound_model, start={"theta": start})
    assert_on_data_bound(result, "theta", X.max())


def test_one_sided_profile_interval_from_the_data_bound(upper_bound_model):
    # ℓ(θ) = −n·log θ: the deviance 2n·log(θ/max) reaches the chi² quantile at
    # θ = max·exp(q/(2n)); below max(x) the likelihood is 0.
    result = ppl_mle.fit_mle(upper_bound_model)
    interval = result.profile_interval("theta")
    assert interval.lower == X.max()
    assert interval.upper == pytest.approx(X.max() * math.exp(Q95 / (2 * N)), rel=1e-9)


def test_upper_end_with_a_fixed_lower_end():
    with pm.Model() as model:
        theta = pm.Uniform("theta", -100.0, 100.0)
        pm.Uniform("x", 1.0, theta, observed=X)
    result = ppl_mle.fit_mle(model)
    assert_on_data_bound(result, "theta", X.max())
    assert result.loglik == pytest.approx(-N * math.log(X.max() - 1.0), rel=1e-15)


def test_lower_end_of_a_uniform_is_the_smallest_observation():
    with pm.Model() as model:
        theta = pm.Uniform("theta", -100.0, 100.0)
        pm.Uniform("x", theta, 10.0, observed=X)
    result = ppl_mle.fit_mle(model)
    assert_on_data_bound(result, "theta", X.min())
    assert "the smallest observation of x" in result.message
    assert result.loglik == pytest.approx(-N * math.log(10.0 - X.min()), rel=1e-15)


def test_both_ends_free_give_the_range_of_the_data():
    with pm.Model() as model:
        a = pm.Normal("a", 0.0, 10.0)
        b = pm.Normal("b", 10.0, 10.0)
        pm.Uniform("x", a, b, observed=X)
    result = ppl_mle.fit_mle(model)
    assert result.status is FitStatus.DATA_BOUND, result.message
    assert float(result.estimates["a"]) == X.min()
    assert float(result.estimates["b"]) == X.max()
    assert result.loglik == pytest.approx(-N * math.log(X.max() - X.min()), rel=1e-15)
    assert result.message.startswith("Every estimate is on a bound of its support")


def test_a_start_below_the_data_is_moved_inside():
    # HalfFlat starts at 1, below max(x): the likelihood is 0 there.
    with pm.Model() as model:
        theta = pm.HalfFlat("theta")
        pm.Uniform("x", 0.0, theta, observed=X)
    result = ppl_mle.fit_mle(model)
    assert_on_data_bound(result, "theta", X.max())
    # A start the user gives is theirs: below the data it is refused, not moved.
    with pytest.raises(ppl_mle.ModelError, match="not finite at the starting point"):
        ppl_mle.fit_mle(model, start={"theta": 1.0})


def test_pareto_scale_and_shape():
    with pm.Model() as model:
        alpha = pm.HalfNormal("alpha", 5.0)
        m = pm.HalfNormal("m", 1.0, initval=1.0)
        pm.Pareto("x", alpha=alpha, m=m, observed=X)
    result = ppl_mle.fit_mle(model)
    assert_on_data_bound(result, "m", X.min())
    alpha_hat = N / math.fsum(np.log(X / X.min()))
    assert float(result.estimates["alpha"]) == pytest.approx(alpha_hat, rel=1e-13)
    assert result.bse["alpha"] == pytest.approx(alpha_hat / math.sqrt(N), rel=1e-9)
    expected = stats.pareto.logpdf(X, alpha_hat, scale=X.min()).sum()
    assert result.loglik == pytest.approx(expected, rel=1e-13)


def test_one_bound_per_group():
    groups = np.arange(N) % 3
    with pm.Model() as model:
        theta = pm.Uniform("theta", 0.0, 100.0, shape=3)
        pm.Uniform("x", 0.0, theta[groups], observed=X)
    result = ppl_mle.fit_mle(model)
    assert result.status is FitStatus.DATA_BOUND, result.message
    maxima = [X[groups == j].max() for j in range(3)]
    np.testing.assert_array_equal(result.estimates["theta"], maxima)
    counts = np.bincount(groups)
    assert result.loglik == pytest.approx(-np.sum(counts * np.log(maxima)), rel=1e-15)


def test_a_data_bound_beside_an_interior_estimate():
    # theta also the mean of y, whose mean is below max(x): the likelihood of y pulls theta
    # down, the support of x stops it at max(x); s is then the rms of y about max(x).
    y = np.random.default_rng(8).normal(1.0, 1.0, 30)
    with pm.Model() as model:
        theta = pm.Uniform("theta", 0.0, 100.0)
        s = pm.HalfNormal("s", 1.0)
        pm.Uniform("x", 0.0, theta, observed=X)
        pm.Normal("y", theta, s, observed=y)
    result = ppl_mle.fit_mle(model)
    assert_on_data_bound(result, "theta", X.max())
    rms = math.sqrt(np.mean((y - X.max()) ** 2))
    assert float(result.estimates["s"]) == pytest.approx(rms, rel=1e-13)
    assert "Verified maximum of the interior estimates" in result.message
    assert result.bse["s"] == pytest.approx(rms / math.sqrt(2 * y.size), rel=1e-9)


def test_an_interior_maximum_is_left_alone():
    # The mean of y far above max(x): theta is interior, verified as usual.
    y = np.random.default_rng(9).normal(50.0, 1.0, 30)
    with pm.Model() as model:
        theta = pm.Uniform("theta", 0.0, 100.0)
        pm.Uniform("x", 0.0, theta, observed=X)
        pm.Normal("y", theta, 1.0, observed=y)
    result = ppl_mle.fit_mle(model)
    assert result.status is FitStatus.VERIFIED, result.message
    # ℓ = −n_x·log θ − Σ(y − θ)²/2: θ̂ solves n_y·θ² − Σy·θ + n_x = 0 (the larger root).
    a, b, c = float(y.size), -math.fsum(y), float(N)
    root = (-b + math.sqrt(b * b - 4 * a * c)) / (2 * a)
    assert float(result.estimates["theta"]) == pytest.approx(root, rel=1e-12)


def test_a_bound_that_is_a_function_of_the_parameter_is_not_claimed():
    # Uniform(0, 2·θ): θ̂ = max(x)/2, but the bound is not the variable itself; the fit
    # says it cannot vouch rather than guess.
    with pm.Model() as model:
        theta = pm.Uniform("theta", 0.0, 100.0)
        pm.Uniform("x", 0.0, 2.0 * theta, observed=X)
    with pytest.warns(Warning, match="Cannot vouch"):
        result = ppl_mle.fit_mle(model)
    assert not result.converged
