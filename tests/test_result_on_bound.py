"""Every method of a result whose estimates sit on a bound of their support.

A binomial probability with every trial a success: p̂ = 1 exactly, ℓ(p) = N log p for N
trials in all (the binomial coefficients C(10, 10) are 1), so ℓ̂ = 0, the profile is ℓ
itself and the one-sided likelihood-ratio interval is [exp(−q/(2N)), 1], q the χ²₁
quantile. No standard error exists there: SEs and Wald intervals are NaN, the boundary is
noted, and deterministics are evaluated at p̂ with NaN SE. Beside an interior mean of a
normal with known sd 1 (x̄, SE 1/√n, Wald = profile interval) the same holds for p, while
the mean keeps its closed forms.
"""

import json
import math
import warnings

import matplotlib
import numpy as np
import pymc as pm
import pytest
from scipy import stats

import ppl_mle
from ppl_mle import FitStatus
from ppl_mle.cli import main

matplotlib.use("Agg")

Q95 = float(stats.chi2.ppf(0.95, 1))
Z95 = float(stats.norm.ppf(0.975))
SUCCESSES = np.array([10, 10, 10])  # all of 3 × 10 trials
N_TRIALS = 30
P_LOWER = math.exp(-Q95 / (2 * N_TRIALS))  # ℓ(p) − ℓ̂ = N log p = −q/2
X = np.array([1.0, 2.0, 4.0, 7.0])


def fit_on_bound(model):
    with pytest.warns(ppl_mle.BoundaryWarning, match=r"p = 1 .*KKT conditions verified"):
        return ppl_mle.fit_mle(model)


@pytest.fixture(scope="module")
def all_on_bound():
    with pm.Model() as model:
        p = pm.Beta("p", 1.0, 1.0)
        pm.Binomial("y", n=10, p=p, observed=SUCCESSES)
        pm.Deterministic("odds", p / (1.0 - p))
        pm.Deterministic("failure", 1.0 - p)
    return fit_on_bound(model)


@pytest.fixture(scope="module")
def mixed():
    with pm.Model() as model:
        p = pm.Uniform("p", 0.0, 1.0)
        mu = pm.Normal("mu", 0.0, 10.0)
        pm.Binomial("y", n=10, p=p, observed=SUCCESSES)
        pm.Normal("x", mu, 1.0, observed=X)
        pm.Deterministic("odds", p / (1.0 - p))
        pm.Deterministic("shift", mu + 2.0 * p)
    return fit_on_bound(model)


def test_the_estimate_is_the_bound_with_the_binomial_loglik(all_on_bound):
    r = all_on_bound
    assert r.status is FitStatus.BOUNDARY and r.converged, r.message
    assert float(r.estimates["p"]) == 1.0
    assert r.loglik == pytest.approx(stats.binom.logpmf(SUCCESSES, 10, 1.0).sum(), abs=1e-12)
    assert r.params["p"] == 1.0 and r.estimates_frame().loc["p", "on_boundary"]
    assert r.llf == r.loglik and r.nobs == 3
    assert r.aic == pytest.approx(2.0 - 2.0 * r.loglik, abs=1e-12)
    assert r.bic == pytest.approx(math.log(3) - 2.0 * r.loglik, abs=1e-12)
    assert r.to_dict()["estimates"] == {"p": 1.0} and r.to_dict()["status"] == "boundary"
    assert "none is left in the interior" in str(r)


def test_no_standard_error_on_the_bound(all_on_bound):
    r = all_on_bound
    assert r.uncertainty().identified
    # p, and the model's deterministics odds and failure (delta method: no SE either).
    assert list(r.bse.index) == ["p", "odds", "failure"] and r.bse.isna().all()
    for frame in (r.covariance(), r.cov_params(), r.correlation()):
        assert list(frame.index) == ["p"] and frame.isna().all(axis=None)
    assert r.covariance("unconstrained").shape == (0, 0)  # no free coordinate is left
    assert r.conf_int(method="wald").isna().all(axis=None)


