"""PyMC and statsmodels idioms: the model from context, statsmodels' names, clear errors.

References (closed forms of the normal model with both parameters free, n observations):
mu-hat = mean, sigma-hat = sd with divisor n, SE(mu-hat) = sigma-hat/sqrt(n),
SE(sigma-hat) = sigma-hat/sqrt(2n), Cov = 0, log-likelihood −n/2·(log(2π sigma-hat²) + 1),
Wald interval estimate ± z·SE with z = Φ⁻¹(0.975) = 1.959963984540054 at 95%.
Categorical: theta-hat = counts/n, SE = sqrt(theta(1 − theta)/n).
"""

import math

import numpy as np
import pandas as pd
import pymc as pm
import pytest
from conftest import HEIGHTS
from scipy import stats

import ppl_mle
from ppl_mle import DataError, ModelError

Z95 = 1.959963984540054  # Φ⁻¹(0.975)
Z90 = 1.6448536269514722  # Φ⁻¹(0.95)

N = len(HEIGHTS)
MEAN = 171.0
SD = math.sqrt(51.0)  # sqrt(510 / 10): the MLE divides by n


def heights_model() -> pm.Model:
    """The heights with proper priors, declared the PyMC way (fitted with flat ones)."""
    with pm.Model() as model:
        mu = pm.Normal("mu", 170.0, 20.0)
        sigma = pm.HalfNormal("sigma", 10.0)
        pm.Normal("y", mu, sigma, observed=np.array(HEIGHTS, dtype=float))
    return model


# -- fit_mle() inside `with pm.Model():` ---------------------------------------------------


def test_fit_in_model_context_equals_explicit_fit():
    model = heights_model()
    with model:
        in_context = ppl_mle.fit_mle()
        assert pm.modelcontext(None) is model  # the context is restored after the fit
    assert set(model.named_vars) == {"mu", "sigma", "y"}  # nothing added to the user's model
    explicit = ppl_mle.fit_mle(model)
    assert in_context.converged and explicit.converged
    assert in_context.source_model is model
    for name, value in (("mu", MEAN), ("sigma", SD)):
        assert float(in_context.estimates[name]) == pytest.approx(value, rel=1e-12)
        assert float(in_context.estimates[name]) == pytest.approx(
            float(explicit.estimates[name]), rel=1e-12
        )
    assert in_context.loglik == pytest.approx(explicit.loglik, rel=1e-13)


def test_fit_in_context_takes_the_options_and_the_positional_method():
    model = heights_model()
    with model:
        powell = ppl_mle.fit_mle(method="Powell")
    positional = ppl_mle.fit_mle(model, "Powell")
    assert powell.method == positional.method == "Powell"
    assert float(powell.estimates["mu"]) == pytest.approx(MEAN, rel=1e-12)
    assert float(positional.estimates["sigma"]) == pytest.approx(SD, rel=1e-12)


def test_declared_model_as_context():
    with ppl_mle.normal(HEIGHTS):
        result = ppl_mle.fit_mle()
    assert result.model_name == "normal"
    assert float(result.estimates["mu"]) == pytest.approx(MEAN, rel=1e-13)
    assert float(result.estimates["sigma"]) == pytest.approx(SD, rel=1e-13)


def test_explicit_model_wins_over_the_context():
    other = ppl_mle.normal([1.0, 2.0, 4.0])
    with heights_model():
        result = ppl_mle.fit_mle(other)
    assert float(result.estimates["mu"]) == pytest.approx(7.0 / 3.0, rel=1e-13)
    assert float(result.estimates["sigma"]) == pytest.approx(math.sqrt(14.0 / 9.0), rel=1e-13)


def test_no_model_and_no_context_is_refused():
    with pytest.raises(ModelError, match=r"no model given and no `with pm\.Model\(\):` context"):
        ppl_mle.fit_mle()
    with pytest.raises(ModelError, match=r"no model given and no `with pm\.Model\(\):` context"):
        ppl_mle.fit_mle(None, "Powell")


