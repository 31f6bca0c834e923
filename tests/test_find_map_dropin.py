"""``ppl_mle.find_MAP`` as a drop-in replacement of ``pymc.find_MAP``.

The first part is PyMC's own find_MAP tests, from ``tests/tuning/test_starting.py`` of
PyMC 5.2x (https://github.com/pymc-devs/pymc, Apache License 2.0, Copyright 2024 - present
The PyMC Developers), unchanged but for the import of ``find_MAP`` and two test names (PyMC
names them by its tracker's numbers). Left out:
``test_tune_not_inplace``, which tests the Metropolis step's ``tune``, not find_MAP. PyMC's
``test_find_MAP_warning_non_free_RVs`` calls ``pm.find_MAP`` itself, kept as it is; its twin
below calls ours. The helpers they import from PyMC's ``tests/models.py`` are copied before
them, spelled for the installed versions (``default_transform=None``, ``wrap_py``, ``floatX``: the
old spellings warn or are gone, and warnings are errors here).

The second part is ours: the closed-form answer, the same keys as PyMC, the warning of a
point that cannot be vouched for, and the fallbacks returning PyMC's own numbers.
"""

# PyMC's code as it is: its unused names, legacy random calls and if-else blocks.
# ruff: noqa: F841, NPY002, RUF059, SIM108

import inspect
import re

import numpy as np
import pymc as pm
import pytensor
import pytensor.tensor as pt
import pytest
from numpy.testing import assert_allclose
from pymc import Model, Normal
from pymc.exceptions import ImputationWarning
from pymc.pytensorf import floatX
from pymc.testing import select_by_precision

import ppl_mle
from ppl_mle import find_MAP

try:  # as_op's name since PyTensor 2.3x (as_op now warns)
    from pytensor.compile.ops import wrap_py as as_op
except ImportError:
    from pytensor.compile.ops import as_op


# ---- PyMC's helpers (tests/models.py) ------------------------------------------------------


def floatX_array(x):  # as PyMC's tests define it
    return floatX(np.array(x))


def simple_model():
    mu = -2.1
    tau = 1.3
    with Model() as model:
        Normal("x", mu, tau=tau, size=2, initval=floatX_array([0.1, 0.1]))

    return model.initial_point(), model, (mu, tau**-0.5)


def simple_arbitrary_det():
    scalar_type = pt.dscalar if pytensor.config.floatX == "float64" else pt.fscalar

    @as_op(itypes=[scalar_type], otypes=[scalar_type])
    def arbitrary_det(value):
        return value

    with Model() as model:
        a = Normal("a")
        b = arbitrary_det(a)
        Normal("obs", mu=b.astype("float64"), observed=floatX_array([1, 3, 5]))

    return model.initial_point(), model


def non_normal(n=2):
    with pm.Model() as model:
        pm.Beta("x", 3, 3, size=n, default_transform=None)
    return model.initial_point(), model, (np.tile([0.5], n), None)


def simple_normal(bounded_prior=False):
    """Simple normal for testing MLE / MAP."""
    x0 = 10.0
    sigma = 1.0
    a, b = (9, 12)  # bounds for uniform RV, need non-symmetric to reproduce the bug

    with pm.Model() as model:
        if bounded_prior:
            mu_i = pm.Uniform("mu_i", a, b)
        else:
            mu_i = pm.Flat("mu_i")
        pm.Normal("X_obs", mu=mu_i, sigma=sigma, observed=x0)

    return model.initial_point(), model, None


class models:  # PyMC's tests call this helper through their module `tests.models`
    simple_normal = staticmethod(simple_normal)


# ---- PyMC's tests (tests/tuning/test_starting.py) ------------------------------------------


@pytest.mark.parametrize("bounded", [False, True])
def test_mle_jacobian(bounded):
    """Test MAP / MLE estimation for distributions with flat priors."""
    truth = 10.0  # Simple normal model should give mu=10.0
    rtol = 1e-4  # this rtol should work on both floatX precisions

    start, model, _ = models.simple_normal(bounded_prior=bounded)
    with model:
        map_estimate = find_MAP(method="BFGS", model=model)
    assert_allclose(map_estimate["mu_i"], truth, rtol=rtol)


