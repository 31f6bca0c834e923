"""The parametric bootstrap: its draws against known distributions, intervals, counts, seeds.

Tolerances are Monte Carlo errors: 4 standard errors of the quantity checked, with fixed
seeds (so a test can fail but does not flicker).
"""

import pickle
import warnings

import numpy as np
import pandas as pd
import pymc as pm
import pytest
from scipy import stats

import ppl_mle
from ppl_mle.inference.bootstrap import BootstrapResult, bca_bounds

N_BOOT = 400


@pytest.fixture(scope="module")
def normal_fit():
    x = np.random.default_rng(11).normal(3.0, 2.0, size=40)
    return x, ppl_mle.fit_mle(ppl_mle.normal(x))


@pytest.fixture(scope="module")
def normal_boot(normal_fit):
    _, result = normal_fit
    return result.bootstrap(N_BOOT, random_seed=7, method="bca")


def test_normal_draws_follow_the_known_bootstrap_distribution(normal_fit, normal_boot):
    x, result = normal_fit
    n, boot = x.size, normal_boot
    mu_hat, sigma_hat = float(result.estimates["mu"]), float(result.estimates["sigma"])
    assert isinstance(boot, BootstrapResult)
    assert boot.n_requested == boot.n_verified == N_BOOT and boot.excluded == {}
    assert boot.status_counts == {"verified": N_BOOT}
    mu, sigma = boot.draws["mu"].to_numpy(), boot.draws["sigma"].to_numpy()
    # mu* ~ N(mu_hat, sigma_hat²/n)
    sd_mu = sigma_hat / np.sqrt(n)
    assert abs(mu.mean() - mu_hat) < 4 * sd_mu / np.sqrt(N_BOOT)
    assert abs(mu.std(ddof=1) - sd_mu) < 4 * sd_mu / np.sqrt(2 * (N_BOOT - 1))
    # n σ*²/σ̂² ~ χ²(n − 1): mean n − 1, variance 2(n − 1)
    q = n * sigma**2 / sigma_hat**2
    assert abs(q.mean() - (n - 1)) < 4 * np.sqrt(2 * (n - 1) / N_BOOT)
    # The variance of a sample variance of a χ² (kurtosis 12/(n − 1) over its square)
    var_se = 2 * (n - 1) * np.sqrt(2 / (N_BOOT - 1) + 12 / ((n - 1) * N_BOOT))
    assert abs(q.var(ddof=1) - 2 * (n - 1)) < 4 * var_se
    # se and bias are the draws' SD and mean minus the MLE
    np.testing.assert_allclose(boot.se["mu"], mu.std(ddof=1), rtol=1e-14)
    np.testing.assert_allclose(boot.bias["sigma"], sigma.mean() - sigma_hat, rtol=1e-12)
    # The MLE of sigma is biased down by about sigma/(2n)... and by (n−1)/n in sigma².
    assert boot.bias["sigma"] < 0


def test_percentile_intervals_are_quantiles_of_the_draws(normal_boot):
    ci = normal_boot.conf_int(alpha=0.1, method="percentile")
    assert list(ci.columns) == ["lower", "upper"]
    assert list(ci.index) == ["mu", "sigma"]
    draws = normal_boot.draws
    for label in ci.index:
        lo, hi = np.quantile(draws[label].to_numpy(), [0.05, 0.95])
        assert ci.loc[label, "lower"] == lo and ci.loc[label, "upper"] == hi


def test_bca_matches_scipy_jackknife_and_hand_computation(normal_fit, normal_boot):
    x, _ = normal_fit
    boot, alpha = normal_boot, 0.05
    draws = boot.draws
    # The acceleration from the empirical influence: for the mean it equals the
    # jackknife's exactly; for the MLE of sigma (np.std) within O(1/n).
    _bca = pytest.importorskip("scipy.stats._resampling")._bca_interval
    for label, statistic, rel in (("mu", np.mean, 1e-8), ("sigma", np.std, 0.1)):
        theta_b = draws[label].to_numpy()
        a1, a2, a_hat = _bca((x,), statistic, -1, alpha / 2, theta_b[None, :], None, np)
        a_hat, a1, a2 = float(np.squeeze(a_hat)), float(np.squeeze(a1)), float(np.squeeze(a2))
        index = list(boot.labels).index(label)
        assert boot.acceleration[index] == pytest.approx(a_hat, rel=rel, abs=1e-6)
        if label == "mu":
            lower, upper = np.quantile(theta_b, [a1, a2])
            ci = boot.conf_int(method="bca")
            np.testing.assert_allclose(ci.loc[label].to_numpy(), [lower, upper], rtol=1e-10)
    # By hand from z0 and a
    theta_b, hat = draws["sigma"].to_numpy(), boot.params["sigma"]
    z0 = stats.norm.ppf(np.mean(theta_b < hat))
    a = boot.acceleration[1]
    levels = [
        stats.norm.cdf(z0 + (z0 + z) / (1 - a * (z0 + z)))
        for z in stats.norm.ppf([alpha / 2, 1 - alpha / 2])
    ]
    expected = np.quantile(theta_b, levels)
    np.testing.assert_allclose(boot.conf_int().loc["sigma"].to_numpy(), expected, rtol=1e-12)
    # The function itself: every draw on one side of the estimate gives no interval
    lower, upper = bca_bounds(np.arange(1.0, 11.0)[:, None], np.array([0.0]), np.zeros(1), 0.1)
    assert np.isnan(lower[0]) and np.isnan(upper[0])


