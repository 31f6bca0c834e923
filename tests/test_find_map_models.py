"""The models of PyMC's and pymc-extras' own find_MAP tests, each with its answer known.

Ported from ``pymc/tests/tuning/test_starting.py`` and
``pymc-extras/tests/inference/laplace_approx/test_find_map.py``. Their tests check
find_MAP's answer to a few digits; here each MLE (or MAP, for the models that are priors
and a Potential) is computed independently — in closed form, by statsmodels, or by
solving the normal equations of a Gaussian model — and fit_mle must agree to ~1e-10 and
say the fit is verified, or refuse with a clear reason where no MLE exists.
"""

import math
import warnings

import numpy as np
import pymc as pm
import pytensor
import pytest
import statsmodels.api as sm
from pymc.model.transform.optimization import freeze_dims_and_data
from scipy import optimize, stats

import ppl_mle
from ppl_mle import FitStatus


@pytest.fixture(scope="module")
def normal_data():
    rng = np.random.default_rng(sum(map(ord, "find_MAP")))
    return rng.normal(loc=3.0, scale=1.5, size=100)


@pytest.fixture(scope="module")
def normal_model(normal_data):
    with pm.Model() as model:
        mu = pm.Normal("mu")
        sigma = pm.Exponential("sigma", 1.0)
        pm.Normal("y_hat", mu=mu, sigma=sigma, observed=normal_data)
    return model


@pytest.mark.parametrize(
    "method",
    [
        "Nelder-Mead",
        "Powell",
        "CG",
        "BFGS",
        "L-BFGS-B",
        "TNC",
        "SLSQP",
        "Newton-CG",
        "trust-exact",
        "Newton",
    ],
)
def test_every_method_gives_the_normal_mle(normal_model, normal_data, method):
    result = ppl_mle.fit_mle(normal_model, method=method)
    assert result.status is FitStatus.VERIFIED, result.message
    assert float(result.estimates["mu"]) == pytest.approx(normal_data.mean(), rel=1e-12)
    assert float(result.estimates["sigma"]) == pytest.approx(normal_data.std(), rel=1e-12)


def test_map_with_the_models_priors(normal_model, normal_data):
    # The mode of the posterior density in (mu, sigma) — find_MAP drops the Jacobian of
    # the log transform — by scipy on the same density written with scipy.stats.
    def neg_log_post(p):
        mu, sigma = p
        if sigma <= 0:
            return np.inf
        return -(
            stats.norm.logpdf(mu)
            + stats.expon.logpdf(sigma)
            + stats.norm.logpdf(normal_data, mu, sigma).sum()
        )

    ref = optimize.minimize(
        neg_log_post, [3.0, 1.5], method="Nelder-Mead", options={"xatol": 1e-13, "fatol": 1e-15}
    )
    result = ppl_mle.fit_mle(normal_model, estimate="map")
    assert result.status is FitStatus.VERIFIED and result.estimate_kind == "MAP"
    np.testing.assert_allclose(
        [float(result.estimates["mu"]), float(result.estimates["sigma"])], ref.x, rtol=1e-9
    )


def test_data_in_a_shared_variable_follow_its_new_value(normal_data):
    data = pytensor.shared(normal_data, name="shared_data")
    with pm.Model() as model:
        mu = pm.Normal("mu")
        sigma = pm.Exponential("sigma", 1.0)
        pm.Normal("y_hat", mu=mu, sigma=sigma, observed=data)
    first = ppl_mle.fit_mle(model)
    assert float(first.estimates["mu"]) == pytest.approx(normal_data.mean(), rel=1e-12)
    data.set_value(normal_data[:40] * 2.0)
    second = ppl_mle.fit_mle(model)
    assert float(second.estimates["mu"]) == pytest.approx(2 * normal_data[:40].mean(), rel=1e-12)
    assert float(second.estimates["sigma"]) == pytest.approx(2 * normal_data[:40].std(), rel=1e-12)


@pytest.fixture(scope="module")
def standardized():
    data = np.random.default_rng(7).normal(size=100)
    return (data - data.mean()) / data.std()


