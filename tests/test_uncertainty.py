"""Standard errors, Wald and profile intervals against their closed forms.

References:
- normal model: Var(mu-hat) = sigma-hat^2/n, Var(sigma-hat) = sigma-hat^2/(2n), Cov = 0 (the
  inverse observed information at the MLE); the profile interval of mu with sigma unknown is
  x-bar ± sigma-hat·sqrt(exp(q/n) − 1); the profile interval of sigma solves
  n(w − 1 − log w) = q for w = sigma-hat²/sigma², by the Lambert W function; with sigma known,
  profile = Wald = x-bar ± z·sigma/sqrt(n).
- categorical model: Cov(theta-hat) = (diag theta − theta thetaᵀ)/n; the profile of theta_j is
  the binomial likelihood c log t + (n − c) log(1 − t) (others in proportion), whose interval
  is found here independently with scipy's brentq; a count of 0 gives [0, 1 − exp(−q/(2n))].
"""

import math

import numpy as np
import pytest
from conftest import HEIGHTS, LABELS
from scipy import optimize, stats
from scipy.special import lambertw

import ppl_mle

Q95 = stats.chi2.ppf(0.95, df=1)


def fit(model, method="L-BFGS-B"):
    return ppl_mle.fit_mle(model, method=method)


def normal_profile_sigma(sd_mle: float, n: int, q: float) -> tuple[float, float]:
    """Endpoints of the profile interval of sigma: n(w − 1 − log w) = q, w = sd²/sigma²."""
    c = -math.exp(-(1.0 + q / n))
    w_small, w_large = (-lambertw(c, k).real for k in (0, -1))
    return sd_mle / math.sqrt(w_large), sd_mle / math.sqrt(w_small)


def binomial_profile(c: int, n: int, q: float) -> tuple[float, float]:
    """LR interval of a probability with c successes in n trials, by brentq."""

    def deviance(t):
        ll = (c * math.log(t) if c else 0.0) + ((n - c) * math.log1p(-t) if n - c else 0.0)
        ll_hat = (c * math.log(c / n) if c else 0.0) + (
            (n - c) * math.log1p(-c / n) if n - c else 0.0
        )
        return 2 * (ll_hat - ll) - q

    p = c / n
    lo = 0.0 if c == 0 else optimize.brentq(deviance, 1e-300, p, xtol=1e-16, rtol=1e-15)
    hi = 1.0 if c == n else optimize.brentq(deviance, p, 1 - 1e-16, xtol=1e-16, rtol=1e-15)
    return lo, hi


@pytest.mark.parametrize("method", ["L-BFGS-B", "Nelder-Mead"])
def test_normal_standard_errors_and_covariance(method, normal_sample):
    x = normal_sample
    n, sd = x.size, x.std()
    result = fit(ppl_mle.normal(x), method)
    se = result.bse
    assert se["mu"] == pytest.approx(sd / math.sqrt(n), rel=1e-8)
    assert se["sigma"] == pytest.approx(sd / math.sqrt(2 * n), rel=1e-8)
    cov = result.covariance()
    assert abs(cov.loc["mu", "sigma"]) < 1e-10 * sd**2 / n
    # Unconstrained: Var(log sigma-hat) = 1/(2n), exactly by the delta method.
    z_cov = result.covariance("unconstrained")
    assert z_cov.loc["sigma_log__", "sigma_log__"] == pytest.approx(1 / (2 * n), rel=1e-8)
    assert z_cov.loc["mu", "mu"] == pytest.approx(sd**2 / n, rel=1e-8)
    corr = result.correlation()
    assert corr.loc["mu", "mu"] == pytest.approx(1.0)
    assert abs(corr.loc["mu", "sigma"]) < 1e-10


def test_normal_profile_intervals_match_closed_forms():
    x = np.asarray(HEIGHTS, dtype=float)
    n, mean, sd = x.size, x.mean(), x.std()
    result = fit(ppl_mle.normal(x))
    for level in (0.5, 0.9, 0.95, 0.99):
        q = stats.chi2.ppf(level, df=1)
        mu = result.profile_interval("mu", alpha=1 - level)
        half = sd * math.sqrt(math.expm1(q / n))
        assert mu.lower == pytest.approx(mean - half, rel=1e-10)
        assert mu.upper == pytest.approx(mean + half, rel=1e-10)
        sigma = result.profile_interval("sigma", alpha=1 - level)
        lo, hi = normal_profile_sigma(sd, n, q)
        assert sigma.lower == pytest.approx(lo, rel=1e-10)
        assert sigma.upper == pytest.approx(hi, rel=1e-10)
        # Asymmetric where it should be: sigma's interval reaches further up than down.
        assert sigma.upper - sd > sd - sigma.lower
        assert mu.note == sigma.note == ""


