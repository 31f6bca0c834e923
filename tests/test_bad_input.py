"""Every bad input gets a clear error that names the problem."""

import numpy as np
import pymc as pm
import pytest

import ppl_mle
from ppl_mle import DataError, ModelError


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ([], r"`data` is empty"),
        (np.array([]), r"`data` is empty"),
        ([1.0, np.nan, 3.0, np.nan], r"2 non-finite values of 4 \(2 NaN at positions \[1, 3\]\)"),
        ([1.0, np.inf, 2.0], r"1 infinite at positions \[1\]"),
        ([1.0, 2.0, -np.inf, np.nan], r"1 NaN at positions \[3\]; 1 infinite at positions \[2\]"),
        ([5.0], r"single observation: the MLE of sigma would be 0"),
        ([3.0] * 10, r"constant \(all 10 values equal 3.0\): the MLE of sigma would be 0"),
        (["1.0", "a", "2"], r"must be numeric; found '1.0' \(type str\) at position 0"),
        ([1.0, "x"], r"must be numeric; found 'x' \(type str\) at position 1"),
        ([True, False, True], r"must be numeric; got booleans"),
        (np.ones((3, 2)), r"must be one-dimensional; got an array of shape \(3, 2\)"),
        ("12345", r"not a single string"),
        (7.0, r"got the scalar 7.0"),
    ],
)
def test_normal_data_errors(data, match):
    with pytest.raises(DataError, match=match):
        ppl_mle.normal(data)


def test_nan_is_reported_not_imputed():
    # Plain PyMC would turn each NaN into a parameter; we refuse.
    with pytest.raises(DataError, match="PyMC would silently treat each NaN as a parameter"):
        ppl_mle.normal([1.0, float("nan"), 2.0])


def test_many_nan_positions_are_abbreviated():
    x = np.full(20, np.nan)
    x[0] = 1.0
    with pytest.raises(DataError, match=r"19 NaN at positions \[1, 2, 3, 4, 5, … \(14 more\)\]"):
        ppl_mle.normal(x)


def test_constant_or_single_is_fine_with_sigma_known():
    result = ppl_mle.fit_mle(ppl_mle.normal([4.0, 4.0, 4.0], sigma=2.0))
    assert float(result.estimates["mu"]) == pytest.approx(4.0, rel=1e-15)
    result = ppl_mle.fit_mle(ppl_mle.normal([4.5], sigma=2.0))
    assert float(result.estimates["mu"]) == pytest.approx(4.5, rel=1e-15)


@pytest.mark.parametrize("sigma", [0, -1.0, np.nan, np.inf, "abc"])
def test_sigma_must_be_positive(sigma):
    with pytest.raises(ModelError, match="`sigma` must be a positive"):
        ppl_mle.normal([1.0, 2.0], sigma=sigma)


@pytest.mark.parametrize(
    ("labels", "categories", "match"),
    [
        ([], None, r"`labels` is empty"),
        (
            ["a", "b", "q", "q"],
            ["a", "b", "c"],
            r"2 values not in `categories` \['a', 'b', 'c'\]: \['q'\] at positions \[2, 3\]",
        ),
        (["a", None, "b"], None, r"1 missing values \(None or NaN\) at positions \[1\]"),
        ([1.0, float("nan"), 2.0], None, r"missing values"),
        (["a", "a"], None, r"at least two categories; got \['a'\]"),
        (["a", "b"], ["a", "b", "a"], r"`categories` has duplicates: 'a'"),
        (["a", "b"], "ab", r"not one string"),
        ([["a"], ["b"]], None, r"one-dimensional"),
    ],
)
def test_categorical_errors(labels, categories, match):
    with pytest.raises((DataError, ModelError), match=match):
        ppl_mle.categorical(labels, categories=categories)


def test_fit_argument_errors():
    model = ppl_mle.normal([1.0, 2.0, 4.0])
    with pytest.raises(ModelError, match=r"'Halley' is not a method; choose one of L-BFGS-B"):
        ppl_mle.fit_mle(model, method="Halley")
    with pytest.raises(ModelError, match=r"`start` names \['tau'\], which are not free variables"):
        ppl_mle.fit_mle(model, start={"tau": 1.0})
    with pytest.raises(ModelError, match="not finite at the starting point"):
        ppl_mle.fit_mle(model, start={"sigma": -1.0})
    with pytest.raises(ModelError, match=r"must be a pymc\.Model; got list"):
        ppl_mle.fit_mle([1, 2, 3])
    with pytest.raises(ModelError, match="`maxeval` must be a positive integer"):
        ppl_mle.fit_mle(model, maxeval=0)
    with pytest.raises(ModelError, match="`on_failure` must be 'warn' or 'raise'"):
        ppl_mle.fit_mle(model, on_failure="ignore")


def test_model_without_closed_form_cannot_be_checked():
    with pm.Model() as model:
        mu = pm.Flat("mu")
        pm.Normal("x", mu=mu, sigma=1.0, observed=np.array([1.0, 2.0]))
    result = ppl_mle.fit_mle(model)
    assert float(result.estimates["mu"]) == pytest.approx(1.5, rel=1e-14)
    with pytest.raises(ModelError, match="no closed form to check against"):
        result.check_analytic()


def test_discrete_free_variable_is_refused():
    with pm.Model() as model:
        k = pm.Poisson("k", 3.0)
        pm.Normal("x", mu=k, sigma=1.0, observed=np.array([1.0, 2.0]))
    with pytest.raises(ModelError, match=r"free variables \['k'\] are discrete"):
        ppl_mle.fit_mle(model)


# -- uncertainty: levels and parameter names --------------------------------------------


@pytest.fixture(scope="module")
def heights_fit():
    return ppl_mle.fit_mle(ppl_mle.normal([160.0, 162, 165, 167, 170, 172, 175, 177, 180, 182]))


@pytest.mark.parametrize(
    ("alpha", "match"),
    [
        (0.0, "got 0.0"),
        (1.0, "got 1.0"),
        (5, "got 5"),
        (-0.5, "got -0.5"),
        (float("nan"), "got nan"),
        ("high", "got 'high'"),
        (None, "got None"),
        (True, "got True"),
    ],
)
def test_bad_alphas(heights_fit, alpha, match):
    match = "`alpha` must be a number strictly between 0 and 1; " + match
    with pytest.raises(ModelError, match=match):
        heights_fit.summary(alpha=alpha)
    with pytest.raises(ModelError, match=match):
        heights_fit.profile_interval("mu", alpha=alpha)
    with pytest.raises(ModelError, match=match):
        heights_fit.conf_int(alpha, method="wald")
    with pytest.raises(ModelError, match=match):
        heights_fit.derived(alpha=alpha)


@pytest.mark.parametrize("name", ["nu", "theta", "Mu", "sigma_log__", 3])
def test_interval_for_unknown_parameter(heights_fit, name):
    with pytest.raises(ModelError, match=r"no parameter .* choose one of \['mu', 'sigma'\]"):
        heights_fit.profile_interval(name)


def test_bad_interval_method_and_space(heights_fit):
    with pytest.raises(ModelError, match="'profile' or 'wald'; got 'bayes'"):
        heights_fit.conf_int(method="bayes")
    with pytest.raises(ModelError, match="'natural' or 'unconstrained'; got 'log'"):
        heights_fit.covariance("log")