def test_tables_and_repr(normal_boot):
    table = normal_boot.to_dataframe()
    assert list(table.columns) == ["estimate", "bias", "se", "lower", "upper"]
    assert table.attrs["n_verified"] == N_BOOT and table.attrs["method"] == "bca"
    text = repr(normal_boot)
    assert f"{N_BOOT} of {N_BOOT} refits verified" in text and "random_seed=7" in text
    with pytest.raises(ValueError, match="read-only"):
        normal_boot.values[0, 0] = 1.0
    # It pickles (for multiprocessing, joblib), read-only again
    back = pickle.loads(pickle.dumps(normal_boot))
    assert np.array_equal(back.values, normal_boot.values) and not back.values.flags.writeable
    pd.testing.assert_frame_equal(back.conf_int(), normal_boot.conf_int())


def test_deterministic_draws_are_the_function_of_the_parameter_draws():
    y = np.random.default_rng(3).normal(10.0, 2.0, size=30)
    with pm.Model() as model:
        mu = pm.Normal("mu", 0.0, 100.0)
        sigma = pm.HalfNormal("sigma", 10.0)
        pm.Deterministic("cv", sigma / mu)
        pm.Normal("y", mu, sigma, observed=y)
    result = ppl_mle.fit_mle(model)
    boot = result.bootstrap(60, random_seed=1)
    assert list(boot.labels) == list(result.params.index) == ["mu", "sigma", "cv"]
    draws = boot.draws
    np.testing.assert_allclose(draws["cv"], draws["sigma"] / draws["mu"], rtol=1e-12)
    assert boot.params["cv"] == pytest.approx(result.params["cv"], rel=1e-12)
    # sigma* of a normal with free mean: n σ*²/σ̂² ~ χ²(n − 1), mean within 4 SE
    q = y.size * draws["sigma"] ** 2 / float(result.estimates["sigma"]) ** 2
    assert abs(q.mean() - (y.size - 1)) < 4 * np.sqrt(2 * (y.size - 1) / 60)