@pytest.mark.parametrize("start", [None, {"mu": -0.5, "sigma": 1.25}])
@pytest.mark.parametrize("method", ["L-BFGS-B", "Powell"])
def test_bounded_uniform_priors_and_precision_parametrisation(standardized, method, start):
    # PyMC's test_find_MAP and issue 5923: mu ~ U(-1, 1), sigma ~ U(0.5, 1.5), tau = sigma⁻².
    with pm.Model() as model:
        mu = pm.Uniform("mu", -1.0, 1.0)
        sigma = pm.Uniform("sigma", 0.5, 1.5)
        pm.Normal("y", mu=mu, tau=sigma**-2, observed=standardized)
    result = ppl_mle.fit_mle(model, method=method, start=start)
    assert result.status is FitStatus.VERIFIED, result.message
    assert float(result.estimates["mu"]) == pytest.approx(standardized.mean(), abs=1e-14)
    assert float(result.estimates["sigma"]) == pytest.approx(standardized.std(), rel=1e-12)


def test_regression_through_the_origin_on_pm_data():
    # PyMC's test_find_MAP_shared_variables, against statsmodels' OLS without a constant.
    x_val = np.linspace(-1.0, 1.0, 20)
    y = 2 * x_val + np.random.default_rng(0).normal(0, 0.1, 20)
    with pm.Model() as model:
        x = pm.Data("x", x_val)
        beta = pm.Normal("beta")
        sigma = pm.Exponential("sigma", 1.0)
        pm.Normal("y", beta * x, sigma, observed=y)
    result = ppl_mle.fit_mle(model)
    ols = sm.OLS(y, x_val[:, None]).fit()
    assert result.status is FitStatus.VERIFIED, result.message
    assert float(result.estimates["beta"]) == pytest.approx(ols.params[0], rel=1e-12)
    assert float(result.estimates["sigma"]) == pytest.approx(math.sqrt(ols.ssr / y.size), rel=1e-12)
    assert result.loglik == pytest.approx(ols.llf, rel=1e-12)


def test_a_frozen_model_gives_the_same_mle(normal_model, normal_data):
    result = ppl_mle.fit_mle(freeze_dims_and_data(normal_model))
    assert result.status is FitStatus.VERIFIED, result.message
    assert float(result.estimates["mu"]) == pytest.approx(normal_data.mean(), rel=1e-12)
    assert float(result.estimates["sigma"]) == pytest.approx(normal_data.std(), rel=1e-12)


def test_prior_only_model_with_initial_values_map():
    # PyMC's simple_model: x ~ Normal(-2.1, tau=1.3), size 2, initval 0.1; started at
    # (-10.5, 100.5) as PyMC's test_accuracy_normal does. The MAP is the prior mean.
    with pm.Model() as model:
        pm.Normal("x", -2.1, tau=1.3, size=2, initval=np.array([0.1, 0.1]))
    result = ppl_mle.fit_mle(model, estimate="map", start={"x": np.array([-10.5, 100.5])})
    assert result.status is FitStatus.VERIFIED, result.message
    np.testing.assert_allclose(result.estimates["x"], [-2.1, -2.1], rtol=1e-13)
    with pytest.raises(ppl_mle.ModelError, match=r"no likelihood.*estimate='map'"):
        ppl_mle.fit_mle(model)


def test_untransformed_bounded_prior_map():
    # PyMC's non_normal(4): Beta(3, 3) without a transform; the mode is 1/2.
    with pm.Model() as model:
        pm.Beta("x", 3.0, 3.0, size=4, default_transform=None)
    result = ppl_mle.fit_mle(model, estimate="map", start={"x": np.array([0.5, 0.01, 0.95, 0.99])})
    assert result.status is FitStatus.VERIFIED, result.message
    np.testing.assert_allclose(result.estimates["x"], np.full(4, 0.5), rtol=1e-12)


@pytest.fixture(scope="module")
def sum_model():
    # PyMC's test_find_MAP_warning_non_free_RVs: only x + y is seen by the data.
    with pm.Model() as model:
        x = pm.Normal("x")
        y = pm.Normal("y")
        det = pm.Deterministic("det", x + y)
        pm.Normal("z", det, 1e-5, observed=100.0)
    return model


