"""MLE beside the NUTS posterior: analytic posteriors, diagnostics that gate, Laplace, ArviZ.

Exact posteriors under the flat priors (see ppl_mle/analytic_posterior.py for the algebra):
mu | x ~ t(n − 2, x-bar, sqrt(SS/(n(n − 2)))); sigma² | x ~ InvGamma((n − 2)/2, SS/2);
sigma known: mu | x ~ Normal(x-bar, sigma/sqrt(n)); categorical: theta | x ~ Dirichlet(1 + c).

Monte Carlo error: a posterior quantile from NUTS is compared with the exact one within 4
of ArviZ's quantile MCSE; the posterior mean within 4 mean-MCSEs; the Kolmogorov-Smirnov
distance between the draws and the exact cdf within 1.95/sqrt(ess_bulk) (the 0.1% critical
value, with the effective sample size in place of n, since NUTS draws are autocorrelated).
All runs are seeded.
"""

import math
import warnings

import arviz as az
import numpy as np
import pandas as pd
import pymc as pm
import pytest
from conftest import HEIGHTS
from scipy import optimize, stats

import ppl_mle
from ppl_mle import ModelError, SamplingWarning

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def compare(model, **kwargs):
    kwargs.setdefault("random_seed", 20261126)
    # Chains in this process, one after the other: the draws are those of parallel chains
    # (each chain's seed comes from random_seed), without forking a sampler per chain
    # beside the test workers.
    kwargs.setdefault("cores", 1)
    return ppl_mle.compare_bayes(model, **kwargs)


def assert_matches_exact(comparison, label, exact):
    name, coords = (label, {}) if "[" not in label else _split(comparison, label)
    draws = comparison.idata.posterior[name]
    if coords:
        draws = draws.sel(coords)
    row = comparison.table.loc[label]
    for q in QUANTILES:
        found = float(draws.quantile(q).values)
        mcse = float(az.mcse(draws.to_dataset(), method="quantile", prob=q)[name].values)
        assert abs(found - exact.ppf(q)) <= 4 * mcse, (label, q, found, exact.ppf(q), mcse)
    assert abs(row["posterior_mean"] - exact.mean()) <= 4 * row["mcse_mean"]
    assert row["exact_mean"] == pytest.approx(exact.mean(), rel=1e-12)
    values = np.sort(draws.values.ravel())
    ecdf_hi = np.arange(1, values.size + 1) / values.size
    ecdf_lo = np.arange(values.size) / values.size
    cdf = exact.cdf(values)
    ks = max(np.max(ecdf_hi - cdf), np.max(cdf - ecdf_lo))
    assert ks <= 1.95 / math.sqrt(row["ess_bulk"]), (label, ks, row["ess_bulk"])


def _split(comparison, label):
    name, inner = label[:-1].split("[", 1)
    dim = comparison.idata.posterior[name].dims[2]
    values = comparison.idata.posterior[name].coords[dim].values
    return name, {dim: next(v for v in values if str(v) == inner)}


@pytest.fixture(scope="module")
def heights_comparison():
    return compare(ppl_mle.normal(np.asarray(HEIGHTS, dtype=float)))


def test_normal_posterior_is_the_exact_t_and_inverse_gamma(heights_comparison):
    c = heights_comparison
    x = np.asarray(HEIGHTS, dtype=float)
    n, mean, ss = x.size, x.mean(), float(np.sum((x - x.mean()) ** 2))
    assert c.trustworthy and c.divergences == 0
    exact = ppl_mle.closed_form.analytic_posterior(c.mle.family)
    assert exact["mu"].kwds == {"df": n - 2, "loc": mean, "scale": math.sqrt(ss / (n * (n - 2)))}
    assert_matches_exact(c, "mu", exact["mu"])
    assert_matches_exact(c, "sigma", exact["sigma"])
    # sigma² ~ InvGamma((n − 2)/2, SS/2): E[sigma] by the Gamma-function formula.
    e_sigma = math.sqrt(ss / 2) * math.gamma((n - 3) / 2) / math.gamma((n - 2) / 2)
    assert exact["sigma"].mean() == pytest.approx(e_sigma, rel=1e-12)


