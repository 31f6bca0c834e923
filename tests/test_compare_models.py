"""compare_models: information criteria, weights and LR tests against statsmodels and scipy.

References computed independently of ppl_mle: statsmodels' OLS, GLM (Poisson), MNLogit and
MixedLM log-likelihoods (and its ``compare_lr_test``), the criteria by hand from them with
k counted as ppl_mle counts it (statsmodels' OLS counts the coefficients but not sigma),
scipy.stats.chi2 for the p-values, and ``arviz.compare`` on log-likelihoods written out by
hand from the NUTS draws.
"""

import dataclasses
import math
import warnings

import arviz as az
import numpy as np
import pymc as pm
import pytest
import statsmodels.api as sm
import xarray as xr
from scipy import linalg, stats

import ppl_mle
from ppl_mle import ConvergenceWarning, FitStatus, ModelError, SamplingWarning
from ppl_mle.fit import criteria
from ppl_mle.model._pytensor import quiet_vendor_warnings

N = 40


@pytest.fixture(scope="module")
def regression():
    rng = np.random.default_rng(20261204)
    x1, x2 = rng.normal(size=N), rng.normal(size=N)
    y = 1.0 + 0.6 * x1 + 0.1 * x2 + rng.normal(scale=0.9, size=N)
    designs = {
        "const": np.ones((N, 1)),
        "x1": np.column_stack([np.ones(N), x1]),
        "x1+x2": np.column_stack([np.ones(N), x1, x2]),
    }
    fits = {name: ppl_mle.fit_mle(_linear(X, y)) for name, X in designs.items()}
    ols = {name: sm.OLS(y, X).fit() for name, X in designs.items()}
    return fits, ols, y


def _linear(X, y, sigma=None):
    with pm.Model() as model:
        beta = pm.Flat("beta", shape=X.shape[1])
        s = pm.HalfFlat("sigma") if sigma is None else sigma
        pm.Normal("y", pm.math.dot(X, beta), s, observed=y)
    return model


def _reference(llf, k, n):
    """AIC, AICc, BIC by hand."""
    aic = 2 * k - 2 * llf
    return aic, aic + 2 * k * (k + 1) / (n - k - 1), k * math.log(n) - 2 * llf


def _weights(values):
    delta = np.asarray(values) - np.min(values)
    w = np.exp(-delta / 2)
    return delta, w / w.sum()


def test_regressions_against_statsmodels_ols(regression):
    fits, ols, _ = regression
    comparison = ppl_mle.compare_models(fits, nested=[("const", "x1"), ("x1", "x1+x2")])
    table = comparison.table
    assert list(table.columns) == [
        "llf", "k", "nobs", "aic", "aicc", "bic", "d_aic", "d_aicc", "d_bic",
        "w_aic", "w_aicc", "w_bic", "status",
    ]  # fmt: skip
    ref = {}
    for name, res in ols.items():
        k = res.params.size + 1  # the coefficients and sigma
        ref[name] = _reference(res.llf, k, N)
        # statsmodels' own criteria count the coefficients alone: one parameter fewer.
        assert ref[name][0] == pytest.approx(res.aic + 2, rel=1e-12)
        assert ref[name][2] == pytest.approx(res.bic + math.log(N), rel=1e-12)
        row = table.loc[name]
        assert row["llf"] == pytest.approx(res.llf, rel=1e-10)
        assert row["k"] == k
        assert row["nobs"] == N
        np.testing.assert_allclose(row[["aic", "aicc", "bic"]].to_numpy(float), ref[name], 1e-10)
        assert row["status"] == "verified"
    # Sorted by AIC, smallest first.
    assert list(table.index) == sorted(ref, key=lambda name: ref[name][0])
    assert table.attrs["sorted_by"] == "aic"
    assert comparison.best == table.index[0]
    names = list(table.index)
    for j, column in enumerate(("aic", "aicc", "bic")):
        delta, weight = _weights([ref[name][j] for name in names])
        np.testing.assert_allclose(table[f"d_{column}"], delta, rtol=1e-8, atol=1e-8)
        np.testing.assert_allclose(table[f"w_{column}"], weight, rtol=1e-8)
        assert table[f"w_{column}"].sum() == pytest.approx(1.0, rel=1e-12)
        assert table[f"d_{column}"].min() == 0.0
    # The LR tests: 2 Δℓ on χ²₁, and statsmodels' own test of the nested OLS fits.
    tests = comparison.tests
    assert list(tests[["restricted", "full"]].itertuples(index=False, name=None)) == [
        ("const", "x1"),
        ("x1", "x1+x2"),
    ]
    for (small, big), (_, row) in zip(
        [("const", "x1"), ("x1", "x1+x2")], tests.iterrows(), strict=True
    ):
        statistic = 2 * (ols[big].llf - ols[small].llf)
        assert row["statistic"] == pytest.approx(statistic, rel=1e-8)
        assert row["df"] == 1
        assert row["p_value"] == pytest.approx(stats.chi2.sf(statistic, 1), rel=1e-7)
        lr, p, df = ols[big].compare_lr_test(ols[small])
        assert (row["statistic"], row["p_value"], row["df"]) == pytest.approx((lr, p, df), 1e-7)
        assert not row["mixture"]
        assert row["boundary"] is None
    assert "sorted by AIC" in str(comparison) and repr(comparison) == str(comparison)
    assert comparison._repr_html_().count("<table") == 2
    assert comparison.notes == ()


