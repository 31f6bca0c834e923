"""Newton's method with the exact Hessian, as a custom ``scipy.optimize.minimize`` method.

``pymc.find_MAP`` hands its ``method`` to ``scipy.optimize.minimize``, which accepts a
callable; :func:`newton_minimize` is that callable. It is the textbook method of
statsmodels' ``MNLogit`` and R's ``glm`` (iteratively reweighted least squares): from x,
step to the minimum of the local quadratic model, −H⁻¹g, halving the step while it does not
lower the objective (Armijo's rule). On a concave log-likelihood with a cheap exact Hessian
(softmax regression) it needs a handful of iterations where trust-region methods, which
grow their radius from 1, need three times as many, and quasi-Newton methods thousands.

Where the Hessian is not positive definite the step uses its eigenvalues' absolute values
(still a descent direction, and Newton's step where the model is convex).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import linalg
from scipy.optimize import OptimizeResult

__all__ = ["newton_minimize"]

#: Armijo's sufficient-decrease constant.
_ARMIJO = 1e-4
#: Below this Newton decrement (√(gᵀH⁻¹g), the step's length in standard errors of a
#: log-likelihood) the quadratic model is exact far below the objective's rounding noise: the
#: step is taken whole, without consulting the objective's value.
_QUADRATIC = 1e-2


def newton_minimize(
    fun: Callable[..., float],
    x0: np.ndarray,
    args: tuple[Any, ...] = (),
    jac: Callable[..., np.ndarray] | None = None,
    hess: Callable[..., np.ndarray] | None = None,
    callback: Callable[..., Any] | None = None,
    *,
    tol: float = 1e-10,
    maxiter: int = 200,
    **unused: Any,
) -> OptimizeResult:
    """Minimise ``fun`` by damped Newton steps with its exact Hessian.

    Parameters
    ----------
    fun : callable
        ``fun(x, *args)``, the objective.
    x0 : numpy.ndarray
        Start.
    args : tuple
        Extra arguments of ``fun``, ``jac`` and ``hess``.
    jac : callable
        ``jac(x, *args)``, the gradient (scipy wraps a ``fun`` returning both).
    hess : callable
        ``hess(x, *args)``, the Hessian.
    callback : callable, optional
        Called as ``callback(x)`` after each iteration.
    tol : float
        Stop when the Newton decrement √(gᵀH⁻¹g) is below ``tol``: the remaining step is
        that many standard errors (of a log-likelihood) long.
    maxiter : int
        Most iterations.
    **unused
        Other ``minimize`` arguments (``hessp``, ``bounds``, ``constraints``), which this
        unconstrained method does not use.

    Returns
    -------
    scipy.optimize.OptimizeResult
        ``x``, ``fun``, ``jac``, ``nit``, ``nfev``, ``njev``, ``nhev``, ``success``,
        ``message``.
    """
    if jac is None or not callable(jac) or hess is None:
        raise ValueError("newton_minimize needs the gradient (jac) and the Hessian (hess).")
    x = np.array(x0, dtype=np.float64)
    f, g = float(fun(x, *args)), np.asarray(jac(x, *args), dtype=np.float64)
    nfev = njev = 1
    nit = nhev = 0
    previous = math.inf
    message, success = f"maximum number of iterations ({maxiter}) reached", False
    for _ in range(maxiter + 1):
        if not (math.isfinite(f) and np.all(np.isfinite(g))):
            message = "the objective or its gradient is not finite"
            break
        h = np.asarray(hess(x, *args), dtype=np.float64)
        nhev += 1
        if not np.all(np.isfinite(h)):
            message = "the Hessian is not finite"
            break
        step = _descent_step(h, g)
        decrement = math.sqrt(max(-float(g @ step), 0.0))
        if decrement < tol:
            message, success = f"Newton decrement {decrement:.2g} below tol={tol:g}", True
            break
        if decrement < _QUADRATIC and decrement >= 0.5 * previous:
            # Quadratic convergence has stalled: rounding noise in the gradient, not
            # distance to the minimum, sets the step now.
            message = f"Newton decrement {decrement:.2g} stopped shrinking (rounding noise)"
            success = True
            break
        previous = decrement
        if nit == maxiter:
            break
        t = 1.0
        while True:
            trial = x + t * step
            f_trial = float(fun(trial, *args))
            nfev += 1
            if decrement < _QUADRATIC and math.isfinite(f_trial):
                break
            if math.isfinite(f_trial) and f_trial <= f + _ARMIJO * t * float(g @ step):
                break
            t *= 0.5
            if t < 1e-12:
                break
        if t < 1e-12:
            message = "the line search found no decrease along the Newton direction"
            break
        x, f = trial, f_trial
        g = np.asarray(jac(x, *args), dtype=np.float64)
        njev += 1
        nit += 1
        if callback is not None:
            callback(np.copy(x))
    return OptimizeResult(
        x=x,
        fun=f,
        jac=g,
        nit=nit,
        nfev=nfev,
        njev=njev,
        nhev=nhev,
        success=success,
        status=0 if success else 1,
        message=message,
    )


def _descent_step(h: np.ndarray, g: np.ndarray) -> np.ndarray:
    """−H⁻¹g by Cholesky; with |eigenvalues| where H is not positive definite.

    Eigenvalues are floored at √ε of the largest, so that a flat direction (a model that is
    not identified) gets a short step, not one blown up by rounding noise in the gradient.
    """
    h = 0.5 * (h + h.T)
    try:
        return -linalg.cho_solve(linalg.cho_factor(h, lower=True), g)
    except linalg.LinAlgError:
        eigval, eigvec = np.linalg.eigh(h)
        floor = math.sqrt(np.finfo(float).eps) * max(float(np.max(np.abs(eigval))), 1e-300)
        return -eigvec @ ((eigvec.T @ g) / np.maximum(np.abs(eigval), floor))