def test_where_mle_and_posterior_differ(heights_comparison):
    c = heights_comparison
    table = c.table
    x = np.asarray(HEIGHTS, dtype=float)
    n, ss = x.size, float(np.sum((x - x.mean()) ** 2))
    # Flat priors: the joint posterior mode is the MLE, exactly.
    assert table.loc["sigma", "posterior_mode"] == table.loc["sigma", "mle"]
    assert table.loc["mu", "posterior_mode"] == table.loc["mu", "mle"]
    # The posterior of sigma is skewed right: its mean lies above the MLE sqrt(SS/n) ...
    assert table.loc["sigma", "posterior_mean"] > table.loc["sigma", "mle"] + 0.5
    assert table.loc["sigma", "exact_mean"] > math.sqrt(ss / n)
    # ... and its marginal mode is sqrt(SS/(n − 1)) (kernel-density estimate, rough).
    assert table.loc["sigma", "marginal_mode"] == pytest.approx(math.sqrt(ss / (n - 1)), rel=0.1)
    # mu's posterior is a t with n − 2 = 8 df: wider than the Laplace normal by
    # t(0.975; 8)/z(0.975)·sqrt(n/(n − 2)).
    ratio = stats.t.ppf(0.975, n - 2) / stats.norm.ppf(0.975) * math.sqrt(n / (n - 2))
    assert table.loc["mu", "width_ratio"] == pytest.approx(ratio, rel=0.05)
    # Laplace for mu (identity transform) has sd = SE, up to the Monte Carlo error of 4000+
    # draws (1.1%).
    assert table.loc["mu", "laplace_sd"] == pytest.approx(table.loc["mu", "se"], rel=0.05)


COLUMNS = [
    "mle",
    "se",
    "wald_lower",
    "wald_upper",
    "profile_lower",
    "profile_upper",
    "posterior_mean",
    "posterior_sd",
    "posterior_mode",
    "marginal_mode",
    "hdi_lower",
    "hdi_upper",
    "mcse_mean",
    "ess_bulk",
    "ess_tail",
    "r_hat",
    "laplace_sd",
    "laplace_lower",
    "laplace_upper",
    "width_ratio",
    "wasserstein",
    "exact_mean",
    "exact_sd",
]


def test_profile_intervals_only_on_request(heights_comparison):
    c = heights_comparison
    assert list(c.table.columns) == COLUMNS
    # Not asked for: the columns are there, NaN; the JSON keeps the key, with nulls.
    assert c.table["profile_lower"].isna().all() and c.table["profile_upper"].isna().all()
    assert c.to_dict()["parameters"]["mu"]["profile_ci"] == [None, None]
    # Asked for, on the same fit and seed: the same draws, and the profile interval of mu
    # in closed form, x-bar ± sd·sqrt(expm1(chi2(0.95; 1)/n)).
    with_profile = compare(c.mle, profile=True)
    assert list(with_profile.table.columns) == COLUMNS
    x = np.asarray(HEIGHTS, dtype=float)
    half = x.std() * math.sqrt(math.expm1(stats.chi2.ppf(0.95, 1) / x.size))
    row = with_profile.table.loc["mu"]
    assert (row["profile_lower"], row["profile_upper"]) == pytest.approx(
        (x.mean() - half, x.mean() + half), rel=1e-9
    )
    # sigma: the deviance n·(r − 1 − log r), r = sigma-hat²/sigma², equals chi2(0.95; 1).
    q = stats.chi2.ppf(0.95, 1)
    ends = [
        x.std() / math.sqrt(optimize.brentq(lambda r: x.size * (r - 1 - math.log(r)) - q, *b))
        for b in ((1.0, 50.0), (1e-6, 1.0))
    ]
    sigma = with_profile.to_dict()["parameters"]["sigma"]["profile_ci"]
    assert sigma == pytest.approx(ends, rel=1e-8)
    others = [col for col in COLUMNS if not col.startswith("profile_")]
    pd.testing.assert_frame_equal(with_profile.table[others], c.table[others])