def test_summary_has_the_one_sided_profile_interval_of_the_closed_form(all_on_bound):
    table = all_on_bound.summary()
    row = table.loc["p"]
    assert row["estimate"] == 1.0
    assert row[["se", "z", "p_value", "wald_lower", "wald_upper"]].isna().all()
    assert row["profile_lower"] == pytest.approx(P_LOWER, rel=1e-8)
    assert row["profile_upper"] == 1.0
    assert "on the boundary (estimate exactly 1)" in row["note"]
    text = ppl_mle.format_summary(table)
    assert f"{P_LOWER:.6g}" in text and "on the boundary" in text
    interval = all_on_bound.profile_interval("p")
    assert interval.lower == pytest.approx(P_LOWER, rel=1e-8) and interval.upper == 1.0
    confint = all_on_bound.conf_int()
    assert confint.loc["p", "lower"] == pytest.approx(P_LOWER, rel=1e-8)
    assert confint.loc["p", "upper"] == 1.0
    # The 90% interval from the same closed form.
    q90 = float(stats.chi2.ppf(0.90, 1))
    lower90 = all_on_bound.summary(alpha=0.1).loc["p", "profile_lower"]
    assert lower90 == pytest.approx(math.exp(-q90 / (2 * N_TRIALS)), rel=1e-8)


def test_profile_loglik_is_n_log_p(all_on_bound):
    t = np.array([0.9, 0.95, 0.99])
    found = ppl_mle.profile_loglik(all_on_bound, "p", t)
    np.testing.assert_allclose(found, N_TRIALS * np.log(t), rtol=1e-9)


def test_derived_at_the_estimate_without_se(all_on_bound):
    table = all_on_bound.derived()
    assert list(table.index) == ["odds", "failure"]
    assert table.loc["odds", "estimate"] == math.inf  # p/(1 − p) at p = 1
    assert table.loc["failure", "estimate"] == 0.0
    assert table[["se", "wald_lower", "wald_upper"]].isna().all(axis=None)


def test_inference_data_holds_the_point_estimate(all_on_bound):
    idata = all_on_bound.to_inference_data()
    assert idata.posterior["p"].values.tolist() == [[1.0]]
    assert np.isnan(float(idata.standard_error["p"]))
    assert idata.observed_data["y"].values.tolist() == SUCCESSES.tolist()
    # No interior parameter: no covariance to draw from (as at a categorical vertex).
    laplace = all_on_bound.to_inference_data(laplace=5, random_seed=1)
    assert laplace.posterior["p"].shape == (4, 5) and np.isnan(laplace.posterior["p"]).all()
    assert float(laplace.point_estimate["p"]) == 1.0


def test_profile_picture_stays_inside_the_support(all_on_bound):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = all_on_bound.plot()
    ax = fig.axes[0]
    t, y = ax.lines[0].get_xdata(), ax.lines[0].get_ydata()
    assert t.size > 40 and t.max() < 1.0 and t.min() < P_LOWER
    np.testing.assert_allclose(y, N_TRIALS * np.log(t), rtol=1e-9)


def test_uniform_prior_gives_the_same_fit():
    with pm.Model() as model:
        p = pm.Uniform("p", 0.0, 1.0)
        pm.Binomial("y", n=10, p=p, observed=SUCCESSES)
    row = fit_on_bound(model).summary().loc["p"]
    assert row["estimate"] == 1.0 and np.isnan(row["se"])
    assert row["profile_lower"] == pytest.approx(P_LOWER, rel=1e-8)


def test_mixed_interior_mean_keeps_its_closed_forms(mixed):
    r = mixed
    assert r.status is FitStatus.BOUNDARY and r.objective.size == 1
    table = r.summary()
    mean, se = float(X.mean()), 1.0 / math.sqrt(X.size)
    mu = table.loc["mu"]
    assert mu["estimate"] == pytest.approx(mean, rel=1e-12)
    assert mu["se"] == pytest.approx(se, rel=1e-9)
    assert mu["wald_lower"] == pytest.approx(mean - Z95 * se, rel=1e-9)
    # Known sd: the log-likelihood is quadratic in mu, the profile interval is Wald's.
    assert mu["profile_lower"] == pytest.approx(mean - Z95 * se, rel=1e-8)
    assert mu["profile_upper"] == pytest.approx(mean + Z95 * se, rel=1e-8)
    p = table.loc["p"]
    assert p["estimate"] == 1.0 and np.isnan(p["se"]) and np.isnan(p["wald_upper"])
    assert p["profile_lower"] == pytest.approx(P_LOWER, rel=1e-8) and p["profile_upper"] == 1.0
    expected = stats.norm.logpdf(X, mean, 1.0).sum()
    assert r.loglik == pytest.approx(expected, rel=1e-12)