def test_categorical_bootstrap_is_multinomial_resampling():
    labels = np.random.default_rng(5).choice(["a", "b", "c"], p=[0.5, 0.3, 0.2], size=150)
    result = ppl_mle.fit_mle(ppl_mle.categorical(labels))
    boot = result.bootstrap(N_BOOT, random_seed=2)
    theta = np.asarray(result.estimates["theta"])
    sd = np.sqrt(theta * (1 - theta) / labels.size)
    draws = boot.draws.to_numpy()
    assert list(boot.labels) == ["theta[a]", "theta[b]", "theta[c]"]
    np.testing.assert_array_less(np.abs(draws.mean(axis=0) - theta), 4 * sd / np.sqrt(N_BOOT))
    np.testing.assert_array_less(
        np.abs(draws.std(axis=0, ddof=1) - sd), 4 * sd / np.sqrt(2 * (N_BOOT - 1))
    )
    # Each draw is a vector of proportions of the n labels
    np.testing.assert_allclose(draws.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(draws * labels.size, np.round(draws * labels.size), atol=1e-8)


def test_rare_category_drawn_zero_times_is_a_verified_boundary_refit():
    labels = ["a"] * 40 + ["b"] * 28 + ["c"]
    result = ppl_mle.fit_mle(ppl_mle.categorical(labels))
    boot = result.bootstrap(40, random_seed=4)
    counts = boot.status_counts
    # P(c never drawn) = (1 − 1/69)^69 ≈ 0.37: some refits sit on the boundary θ_c = 0,
    # verified MLEs that stay in (and are counted by status).
    assert counts.get("boundary", 0) > 0 and boot.n_excluded == 0
    assert counts["boundary"] + counts["verified"] == 40 == boot.n_verified
    assert np.sum(boot.draws["theta[c]"].to_numpy() == 0.0) == counts["boundary"]


def test_poisson_regression_against_statsmodels():
    sm = pytest.importorskip("statsmodels.api")
    rng = np.random.default_rng(8)
    X = rng.normal(size=(120, 2))
    y = rng.poisson(np.exp(0.5 + X @ np.array([0.4, -0.3])))
    with pm.Model() as model:
        b0 = pm.Normal("b0", 0.0, 10.0)
        b = pm.Normal("b", 0.0, 10.0, shape=2)
        pm.Poisson("y", mu=pm.math.exp(b0 + pm.math.dot(X, b)), observed=y)
    result = ppl_mle.fit_mle(model)
    boot = result.bootstrap(150, random_seed=3, method="bca")
    design = sm.add_constant(X)
    ref = sm.GLM(y, design, family=sm.families.Poisson()).fit()
    # The SD of 150 draws is within 4 × 1/sqrt(2·149) ≈ 23% of the SE (asymptotic: looser)
    np.testing.assert_allclose(boot.se.to_numpy(), ref.bse, rtol=0.3)
    np.testing.assert_allclose(boot.params.to_numpy(), ref.params, rtol=1e-6)
    assert boot.n_verified == 150
    # BCa's acceleration from the empirical influence against the jackknife of n refits
    # by statsmodels (scipy's formula): equal to O(1/n)
    leave_one_out = np.array(
        [
            sm.GLM(np.delete(y, i), np.delete(design, i, axis=0), family=sm.families.Poisson())
            .fit(tol=1e-12)
            .params
            for i in range(y.size)
        ]
    )
    u = (y.size - 1) * (leave_one_out.mean(axis=0) - leave_one_out)
    jackknife = np.sum(u**3, axis=0) / (6 * np.sum(u**2, axis=0) ** 1.5)
    np.testing.assert_allclose(boot.acceleration, jackknife, rtol=0.2, atol=2e-3)


def _logistic(n, slope, seed):
    rng = np.random.default_rng(seed)
    x = np.linspace(-2.0, 2.0, n)
    y = rng.binomial(1, 1.0 / (1.0 + np.exp(-(0.3 + slope * x))))
    with pm.Model() as model:
        a = pm.Flat("a")
        b = pm.Flat("b")
        pm.Bernoulli("y", logit_p=a + b * x, observed=y)
    return ppl_mle.fit_mle(model)


def test_refits_without_an_mle_are_counted_excluded_and_warned():
    result = _logistic(25, 2.5, seed=5)
    with pytest.warns(ppl_mle.ConvergenceWarning, match="not verified") as record:
        boot = result.bootstrap(30, random_seed=2)
    # The warning points at this file (the user's line)
    assert record[0].filename == __file__
    assert 0 < boot.n_excluded <= 15
    assert boot.n_verified + boot.n_excluded == boot.n_requested == 30
    assert boot.values.shape == (boot.n_verified, 2)
    assert set(boot.excluded) <= {s.value for s in ppl_mle.FitStatus if not s.converged}
    assert sum(boot.excluded.values()) == boot.n_excluded
    # Left out of the intervals: the quantiles are those of the verified draws only
    ci = boot.conf_int()
    assert ci.loc["b", "upper"] == np.quantile(boot.draws["b"], 0.975)
    assert np.all(np.isfinite(boot.values))


def test_too_many_unverified_refits_raise():
    # One overlap between the classes: the MLE exists, most data sets drawn from it are
    # separated (the slope's MLE is then infinite).
    x = np.linspace(-2.0, 2.0, 10)
    with pm.Model() as model:
        a = pm.Flat("a")
        b = pm.Flat("b")
        pm.Bernoulli("y", logit_p=a + b * x, observed=[0, 0, 0, 0, 1, 0, 1, 1, 1, 1])
    result = ppl_mle.fit_mle(model)
    assert result.converged
    with pytest.raises(ppl_mle.ConvergenceError, match="more than 50%"):
        result.bootstrap(10, random_seed=0)


def test_same_seed_same_draws_and_nothing_else_changes(capsys):
    with pm.Model() as model:
        x = pm.Data("x", np.linspace(0.0, 1.0, 25))
        y = pm.Data("y", np.random.default_rng(2).normal(size=25) + np.linspace(0.0, 1.0, 25))
        a = pm.Normal("a", 0.0, 10.0)
        b = pm.Normal("b", 0.0, 10.0)
        s = pm.HalfNormal("s", 5.0)
        pm.Normal("obs", a + b * x, s, observed=y)
    rng_states = [
        v.get_value(borrow=True).bit_generator.state
        for v in model.named_vars.values()
        if hasattr(v, "get_value") and isinstance(v.get_value(borrow=True), np.random.Generator)
    ]
    result = ppl_mle.fit_mle(model)
    data_before = {v.name: v.get_value().copy() for v in model.data_vars}
    params, bse = result.params.copy(), result.bse.copy()
    first = result.bootstrap(20, random_seed=42)
    second = result.bootstrap(20, random_seed=42)
    other = result.bootstrap(20, random_seed=43)
    fresh = [result.bootstrap(5), result.bootstrap(5)]
    assert np.array_equal(first.values, second.values)
    assert not np.array_equal(first.values, other.values)
    assert not np.array_equal(fresh[0].values, fresh[1].values)
    assert fresh[0].random_seed != fresh[1].random_seed
    # A fresh seed is kept: it draws the same again
    again = result.bootstrap(5, random_seed=fresh[0].random_seed)
    assert np.array_equal(again.values, fresh[0].values)
    # The user's model and the result are untouched
    for v in model.data_vars:
        assert np.array_equal(v.get_value(), data_before[v.name])
    pd.testing.assert_series_equal(result.params, params)
    pd.testing.assert_series_equal(result.bse, bse)
    assert result.summary().shape[0] == 3
    after = [
        v.get_value(borrow=True).bit_generator.state
        for v in model.named_vars.values()
        if hasattr(v, "get_value") and isinstance(v.get_value(borrow=True), np.random.Generator)
    ]
    assert after == rng_states
    # No progress bar or other output where nobody watches
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""


def test_family_model_and_result_untouched(normal_fit, normal_boot):
    x, result = normal_fit
    np.testing.assert_array_equal(result.model["data"].get_value(), x)
    assert result.model.data_version == 0
    assert result.bse["mu"] == pytest.approx(x.std() / np.sqrt(x.size), rel=1e-8)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n": 1}, "at least 2"),
        ({"n": 2.5}, "must be an int"),
        ({"n": True}, "must be an int"),
        ({"n": 10, "method": "student"}, "'percentile' or 'bca'"),
        ({"n": 10, "alpha": 0.0}, "strictly between 0 and 1"),
        ({"n": 10, "alpha": 1.5}, "strictly between 0 and 1"),
        ({"n": 10, "random_seed": "x"}, "random_seed"),
    ],
)
def test_bad_arguments(normal_fit, kwargs, match):
    _, result = normal_fit
    with pytest.raises(ppl_mle.ModelError, match=match):
        result.bootstrap(**kwargs)