def test_accuracy_normal():
    _, model, (mu, _) = simple_model()
    with model:
        newstart = find_MAP(pm.Point(x=[-10.5, 100.5]))
        assert_allclose(
            newstart["x"], [mu, mu], atol=select_by_precision(float64=1e-5, float32=1e-4)
        )


def test_accuracy_non_normal():
    _, model, (mu, _) = non_normal(4)
    with model:
        newstart = find_MAP(pm.Point(x=[0.5, 0.01, 0.95, 0.99]))
        assert_allclose(newstart["x"], mu, atol=select_by_precision(float64=1e-5, float32=1e-4))


def test_find_MAP_discrete():
    tol1 = 2.0**-11
    tol2 = 2.0**-6
    alpha = 4
    beta = 4
    n = 20
    yes = 15

    with pm.Model() as model:
        p = pm.Beta("p", alpha, beta)
        pm.Binomial("ss", n=n, p=p)
        pm.Binomial("s", n=n, p=p, observed=yes)

        map_est1 = find_MAP()
        map_est2 = find_MAP(vars=model.value_vars)

    assert_allclose(map_est1["p"], 0.6086956533498806, atol=tol1, rtol=0)

    assert_allclose(map_est2["p"], 0.695642178810167, atol=tol2, rtol=0)
    assert map_est2["ss"] == 14


def test_find_MAP_no_gradient():
    _, model = simple_arbitrary_det()
    with model:
        find_MAP()


def test_find_MAP():
    tol = 2.0**-11  # 16 bit machine epsilon, a low bar
    data = np.random.randn(100)
    # data should be roughly mean 0, std 1, but let's
    # normalize anyway to get it really close
    data = (data - np.mean(data)) / np.std(data)

    with pm.Model():
        mu = pm.Uniform("mu", -1, 1)
        sigma = pm.Uniform("sigma", 0.5, 1.5)
        pm.Normal("y", mu=mu, tau=sigma**-2, observed=data)

        # Test gradient minimization
        map_est1 = find_MAP(progressbar=False)
        # Test non-gradient minimization
        map_est2 = find_MAP(progressbar=False, method="Powell")

    assert_allclose(map_est1["mu"], 0, atol=tol)
    assert_allclose(map_est1["sigma"], 1, atol=tol)

    assert_allclose(map_est2["mu"], 0, atol=tol)
    assert_allclose(map_est2["sigma"], 1, atol=tol)


def test_find_MAP_vars_in_any_order():
    # Test that gradient-based minimization works well regardless of the order
    # of variables in `vars`, and even when starting a reasonable distance from
    # the MAP.
    tol = 2.0**-11  # 16 bit machine epsilon, a low bar
    data = np.random.randn(100)
    # data should be roughly mean 0, std 1, but let's
    # normalize anyway to get it really close
    data = (data - np.mean(data)) / np.std(data)

    with pm.Model():
        mu = pm.Uniform("mu", -1, 1)
        sigma = pm.Uniform("sigma", 0.5, 1.5)
        pm.Normal("y", mu=mu, tau=sigma**-2, observed=data)

        start = {"mu": -0.5, "sigma": 1.25}
        map_est1 = find_MAP(progressbar=False, vars=[mu, sigma], start=start)
        map_est2 = find_MAP(progressbar=False, vars=[sigma, mu], start=start)

    assert_allclose(map_est1["mu"], 0, atol=tol)
    assert_allclose(map_est1["sigma"], 1, atol=tol)

    assert_allclose(map_est2["mu"], 0, atol=tol)
    assert_allclose(map_est2["sigma"], 1, atol=tol)


def test_find_MAP_imputed_data_and_deterministic():
    with pm.Model() as m:
        with pytest.warns(ImputationWarning):
            x = pm.Gamma("x", alpha=3, beta=10, observed=np.array([1, np.nan]))
        y = pm.Deterministic("y", x + 1)
        map_estimate = find_MAP()

    assert not set.difference({"x_unobserved", "x_unobserved_log__", "y"}, set(map_estimate.keys()))
    assert_allclose(map_estimate["x_unobserved"], 0.2, rtol=1e-4, atol=1e-4)
    assert_allclose(map_estimate["y"], [2.0, map_estimate["x_unobserved"][0] + 1])