def test_mixed_derived_se_from_the_interior_mean(mixed):
    table = mixed.derived()
    se = 1.0 / math.sqrt(X.size)
    assert table.loc["shift", "estimate"] == pytest.approx(X.mean() + 2.0, rel=1e-12)
    assert table.loc["shift", "se"] == pytest.approx(se, rel=1e-9)  # p held: mu alone varies
    assert table.loc["shift", "wald_upper"] == pytest.approx(X.mean() + 2.0 + Z95 * se, rel=1e-9)
    # No delta method about an infinite value.
    assert table.loc["odds", "estimate"] == math.inf
    assert table.loc["odds", ["se", "wald_lower", "wald_upper"]].isna().all()


def test_mixed_laplace_draws_keep_the_bound(mixed):
    idata = mixed.to_inference_data(laplace=500, random_seed=3)
    p, mu = idata.posterior["p"].values, idata.posterior["mu"].values
    assert (p == 1.0).all()  # on the bound, in every draw
    se = 1.0 / math.sqrt(X.size)
    # 2000 normal draws: mean within 5 SE of the mean of the draws, sd within 10%.
    assert abs(mu.mean() - X.mean()) < 5 * se / math.sqrt(mu.size)
    assert mu.std(ddof=1) == pytest.approx(se, rel=0.1)


def test_mixed_picture_and_likelihood_ratio_test(mixed):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = mixed.plot()
    by_title = {ax.get_title(): ax for ax in fig.axes if ax.get_visible()}
    t, y = by_title["p"].lines[0].get_xdata(), by_title["p"].lines[0].get_ydata()
    assert t.max() < 1.0
    np.testing.assert_allclose(y, N_TRIALS * np.log(t), rtol=1e-8)
    with pm.Model() as restricted_model:  # p fixed at 0.95, mu free
        mu = pm.Normal("mu", 0.0, 10.0)
        pm.Binomial("y", n=10, p=0.95, observed=SUCCESSES)
        pm.Normal("x", mu, 1.0, observed=X)
    restricted = ppl_mle.fit_mle(restricted_model)
    test = ppl_mle.lr_test(restricted, mixed)
    statistic = -2.0 * N_TRIALS * math.log(0.95)
    assert test.statistic == pytest.approx(statistic, rel=1e-9) and test.df == 1
    assert test.pvalue == pytest.approx(stats.chi2.sf(statistic, 1), rel=1e-8)


def test_command_line_prints_the_table(tmp_path, capsys):
    script = tmp_path / "all_successes.py"
    script.write_text(
        "import numpy as np\nimport pymc as pm\n\n"
        "with pm.Model() as coin:\n"
        "    p = pm.Beta('p', 1, 1)\n"
        "    pm.Binomial('y', n=10, p=p, observed=np.array([10, 10, 10]))\n"
    )
    code = main(["fit", "pymc", str(script)])
    out, _ = capsys.readouterr()
    assert code in (0, 1), out
    row = next(line.split() for line in out.splitlines() if line.startswith("p "))
    assert float(row[1]) == 1.0 and float(row[-2]) == pytest.approx(P_LOWER, rel=1e-5)
    assert "on the boundary" in out
    code = main(["fit", "pymc", str(script), "--json"])
    out, _ = capsys.readouterr()
    payload = json.loads(out)
    assert code in (0, 1) and payload["profile_ci"]["p"][0] == pytest.approx(P_LOWER, rel=1e-8)
    assert payload["se"]["p"] is None


@pytest.mark.parametrize("successes", [0, 10])
def test_profile_bound_of_one_binomial_observation_on_the_boundary(successes):
    # One observation of 10 trials: the first step of the search, sized by n = 1, once
    # left the support (a RuntimeWarning, with warnings as errors a failure).
    with pm.Model() as model:
        p = pm.Uniform("p", 0.0, 1.0)
        pm.Binomial("y", n=10, p=p, observed=successes)
    with pytest.warns(ppl_mle.BoundaryWarning):
        result = ppl_mle.fit_mle(model)
    assert result.status is ppl_mle.FitStatus.BOUNDARY
    lower, upper = result.conf_int().loc["p"]
    # Deviance 2·10·(−log p) (or −log(1 − p)) = χ²₁(0.95) on the open side.
    inner = math.exp(-stats.chi2.ppf(0.95, 1) / 20)
    if successes:
        assert (lower, upper) == (pytest.approx(inner, rel=1e-9), 1.0)
    else:
        assert (lower, upper) == (0.0, pytest.approx(1 - inner, rel=1e-9))
