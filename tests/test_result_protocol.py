"""One result protocol: every member on a single fit, a per-group fit and a softmax fit.

Each kind is checked against an independent answer: closed forms (the normal model),
pandas per group (the per-group model) and statsmodels' MNLogit (softmax regression).
"""

import math
import warnings

import numpy as np
import pandas as pd
import pymc as pm
import pytest
import statsmodels.api as sm
from scipy import stats

import ppl_mle
from ppl_mle.inference.summary import SUMMARY_COLUMNS

Z95 = stats.norm.ppf(0.975)


@pytest.fixture(scope="module")
def single():
    x = np.random.default_rng(11).normal(3.0, 2.0, size=60)
    return x, ppl_mle.fit_mle(ppl_mle.normal(x), on_failure="raise")


@pytest.fixture(scope="module")
def grouped():
    rng = np.random.default_rng(12)
    groups = np.repeat(["north", "south", "west"], [15, 25, 40])
    x = rng.normal(10.0, 3.0, size=groups.size) + (groups == "west") * 2.0
    model = ppl_mle.normal(x, groups=groups)
    return pd.DataFrame({"x": x, "g": groups}), ppl_mle.fit_mle(model, on_failure="raise")


@pytest.fixture(scope="module")
def softmax():
    rng = np.random.default_rng(13)
    X = pd.DataFrame({"age": rng.normal(40, 10, 400), "income": rng.normal(3, 1, 400)})
    eta = np.column_stack([np.zeros(400), -2 + 0.05 * X.age, 1 - 0.4 * X.income])
    p = np.exp(eta) / np.exp(eta).sum(axis=1, keepdims=True)
    y = np.array(["bus", "car", "walk"])[[rng.choice(3, p=row) for row in p]]
    result = ppl_mle.fit_mle(ppl_mle.softmax_regression(X, y), on_failure="raise")
    codes = pd.Categorical(y, categories=["bus", "car", "walk"]).codes
    reference = sm.MNLogit(codes, sm.add_constant(X)).fit(disp=0, method="newton", tol=1e-12)
    return X, y, result, reference


def _check_protocol(result, n_params):
    """What every kind answers alike, each member checked against the table or a formula."""
    table = result.summary()
    assert tuple(table.columns) == SUMMARY_COLUMNS
    pd.testing.assert_frame_equal(result.to_dataframe(), table)
    labels = list(table.index)
    for name in ("params", "bse", "tvalues", "pvalues"):
        assert list(getattr(result, name).index) == labels
    np.testing.assert_allclose(result.tvalues, result.params / result.bse, rtol=1e-12)
    p = 2 * stats.norm.sf(np.abs(result.tvalues))
    np.testing.assert_allclose(result.pvalues, p, rtol=1e-10, atol=1e-300)
    wald = result.conf_int(method="wald")
    assert list(wald.columns) == ["lower", "upper"] and list(wald.index) == labels
    np.testing.assert_allclose(wald["lower"], result.params - Z95 * result.bse, rtol=1e-12)
    np.testing.assert_allclose(wald["upper"], result.params + Z95 * result.bse, rtol=1e-12)
    ninety = result.conf_int(0.1, method="wald")
    z90 = stats.norm.ppf(0.95)
    np.testing.assert_allclose(ninety["upper"], result.params + z90 * result.bse, rtol=1e-12)
    cov = result.cov_params()
    assert list(cov.index) == list(cov.columns) == labels
    np.testing.assert_allclose(np.sqrt(np.diag(cov)), result.bse, rtol=1e-9)
    assert result.llf == result.loglik and result.nobs == result.n_obs
    assert result.df_model == n_params
    assert result.aic == pytest.approx(2 * n_params - 2 * result.llf, rel=1e-14)
    assert result.bic == pytest.approx(n_params * math.log(result.nobs) - 2 * result.llf)
    assert table.attrs["aic"] == result.aic and table.attrs["n_params"] == n_params
    assert (table["verdict"] == "verified").all()
    derived = result.derived()  # none of these models has a pm.Deterministic
    assert list(derived.columns) == ["estimate", "se", "wald_lower", "wald_upper"]
    assert derived.empty
    text = repr(result)
    assert "verified" in text.splitlines()[0] and labels[0] in text
    page = result._repr_html_()
    assert page.startswith("<p><b>") and "<table" in page and labels[-1] in page


def test_single_fit_answers_the_protocol(single):
    x, result = single
    n, mean, sd = x.size, x.mean(), x.std()
    _check_protocol(result, 2)
    np.testing.assert_allclose(result.params, [mean, sd], rtol=1e-13)
    np.testing.assert_allclose(result.bse, [sd / math.sqrt(n), sd / math.sqrt(2 * n)], rtol=1e-11)
    assert result.llf == pytest.approx(stats.norm.logpdf(x, mean, sd).sum(), rel=1e-13)
    # Profile by default, exact for mu: n·log(1 + (mu − x̄)²/s²) = χ²₁ quantile at its ends.
    half = sd * math.sqrt(math.expm1(stats.chi2.ppf(0.95, 1) / n))
    interval = result.conf_int().loc["mu"]
    assert interval["lower"] == pytest.approx(mean - half, rel=1e-10)
    assert interval["upper"] == pytest.approx(mean + half, rel=1e-10)


