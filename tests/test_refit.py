"""A refit after replace_data uses the new data everywhere: estimates, Hessian, standard errors."""

import numpy as np
import pytest

import ppl_mle


def _categorical_se(labels, categories):
    counts = np.array([np.sum(np.asarray(labels) == c) for c in categories], dtype=float)
    theta = counts / counts.sum()
    return theta, np.sqrt(theta * (1.0 - theta) / counts.sum())


def test_categorical_refit_takes_the_hessian_of_the_new_data():
    categories = ["a", "b", "c"]
    first = ["a"] * 7 + ["b"] * 5 + ["c"] * 3
    second = ["a", "a", "a", "b", "b", "c"]
    model = ppl_mle.categorical(first, categories=categories)
    ppl_mle.fit_mle(model).summary()  # compiles, and memoises the first data's objective
    model.replace_data(second)
    result = ppl_mle.fit_mle(model)
    theta, se = _categorical_se(second, categories)
    np.testing.assert_allclose(result.estimates["theta"], theta, rtol=1e-12)
    np.testing.assert_allclose(result.bse.to_numpy(), se, rtol=1e-8)
    assert result.check_analytic().passed


@pytest.mark.parametrize("n", [5, 40])
def test_normal_refit_standard_errors_follow_n(n):
    model = ppl_mle.normal(np.arange(12.0) ** 1.5)
    ppl_mle.fit_mle(model).summary()
    data = np.random.default_rng(n).normal(3.0, 2.0, size=n)
    model.replace_data(data)
    result = ppl_mle.fit_mle(model)
    sd = data.std()
    se = result.bse
    np.testing.assert_allclose(se["mu"], sd / np.sqrt(n), rtol=1e-8)
    np.testing.assert_allclose(se["sigma"], sd / np.sqrt(2 * n), rtol=1e-8)


def test_a_pymc_model_refit_reuses_its_flat_copy_with_the_new_data():
    import pymc as pm

    with pm.Model() as model:
        x = pm.Data("x", np.arange(6.0))
        mu = pm.Normal("mu", 0.0, 10.0)
        sigma = pm.HalfNormal("sigma", 5.0)
        pm.Normal("y", mu, sigma, observed=x)
    first = ppl_mle.fit_mle(model)
    data = np.random.default_rng(1).normal(-4.0, 0.5, size=30)
    with model:
        pm.set_data({"x": data})
    second = ppl_mle.fit_mle(model)
    assert second.model is first.model  # the same flat copy, not rebuilt
    assert float(second.estimates["mu"]) == pytest.approx(data.mean(), rel=1e-13)
    assert float(second.estimates["sigma"]) == pytest.approx(data.std(), rel=1e-13)
    # The first result knows its data are gone.
    with pytest.raises(ppl_mle.ModelError, match="data were replaced"):
        _ = first.bse
    # A model whose structure changed gets a new flat copy.
    with model:
        pm.Normal("z", mu, 1.0, observed=np.array([1.0]))
    third = ppl_mle.fit_mle(model)
    assert third.model is not first.model
    assert "z" in third.model.named_vars


@pytest.mark.parametrize("estimate", ["mle", "map"])
def test_a_refit_after_set_data_compiles_no_objective(monkeypatch, estimate):
    # A model with flat priors already (fitted with its priors as they are), and a MAP:
    # pymc.find_MAP runs on the fit's compiled functions, not on new ones of its own.
    import pymc as pm
    import pytensor

    with pm.Model() as model:
        x = pm.Data("x", np.arange(8.0))
        mu = pm.Flat("mu")
        sigma = pm.HalfFlat("sigma") if estimate == "mle" else pm.HalfNormal("sigma", 5.0)
        pm.Normal("y", mu, sigma, observed=x)
    ppl_mle.fit_mle(model, estimate=estimate)
    compiled = []
    function = pytensor.function

    def counting(*args, **kwargs):
        compiled.append(kwargs.get("outputs"))
        return function(*args, **kwargs)

    monkeypatch.setattr(pytensor, "function", counting)
    data = np.random.default_rng(2).normal(3.0, 2.0, size=25)
    with model:
        pm.set_data({"x": data})
    result = ppl_mle.fit_mle(model, estimate=estimate)
    # The start point's map to the unconstrained space, ours and find_MAP's own: no logp,
    # gradient or start check (find_MAP on the user's model compiled five functions).
    assert len(compiled) <= 2
    assert result.converged
    if estimate == "mle":
        assert float(result.params["mu"]) == pytest.approx(data.mean(), rel=1e-13)
        assert float(result.params["sigma"]) == pytest.approx(data.std(), rel=1e-12)
