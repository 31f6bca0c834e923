"""The MLE of any PyMC model: priors replaced by flat ones, checked against closed forms.

Closed forms: Bernoulli/Binomial p = successes/trials; Poisson rate = mean; Exponential
rate = 1/mean; Normal mean and sd (divide by n); categorical counts/n; a Uniform(a, b)
location is the sample mean when inside (a, b). The MAP under a Beta(2, 5) prior is
(s + 1)/(n + 5) and the posterior Beta(s + 2, n − s + 5).
"""

import numpy as np
import pymc as pm
import pytensor.tensor as pt
import pytest

import ppl_mle
from ppl_mle import ModelError

RNG = np.random.default_rng(20261126)
COIN = RNG.binomial(1, 0.3, 60)
COUNTS = RNG.poisson(3.2, 45)
WAITS = RNG.exponential(2.0, 30)
X = RNG.normal(10.0, 3.0, 25)


def bernoulli():
    with pm.Model() as model:
        p = pm.Beta("p", 2, 5)
        pm.Bernoulli("y", p, observed=COIN)
    return model


def cases():
    trials = np.array([10, 12, 8, 15])
    wins = np.array([3, 5, 2, 6])
    with pm.Model() as binomial:
        p = pm.Beta("p", 1, 1)
        pm.Binomial("k", n=trials, p=p, observed=wins)
    with pm.Model() as poisson:
        lam = pm.Gamma("lam", 2, 1)
        pm.Poisson("y", lam, observed=COUNTS)
    with pm.Model() as exponential:
        rate = pm.Gamma("rate", 1, 1)
        pm.Exponential("y", rate, observed=WAITS)
    with pm.Model() as normal:
        mu = pm.Normal("mu", 0, 10)
        sigma = pm.HalfNormal("sigma", 5)
        pm.Normal("y", mu, sigma, observed=X)
    with pm.Model(coords={"c": ["a", "b", "c"]}) as categorical:
        theta = pm.Dirichlet("theta", np.array([2.0, 3.0, 4.0]), dims="c")
        pm.Categorical("y", theta, observed=np.array([0, 1, 1, 2, 2, 2, 2]))
    with pm.Model() as uniform:
        loc = pm.Uniform("loc", -50, 50)
        pm.Normal("y", loc, 3.0, observed=X)
    return [
        ("bernoulli", bernoulli(), {"p": COIN.mean()}),
        ("binomial", binomial, {"p": wins.sum() / trials.sum()}),
        ("poisson", poisson, {"lam": COUNTS.mean()}),
        ("exponential", exponential, {"rate": 1 / WAITS.mean()}),
        ("normal", normal, {"mu": X.mean(), "sigma": X.std()}),
        ("categorical", categorical, {"theta": np.array([1, 2, 4]) / 7}),
        ("uniform", uniform, {"loc": X.mean()}),
    ]


@pytest.mark.parametrize(("name", "model", "expected"), cases(), ids=lambda c: str(c)[:12])
def test_flattened_models_give_closed_form_mles(name, model, expected):
    before = {rv.name: rv.owner.op for rv in model.free_RVs}
    point = model.initial_point()
    logp_before = model.compile_logp()(point)
    result = ppl_mle.fit_mle(model)
    assert result.converged, result.message
    assert result.estimate_kind == "MLE"
    for key, value in expected.items():
        np.testing.assert_allclose(result.estimates[key], value, rtol=1e-10)
    # The original model is untouched: same priors, same log-density.
    assert {rv.name: rv.owner.op for rv in model.free_RVs} == before
    assert model.compile_logp()(point) == pytest.approx(logp_before, rel=1e-15)
    assert result.source_model is model and result.model is not model


def test_flat_copy_keeps_transforms_and_coords():
    _, model, _ = cases()[5]
    flat = ppl_mle.flat_priors(model)
    assert flat.coords == model.coords
    assert [v.name for v in flat.value_vars] == [v.name for v in model.value_vars]
    assert type(flat.rvs_to_transforms[flat["theta"]]) is type(
        model.rvs_to_transforms[model["theta"]]
    )
    assert flat["theta"].owner.op.name == "dirichlet"


def test_map_with_the_models_own_priors():
    model = bernoulli()
    s, n = COIN.sum(), COIN.size
    result = ppl_mle.fit_mle(model, estimate="map")
    assert result.estimate_kind == "MAP" and "this is the MAP" in result.message
    assert float(result.estimates["p"]) == pytest.approx((s + 1) / (n + 5), rel=1e-10)


def test_compare_bayes_uses_the_users_priors():
    model = bernoulli()
    s, n = COIN.sum(), COIN.size
    comparison = ppl_mle.compare_bayes(model, chains=2, random_seed=3)
    row = comparison.table.loc["p"]
    assert row["mle"] == pytest.approx(s / n, rel=1e-10)
    assert row["posterior_mode"] == pytest.approx((s + 1) / (n + 5), rel=1e-10)
    assert abs(row["posterior_mean"] - (s + 2) / (n + 7)) <= 4 * row["mcse_mean"]


def test_hierarchical_and_discrete_models_are_refused_by_name():
    with pm.Model() as hierarchical:
        mu = pm.Normal("mu", 0, 1)
        tau = pm.HalfNormal("tau", 1)
        theta = pm.Normal("theta", mu, tau, shape=3)
        pm.Normal("y", theta, 1.0, observed=np.array([1.0, 2.0, 3.0]))
    with pytest.raises(ModelError, match=r"prior of 'theta' depends on .*\['mu', 'tau'\]"):
        ppl_mle.flat_priors(hierarchical)
    with pm.Model() as discrete:
        k = pm.Poisson("k", 3.0)
        pm.Normal("y", pt.cast(k, "float64"), 1.0, observed=np.array([1.0, 2.0]))
    with pytest.raises(ModelError, match=r"free variables \['k'\] are discrete"):
        ppl_mle.fit_mle(discrete)
    with pytest.raises(ModelError, match="'mle' or 'map'"):
        ppl_mle.fit_mle(bernoulli(), estimate="mode")


def test_parameters_keep_the_order_they_were_declared_in():
    import statsmodels.api as sm

    rng = np.random.default_rng(11)
    x = rng.normal(size=(60, 2))
    y = 1.0 + x @ np.array([2.0, -0.5]) + rng.normal(scale=0.5, size=60)
    with pm.Model() as model:
        s = pm.HalfNormal("s", 5.0)  # declared first, though the graph needs it last
        a = pm.Normal("a", 0.0, 10.0)
        b = pm.Normal("b", 0.0, 10.0, shape=2)
        pm.Normal("y", a + pm.math.dot(x, b), s, observed=y)
    result = ppl_mle.fit_mle(model)
    order = ["s", "a", "b"]
    assert [rv.name for rv in model.free_RVs] == order
    assert list(result.estimates) == order
    assert list(result.summary().index) == ["s", "a", "b[0]", "b[1]"]
    assert list(result.to_inference_data().posterior.data_vars) == order
    ols = sm.OLS(y, sm.add_constant(x)).fit()
    estimate = np.r_[result.estimates["a"], result.estimates["b"]]
    np.testing.assert_allclose(estimate, ols.params, rtol=1e-9)
    assert float(result.estimates["s"]) == pytest.approx(np.sqrt(ols.ssr / len(y)), rel=1e-9)