def test_bca_of_a_percentile_bootstrap_is_refused(normal_fit):
    boot = normal_fit[1].bootstrap(5, random_seed=1)
    with pytest.raises(ppl_mle.ModelError, match="method='bca'"):
        boot.conf_int(method="bca")


def test_models_without_a_forward_sampler_are_refused():
    result = ppl_mle.fit_mle(ppl_mle.normal_from_stats(20, 1.0, 19.0))
    with pytest.raises(ppl_mle.ModelError, match="cannot be sampled forward"):
        result.bootstrap(10, random_seed=0)
    y = np.random.default_rng(0).normal(size=20)
    with pm.Model() as model:
        mu = pm.Flat("mu")
        pm.Potential("loglik", pm.logp(pm.Normal.dist(mu, 1.0), y).sum())
    potential = ppl_mle.fit_mle(model)
    with pytest.raises(ppl_mle.ModelError, match="Potentials"):
        potential.bootstrap(10, random_seed=0)


def test_grouped_result_names_the_alternative():
    x = np.random.default_rng(0).normal(size=20)
    grouped = ppl_mle.fit_mle(ppl_mle.normal(x, groups=np.repeat(["a", "b"], 10)))
    with pytest.raises(NotImplementedError, match=r"bootstrap one group's fit"):
        grouped.bootstrap(10)


def test_the_default_path_is_warning_free(normal_fit):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        boot = normal_fit[1].bootstrap(10)
    assert boot.n_verified == 10


def test_softmax_regression_is_bootstrapped_on_a_copy_of_its_model():
    rng = np.random.default_rng(4)
    features = pd.DataFrame({"x1": rng.normal(size=120), "x2": rng.normal(size=120)})
    noise = rng.normal(size=120)
    labels = np.where(features.x1 + noise > 0.5, "a", np.where(features.x2 > 0, "b", "c"))
    result = ppl_mle.fit_mle(ppl_mle.softmax_regression(features, labels))
    boot = result.bootstrap(20, random_seed=5)
    assert list(boot.labels) == list(result.params.index)
    assert boot.n_verified + boot.n_excluded == 20
    # The fitted model keeps its data
    assert result.summary().shape[0] == len(boot.labels)
