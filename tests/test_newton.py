"""newton_minimize (the "Newton" method find_MAP runs) on problems with known minima."""

import numpy as np
import pymc as pm
import pytest
from scipy import optimize

import ppl_mle
from ppl_mle.core.newton import newton_minimize


def test_rosenbrock_from_the_classic_start():
    # Not convex on the way (the |eigenvalue| step), minimum at (1, 1) exactly.
    result = optimize.minimize(
        optimize.rosen,
        [-1.2, 1.0],
        method=newton_minimize,
        jac=optimize.rosen_der,
        hess=optimize.rosen_hess,
    )
    assert result.success, result.message
    # Newton decrement below 1e-10: f - f* ≈ decrement²/2, x within ~1e-10 of the minimum.
    assert result.fun < 1e-20
    np.testing.assert_allclose(result.x, [1.0, 1.0], rtol=0, atol=1e-9)
    assert result.nit < 40
    assert result.nhev == result.nit + 1  # one Hessian per iteration and one to stop


def test_quadratic_in_one_step():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(6, 6))
    h = a @ a.T + 6 * np.eye(6)
    b = rng.normal(size=6)
    result = optimize.minimize(
        lambda x: 0.5 * x @ h @ x - b @ x,
        np.zeros(6),
        method=newton_minimize,
        jac=lambda x: h @ x - b,
        hess=lambda x: h,
    )
    np.testing.assert_allclose(result.x, np.linalg.solve(h, b), rtol=1e-13)
    assert result.nit == 1


def test_reports_failure_honestly():
    stopped = optimize.minimize(
        optimize.rosen,
        [-1.2, 1.0],
        method=newton_minimize,
        jac=optimize.rosen_der,
        hess=optimize.rosen_hess,
        options={"maxiter": 3},
    )
    assert not stopped.success
    assert "maximum number of iterations (3)" in stopped.message
    with pytest.raises(ValueError, match="needs the gradient"):
        optimize.minimize(optimize.rosen, [0.0, 0.0], method=newton_minimize)


def test_fit_with_newton_on_a_model_without_closed_form_hessian():
    # The Hessian then comes from PyTensor's automatic differentiation.
    rng = np.random.default_rng(4)
    counts = rng.poisson(3.7, size=500)
    with pm.Model() as model:
        rate = pm.HalfFlat("rate")
        pm.Poisson("k", mu=rate, observed=counts)
    result = ppl_mle.fit_mle(model, method="Newton")
    assert result.converged and result.method == "Newton"
    assert result.estimates["rate"] == pytest.approx(counts.mean(), rel=1e-13)


def test_stops_at_the_noise_floor_instead_of_spinning():
    # A gradient with rounding-like noise: the decrement cannot go below ~1e-9.
    rng = np.random.default_rng(1)
    result = optimize.minimize(
        lambda x: 0.5 * x @ x,
        np.full(3, 5.0),
        method=newton_minimize,
        jac=lambda x: x + 1e-9 * rng.standard_normal(3),
        hess=lambda x: np.eye(3),
        options={"tol": 1e-15},
    )
    assert result.success and "stopped shrinking" in result.message
    assert result.nit < 10
    np.testing.assert_allclose(result.x, 0.0, atol=1e-8)