def test_profile_of_mu_with_sigma_unknown_on_random_data(normal_sample):
    x = normal_sample
    result = fit(ppl_mle.normal(x))
    half = x.std() * math.sqrt(math.expm1(Q95 / x.size))
    interval = result.profile_interval("mu")
    assert (interval.lower, interval.upper) == pytest.approx(
        (x.mean() - half, x.mean() + half), rel=1e-10
    )


@pytest.mark.parametrize("sigma", [1.0, 0.3, 7.5])
def test_known_sigma_profile_equals_wald(sigma, normal_sample):
    x = normal_sample
    result = fit(ppl_mle.normal(x, sigma=sigma))
    z = stats.norm.ppf(0.975)
    expected = (x.mean() - z * sigma / math.sqrt(x.size), x.mean() + z * sigma / math.sqrt(x.size))
    table = result.summary()
    assert table.loc["mu", "se"] == pytest.approx(sigma / math.sqrt(x.size), rel=1e-10)
    wald = (table.loc["mu", "wald_lower"], table.loc["mu", "wald_upper"])
    profile = (table.loc["mu", "profile_lower"], table.loc["mu", "profile_upper"])
    assert wald == pytest.approx(expected, rel=1e-12)
    assert profile == pytest.approx(expected, rel=1e-10)


def test_categorical_covariance_and_profiles():
    result = fit(ppl_mle.categorical(LABELS))
    counts = np.bincount(LABELS)[1:]
    n = counts.sum()
    theta = counts / n
    expected = (np.diag(theta) - np.outer(theta, theta)) / n
    np.testing.assert_allclose(result.covariance().to_numpy(), expected, rtol=1e-8, atol=1e-14)
    se = result.bse.to_numpy()
    np.testing.assert_allclose(se, np.sqrt(theta * (1 - theta) / n), rtol=1e-8)
    for label, c in zip(result.to_dataframe().index, counts, strict=True):
        interval = result.profile_interval(label)
        assert (interval.lower, interval.upper) == pytest.approx(
            binomial_profile(int(c), int(n), Q95), rel=1e-9
        )


def test_zero_count_category_has_no_wald_interval_and_a_one_sided_profile():
    labels = ["a"] * 3 + ["b"] * 5 + ["c"] * 12
    result = fit(ppl_mle.categorical(labels, categories=["a", "b", "c", "d"]))
    table = result.summary()
    row = table.loc["theta[d]"]
    assert row["estimate"] == 0.0
    for column in ("se", "z", "p_value", "wald_lower", "wald_upper"):
        assert math.isnan(row[column])
    assert row["profile_lower"] == 0.0
    assert row["profile_upper"] == pytest.approx(-math.expm1(-Q95 / (2 * 20)), rel=1e-10)
    assert "no SE or Wald interval" in row["note"]
    assert "one-sided" in row["note"]
    # The observed categories: the interior model's covariance, (diag − θθᵀ)/n on them.
    theta = np.array([3, 5, 12]) / 20
    cov = result.covariance().iloc[:3, :3].to_numpy()
    np.testing.assert_allclose(cov, (np.diag(theta) - np.outer(theta, theta)) / 20, rtol=1e-8)
    assert np.isnan(result.covariance().loc["theta[d]"]).all()
    # Profile of an observed category: the others, including d at 0, in proportion.
    interval = result.profile_interval("theta[a]")
    assert (interval.lower, interval.upper) == pytest.approx(binomial_profile(3, 20, Q95), rel=1e-9)


def test_single_category_vertex_intervals():
    result = fit(ppl_mle.categorical(["x"] * 8, categories=["x", "y"]))
    table = result.summary()
    assert table["se"].isna().all()
    assert table.loc["theta[x]", "profile_lower"] == pytest.approx(math.exp(-Q95 / 16), rel=1e-10)
    assert table.loc["theta[x]", "profile_upper"] == 1.0
    assert table.loc["theta[y]", "profile_upper"] == pytest.approx(
        -math.expm1(-Q95 / 16), rel=1e-10
    )


def test_summary_table_columns_and_figures(normal_sample):
    x = normal_sample
    result = fit(ppl_mle.normal(x))
    table = result.summary(alpha=0.1)
    assert tuple(table.columns) == ppl_mle.inference.summary.SUMMARY_COLUMNS
    assert list(table.index) == ["mu", "sigma"]
    loglik = stats.norm.logpdf(x, x.mean(), x.std()).sum()
    assert table.attrs["loglik"] == pytest.approx(loglik, abs=1e-10)
    assert table.attrs["aic"] == pytest.approx(2 * 2 - 2 * loglik, abs=1e-9)
    assert table.attrs["bic"] == pytest.approx(2 * math.log(x.size) - 2 * loglik, abs=1e-9)
    assert result.aic == table.attrs["aic"] and result.bic == table.attrs["bic"]
    assert table.attrs["n_obs"] == x.size and table.attrs["level"] == 0.9
    z = table["estimate"] / table["se"]
    np.testing.assert_allclose(table["z"], z, rtol=1e-14)
    np.testing.assert_allclose(table["p_value"], 2 * stats.norm.sf(np.abs(z)), rtol=1e-12)
    zq = stats.norm.ppf(0.95)
    np.testing.assert_allclose(table["wald_upper"], table["estimate"] + zq * table["se"])
    text = ppl_mle.format_summary(table)
    assert "AIC" in text and "profile 90% lo" in text
    wald = result.conf_int(0.1, method="wald")
    np.testing.assert_allclose(wald["lower"], table["wald_lower"])


