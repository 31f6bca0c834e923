"""Estimates on a bound of their support, in models of any shape: exact, with KKT verified.

Each MLE here is known in closed form: a mean constrained to [0, 10] is max(0, x̄) with
σ̂² = mean((x − μ̂)²); a binomial probability is k/n, clipped by nothing; a Poisson rate is
the mean count, 0 for a column of zeros. Profile intervals from a bound are one-sided, with
endpoints from the same closed forms.
"""

import math
import warnings

import numpy as np
import pymc as pm
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import optimize, stats

import ppl_mle
from ppl_mle import FitStatus

Q95 = float(stats.chi2.ppf(0.95, 1))


def fit_quietly(model, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ppl_mle.BoundaryWarning)
        return ppl_mle.fit_mle(model, **kwargs)


@pytest.fixture(scope="module")
def negative_mean():
    x = np.random.default_rng(0).normal(-1.0, 1.0, 50)
    with pm.Model() as model:
        pm.Uniform("mu", 0.0, 10.0)
        s = pm.HalfNormal("s", 2.0)
        pm.Normal("y", model["mu"], s, observed=x)
    with pytest.warns(ppl_mle.BoundaryWarning, match=r"mu = 0 .*KKT conditions verified"):
        result = ppl_mle.fit_mle(model)
    return x, result


def test_mean_bounded_below_by_zero_is_exactly_zero(negative_mean):
    x, result = negative_mean
    assert result.status is FitStatus.BOUNDARY and result.converged, result.message
    assert float(result.estimates["mu"]) == 0.0
    rms = math.sqrt(math.fsum(x**2) / x.size)
    assert float(result.estimates["s"]) == pytest.approx(rms, rel=1e-14)
    expected = stats.norm.logpdf(x, 0.0, rms).sum()
    assert result.loglik == pytest.approx(expected, rel=1e-13)
    frame = result.estimates_frame()
    assert frame.loc["mu", "on_boundary"] and not frame.loc["s", "on_boundary"]


def test_bound_estimate_gets_a_one_sided_profile_interval(negative_mean):
    x, result = negative_mean
    table = result.summary()
    assert np.isnan(table.loc["mu", "se"]) and np.isnan(table.loc["mu", "wald_lower"])
    assert table.loc["mu", "profile_lower"] == 0.0

    # Profile of mu with sigma maximised out: deviance n·log(mean((x − mu)²)/mean(x²)).
    def deviance(mu):
        return x.size * math.log(np.mean((x - mu) ** 2) / np.mean(x**2)) - Q95

    upper = optimize.brentq(deviance, 0.0, 5.0, xtol=1e-15, rtol=1e-15)
    assert table.loc["mu", "profile_upper"] == pytest.approx(upper, rel=1e-9)
    # The interior estimate still has its standard error: sigma/sqrt(2n) at mu = 0.
    sigma = float(result.estimates["s"])
    assert table.loc["s", "se"] == pytest.approx(sigma / math.sqrt(2 * x.size), rel=1e-9)


def test_binomial_probabilities_on_both_bounds():
    successes = np.array([10, 3, 0])
    with pm.Model() as model:
        p = pm.Beta("p", 2.0, 2.0, shape=3)
        pm.Binomial("y", n=10, p=p, observed=successes)
    with pytest.warns(ppl_mle.BoundaryWarning, match=r"p\[0\] = 1 .*p\[2\] = 0"):
        result = ppl_mle.fit_mle(model)
    assert result.status is FitStatus.BOUNDARY, result.message
    estimate = np.asarray(result.estimates["p"])
    assert estimate[0] == 1.0 and estimate[2] == 0.0
    assert estimate[1] == pytest.approx(0.3, rel=1e-14)
    assert result.loglik == pytest.approx(
        stats.binom.logpmf(successes, 10, [1.0, 0.3, 0.0]).sum(), rel=1e-13
    )
    table = result.summary()
    # From p = 1: deviance −2·10·log p = q; from p = 0 the mirror image.
    edge = math.exp(-Q95 / 20.0)
    assert table.loc["p[0]", "profile_upper"] == 1.0
    assert table.loc["p[0]", "profile_lower"] == pytest.approx(edge, rel=1e-9)
    assert table.loc["p[2]", "profile_lower"] == 0.0
    assert table.loc["p[2]", "profile_upper"] == pytest.approx(1.0 - edge, rel=1e-9)
    assert np.isnan(table.loc["p[0]", "se"]) and np.isnan(table.loc["p[2]", "se"])
    assert table.loc["p[1]", "se"] == pytest.approx(math.sqrt(0.3 * 0.7 / 10), rel=1e-9)