# -- statsmodels-style names ------------------------------------------------------------


@pytest.fixture(scope="module")
def heights_fit():
    return ppl_mle.fit_mle(ppl_mle.normal(HEIGHTS))


def test_params_llf_nobs(heights_fit):
    result = heights_fit
    params = result.params
    assert isinstance(params, pd.Series)
    pd.testing.assert_series_equal(params, result.to_dataframe()["estimate"])
    assert list(params.index) == ["mu", "sigma"]
    assert params["mu"] == pytest.approx(MEAN, rel=1e-14)
    assert params["sigma"] == pytest.approx(SD, rel=1e-14)
    assert result.llf == result.loglik
    assert result.llf == pytest.approx(-N / 2 * (math.log(2 * math.pi * 51.0) + 1), rel=1e-13)
    assert result.llf == pytest.approx(-33.8485134957, abs=1e-10)
    assert result.nobs == result.n_obs == N


def test_bse_and_cov_params(heights_fit):
    result = heights_fit
    pd.testing.assert_series_equal(result.bse, result.summary(profile=False)["se"])
    assert result.bse["mu"] == pytest.approx(SD / math.sqrt(N), rel=1e-12)  # 2.25832
    assert result.bse["sigma"] == pytest.approx(SD / math.sqrt(2 * N), rel=1e-12)  # 1.59687
    cov = result.cov_params()
    pd.testing.assert_frame_equal(cov, result.covariance())
    assert list(cov.index) == list(cov.columns) == ["mu", "sigma"]
    assert cov.loc["mu", "mu"] == pytest.approx(51.0 / N, rel=1e-12)
    assert cov.loc["sigma", "sigma"] == pytest.approx(51.0 / (2 * N), rel=1e-12)
    assert abs(cov.loc["mu", "sigma"]) < 1e-12 * 51.0 / N
    assert cov.loc["mu", "sigma"] == cov.loc["sigma", "mu"]


def test_conf_int_wald_is_estimate_plus_minus_z_se(heights_fit):
    result = heights_fit
    table = result.conf_int(method="wald")
    assert list(table.columns) == ["lower", "upper"]
    assert list(table.index) == ["mu", "sigma"]
    summary = result.summary(profile=False)
    np.testing.assert_array_equal(table["lower"].to_numpy(), summary["wald_lower"].to_numpy())
    np.testing.assert_array_equal(table["upper"].to_numpy(), summary["wald_upper"].to_numpy())
    for name, se in (("mu", SD / math.sqrt(N)), ("sigma", SD / math.sqrt(2 * N))):
        estimate = MEAN if name == "mu" else SD
        assert table.loc[name, "lower"] == pytest.approx(estimate - Z95 * se, rel=1e-12)
        assert table.loc[name, "upper"] == pytest.approx(estimate + Z95 * se, rel=1e-12)
    # the README's figures: mu 166.574 .. 175.426, sigma 4.01162 .. 10.2712
    assert table.loc["mu", "lower"] == pytest.approx(166.5737, abs=1e-4)
    assert table.loc["sigma", "upper"] == pytest.approx(10.2712, abs=1e-4)
    ninety = result.conf_int(alpha=0.1, method="wald")
    assert ninety.loc["mu", "upper"] == pytest.approx(MEAN + Z90 * SD / math.sqrt(N), rel=1e-12)
    assert ninety.loc["sigma", "lower"] == pytest.approx(
        SD - Z90 * SD / math.sqrt(2 * N), rel=1e-12
    )


