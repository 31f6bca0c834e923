"""A fit, a comparison and an export leave the user's model and arrays as they were."""

import warnings

import numpy as np
import pymc as pm
import pytensor.tensor as pt
import pytest
from pytensor.compile.sharedvalue import SharedVariable

import ppl_mle
from ppl_mle.model._compat import ancestors


def _snapshot(model: pm.Model, arrays: list[np.ndarray]) -> dict:
    """What a user can see of a model and of the arrays given to it."""
    return {
        "type": type(model),
        "attributes": sorted(vars(model)),
        "named": {name: id(var) for name, var in model.named_vars.items()},
        "free": [id(rv) for rv in model.free_RVs],
        "observed": [id(rv) for rv in model.observed_RVs],
        "initial": dict(model.rvs_to_initial_values),
        # Every node of the model's graphs, with its operation and inputs.
        "graph": [
            (id(v), id(v.owner), id(v.owner.op), [id(i) for i in v.owner.inputs])
            for v in ancestors(list(model.named_vars.values()))
            if v.owner is not None
        ],
        "data": {
            name: np.array(var.get_value(borrow=True), copy=True)
            for name, var in model.named_vars.items()
            if isinstance(var, SharedVariable)
        },
        "arrays": [
            (a.copy(), a.dtype, a.shape, a.flags.writeable, a.flags.c_contiguous) for a in arrays
        ],
    }


def _assert_same(before: dict, after: dict) -> None:
    for key in ("type", "attributes", "named", "free", "observed", "initial", "graph"):
        assert after[key] == before[key], key
    assert before["data"].keys() == after["data"].keys()
    for name, values in before["data"].items():
        np.testing.assert_array_equal(after["data"][name], values)
    for (a, *flags_a), (b, *flags_b) in zip(before["arrays"], after["arrays"], strict=True):
        np.testing.assert_array_equal(a, b)
        assert flags_a == flags_b


def _users_model(initval=1.0):
    x = np.array([1.0, 2.5, 3.0, 4.5, 7.0, 8.5])
    design = np.linspace(-1.0, 1.0, x.size)
    with pm.Model() as model:
        data = pm.Data("x", x)
        slope = pm.Normal("slope", 0.0, 10.0)
        mu = pm.Normal("mu", 0.0, 10.0, initval=initval)
        sigma = pm.HalfNormal("sigma", 5.0)
        # A constant expression of the user's, which rewrites would simplify (to 1.0).
        one = pt.exp(pt.log(pt.constant(2.0)) + 0.0) / 2.0
        pm.Normal("y", mu + slope * design * one, sigma, observed=data)
    return model, [x, design]


@pytest.mark.parametrize("estimate", ["mle", "map"])
def test_a_fit_and_its_questions_leave_the_users_model_as_it_was(estimate):
    model, arrays = _users_model()
    before = _snapshot(model, arrays)
    result = ppl_mle.fit_mle(model, estimate=estimate, on_failure="raise")
    result.summary()
    result.to_inference_data()
    ppl_mle.fit_mle(model, estimate=estimate, on_failure="raise")  # a refit
    _assert_same(before, _snapshot(model, arrays))


def test_a_declared_model_keeps_the_users_array():
    x = np.array([3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0])
    before = (x.copy(), x.flags.writeable)
    result = ppl_mle.fit_mle(ppl_mle.normal(x))
    assert float(result.estimates["mu"]) == pytest.approx(x.mean(), rel=1e-14)
    np.testing.assert_array_equal(x, before[0])
    assert x.flags.writeable == before[1]


def test_a_comparison_leaves_the_users_model_as_it_was():
    model, arrays = _users_model(initval=None)  # pm.sample's log-likelihood refuses one
    before = _snapshot(model, arrays)
    with warnings.catch_warnings():  # short chains: their diagnostics are not the point
        warnings.simplefilter("ignore", ppl_mle.SamplingWarning)
        ppl_mle.compare_bayes(
            model, draws=200, tune=200, chains=2, random_seed=1, progressbar=False
        )
    _assert_same(before, _snapshot(model, arrays))


@pytest.mark.parametrize("sigma", [None, 3.0])
def test_pymc_on_a_fitted_declared_model_answers_in_the_users_units(sigma):
    # A fit runs in working units (the data centred and scaled) and serves its functions
    # to find_MAP: PyMC's own find_MAP on the model afterwards sees the user's data.
    x = np.random.default_rng(5).normal(50.0, 3.0, size=40)
    model = ppl_mle.normal(x, sigma=sigma)
    result = ppl_mle.fit_mle(model, on_failure="raise")
    theirs = pm.find_MAP(model=model, progressbar=False)
    assert float(theirs["mu"]) == pytest.approx(x.mean(), rel=1e-6)
    assert float(result.estimates["mu"]) == pytest.approx(x.mean(), rel=1e-14)
    if sigma is None:
        assert float(theirs["sigma"]) == pytest.approx(x.std(), rel=1e-5)