def test_find_MAP_warning_non_free_RVs():
    with pm.Model() as m:
        x = pm.Normal("x")
        y = pm.Normal("y")
        det = pm.Deterministic("det", x + y)
        pm.Normal("z", det, 1e-5, observed=100)

        msg = "Intermediate variables (such as Deterministic or Potential) were passed"
        with pytest.warns(UserWarning, match=re.escape(msg)):
            r = pm.find_MAP(vars=[det])
        assert_allclose([r["x"], r["y"], r["det"]], [50, 50, 100])


# ---- Ours ----------------------------------------------------------------------------------


def test_find_MAP_warning_non_free_RVs_with_ours():
    # PyMC's test above, calling ppl_mle.find_MAP: pymc.find_MAP runs it (vars=[det]).
    with pm.Model():
        x = pm.Normal("x")
        y = pm.Normal("y")
        det = pm.Deterministic("det", x + y)
        pm.Normal("z", det, 1e-5, observed=100)

        msg = "Intermediate variables (such as Deterministic or Potential) were passed"
        with pytest.warns(UserWarning, match=re.escape(msg)):
            r = find_MAP(vars=[det])
        assert_allclose([r["x"], r["y"], r["det"]], [50, 50, 100])


DATA = np.array([2.1, 3.4, 1.7, 5.2, 4.4, 2.9, 3.8])


@pytest.fixture(scope="module")
def flat_normal():
    with pm.Model() as model:
        mu = pm.Flat("mu")
        sigma = pm.HalfFlat("sigma")
        pm.Deterministic("precision", sigma**-2)
        pm.Normal("y", mu, sigma, observed=DATA)
    return model


@pytest.fixture(scope="module")
def normal_with_priors():
    with pm.Model() as model:
        mu = pm.Normal("mu", 0, 10)
        sigma = pm.Exponential("sigma", 1.0)
        pm.Deterministic("cv", sigma / mu)
        pm.Normal("y", mu, sigma, observed=DATA)
    return model


def test_flat_priors_give_the_closed_form_mle(flat_normal):
    mean, sd = DATA.mean(), DATA.std()  # the MLE: sd with divisor n
    with flat_normal:
        point = find_MAP(progressbar=False)
    assert set(point) == {"mu", "sigma", "sigma_log__", "precision"}
    assert all(isinstance(v, np.ndarray) for v in point.values())
    assert float(point["mu"]) == pytest.approx(mean, rel=1e-10)
    assert float(point["sigma"]) == pytest.approx(sd, rel=1e-10)
    assert float(point["sigma_log__"]) == pytest.approx(np.log(sd), rel=1e-10)
    assert float(point["precision"]) == pytest.approx(sd**-2, rel=1e-10)


def test_model_as_an_argument_and_raw_result(flat_normal):
    point, raw = find_MAP(model=flat_normal, return_raw=True, progressbar=False)
    mean, sd = DATA.mean(), DATA.std()
    assert raw.success and raw.status == 0 and raw.fit_result.converged
    assert_allclose(raw.x, [mean, np.log(sd)], rtol=1e-10)
    loglik = -0.5 * DATA.size * (np.log(2 * np.pi * sd**2) + 1)
    assert raw.fun == pytest.approx(-loglik, rel=1e-12)
    assert np.max(np.abs(raw.jac)) < 1e-8
    assert float(point["mu"]) == pytest.approx(mean, rel=1e-10)


@pytest.mark.parametrize("include_transformed", [True, False])
def test_same_keys_and_point_as_pymc(normal_with_priors, include_transformed):
    kwargs = {"include_transformed": include_transformed, "progressbar": False}
    ours = find_MAP(model=normal_with_priors, **kwargs)
    theirs = pm.find_MAP(model=normal_with_priors, **kwargs)
    expected = {"mu", "sigma", "cv"} | ({"sigma_log__"} if include_transformed else set())
    assert set(ours) == set(theirs) == expected
    for name in theirs:  # the MAP of the priors and all (scipy's default tolerances for pymc)
        assert ours[name].shape == theirs[name].shape
        assert_allclose(ours[name], theirs[name], rtol=1e-5)


