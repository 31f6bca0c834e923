"""A user's own model-declaration script: what a fit compiles, and the Hessian it verifies with.

The optimizer needs the log-density and its gradient; the exact Hessian that verifies its
answer comes from a Hessian-vector product compiled when first asked for, and find_MAP runs
on the fit's functions without compiling its own. A model of the user's own with few data
values compiles for PyTensor's Python linker (no C), with the same numbers as the C linker;
with more data, or once its data grow, for the C linker.
"""

import numpy as np
import pymc as pm
import pytensor
import pytensor.tensor as pt
import pytest
import statsmodels.api as sm
from hypothesis import example, given, settings
from hypothesis import strategies as st

import ppl_mle
from ppl_mle.fit.cache import compilations
from ppl_mle.fit.compiled import PER_ELEMENT_MAX, SMALL_DATA, compile_function
from ppl_mle.fit.objective import Objective
from ppl_mle.model.flat import flat_priors


def _in_python(result):
    return result.objective.linker == "python"


def _regression():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(200, 5))
    y = 1.0 + x @ np.array([0.5, -1.0, 2.0, 0.0, 0.3]) + rng.normal(scale=0.7, size=200)
    with pm.Model() as model:
        a = pm.Normal("a", 0, 10)
        b = pm.Normal("b", 0, 10, shape=5)
        s = pm.HalfNormal("s", 5)
        pm.Normal("y", a + pm.math.dot(x, b), s, observed=y)
    return model, x, y


def test_the_hessian_is_compiled_when_asked_and_is_exact():
    model, x, y = _regression()
    objective = Objective(flat_priors(model))
    compiled = compilations()  # value and gradient only, up front
    point = {"a": 0.9, "b": np.array([0.4, -1.1, 2.1, 0.1, 0.2]), "s_log__": np.log(0.8)}
    z = objective.from_point(point)
    order = np.argsort(objective.from_point({"a": 0, "b": np.arange(1, 6), "s_log__": 6}))
    h = objective.hessian(z)[np.ix_(order, order)]  # in the order (a, b, log s)
    assert compilations() == compiled + 1  # the Hessian-vector product, when first asked
    objective.hessian(z + 0.1)
    assert compilations() == compiled + 1
    # Closed form: logp = -n log s - |r|^2 / (2 s^2), in (a, b, log s).
    design = np.column_stack([np.ones(len(y)), x])
    s = 0.8
    r = y - design @ np.array([0.9, 0.4, -1.1, 2.1, 0.1, 0.2])
    exact = np.zeros((7, 7))
    exact[:6, :6] = -design.T @ design / s**2
    exact[:6, 6] = exact[6, :6] = -2.0 * design.T @ r / s**2
    exact[6, 6] = -2.0 * r @ r / s**2
    assert h == pytest.approx(exact, rel=1e-12, abs=1e-9)
    v = np.arange(1.0, 8.0)
    assert objective.hvp(z, v[order.argsort()])[order] == pytest.approx(exact @ v, rel=1e-12)


def test_find_map_compiles_no_log_density_or_gradient_of_its_own(monkeypatch):
    model, _, _ = _regression()

    def refused(*args, **kwargs):
        raise AssertionError("find_MAP compiled a function the fit has compiled already")

    for name in ("compile_logp", "compile_dlogp", "check_start_vals"):
        monkeypatch.setattr(pm.Model, name, refused)
    result = ppl_mle.fit_mle(model)
    assert result.converged
    assert float(result.estimates["s"]) == pytest.approx(0.7112, abs=1e-4)


def _logistic(n=400):
    rng = np.random.default_rng(7)
    x = rng.normal(size=(n, 2))
    y = rng.random(n) < 1.0 / (1.0 + np.exp(-(0.3 + x @ np.array([1.5, -2.0]))))
    with pm.Model() as model:
        a = pm.Normal("a", 0, 10)
        b = pm.Normal("b", 0, 10, shape=2)
        pm.Bernoulli("y", logit_p=a + pm.math.dot(x, b), observed=y.astype(int))
    return model, x, y