def test_poisson_rate_of_a_column_of_zeros_is_zero():
    # The derivative of y·log(rate) at rate 0 and y = 0 is 0/0 on the bound: the KKT check
    # takes the one-sided derivative just inside (−n).
    counts = np.array([[0, 1, 2], [0, 3, 1], [0, 2, 0]])
    with pm.Model() as model:
        rate = pm.HalfNormal("rate", 3.0, shape=3)
        pm.Poisson("y", rate, observed=counts)
    with pytest.warns(ppl_mle.BoundaryWarning, match=r"rate\[0\] = 0"):
        result = ppl_mle.fit_mle(model)
    assert result.status is FitStatus.BOUNDARY, result.message
    np.testing.assert_allclose(result.estimates["rate"], counts.mean(axis=0), rtol=1e-14)
    assert np.asarray(result.estimates["rate"])[0] == 0.0


def test_upper_bounds_given_as_arrays_are_met_exactly():
    # Means in [0.1, 0.3] and [-1, 0.7]; data means 2 and 0.5: the MLE is (0.3, 0.5). On
    # the upper bound, 0.1 + (0.3 − 0.1)·1 need not round to 0.3: the bound is set exactly.
    y = np.array([[1.5, 0.0], [2.5, 1.0]])
    with pm.Model() as model:
        mu = pm.Uniform("mu", np.array([0.1, -1.0]), np.array([0.3, 0.7]), shape=2)
        pm.Normal("y", mu, 1.0, observed=y)
    result = fit_quietly(model)
    assert result.status is FitStatus.BOUNDARY, result.message
    estimate = np.asarray(result.estimates["mu"])
    assert estimate[0] == 0.3
    assert estimate[1] == pytest.approx(0.5, rel=1e-14)
    assert result.estimates_frame()["on_boundary"].tolist() == [True, False]


@pytest.fixture(scope="module")
def clipped_mean_model():
    with pm.Model() as model:
        data = pm.Data("x", np.zeros(40))
        mu = pm.Uniform("mu", 0.0, 10.0)
        pm.Normal("y", mu, 1.0, observed=data)
    return model


@settings(
    max_examples=12,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(shift=st.floats(-3.0, 3.0).filter(lambda s: abs(s) > 1e-3))
def test_mean_in_zero_ten_is_the_clipped_sample_mean(clipped_mean_model, shift):
    # Data of mean `shift` (exactly: symmetric deviations): the MLE is max(0, shift), on
    # the bound exactly when the mean is negative, verified in the interior otherwise.
    deviations = np.linspace(-1.0, 1.0, 40)
    x = shift + deviations
    with clipped_mean_model:
        pm.set_data({"x": x})
    result = fit_quietly(clipped_mean_model)
    mean = math.fsum(x) / x.size
    if mean < 0:
        assert result.status is FitStatus.BOUNDARY, result.message
        assert float(result.estimates["mu"]) == 0.0
    else:
        assert result.status is FitStatus.VERIFIED, result.message
        assert float(result.estimates["mu"]) == pytest.approx(mean, rel=1e-12)


def test_a_non_identified_model_is_fitted_and_names_the_flat_direction():
    # A base level plus one effect per city: base + effect[c] is identified, not each.
    rng = np.random.default_rng(3)
    city = np.repeat([0, 1, 2], [5, 8, 3])
    y = rng.normal(np.array([1.0, 2.0, 3.0])[city], 1.0)
    with pm.Model(coords={"city": ["a", "b", "c"]}) as model:
        base = pm.Normal("base", 0.0, 10.0)
        effect = pm.Normal("effect", 0.0, 10.0, dims="city")
        sd = pm.HalfNormal("sd", 5.0)
        pm.Normal("y", base + effect[city], sd, observed=y)
    with pytest.warns(ppl_mle.IdentifiabilityWarning, match=r"flat .*base.*effect"):
        result = ppl_mle.fit_mle(model)
    assert result.status is FitStatus.NOT_IDENTIFIED
    # Every maximum has the same fitted means: the city means, and sd their residual RMS.
    fitted = float(result.estimates["base"]) + np.asarray(result.estimates["effect"])
    means = np.array([y[city == c].mean() for c in range(3)])
    np.testing.assert_allclose(fitted, means, rtol=1e-7)
    rms = math.sqrt(np.mean((y - means[city]) ** 2))
    assert float(result.estimates["sd"]) == pytest.approx(rms, rel=1e-7)