def test_poisson_glm_against_statsmodels():
    rng = np.random.default_rng(7)
    x = rng.normal(size=N)
    y = rng.poisson(np.exp(0.5 + 0.4 * x))
    glms, fits = {}, {}
    for name, X in {"const": np.ones((N, 1)), "x": np.column_stack([np.ones(N), x])}.items():
        glms[name] = sm.GLM(y, X, family=sm.families.Poisson()).fit()
        with pm.Model() as model:
            beta = pm.Flat("beta", shape=X.shape[1])
            pm.Poisson("y", pm.math.exp(pm.math.dot(X, beta)), observed=y)
        fits[name] = ppl_mle.fit_mle(model)
    comparison = ppl_mle.compare_models(fits, nested=[("const", "x")])
    for name, glm in glms.items():
        row = comparison.table.loc[name]
        assert row["llf"] == pytest.approx(glm.llf, rel=1e-10)
        assert row["k"] == glm.params.size  # a Poisson GLM has no scale: same k
        assert row["aic"] == pytest.approx(glm.aic, rel=1e-10)
        assert row["bic"] == pytest.approx(_reference(glm.llf, glm.params.size, N)[2], rel=1e-10)
    statistic = 2 * (glms["x"].llf - glms["const"].llf)
    test = comparison.tests.iloc[0]
    assert test["statistic"] == pytest.approx(statistic, rel=1e-8)
    assert test["p_value"] == pytest.approx(stats.chi2.sf(statistic, 1), rel=1e-7)


def test_softmax_and_grouped_fits_have_their_rows():
    rng = np.random.default_rng(11)
    X = rng.normal(size=(80, 2))
    labels = rng.integers(0, 3, 80)
    softmax = ppl_mle.fit_mle(ppl_mle.softmax_regression(X, labels))
    categorical = ppl_mle.fit_mle(ppl_mle.categorical(labels))
    table = ppl_mle.compare_models({"softmax": softmax, "categorical": categorical}).table
    mnlogit = sm.MNLogit(labels, sm.add_constant(X)).fit(disp=0, method="newton", tol=1e-12)
    assert table.loc["softmax", "llf"] == pytest.approx(mnlogit.llf, rel=1e-9)
    assert table.loc["softmax", "k"] == mnlogit.params.size == 6
    counts = np.bincount(labels)
    assert table.loc["categorical", "llf"] == pytest.approx(
        np.sum(counts * np.log(counts / 80)), rel=1e-10
    )
    assert table.loc["categorical", "k"] == 2
    # A per-group fit beside the pooled one: the sum of the groups' normal log-likelihoods.
    x = rng.normal(3.0, 1.0, 30) + np.repeat([0.0, 1.0, 0.5], 10)
    groups = np.repeat(["u", "v", "w"], 10)
    grouped = ppl_mle.fit_mle(ppl_mle.normal(x, groups=groups))
    pooled = ppl_mle.fit_mle(ppl_mle.normal(x))
    comparison = ppl_mle.compare_models({"pooled": pooled, "groups": grouped})
    by_hand = sum(
        stats.norm.logpdf(x[groups == g], x[groups == g].mean(), x[groups == g].std()).sum()
        for g in "uvw"
    )
    assert comparison.table.loc["groups", "llf"] == pytest.approx(by_hand, rel=1e-10)
    assert comparison.table.loc["groups", "k"] == 6
    with pytest.raises(ModelError, match=r"\('pooled', 'groups'\).*per-group"):
        ppl_mle.compare_models({"pooled": pooled, "groups": grouped}, nested=[("pooled", "groups")])