def test_only_a_sum_observed_has_no_unique_mle(sum_model):
    with pytest.warns(ppl_mle.IdentifiabilityWarning, match=r"flat .*along .*x.*y"):
        result = ppl_mle.fit_mle(sum_model)
    assert result.status is FitStatus.NOT_IDENTIFIED
    total = float(result.estimates["x"]) + float(result.estimates["y"])
    assert total == pytest.approx(100.0, rel=1e-10)


def test_only_a_sum_observed_map_is_split_by_the_priors(sum_model):
    # Minimise (x² + y²)/2 + (x + y − 100)²/(2·1e-10): x = y = 100/(2 + 1e-10).
    result = ppl_mle.fit_mle(sum_model, estimate="map")
    assert result.status is FitStatus.VERIFIED, result.message
    each = 100.0 / (2.0 + 1e-10)
    assert float(result.estimates["x"]) == pytest.approx(each, rel=1e-12)
    assert float(result.estimates["y"]) == pytest.approx(each, rel=1e-12)


@pytest.fixture(scope="module")
def product_model():
    # pymc-extras issue 687, in PyMC's test_find_MAP_jitter_escapes_saddle: the data see
    # w·z; find_MAP started at w = z = 0 (a saddle) stops there at once.
    with pm.Model() as model:
        w = pm.Normal("w")
        z = pm.Normal("z")
        pm.Normal("y", mu=w * z, sigma=0.1, observed=1.0)
    return model


def test_a_saddle_start_gets_a_second_look_map(product_model):
    # The MAP: w = z = a with a + (a² − 1)·a/0.01 = 0, a² = 1 − 0.01.
    result = ppl_mle.fit_mle(product_model, estimate="map")
    assert result.status is FitStatus.VERIFIED, result.message
    assert "saddle point" in result.message
    a = math.sqrt(1.0 - 0.1**2)
    np.testing.assert_allclose(
        np.abs([float(result.estimates["w"]), float(result.estimates["z"])]), [a, a], rtol=1e-12
    )
    assert float(result.estimates["w"]) * float(result.estimates["z"]) > 0


def test_a_saddle_start_mle_finds_the_ridge_and_says_so(product_model):
    with pytest.warns(ppl_mle.IdentifiabilityWarning, match="flat"):
        result = ppl_mle.fit_mle(product_model)
    assert result.status is FitStatus.NOT_IDENTIFIED
    product = float(result.estimates["w"]) * float(result.estimates["z"])
    assert product == pytest.approx(1.0, rel=1e-10)


def test_gaussian_hierarchy_map_solves_the_normal_equations():
    # PyMC's test_find_MAP_nonscalar_rv_without_dims. Per column j: x_loc ~ N(0, 1),
    # x[i, j] ~ N(x_loc, 1), ten observations of each x[i, j] ~ N(x, 1). Setting the
    # gradient to 0: x[i] = (x_loc + S_i)/11 and x_loc = (S_0 + S_1)/31.
    y = np.random.default_rng(5).normal(size=(10, 2, 3))
    with pm.Model(coords={"test": ["A", "B", "C"]}) as model:
        x_loc = pm.Normal("x_loc", mu=0, sigma=1, dims=["test"])
        x = pm.Normal("x", mu=x_loc, sigma=1, shape=(2, 3))
        pm.Normal("y", mu=x, sigma=1, observed=y)
    sums = y.sum(axis=0)
    loc = sums.sum(axis=0) / 31.0
    result = ppl_mle.fit_mle(model, estimate="map")
    assert result.status is FitStatus.VERIFIED, result.message
    np.testing.assert_allclose(result.estimates["x_loc"], loc, rtol=1e-12)
    np.testing.assert_allclose(result.estimates["x"], (loc + sums) / 11.0, rtol=1e-12)
    # The MLE of a hierarchy by flattening is refused, naming the variable.
    with pytest.raises(ppl_mle.ModelError, match=r"prior of 'x' depends on .*x_loc"):
        ppl_mle.fit_mle(model)


def test_missing_observations_are_refused_not_imputed():
    # PyMC's issue 4488: a NaN in the observed data makes PyMC impute it as a parameter.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyMC's ImputationWarning
        with pm.Model() as model:
            x = pm.Gamma("x", alpha=3, beta=10, observed=np.array([1.0, np.nan]))
            pm.Deterministic("y", x + 1)
    with pytest.raises(ppl_mle.DataError, match="1 missing value"):
        ppl_mle.fit_mle(model)
