"""Running ``pymc.find_MAP`` on a compiled objective: the methods, their options, the run.

The optimizer's answer is only a candidate: :mod:`ppl_mle.fit.verify` checks it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pymc as pm
from scipy import linalg

from ppl_mle.core.errors import ModelError
from ppl_mle.core.methods import DERIVATIVE_FREE_METHODS, GRADIENT_METHODS, NEWTON_METHODS
from ppl_mle.core.newton import newton_minimize
from ppl_mle.core.tolerances import NEWTON_DECREMENT_TOL, VALUE_RTOL
from ppl_mle.fit.objective import Objective
from ppl_mle.model._pytensor import quiet_pymc_log, quiet_vendor_warnings
from ppl_mle.model.compiled import CompiledModel
from ppl_mle.model.declarations import MLEModel, family_of

__all__ = [
    "DERIVATIVE_FREE_METHODS",
    "GRADIENT_METHODS",
    "NEWTON_METHODS",
    "NEWTON_MAXITER",
    "OptimizerRun",
    "default_method",
    "run_find_map",
]

#: Newton converges quadratically: this many iterations mean the maximum is not there
#: (separated classes, an unbounded likelihood), which the verification then reports.
NEWTON_MAXITER = 200


@dataclass(frozen=True)
class OptimizerRun:
    """What find_MAP returned, before any verification.

    Attributes
    ----------
    z : numpy.ndarray
        The point in the objective's unconstrained coordinates.
    natural : dict of str to numpy.ndarray
        The same point in natural coordinates (the user's units).
    success : bool
        The optimizer's own claim (not evidence).
    message : str
        The optimizer's own message.
    nit, nfev : int or None
        Iterations and evaluations, None when find_MAP stopped at ``maxeval`` and returned
        no optimizer result.
    method : str
        The method find_MAP ran.
    """

    z: np.ndarray
    natural: dict[str, np.ndarray]
    success: bool
    message: str
    nit: int | None
    nfev: int | None
    method: str


def default_method(model: pm.Model) -> str:
    """Newton where the Hessian is cheap and worth it (softmax regression), else L-BFGS-B.

    The categorical model knows its Hessian too, but L-BFGS-B needs no k × k matrix and
    the fit's own Newton polish (O(k), :meth:`CategoricalFamily.newton_step`) finishes it.
    """
    if isinstance(model, MLEModel) and model.loglik_hessian() is not None:
        return model.family.preferred_method
    return "L-BFGS-B"


def run_find_map(
    objective: Objective,
    method: str,
    z0: np.ndarray,
    maxeval: int,
    progressbar: bool,
    hessian: Callable[[np.ndarray], Any] | None = None,
) -> OptimizerRun:
    """Run ``pymc.find_MAP`` on the objective's model (in its working units) from ``z0``.

    ``hessian`` replaces the objective's dense Hessian for ``method="Newton"``: a function
    of z returning the Hessian of the *negative* log-density as a structured operator
    (:class:`ppl_mle.core.newton.HessianOperator`), such as the block-diagonal Hessian of a
    per-group model.
    """
    model = objective.model
    options = _method_options(method, objective, z0, maxeval)
    if isinstance(model, CompiledModel):
        # find_MAP's logp and gradient from the objective's compiled function: no second
        # compilation, one pass over the data per point (the objective's data, which may be
        # in working units), served to a shallow copy of the model for this run alone.
        model = model.shallow_copy()
        slots = [s.name for s in objective.slots]
        model.share_compiled(slots, objective.logp_at, objective.grad_at, objective.values_at)
    extra: dict[str, Any] = {}
    if method in NEWTON_METHODS:
        # find_MAP passes these on to scipy.optimize.minimize; it minimises −logp over the
        # value variables in the model's order, which is the order of z.
        order = [v.name for v in model.value_vars]
        if order != [s.name for s in objective.slots]:
            raise ModelError(
                f"method {method!r} needs a model whose parameters are all continuous."
            )
        if method == "Newton" and hessian is not None:
            extra["hess"] = hessian
        elif method in ("Newton", "trust-exact"):
            extra["hess"] = lambda x: -objective.hessian(x)
        else:
            extra["hessp"] = lambda x, v: -objective.hvp(x, v)
    # PyMC before 5.2x prints an empty line to stdout after every find_MAP: not into a
    # user's output (or a --json stream) when there is no progress bar to end.
    # (sys.stdout is the process's: redirected only where that PyMC runs.)
    old_pymc = "__new__" in vars(pm.Model)
    quiet = old_pymc and not progressbar
    quiet_stdout = contextlib.redirect_stdout(None) if quiet else contextlib.nullcontext()
    with quiet_vendor_warnings(), quiet_pymc_log(), np.errstate(all="ignore"), quiet_stdout:
        point, opt = pm.find_MAP(
            start=objective.to_point(z0),
            method=newton_minimize if method == "Newton" else method,
            model=model,
            return_raw=True,
            progressbar=progressbar,
            maxeval=maxeval,
            options=options,
            **extra,
        )
    z = objective.from_point(point)
    natural = objective.affine.values({name: point[name] for name in objective.free_names})
    if opt is None:
        return OptimizerRun(
            z=z,
            natural=natural,
            success=False,
            message=f"find_MAP stopped after maxeval={maxeval} evaluations",
            nit=None,
            nfev=None,
            method=method,
        )
    return OptimizerRun(
        z=z,
        natural=natural,
        success=bool(opt.success),
        message=str(opt.message),
        nit=int(opt.nit) if "nit" in opt else None,
        nfev=int(opt.nfev) if "nfev" in opt else None,
        method=method,
    )


def _method_options(
    method: str, objective: Objective, z0: np.ndarray, maxeval: int
) -> dict[str, Any]:
    """Tolerances near machine precision, and scaling from the exact Hessian at the start."""
    big = 10 * maxeval
    if method in DERIVATIVE_FREE_METHODS:
        f0, _, h0 = objective(z0)  # only the derivative-free methods need the scale
        scale = _scales(h0)
    if method == "Nelder-Mead":
        simplex = np.vstack([z0, z0 + np.diag(scale)])
        return {
            "initial_simplex": simplex,
            "xatol": 1e-10 * float(scale.min()),
            "fatol": VALUE_RTOL * max(1.0, abs(f0)),
            "adaptive": True,
            "maxiter": big,
            "maxfev": big,
        }
    if method == "Powell":
        return {"direc": _directions(h0, scale), "xtol": 1e-10, "ftol": 1e-15, "maxiter": big}
    if method == "L-BFGS-B":
        if objective.costly_hessian or family_of(objective.model) is not None:
            # The Newton polish finishes from where scipy's default tolerances stop: a few
            # exact steps cost fewer passes over the data than L-BFGS-B's crawl to 1e-15.
            # That is the rule for a family's model (its closed form checks the answer);
            # a user's model may have a flat ridge, walked to its end for the verification
            # to find and name.
            return {"maxiter": big, "maxfun": big, "maxls": 50}
        return {"ftol": 1e-15, "gtol": 1e-12, "maxiter": big, "maxfun": big, "maxls": 50}
    if method in ("BFGS", "CG"):
        return {"gtol": 1e-10, "maxiter": big}
    if method == "trust-exact":
        # The trust region's radius is in the units of z: scipy's cap of 1000 would make a
        # coefficient of 3.5e6 (an intercept beside a year, in a regression) take thousands
        # of iterations where doubling the radius takes twenty.
        return {"gtol": 1e-10, "maxiter": big, "max_trust_radius": _NO_RADIUS_CAP}
    if method == "Newton":
        return {"tol": NEWTON_DECREMENT_TOL, "maxiter": min(maxeval, NEWTON_MAXITER)}
    if method == "Newton-CG":
        return {"xtol": 1e-12, "maxiter": big}
    if method == "TNC":
        return {"ftol": 1e-15, "gtol": 1e-12, "maxfun": big}
    return {"ftol": 1e-15, "maxiter": big}  # SLSQP


#: trust-exact's largest trust radius: no cap (the largest finite float64 number).
_NO_RADIUS_CAP = float(np.finfo(np.float64).max)


def _scales(h: np.ndarray) -> np.ndarray:
    """One standard error per coordinate where the curvature allows, else 1."""
    d = -np.diag(h)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where((d > 0) & np.isfinite(d), 1.0 / np.sqrt(d), 1.0)
    return scale


def _directions(h: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Conjugate directions for Powell from the Hessian's Cholesky factor, or scaled axes."""
    try:
        chol = linalg.cholesky(-0.5 * (h + h.T), lower=True)
        return np.asarray(linalg.solve_triangular(chol, np.eye(h.shape[0]), lower=True))
    except (linalg.LinAlgError, ValueError):
        return np.diag(scale)