@pytest.fixture(scope="module")
def variance_component():
    """One-way random effects, against the model without them: tau = 0 is on the boundary.

    The marginal likelihood of y_g ~ N(mu 1, sigma² I + tau² J) is written in the Helmert
    coordinates of each group (an orthonormal map, so the likelihood is the same): the
    first is N(sqrt(m) mu, sigma² + m tau²), the m − 1 others N(0, sigma²). MvNormal
    would give the same numbers, at ten times the compile time.
    """
    rng = np.random.default_rng(5)
    G, m = 12, 5
    Y = 3.0 + rng.normal(0.0, 0.5, (G, 1)) + rng.normal(0.0, 1.0, (G, m))
    Z = Y @ linalg.helmert(m, full=True).T
    models = {}
    for name in ("pooled", "random"):
        with pm.Model() as model:
            mu, sigma = pm.Flat("mu"), pm.HalfFlat("sigma")
            between = sigma
            if name == "random":
                tau = pm.HalfFlat("tau")
                between = pm.math.sqrt(sigma**2 + m * tau**2)
            pm.Normal("between", math.sqrt(m) * mu, between, observed=Z[:, 0])
            pm.Normal("within", 0.0, sigma, observed=Z[:, 1:])
        models[name] = ppl_mle.fit_mle(model)
    return models, Y


def test_variance_component_on_the_boundary_uses_the_mixture(variance_component):
    fits, Y = variance_component
    G, m = Y.shape
    mixed = sm.MixedLM(Y.ravel(), np.ones((G * m, 1)), groups=np.repeat(np.arange(G), m))
    llf_random = mixed.fit(reml=False).llf
    llf_pooled = stats.norm.logpdf(Y, Y.mean(), Y.std()).sum()
    comparison = ppl_mle.compare_models(fits, nested=[("pooled", "random", "tau")])
    table = comparison.table
    assert table.loc["random", "llf"] == pytest.approx(llf_random, rel=1e-9)
    assert table.loc["pooled", "llf"] == pytest.approx(llf_pooled, rel=1e-10)
    assert list(table["k"][["pooled", "random"]]) == [2, 3]
    assert table["nobs"].tolist() == [G * m, G * m]
    test = comparison.tests.iloc[0]
    statistic = 2 * (llf_random - llf_pooled)
    assert statistic > 0
    assert test["statistic"] == pytest.approx(statistic, rel=1e-6)
    # χ²₀ is the point mass at 0: for a positive statistic the p-value is half χ²₁'s.
    assert test["p_value"] == pytest.approx(0.5 * stats.chi2.sf(statistic, 1), rel=1e-6)
    assert test["mixture"]
    assert test["boundary"] == "tau"
    direct = ppl_mle.lr_test(fits["pooled"], fits["random"], boundary="tau")
    assert (direct.statistic, direct.pvalue) == (test["statistic"], test["p_value"])
    plain = ppl_mle.lr_test(fits["pooled"], fits["random"])
    assert plain.pvalue == pytest.approx(2 * direct.pvalue, rel=1e-12)


def test_boundary_pvalue_of_the_mixture():
    from ppl_mle.inference.likelihood_ratio import boundary_pvalue

    assert boundary_pvalue(0.0, 1) == 1.0
    assert boundary_pvalue(2.7, 1) == pytest.approx(0.5 * stats.chi2.sf(2.7, 1), rel=1e-14)
    assert boundary_pvalue(4.0, 3) == pytest.approx(
        0.5 * stats.chi2.sf(4.0, 2) + 0.5 * stats.chi2.sf(4.0, 3), rel=1e-14
    )