def test_grouped_fit_answers_the_protocol(grouped):
    frame, result = grouped
    by = frame.groupby("g")["x"]
    _check_protocol(result, 6)
    mean, sd, n = by.mean(), by.std(ddof=0), by.size()
    expected_index = [f"mu[{g}]" for g in mean.index] + [f"sigma[{g}]" for g in mean.index]
    assert list(result.params.index) == expected_index
    np.testing.assert_allclose(result.params, [*mean, *sd], rtol=1e-12)
    np.testing.assert_allclose(result.bse, [*(sd / np.sqrt(n)), *(sd / np.sqrt(2 * n))], rtol=1e-9)
    loglik = sum(stats.norm.logpdf(g, g.mean(), g.std(ddof=0)).sum() for _, g in by)
    assert result.llf == pytest.approx(loglik, rel=1e-12)
    for group in mean.index:  # profile intervals per group: each group's own closed form
        half = sd[group] * math.sqrt(math.expm1(stats.chi2.ppf(0.95, 1) / n[group]))
        row = result.conf_int().loc[f"mu[{group}]"]
        assert row["lower"] == pytest.approx(mean[group] - half, rel=1e-9)
        assert row["upper"] == pytest.approx(mean[group] + half, rel=1e-9)
    assert result.summary().attrs["estimate_kind"] == "MLE"


def test_a_grouped_map_is_named_as_asked(grouped):
    frame, _ = grouped
    model = ppl_mle.normal(frame["x"].to_numpy(), groups=frame["g"].to_numpy())
    result = ppl_mle.fit_mle(model, estimate="map")
    assert result.summary().attrs["estimate_kind"] == "MAP"
    assert repr(result).startswith("MAP of the")


def test_softmax_fit_answers_the_protocol_as_statsmodels(softmax):
    _X, _y, result, ref = softmax
    _check_protocol(result, 6)
    ours = result.params.to_numpy().reshape(3, 2)
    np.testing.assert_allclose(ours, ref.params.to_numpy(), rtol=1e-8)
    np.testing.assert_allclose(result.bse.to_numpy().reshape(3, 2), ref.bse, rtol=1e-6)
    np.testing.assert_allclose(result.pvalues.to_numpy().reshape(3, 2), ref.pvalues, rtol=1e-5)
    assert result.llf == pytest.approx(ref.llf, rel=1e-12)
    assert result.aic == pytest.approx(ref.aic, rel=1e-12)
    assert result.bic == pytest.approx(ref.bic, rel=1e-12)
    theirs = ref.conf_int()  # rows: (class, feature)
    lower = theirs["lower"].to_numpy().reshape(2, 3).T
    wald = result.conf_int(method="wald")
    np.testing.assert_allclose(wald["lower"].to_numpy().reshape(3, 2), lower, rtol=1e-6)


def test_softmax_predicts_as_statsmodels(softmax):
    X, _y, result, ref = softmax
    proba = result.predict_proba(X)
    assert list(proba.columns) == ["bus", "car", "walk"]
    assert proba.index.equals(X.index)
    np.testing.assert_allclose(proba, ref.predict(sm.add_constant(X)), rtol=1e-7)
    # By name for a DataFrame (columns in any order), in order for an array.
    shuffled = X[["income", "age"]].assign(other=1.0)
    pd.testing.assert_frame_equal(result.predict_proba(shuffled), proba)
    np.testing.assert_allclose(result.predict_proba(X.to_numpy()), proba, rtol=1e-15)
    labels = result.predict(X)
    expected = np.array(["bus", "car", "walk"])[np.argmax(proba.to_numpy(), axis=1)]
    assert labels.tolist() == expected.tolist()


def test_predict_names_what_is_wrong(softmax, single):
    X, _, result, _ = softmax
    with pytest.raises(ppl_mle.DataError, match=r"lacks the columns \['income'\]"):
        result.predict_proba(X[["age"]])
    with pytest.raises(ppl_mle.DataError, match="has 1 columns; the model was fitted on 3"):
        result.predict_proba(X[["age"]].to_numpy())
    with pytest.raises(ppl_mle.DataError, match="non-finite"):
        result.predict_proba(X.assign(age=np.nan))
    with pytest.raises(ppl_mle.ModelError, match="predict_proba is for a softmax regression"):
        single[1].predict_proba(X)


@pytest.fixture(scope="module")
def cv_fit(single):
    """The single fit's data in a user's model with a Deterministic, cv = sigma / mu."""
    x, _ = single
    with pm.Model() as model:
        mu = pm.Normal("mu", 0.0, 100.0)
        sigma = pm.HalfNormal("sigma", 10.0)
        pm.Deterministic("cv", sigma / mu)
        pm.Normal("y", mu, sigma, observed=x)
    return x, ppl_mle.fit_mle(model, on_failure="raise")