def test_intervals_do_not_depend_on_the_optimizer(normal_sample):
    tables = [
        fit(ppl_mle.normal(normal_sample), method).summary()
        for method in ("L-BFGS-B", "BFGS", "Powell")
    ]
    cols = ["se", "wald_lower", "wald_upper", "profile_lower", "profile_upper"]
    for other in tables[1:]:
        np.testing.assert_allclose(other[cols], tables[0][cols], rtol=1e-9)


def test_profile_loglik_is_the_constrained_maximum():
    x = np.asarray(HEIGHTS, dtype=float)
    result = fit(ppl_mle.normal(x))
    values = np.array([165.0, 171.0, 176.5])
    # With mu fixed the best sigma is sqrt(mean((x − mu)²)).
    expected = [stats.norm.logpdf(x, m, np.sqrt(np.mean((x - m) ** 2))).sum() for m in values]
    np.testing.assert_allclose(ppl_mle.profile_loglik(result, "mu", values), expected, rtol=1e-12)


def test_singular_information_is_reported_by_direction():
    import pymc as pm

    y = np.random.default_rng(2).normal(1.0, 1.0, 30)
    with pm.Model() as model:
        a = pm.Flat("a")
        b = pm.Flat("b")
        pm.Normal("y", a + b, 1.0, observed=y)
    with pytest.warns(ppl_mle.ConvergenceWarning, match="not identified"):
        result = ppl_mle.fit_mle(model)
    with pytest.warns(ppl_mle.IdentifiabilityWarning, match=r"not identified\) along .*a.*b"):
        table = result.summary()
    assert table["se"].isna().all()
    assert table["profile_lower"].isna().all()
    assert (table["note"] == "not identified: no SE").all()


def test_refits_reuse_the_model_and_follow_its_data():
    rng = np.random.default_rng(11)
    model = ppl_mle.normal(rng.normal(0.0, 1.0, 30))
    first = fit(model)
    x = rng.normal(3.0, 2.0, 45)
    model.replace_data(x)
    second = fit(model)
    assert second.estimates["mu"] == pytest.approx(x.mean(), rel=1e-12)
    assert second.check_analytic().passed
    assert second.summary().loc["mu", "se"] == pytest.approx(x.std() / math.sqrt(45), rel=1e-8)
    # The first fit's data are gone from the model: refuse rather than answer wrongly.
    with pytest.raises(ppl_mle.ModelError, match="data were replaced after this fit"):
        first.summary()
    # pm.set_data validates too, and keeps the family in step.
    import pymc as pm

    with pytest.raises(ppl_mle.DataError, match="non-finite"):
        pm.set_data({"data": [1.0, np.nan]}, model=model)
    pm.set_data({"data": x[:10]}, model=model)
    assert fit(model).check_analytic().passed


def test_categorical_replace_data_keeps_categories():
    model = ppl_mle.categorical(["a", "b", "b"], categories=["a", "b", "c"])
    fit(model)
    model.replace_data(["c", "c", "a", "b"])
    result = fit(model)
    np.testing.assert_allclose(result.estimates["theta"], [0.25, 0.25, 0.5], rtol=1e-12)
    with pytest.raises(ppl_mle.DataError, match="not in"):
        model.replace_data(["a", "z"])


def test_a_wald_interval_leaving_the_support_is_flagged():
    # 9 of 10 labels "a": θ̂ = 0.9 ± 1.96·sqrt(0.09/10) reaches above 1, θ_b below 0.
    table = ppl_mle.fit_mle(
        ppl_mle.categorical(list("aaaaaaaaab"), categories=["a", "b"])
    ).summary()
    half = stats.norm.ppf(0.975) * np.sqrt(0.9 * 0.1 / 10)
    assert table.loc["theta[a]", "wald_upper"] == pytest.approx(0.9 + half, rel=1e-9)
    assert table.loc["theta[b]", "wald_lower"] == pytest.approx(0.1 - half, rel=1e-9)
    for label in ("theta[a]", "theta[b]"):
        assert "Wald interval leaves the support [0, 1]" in table.loc[label, "note"]
        lo, hi = table.loc[label, ["profile_lower", "profile_upper"]]
        assert 0.0 < lo < hi < 1.0
    # Inside the support: no flag (sigma's interval stays above 0 here).
    normal = ppl_mle.fit_mle(ppl_mle.normal(np.arange(20.0))).summary()
    assert (normal["note"] == "").all()