def test_boundary_must_name_a_parameter_of_the_full_model_alone(variance_component):
    fits, _ = variance_component
    with pytest.raises(ModelError, match="does not estimate; got 'sigma'"):
        ppl_mle.lr_test(fits["pooled"], fits["random"], boundary="sigma")
    with pytest.raises(ModelError, match=r"\('pooled', 'random'\).*got 'nope'"):
        ppl_mle.compare_models(fits, nested=[("pooled", "random", "nope")])
    with pytest.raises(ModelError, match="`boundary` is for two fits"):
        ppl_mle.lr_test(fits["random"], boundary="tau")


def test_aicc_undefined_when_n_minus_k_minus_1_is_not_positive():
    assert math.isnan(criteria.aicc(-3.0, 2, 3))
    assert math.isnan(criteria.aicc(-3.0, 2, 0))
    assert criteria.aicc(-3.0, 2, 4) == pytest.approx(10.0 + 12.0, rel=1e-15)
    x = np.array([1.0, 2.5, 2.0])
    fits = {
        "free": ppl_mle.fit_mle(ppl_mle.normal(x)),
        "known": ppl_mle.fit_mle(ppl_mle.normal(x, sigma=1.0)),
    }
    comparison = ppl_mle.compare_models(fits)
    table = comparison.table
    assert math.isnan(table.loc["free", "aicc"])
    assert table.loc["known", "aicc"] == pytest.approx(table.loc["known", "aic"] + 4.0)
    assert table["d_aicc"].isna().all() and table["w_aicc"].isna().all()
    assert table["w_aic"].sum() == pytest.approx(1.0)
    assert any("AICc is undefined for ['free']" in note for note in comparison.notes)


def test_bad_input_is_refused_clearly(regression):
    fits, _, y = regression
    one = fits["x1"]
    with pytest.raises(ModelError, match="at least two fits; got 1"):
        ppl_mle.compare_models({"x1": one})
    with pytest.raises(ModelError, match="mapping of name to fit"):
        ppl_mle.compare_models([one, fits["const"]])
    with pytest.raises(ModelError, match="model 'b' is not a fit: got ndarray"):
        ppl_mle.compare_models({"a": one, "b": np.zeros(3)})
    shorter = ppl_mle.fit_mle(ppl_mle.normal(y[:-1]))
    with pytest.raises(ModelError, match=r"'x1' and 'short'.*40 and 39 observations"):
        ppl_mle.compare_models({"x1": one, "short": shorter})
    other = ppl_mle.fit_mle(ppl_mle.normal(y[::-1] + 1.0))
    with pytest.raises(ModelError, match=r"'x1' and 'other'.*not the same observed values"):
        ppl_mle.compare_models({"x1": one, "other": other})
    with pytest.raises(ModelError, match=r"\('const', 'x9'\): no model named 'x9'"):
        ppl_mle.compare_models(fits, nested=[("const", "x9")])
    with pytest.raises(ModelError, match=r"\('x1', 'const'\).*fewer parameters.*3 against 2"):
        ppl_mle.compare_models(fits, nested=[("x1", "const")])
    with pytest.raises(ModelError, match=r"list of pairs: nested=\[\('const', 'x1'\)\]"):
        ppl_mle.compare_models(fits, nested=("const", "x1"))
    # More parameters but a worse fit (sigma fixed far off): not nested.
    t = np.arange(N)
    X = np.column_stack([np.ones(N), t, np.cos(t), np.sin(t)])
    worse = ppl_mle.fit_mle(_linear(X, y, sigma=25.0))
    with pytest.raises(ModelError, match=r"\('x1', 'worse'\).*restricted model fits better"):
        ppl_mle.compare_models({"x1": one, "worse": worse}, nested=[("x1", "worse")])


