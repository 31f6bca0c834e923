"""One compiled objective per graph structure: shared across data, never across graphs.

A new model whose graph equals one compiled before (other data, other n) reuses the
compiled functions with its own data; any difference in the graph — a constant, a
distribution, the number of categories — compiles anew. Each fit is checked against its
own closed form, so a function evaluated on another model's data would fail.
"""

import math

import numpy as np
import pymc as pm
import pytest

import ppl_mle
from ppl_mle.fit.cache import compilations


def compiles(model) -> int:
    """How many functions a fit of ``model`` compiles."""
    before = compilations()
    ppl_mle.fit_mle(model)
    return compilations() - before


def test_normal_models_with_other_data_share_one_compilation_and_keep_their_data():
    rng = np.random.default_rng(0)
    first, second = rng.normal(3.0, 2.0, 50), rng.normal(-7.0, 0.5, 400)
    one, two = ppl_mle.normal(first), ppl_mle.normal(second)
    fit_one = ppl_mle.fit_mle(one)
    _ = fit_one.bse
    before = compilations()
    fit_two = ppl_mle.fit_mle(two)
    _ = fit_two.bse
    assert compilations() == before
    # Each fit, and each one's standard errors computed after the other was fitted, are
    # those of its own data.
    for fit, data in ((fit_one, first), (fit_two, second)):
        assert float(fit.estimates["mu"]) == pytest.approx(data.mean(), rel=1e-13)
        se = fit.bse
        assert se["mu"] == pytest.approx(data.std() / math.sqrt(data.size), rel=1e-9)
        assert se["sigma"] == pytest.approx(data.std() / math.sqrt(2 * data.size), rel=1e-9)


def _known_scale_model(data, scale):
    with pm.Model() as model:
        x = pm.Data("x", data)
        mu = pm.Flat("mu")
        pm.Normal("y", mu, scale, observed=x)
    return model


def test_a_different_constant_is_a_different_graph():
    data = np.random.default_rng(1).normal(size=30)
    narrow, wide = _known_scale_model(data, 1.0), _known_scale_model(data, 2.0)
    same = _known_scale_model(data[:10] + 5.0, 1.0)
    compiles(narrow)
    assert compiles(same) == 0
    assert compiles(wide) > 0
    for model, scale in ((narrow, 1.0), (wide, 2.0)):
        result = ppl_mle.fit_mle(model)
        assert result.bse["mu"] == pytest.approx(scale / math.sqrt(data.size), rel=1e-9)
    assert float(ppl_mle.fit_mle(same).estimates["mu"]) == pytest.approx(
        data[:10].mean() + 5.0, rel=1e-13
    )


def test_another_distribution_or_constant_data_is_never_shared():
    data = np.random.default_rng(2).normal(size=25)
    with pm.Model() as student:
        x = pm.Data("x", data)
        mu = pm.Flat("mu")
        pm.StudentT("y", nu=1e9, mu=mu, sigma=1.0, observed=x)
    normal = _known_scale_model(data, 1.0)
    compiles(normal)
    assert compiles(student) > 0
    # Data given as arrays are constants of the graph: other values, another graph.
    with pm.Model() as fixed_a:
        pm.Normal("y", pm.Flat("mu"), 1.0, observed=data)
    with pm.Model() as fixed_b:
        pm.Normal("y", pm.Flat("mu"), 1.0, observed=data + 1.0)
    compiles(fixed_a)
    assert compiles(fixed_b) > 0
    assert float(ppl_mle.fit_mle(fixed_b).estimates["mu"]) == pytest.approx(
        data.mean() + 1.0, rel=1e-12
    )


def test_categorical_models_share_only_with_the_same_number_of_categories():
    three_a = ppl_mle.categorical(["a", "b", "c", "a"], categories=["a", "b", "c"])
    three_b = ppl_mle.categorical(["x", "y", "z", "z", "z"], categories=["x", "y", "z"])
    # Thirteen categories: a structure no other test of the process compiles first.
    names = [f"c{i:02d}" for i in range(13)]
    labels = [*names, *names[:4]]
    thirteen = ppl_mle.categorical(labels, categories=names)
    compiles(three_a)
    assert compiles(three_b) == 0
    assert compiles(thirteen) > 0
    np.testing.assert_allclose(
        ppl_mle.fit_mle(three_b).estimates["theta"], [0.2, 0.2, 0.6], rtol=1e-13
    )
    counts = np.array([labels.count(name) for name in names])
    np.testing.assert_allclose(
        ppl_mle.fit_mle(thirteen).estimates["theta"], counts / len(labels), rtol=1e-12
    )