def test_a_point_it_cannot_vouch_for_warns_at_the_callers_line():
    # One observation: the likelihood grows without bound as sigma -> 0 at mu = y.
    with pm.Model():
        mu = pm.Flat("mu")
        sigma = pm.HalfFlat("sigma")
        pm.Normal("y", mu, sigma, observed=[1.5])
        with pytest.warns(ppl_mle.ConvergenceWarning) as record:
            out = find_MAP(return_raw=True, progressbar=False)
    assert isinstance(out, tuple) and len(out) == 2
    point, raw = out
    assert raw is None or not raw.success
    assert {"mu", "sigma", "sigma_log__"} <= set(point)
    warned = [w for w in record if issubclass(w.category, ppl_mle.ConvergenceWarning)]
    assert warned[0].filename == __file__


def test_maxeval_stops_the_optimizer_and_the_polish_finishes(normal_with_priors):
    # find_MAP stops after 3 evaluations (no optimizer result, as from PyMC); the exact Newton
    # steps of the verification take its point to the mode, vouched for: no warning.
    full = find_MAP(model=normal_with_priors, progressbar=False)
    out = find_MAP(model=normal_with_priors, maxeval=3, return_raw=True, progressbar=False)
    assert isinstance(out, tuple) and len(out) == 2
    point, raw = out
    assert raw is None
    theirs = pm.find_MAP(model=normal_with_priors, maxeval=3, return_raw=True, progressbar=False)
    assert theirs[1] is None
    for name in full:
        assert_allclose(point[name], full[name], rtol=1e-10)


def test_a_mode_on_the_bound_is_the_bound_itself():
    # Ten successes in ten trials: the mode is q = 1 exactly, where PyMC stops short of it.
    with pm.Model() as model:
        q = pm.Uniform("q", 0, 1)
        pm.Deterministic("odds", q / (1 - q))
        pm.Binomial("k", n=10, p=q, observed=10)
    with pytest.warns(ppl_mle.BoundaryWarning, match="q = 1"):
        point, raw = find_MAP(model=model, return_raw=True, progressbar=False)
    assert float(point["q"]) == 1.0 and float(point["odds"]) == np.inf
    assert float(point["q_interval__"]) == np.inf
    assert raw.success and raw.fun == 0.0  # -log density at q = 1: Binomial(10 | 10, 1) = 1
    assert np.isnan(raw.jac).all()


def test_a_subset_of_vars_is_pymcs_own_answer(normal_with_priors):
    kwargs = {"vars": [normal_with_priors["mu"]], "start": {"sigma": 2.0}, "progressbar": False}
    ours = find_MAP(model=normal_with_priors, **kwargs)
    theirs = pm.find_MAP(model=normal_with_priors, **kwargs)
    assert float(ours["sigma"]) == 2.0
    assert set(ours) == set(theirs)
    for name in theirs:
        np.testing.assert_array_equal(ours[name], theirs[name])


def test_scipy_options_and_other_methods_are_pymcs_own_answer(flat_normal):
    for kwargs in ({"method": "trust-constr"}, {"options": {"maxiter": 50}}):
        ours = find_MAP(model=flat_normal, progressbar=False, **kwargs)
        theirs = pm.find_MAP(model=flat_normal, progressbar=False, **kwargs)
        for name in theirs:
            np.testing.assert_array_equal(ours[name], theirs[name])


def test_no_continuous_variable_and_no_model_are_pymcs_errors():
    with pm.Model() as model:
        pm.Bernoulli("b", 0.3)
    with pytest.raises(ValueError, match="Model has no unobserved continuous variables"):
        find_MAP(model=model)
    with pytest.raises(TypeError, match="No model on context stack"):
        find_MAP()


def test_same_signature_as_pymc():
    ours = inspect.signature(find_MAP).parameters
    theirs = inspect.signature(pm.find_MAP).parameters
    assert list(ours) == list(theirs)
    for name, parameter in theirs.items():
        assert ours[name].kind == parameter.kind, name
        assert ours[name].default is parameter.default or ours[name].default == parameter.default
    assert ours["seed"].kind is inspect.Parameter.KEYWORD_ONLY


def test_seed_draws_random_initial_values_as_pymc():
    with pm.Model() as model:
        pm.Normal("x", 1.0, 2.0, initval="prior")
    point = find_MAP(model=model, seed=3, progressbar=False)
    assert float(point["x"]) == pytest.approx(1.0, rel=1e-10)