def test_fit_status_unverified_warns_and_no_mle_refuses(regression):
    fits, _, _ = regression
    unverified = dataclasses.replace(fits["x1"], status=FitStatus.NOT_CONVERGED, converged=False)
    with pytest.warns(ConvergenceWarning, match="model 'x1' was not verified.*not_converged"):
        table = ppl_mle.compare_models({"const": fits["const"], "x1": unverified}).table
    assert table.loc["x1", "status"] == "not_converged"
    separated = dataclasses.replace(fits["x1"], status=FitStatus.SEPARATED, converged=False)
    with pytest.raises(ModelError, match="model 'x1' has no MLE"):
        ppl_mle.compare_models({"const": fits["const"], "x1": separated})
    on_bound = dataclasses.replace(fits["x1"], status=FitStatus.BOUNDARY)
    notes = ppl_mle.compare_models({"const": fits["const"], "x1": on_bound}).notes
    assert len(notes) == 1 and "model 'x1' has estimates on a bound" in notes[0]
    map_fit = dataclasses.replace(fits["x1"], estimate_kind="MAP")
    with pytest.raises(ModelError, match="model 'x1' is a MAP estimate"):
        ppl_mle.compare_models({"const": fits["const"], "x1": map_fit})


# -- the Bayesian view: LOO of the same models beside the criteria ----------------------------

X_BAYES = np.random.default_rng(3).normal(0.4, 1.2, 25)


@pytest.fixture(scope="module")
def bayes_pair():
    """Two tiny NUTS runs; the second without pointwise log-likelihood stored."""
    with warnings.catch_warnings():
        # 300 draws of 2 chains may fall short of the ess gate; the numbers are what is tested.
        warnings.simplefilter("ignore", SamplingWarning)
        free = ppl_mle.compare_bayes(
            ppl_mle.normal(X_BAYES), draws=300, tune=300, chains=2, random_seed=1
        )
        known = ppl_mle.compare_bayes(
            ppl_mle.normal(X_BAYES, sigma=1.0),
            draws=300,
            tune=300,
            chains=2,
            random_seed=2,
            idata_kwargs={},
        )
    return {"free": free, "known": known}


def _hand_log_likelihood(comparison, sigma=None):
    """The pointwise normal log-density of every draw, written out with scipy."""
    post = comparison.idata["posterior"]
    mu = post["mu"].values[..., None]
    sd = post["sigma"].values[..., None] if sigma is None else sigma
    values = stats.norm.logpdf(X_BAYES, mu, sd)
    dims = ("chain", "draw", "obs")
    ll = xr.Dataset({"x": (dims, values)}, coords={"chain": post.chain, "draw": post.draw})
    return az.InferenceData(posterior=post, log_likelihood=ll)


def test_loo_beside_the_criteria_equals_arviz_compare(bayes_pair):
    assert "log_likelihood" not in bayes_pair["known"].idata.groups()
    comparison = ppl_mle.compare_models(bayes_pair, nested=[("known", "free")])
    # The user's run is not changed.
    assert "log_likelihood" not in bayes_pair["known"].idata.groups()
    with quiet_vendor_warnings():  # ArviZ 0.23's compare under pandas 3.1
        reference = az.compare(
            {
                "free": _hand_log_likelihood(bayes_pair["free"]),
                "known": _hand_log_likelihood(bayes_pair["known"], sigma=1.0),
            },
            ic="loo",
        )
    table = comparison.table
    for column, ref in (("elpd_loo", "elpd_loo"), ("p_loo", "p_loo"), ("loo_weight", "weight")):
        np.testing.assert_allclose(
            table[column].to_numpy(float), reference.loc[table.index, ref].to_numpy(float), 1e-9
        )
    assert comparison.loo is not None
    assert set(comparison.loo.index) == {"free", "known"}
    # The likelihood view is that of the MLEs inside.
    fits = {name: c.mle for name, c in bayes_pair.items()}
    mle_view = ppl_mle.compare_models(fits, nested=[("known", "free")])
    np.testing.assert_allclose(table["aic"], mle_view.table.loc[table.index, "aic"])
    assert comparison.tests.equals(mle_view.tests)
    assert mle_view.loo is None and "elpd_loo" not in mle_view.table
    assert table["w_aic"].sum() == pytest.approx(1.0)
    doubtful = any("failed their diagnostics" in note for note in comparison.notes)
    assert doubtful == (not all(c.trustworthy for c in bayes_pair.values()))


def test_fits_and_nuts_comparisons_are_not_mixed(bayes_pair):
    with pytest.raises(ModelError, match=r"every model as a NUTS comparison: \['free'\]"):
        ppl_mle.compare_models({"free": bayes_pair["free"], "known": bayes_pair["known"].mle})