def test_little_data_is_sampled_in_this_process():
    from ppl_mle.bayes.sampling import SEQUENTIAL_MAX_VALUES, default_cores

    assert default_cores(ppl_mle.normal(np.asarray(HEIGHTS, dtype=float))) == 1
    assert default_cores(ppl_mle.categorical(list("aabbbbccccccccc"))) == 1
    many = np.random.default_rng(5).normal(size=SEQUENTIAL_MAX_VALUES + 1)
    assert default_cores(ppl_mle.normal(many)) is None  # PyMC's default: worker processes
    assert default_cores(ppl_mle.normal(many[:-1])) == 1
    # A plain PyMC model: its observed array counts, and its pm.Data containers.
    with pm.Model() as plain:
        design = pm.Data("design", np.ones((SEQUENTIAL_MAX_VALUES // 2, 2)))
        b = pm.Flat("b", shape=2)
        pm.Normal("y", pm.math.dot(design, b), 1.0, observed=np.zeros(SEQUENTIAL_MAX_VALUES // 2))
    assert default_cores(plain) is None


@pytest.mark.parametrize(
    "model",
    [
        # Fitted in working units (data centred and scaled): draws come back in the user's.
        ppl_mle.normal(1e6 + np.asarray(HEIGHTS, dtype=float)),
        # theta[d] on the boundary (never observed): exactly 0 in every draw.
        ppl_mle.categorical(list("aabbbbccccccccc"), categories=list("abcd")),
    ],
    ids=["normal", "categorical"],
)
def test_laplace_draws_are_the_transforms_of_the_normal_draws(model):
    from ppl_mle.inference.laplace import laplace_draws
    from ppl_mle.inference.uncertainty import natural_labels

    result = ppl_mle.fit_mle(model)
    draws = laplace_draws(result, 300, random_seed=11)
    # All at once (vectorised transforms) = one draw at a time through the fit's objective.
    unc = result.uncertainty()
    rng = np.random.default_rng(11)
    z = rng.multivariate_normal(unc.working_estimate, unc.working_cov, size=300)
    labels = natural_labels(result)
    for i in range(z.shape[0]):
        natural = np.concatenate([np.ravel(v) for v in result.objective.natural(z[i]).values()])
        for j, label in enumerate(labels):
            assert draws[label][i] == pytest.approx(natural[j], rel=1e-15, abs=1e-300)
    assert set(draws) == set(result.to_dataframe().index)
    if "theta[d]" in draws:
        assert np.all(draws["theta[d]"] == 0.0)
        total = sum(draws[f"theta[{k}]"] for k in "abc")
        np.testing.assert_allclose(total, 1.0, rtol=1e-14)
    else:
        # mu ~ Normal(x-bar, SE): the draws' mean within 4 Monte Carlo errors of x-bar.
        x = 1e6 + np.asarray(HEIGHTS, dtype=float)
        se = x.std() / math.sqrt(x.size)
        assert abs(draws["mu"].mean() - x.mean()) <= 4 * se / math.sqrt(300)
        assert np.all(draws["sigma"] > 0)


def test_sigma_known_posterior_is_normal(normal_sample):
    x = normal_sample
    c = compare(ppl_mle.normal(x, sigma=1.0), chains=2, draws=1000)
    exact = stats.norm(x.mean(), 1 / math.sqrt(x.size))
    assert_matches_exact(c, "mu", exact)
    # Posterior and Laplace approximation coincide: the log-likelihood is exactly quadratic.
    assert c.table.loc["mu", "wasserstein"] < 0.1


def test_categorical_posterior_is_dirichlet_one_plus_counts():
    labels = list("aabbbbccccccccc")
    c = compare(ppl_mle.categorical(labels, categories=list("abcd")))
    counts, n, k = np.array([2, 4, 9, 0]), 15, 4
    exact = ppl_mle.closed_form.analytic_posterior(c.mle.family)
    for j, label in enumerate(["theta[a]", "theta[b]", "theta[c]", "theta[d]"]):
        assert exact[label].args == (1 + counts[j], n + k - 1 - counts[j])
        assert_matches_exact(c, label, exact[label])
    # Dirichlet mode = counts/n = the MLE; the never-observed category: MLE exactly 0,
    # posterior mean 1/(n + k).
    np.testing.assert_allclose(c.table["posterior_mode"], counts / n, rtol=1e-14, atol=0)
    assert c.table.loc["theta[d]", "exact_mean"] == pytest.approx(1 / (n + k), rel=1e-12)


def test_too_few_draws_gate_on_ess_and_r_hat():
    x = np.asarray(HEIGHTS, dtype=float)
    with pytest.warns(SamplingWarning) as record:
        c = compare(ppl_mle.normal(x), draws=100, tune=100, chains=2, random_seed=1)
    messages = [str(w.message) for w in record]
    assert not c.trustworthy
    assert any(m.startswith("ess_bulk of mu is") and "(< 400)" in m for m in messages)
    assert any(m.startswith("ess_tail of sigma is") for m in messages)
    assert any(m.startswith("r_hat of mu is") and "(> 1.01)" in m for m in messages)
    assert list(c.problems) == messages


def test_divergences_gate():
    # n = 3: the posterior of sigma has no mean (σ⁻² tails); NUTS cannot follow it.
    with pytest.warns(SamplingWarning) as record:
        c = compare(ppl_mle.normal([1.0, 2.0, 4.0]), draws=500, tune=500, chains=2, cores=1)
    assert c.divergences > 0 and not c.trustworthy
    assert f"{c.divergences} divergent transitions" in " ".join(str(w.message) for w in record)
    assert c.to_dict()["divergences"] == c.divergences


def test_single_chain_cannot_assess_r_hat():
    with pytest.warns(SamplingWarning) as record:
        c = compare(ppl_mle.normal(np.asarray(HEIGHTS, dtype=float)), chains=1, draws=500)
    assert not c.trustworthy
    assert "r_hat cannot be assessed with a single chain" in str(record[0].message)


def test_improper_posterior_is_refused_before_sampling():
    with pytest.raises(ModelError, match=r"n = 2 observations .* improper"):
        compare(ppl_mle.normal([1.0, 3.0]))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"draws": 0}, "`draws` must be an integer >= 1; got 0"),
        ({"chains": 2.5}, "`chains` must be an integer >= 1; got 2.5"),
        ({"tune": -1}, "`tune` must be an integer >= 0"),
        ({"level": 1.5}, "strictly between 0 and 1"),
    ],
)
def test_bad_sampler_settings(kwargs, match):
    with pytest.raises(ModelError, match=match):
        compare(ppl_mle.normal(np.asarray(HEIGHTS, dtype=float)), **kwargs)


def test_mle_as_inference_data(heights_comparison):
    result = heights_comparison.mle
    idata = result.to_inference_data(laplace=None)
    assert {"posterior", "unconstrained_posterior", "standard_error", "observed_data"} <= set(
        idata.groups()
    )
    assert idata.posterior.sizes["chain"] == 1 and idata.posterior.sizes["draw"] == 1
    assert float(idata.posterior["sigma"].item()) == float(result.estimates["sigma"])
    assert float(idata.unconstrained_posterior["sigma_log__"].item()) == pytest.approx(
        math.log(float(result.estimates["sigma"])), rel=1e-15
    )
    assert float(idata.standard_error["mu"]) == pytest.approx(result.bse["mu"])
    np.testing.assert_array_equal(idata.observed_data["x"].values, HEIGHTS)
    assert idata.posterior.attrs["inference"] == "maximum likelihood"
    # ArviZ accepts it beside the NUTS posterior.
    from matplotlib.figure import Figure

    ax = Figure().subplots()
    az.plot_forest([heights_comparison.idata, idata], model_names=["NUTS", "MLE"], ax=ax)
    stacked = az.extract(idata)
    assert float(stacked["mu"].values[0]) == float(result.estimates["mu"])


def test_categorical_inference_data_keeps_category_coords():
    result = ppl_mle.fit_mle(ppl_mle.categorical(["x", "y", "y"], categories=["x", "y", "z"]))
    idata = result.to_inference_data()
    assert list(idata.posterior["theta"].coords["category"].values) == ["x", "y", "z"]
    np.testing.assert_allclose(idata.posterior["theta"].values[0, 0], [1 / 3, 2 / 3, 0])
    assert math.isnan(float(idata.standard_error["theta"].sel(category="z")))


def test_plot_is_a_png(heights_comparison, tmp_path):
    from ppl_mle.bayes.plots import plot_comparison

    path = tmp_path / "compare.png"
    fig = plot_comparison(heights_comparison, path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(fig.axes) == 4  # two parameters: posterior and trace each
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        import matplotlib.image

        image = matplotlib.image.imread(path)
    assert image.shape[0] > 400 and image.shape[1] > 800


def test_compare_takes_the_model_from_context_and_pymc_sample_options():
    y = np.random.default_rng(0).normal(5.0, 2.0, 40)
    with pm.Model() as model:
        mu = pm.Normal("mu", 0.0, 10.0)
        s = pm.HalfNormal("s", 5.0)
        pm.Normal("y", mu, s, observed=y)
        comparison = ppl_mle.compare_bayes(
            draws=500, tune=500, chains=2, random_seed=1, init="adapt_diag"
        )
    assert float(comparison.mle.estimates["mu"]) == pytest.approx(y.mean(), rel=1e-12)
    # The pointwise log-likelihood is stored, so ArviZ's PSIS-LOO runs (warnings are
    # errors here): 40 observations, and an effective number of parameters near the 2
    # the model has.
    assert "log_likelihood" in comparison.idata.groups()
    loo = az.loo(comparison.idata)
    assert loo.n_data_points == 40
    assert abs(float(loo.p_loo) - 2.0) < 0.75
    with pytest.raises(ppl_mle.ModelError, match="compute_convergence_checks"):
        ppl_mle.compare_bayes(model, compute_convergence_checks=True)
    with pytest.raises(ppl_mle.ModelError, match="no model given"):
        ppl_mle.compare_bayes()


@pytest.mark.parametrize("with_pm_data", [True, False])
def test_fit_compare_summary_plot_export(tmp_path, with_pm_data):
    # Fit, compare, plot: the comparison refits the model's flat copy, which must not look
    # like data replaced behind the first fit's back. pm.set_data still does.
    y = np.random.default_rng(3).normal(1.0, 2.0, 50)
    with pm.Model() as model:
        data = pm.Data("x", y) if with_pm_data else y
        mu = pm.Normal("mu", 0.0, 10.0)
        s = pm.HalfNormal("s", 5.0)
        pm.Normal("obs", mu, s, observed=data)
        fit = ppl_mle.fit_mle()
        ppl_mle.compare_bayes(draws=500, tune=500, chains=2, random_seed=1)
    table = fit.summary()
    assert table.loc["mu", "se"] == pytest.approx(y.std() / math.sqrt(len(y)), rel=1e-9)
    fit.plot(str(tmp_path / "fit.png"))
    assert (tmp_path / "fit.png").stat().st_size > 0
    idata = fit.to_inference_data(random_seed=2)
    assert float(idata.point_estimate["mu"]) == pytest.approx(y.mean(), rel=1e-12)
    if with_pm_data:
        pm.set_data({"x": y + 1.0}, model=model)
        with pytest.raises(ModelError, match="data were replaced after this fit"):
            fit.summary(alpha=0.1)  # (the table computed before is kept: it is of the fit's data)