def test_conf_int_is_the_profile_interval_by_default(heights_fit):
    # For mu the profile interval is exact in closed form: the likelihood-ratio statistic
    # n·log(1 + (mu − x̄)²/s²) equals the χ²₁ quantile at its ends.
    table = heights_fit.conf_int(alpha=0.1)
    chi2 = stats.chi2.ppf(0.9, 1)
    half = SD * math.sqrt(math.expm1(chi2 / N))
    assert table.loc["mu", "lower"] == pytest.approx(MEAN - half, rel=1e-10)
    assert table.loc["mu", "upper"] == pytest.approx(MEAN + half, rel=1e-10)
    summary = heights_fit.summary(alpha=0.1)
    np.testing.assert_array_equal(table["upper"].to_numpy(), summary["profile_upper"].to_numpy())


@pytest.mark.parametrize("alpha", [0, 1, 1.5, -0.1, True, "five percent", None])
def test_conf_int_refuses_a_bad_alpha(heights_fit, alpha):
    with pytest.raises(ModelError, match="`alpha` must be a number strictly between 0 and 1"):
        heights_fit.conf_int(alpha)


def test_aliases_of_a_categorical_fit_with_a_boundary():
    labels = list("aabbbbccccccccc")  # counts 2, 4, 9 of n = 15; d never observed
    result = ppl_mle.fit_mle(ppl_mle.categorical(labels, categories=list("abcd")))
    theta = np.array([2, 4, 9, 0]) / 15
    names = ["theta[a]", "theta[b]", "theta[c]", "theta[d]"]
    assert list(result.params.index) == names
    np.testing.assert_allclose(result.params.to_numpy(), theta, rtol=1e-12, atol=1e-300)
    se = np.sqrt(theta * (1 - theta) / 15)
    np.testing.assert_allclose(result.bse.to_numpy()[:3], se[:3], rtol=1e-12)
    assert np.isnan(result.bse["theta[d]"])
    table = result.conf_int(method="wald")
    np.testing.assert_allclose(table["lower"].to_numpy()[:3], theta[:3] - Z95 * se[:3], rtol=1e-12)
    np.testing.assert_allclose(table["upper"].to_numpy()[:3], theta[:3] + Z95 * se[:3], rtol=1e-12)
    assert table.loc["theta[d]"].isna().all()  # on the boundary: no Wald interval
    cov = result.cov_params()
    expected = (np.diag(theta) - np.outer(theta, theta)) / 15
    np.testing.assert_allclose(cov.to_numpy()[:3, :3], expected[:3, :3], rtol=1e-12, atol=1e-15)
    assert result.nobs == 15


# -- the variable whose log-density is not finite at the start ----------------------------


@pytest.mark.parametrize("estimate", ["mle", "map"])
def test_error_names_the_variable_not_finite_at_the_start(estimate):
    with pm.Model() as model:
        mu = pm.Normal("mu", 0, 1)  # starts at 0: a scale of 0 for y
        pm.Normal("y", mu, mu, observed=[1.0, 2.0])
        with pytest.raises(ModelError) as info:
            ppl_mle.fit_mle(estimate=estimate)
        assert pm.modelcontext(None) is model  # restored after the error too
    message = str(info.value)
    assert "the log-likelihood is not finite at the starting point" in message
    assert "the log-density of 'y' is -inf there" in message  # PyMC reports the observed y
    assert "'mu' is" not in message  # mu's own density is finite at 0
    assert "a scale whose prior allows values <= 0" in message


def test_error_names_the_variable_for_a_start_outside_the_support():
    model = ppl_mle.normal([1.0, 2.0, 4.0])
    with pytest.raises(ModelError, match=r"not finite at the starting point.*the log-density of"):
        ppl_mle.fit_mle(model, start={"sigma": -1.0})


# -- a one-column DataFrame is its column ------------------------------------------------


