"""A user's own model-declaration script: what a fit compiles, and the Hessian it verifies with.

The optimizer needs the log-density and its gradient; the exact Hessian that verifies its
answer comes from a Hessian-vector product compiled when first asked for, and find_MAP runs
on the fit's functions without compiling its own.
"""

import numpy as np
import pymc as pm
import pytest

import ppl_mle
from ppl_mle.fit.objective import Objective
from ppl_mle.model.flat import flat_priors


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
    assert "hvp" not in objective._compiled.lazy  # value and gradient only, up front
    point = {"a": 0.9, "b": np.array([0.4, -1.1, 2.1, 0.1, 0.2]), "s_log__": np.log(0.8)}
    z = objective.from_point(point)
    order = np.argsort(objective.from_point({"a": 0, "b": np.arange(1, 6), "s_log__": 6}))
    h = objective.hessian(z)[np.ix_(order, order)]  # in the order (a, b, log s)
    assert "hvp" in objective._compiled.lazy
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