def test_deterministics_are_rows_of_every_table(cv_fit):
    # As pm.find_MAP returns them: cv = sigma / mu at the MLE, its SE by the delta method
    # (J C Jᵀ with C = diag(σ²/n, σ²/2n), the normal model's inverse information).
    x, result = cv_fit
    n, m, s = x.size, x.mean(), x.std()
    jac = np.array([-s / m**2, 1.0 / m])
    se = math.sqrt(jac @ np.diag([s**2 / n, s**2 / (2 * n)]) @ jac)
    assert list(result.params.index) == ["mu", "sigma", "cv"]
    assert result.params["cv"] == pytest.approx(s / m, rel=1e-12)
    assert result.bse["cv"] == pytest.approx(se, rel=1e-9)
    assert result.tvalues["cv"] == pytest.approx(s / m / se, rel=1e-9)
    wald = result.conf_int(method="wald").loc["cv"]
    assert wald["upper"] == pytest.approx(s / m + Z95 * se, rel=1e-9)
    assert "pm.Deterministic" in result.summary().loc["cv", "note"]
    assert result.df_model == 2  # the free parameters only


def _arviz_on_the_default_export(result, seed):
    """The default export, and ArviZ's summary of it; ArviZ's summary, forest and posterior
    plots run on it with warnings as errors."""
    import arviz as az
    from matplotlib import MatplotlibDeprecationWarning
    from matplotlib.figure import Figure

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # ArviZ 0.23 calls a matplotlib API that matplotlib 3.11 deprecates, whatever the
        # data: not a warning about these.
        warnings.filterwarnings("ignore", category=MatplotlibDeprecationWarning)
        idata = result.to_inference_data(random_seed=seed)
        table = az.summary(idata, kind="stats")
        az.plot_forest(idata, ax=Figure().subplots())
        az.plot_posterior(idata, var_names=[next(iter(result.estimates))])
    return idata, table


def test_arviz_takes_the_default_export_without_a_warning(single, softmax):
    for result in (single[1], softmax[2]):
        idata, table = _arviz_on_the_default_export(result, seed=1)
        # The Laplace draws: centred on the MLE, spread by its standard errors.
        labels = list(result.params.index)
        np.testing.assert_allclose(table.loc[labels, "mean"], result.params, atol=0.25, rtol=0.05)
        np.testing.assert_allclose(table.loc[labels, "sd"], result.bse, rtol=0.1)
        point = idata.point_estimate
        name = next(iter(result.estimates))
        np.testing.assert_array_equal(point[name].values, result.estimates[name])
        # Where pymc-extras puts them: the unconstrained MLE and its covariance.
        fit = idata.fit
        cov = result.uncertainty().covariance("unconstrained")
        assert list(fit["mean_vector"].coords["rows"].values) == list(cov.index)
        np.testing.assert_array_equal(fit["covariance_matrix"].values, cov.to_numpy())


@pytest.mark.parametrize("kind", ["normal", "categorical"])
def test_arviz_takes_a_grouped_export_without_a_warning(grouped, kind):
    frame, result = grouped
    if kind == "categorical":
        labels = np.where(frame["x"] > 11.0, "high", np.where(frame["x"] > 9.0, "mid", "low"))
        result = ppl_mle.fit_mle(ppl_mle.categorical(labels, groups=frame["g"].to_numpy()))
    idata, table = _arviz_on_the_default_export(result, seed=3)
    # Centred on each group's estimate and spread by its SE; theta stays on the simplex.
    labels = list(result.params.index)  # ArviZ's labels are ours: mu[north], theta[north, low]
    np.testing.assert_allclose(table.loc[labels, "mean"], result.params, rtol=0.02, atol=0.01)
    np.testing.assert_allclose(table.loc[labels, "sd"], result.bse, rtol=0.1)
    if kind == "categorical":
        np.testing.assert_allclose(idata.posterior["theta"].sum("category"), 1.0, rtol=1e-12)
    point = idata.point_estimate[next(iter(result.estimates))].values
    np.testing.assert_array_equal(point, next(iter(result.estimates.values())))


def test_the_export_carries_the_deterministics(cv_fit):
    x, result = cv_fit
    idata = result.to_inference_data(random_seed=4)
    post = idata.posterior
    np.testing.assert_allclose(post["cv"], post["sigma"] / post["mu"], rtol=1e-14)
    assert float(idata.point_estimate["cv"]) == pytest.approx(x.std() / x.mean(), rel=1e-12)
    assert float(post["cv"].std()) == pytest.approx(result.bse["cv"], rel=0.1)


def test_a_result_whose_data_were_replaced_still_shows_itself():
    model = ppl_mle.normal(np.array([1.0, 2.0, 4.0, 5.0]))
    result = ppl_mle.fit_mle(model, on_failure="raise")
    model.replace_data(np.array([3.0, 4.0, 9.0]))
    for text in (repr(result), result._repr_html_()):
        assert "verified" in text and "data were replaced after this fit" in text
    with pytest.raises(ppl_mle.ModelError, match="data were replaced after this fit"):
        result.summary()