def test_one_column_dataframe_is_that_column():
    frame = pd.DataFrame({"height": np.array(HEIGHTS, float), "weight": np.arange(N) + 60.0})
    from_frame = ppl_mle.fit_mle(ppl_mle.normal(frame[["height"]]))
    from_series = ppl_mle.fit_mle(ppl_mle.normal(frame["height"]))
    pd.testing.assert_series_equal(from_frame.params, from_series.params)
    assert from_frame.params["mu"] == pytest.approx(MEAN, rel=1e-14)
    assert from_frame.params["sigma"] == pytest.approx(SD, rel=1e-14)
    assert from_frame.loglik == from_series.loglik
    assert from_frame.nobs == N


def test_dataframe_of_two_columns_is_refused():
    frame = pd.DataFrame({"height": np.array(HEIGHTS, float), "weight": np.arange(N) + 60.0})
    with pytest.raises(
        DataError,
        match=r"`data` is a DataFrame of 2 columns \['height', 'weight'\]: pick the one column",
    ):
        ppl_mle.normal(frame)
    with pytest.raises(DataError, match="DataFrame without columns"):
        ppl_mle.normal(pd.DataFrame(index=range(3)))


def test_summary_header_says_map_and_drops_information_criteria_for_a_map():

    with pm.Model() as model:
        mu = pm.Normal("mu", 0.0, 10.0)
        pm.Normal("y", mu, 1.0, observed=np.array([1.0, 2.0, 4.0]))
    text = ppl_mle.format_summary(ppl_mle.fit_mle(model, estimate="map").summary())
    header = text.splitlines()[0]
    assert header.startswith("pymc model, MAP by L-BFGS-B") and "AIC" not in header
    text = ppl_mle.format_summary(ppl_mle.fit_mle(model).summary())
    assert "MLE by" in text.splitlines()[0] and "AIC = " in text.splitlines()[0]


def test_p_values_below_the_float_resolution_print_as_a_bound():
    data = np.random.default_rng(0).normal(10.0, 1.0, 500)
    table = ppl_mle.fit_mle(ppl_mle.normal(data)).summary()
    assert table.loc["mu", "p_value"] < 1e-16  # the number itself is kept
    line = next(x for x in ppl_mle.format_summary(table).splitlines() if x.startswith("mu"))
    assert "< 1e-16" in line


def test_forgotten_observed_is_named_in_the_error():
    with pm.Model() as model:
        mu = pm.Normal("mu", 0.0, 10.0)
        pm.Normal("z", mu, 1.0, observed=np.array([0.5, 1.5]))
        pm.Normal("y", mu, 1.0)  # data meant, `observed=` forgotten
    with pytest.raises(ModelError, match=r"If 'y' holds data, .*missing `observed=`"):
        ppl_mle.fit_mle(model)


def test_laplace_inference_data_is_what_arviz_expects(heights_fit):
    """az.summary and az.plot_forest on the MLE with its uncertainty, warnings as errors."""
    import warnings

    import arviz as az
    from matplotlib.figure import Figure

    idata = heights_fit.to_inference_data(laplace=2000, random_seed=4)
    assert idata.posterior.sizes["chain"] == 4 and idata.posterior.sizes["draw"] == 2000
    assert float(idata.point_estimate["mu"]) == float(heights_fit.estimates["mu"])
    se = heights_fit.bse
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        summary = az.summary(idata, round_to="none")
        ax = Figure().subplots()
        az.plot_forest([idata], model_names=["MLE (Laplace)"], ax=ax)
    # mu is exactly normal under the Laplace approximation: mean ± MC error, sd = SE.
    assert summary.loc["mu", "mean"] == pytest.approx(171.0, abs=4 * se["mu"] / math.sqrt(8000))
    assert summary.loc["mu", "sd"] == pytest.approx(se["mu"], rel=0.05)
    # sigma is log-normal: its median is the MLE.
    draws = idata.posterior["sigma"].values.ravel()
    assert float(np.median(draws)) == pytest.approx(float(heights_fit.estimates["sigma"]), rel=0.02)
    assert summary["r_hat"].max() < 1.01
    with pytest.raises(ModelError, match="positive number"):
        heights_fit.to_inference_data(laplace=0)