def test_a_result_keeps_its_data_after_other_models_are_fitted():
    # Models declared alike share their compiled functions, and nothing else: every later
    # question to an earlier result is about its own data.
    rng = np.random.default_rng(11)
    first, second = rng.normal(40.0, 3.0, 25), rng.normal(-1e6, 1e-3, 300)
    one = ppl_mle.normal(first)
    fit_one = ppl_mle.fit_mle(one)
    fit_two = ppl_mle.fit_mle(ppl_mle.normal(second))
    n, sd = first.size, first.std()
    table = fit_one.summary()
    assert table.loc["mu", "se"] == pytest.approx(sd / math.sqrt(n), rel=1e-9)
    # The profile interval of mu in closed form: n·log(1 + (mu − x̄)²/σ̂²) = χ²₁(0.95).
    half = sd * math.sqrt(math.expm1(3.841458820694124 / n))
    assert table.loc["mu", "profile_lower"] == pytest.approx(first.mean() - half, rel=1e-9)
    assert table.loc["mu", "profile_upper"] == pytest.approx(first.mean() + half, rel=1e-9)
    assert float(fit_two.estimates["sigma"]) == pytest.approx(second.std(), rel=1e-9)
    # And a refit of the first model, after the second, is of the first's data.
    again = ppl_mle.fit_mle(one)
    assert float(again.estimates["mu"]) == pytest.approx(first.mean(), rel=1e-15)
    assert float(again.estimates["sigma"]) == pytest.approx(sd, rel=1e-14)


def _starting_points_agree(model, values):
    from pymc.initial_point import make_initial_point_fn

    from ppl_mle.fit.start import _given_point

    ours = _given_point(model, values)
    pymc = make_initial_point_fn(model=model, overrides=values, return_transformed=True)(None)
    assert ours is not None and set(ours) == set(pymc)
    for name, value in pymc.items():
        np.testing.assert_allclose(ours[name], value, rtol=1e-15, atol=0)


def test_starting_points_without_pymcs_initial_point_function_agree_with_it():
    with pm.Model() as bounded:
        pm.Flat("low")
        pm.Uniform("inner", lower=-2.0, upper=10.0)
        pm.HalfNormal("scale", 2.0)
        pm.Dirichlet("p", a=np.ones(4))
    natural = {
        "low": np.float64(1.5),
        "inner": np.float64(9.0),
        "scale": np.float64(0.25),
        "p": np.array([0.1, 0.2, 0.3, 0.4]),
    }
    _starting_points_agree(bounded, natural)
    _starting_points_agree(bounded, {**natural, "inner": np.float64(-1.5)})
    # float64 arrays: from a Python float PyTensor makes a float32 constant, and PyMC's
    # round trip through the natural value then loses digits (-1 comes back -1 + 6e-8).
    unconstrained = {
        "low": np.float64(0.0),
        "inner_interval__": np.float64(0.3),
        "scale_log__": np.float64(-1.0),
        "p_simplex__": np.zeros(3),
    }
    _starting_points_agree(bounded, unconstrained)
    from ppl_mle.fit.start import _given_point

    # Some value missing, or values on both scales: PyMC's own initial point is used.
    assert _given_point(bounded, {k: v for k, v in natural.items() if k != "p"}) is None
    assert _given_point(bounded, {**natural, "scale_log__": 0.0}) is None


def test_a_start_whose_bounds_are_other_variables_maps_through_their_values():
    # PyMC's initial-point function refuses this model ("depends on other random
    # variables"); the transform reads the bound from the start given for it.
    from ppl_mle.fit.start import _given_point

    with pm.Model() as model:
        low = pm.Flat("low")
        pm.Uniform("inner", lower=low, upper=low + 10.0)
    point = _given_point(model, {"low": 1.5, "inner": 9.0})
    assert point["low"] == 1.5
    assert point["inner_interval__"] == pytest.approx(math.log(7.5 / 2.5), rel=1e-15)


def test_a_refit_on_replaced_data_compiles_nothing():
    rng = np.random.default_rng(12)
    free, known = rng.normal(2.0, 1.0, 30), rng.normal(-5.0, 3.0, 20)
    model, with_sigma = ppl_mle.normal(free), ppl_mle.normal(known, sigma=3.0)
    _ = ppl_mle.fit_mle(model).bse
    _ = ppl_mle.fit_mle(with_sigma).bse
    before = compilations()
    for shift in (1.0, -1e6):
        model.replace_data(free + shift)
        with_sigma.replace_data(known + shift)
        fit_free, fit_known = ppl_mle.fit_mle(model), ppl_mle.fit_mle(with_sigma)
        assert float(fit_free.estimates["sigma"]) == pytest.approx(free.std(), rel=1e-9)
        assert float(fit_known.estimates["mu"]) == pytest.approx(known.mean() + shift, rel=1e-12)
        assert fit_free.bse["mu"] == pytest.approx(free.std() / math.sqrt(free.size), rel=1e-9)
    assert compilations() == before