def test_a_small_users_model_fits_in_python_with_the_numbers_of_c():
    model, x, y = _logistic()
    in_python = ppl_mle.fit_mle(model)
    with pytensor.config.change_flags(linker="cvm"):
        in_c = ppl_mle.fit_mle(model)
    assert _in_python(in_python) and not _in_python(in_c)
    reference = sm.Logit(y.astype(float), sm.add_constant(x)).fit(disp=0, tol=1e-14)
    estimate = np.r_[in_python.estimates["a"], in_python.estimates["b"]]
    np.testing.assert_allclose(estimate, reference.params, rtol=1e-8)
    for name in ("a", "b"):
        np.testing.assert_allclose(in_python.estimates[name], in_c.estimates[name], rtol=1e-10)
    np.testing.assert_allclose(in_python.bse.to_numpy(), in_c.bse.to_numpy(), rtol=1e-9)
    assert in_python.loglik == pytest.approx(reference.llf, rel=1e-13)
    # Far out on both sides, where softplus switches formulas: the same log-density.
    for scale in (5.0, 20.0, 40.0):
        point = {"a": scale, "b": np.array([scale, -scale])}
        assert in_python.objective.logp_at(point) == pytest.approx(
            in_c.objective.logp_at(point), rel=1e-14
        )


def test_a_users_model_with_more_data_compiles_c_and_so_does_a_grown_one():
    rng = np.random.default_rng(3)
    x_big = rng.normal(size=SMALL_DATA + 1)
    with pm.Model() as model:
        x = pm.Data("x", x_big[:50])
        mu = pm.Normal("mu", 0, 10)
        pm.Normal("y", mu, 1.0, observed=x, shape=x.shape)
    small = ppl_mle.fit_mle(model)
    assert _in_python(small)
    assert float(small.estimates["mu"]) == pytest.approx(x_big[:50].mean(), rel=1e-13)
    pm.set_data({"x": x_big}, model=model)
    grown = ppl_mle.fit_mle(model)
    assert not _in_python(grown)
    assert float(grown.estimates["mu"]) == pytest.approx(x_big.mean(), rel=1e-13)


_X = pt.vector("x", dtype="float64")
_ELEMENTWISE = [pt.softplus(_X), _X**3, _X**4 * pt.exp(-_X) + _X * 2.0 + 1.0, pt.log1p(_X**2)]


@pytest.fixture(scope="module")
def elementwise():
    """The same elementwise graph for both linkers (a user's model with no data: Python)."""
    with pm.Model() as empty:
        pass
    python = compile_function(empty, [_X], _ELEMENTWISE)
    with pytensor.config.change_flags(linker="cvm"):
        c = compile_function(empty, [_X], _ELEMENTWISE)
    return python, c


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(-1e300, 1e300, allow_nan=False), min_size=1, max_size=8))
@example([-37.0, -36.999999, 18.0, 17.999999, 33.3, 33.299999, -745.0, 709.0, 0.0, -0.0])
@example([1e-300, -1e-300, 1e150, -1e150, 1e300])
def test_elementwise_operations_give_the_c_linkers_values_in_python(elementwise, values):
    python, c = elementwise
    x = np.array(values, dtype=np.float64)
    with np.errstate(all="ignore"):
        for got, expected in zip(python(x), c(x), strict=True):
            np.testing.assert_allclose(got, expected, rtol=4e-16, atol=0.0)


def test_an_operation_without_a_numpy_ufunc_on_many_values_compiles_c():
    from scipy.optimize import brentq

    x = np.random.default_rng(5).exponential(2.0, size=PER_ELEMENT_MAX)
    with pm.Model() as model:  # each value written twice: more than PER_ELEMENT_MAX
        lam = pm.HalfFlat("lam")
        pm.Potential("survival", pt.sum(pt.log1mexp(-lam * x)))  # no ufunc: per element
        pm.Exponential("y", lam, observed=x)
    result = ppl_mle.fit_mle(model)
    assert result.converged and not _in_python(result)

    def score(rate):
        return np.sum(x / np.expm1(rate * x)) + len(x) / rate - x.sum()

    exact = brentq(score, 0.01, 10.0, xtol=1e-15, rtol=1e-15)
    assert float(result.estimates["lam"]) == pytest.approx(exact, rel=1e-12)
