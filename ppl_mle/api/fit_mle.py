"""``fit_mle``: the MLE of a PyMC model through ``pymc.find_MAP``, verified.

The steps, each visible in :class:`~ppl_mle.MLEResult`:

1. **Start and scale.** Starting values come from the model's family (median and scaled MAD
   for the normal model: on the scale of the data, but not the closed form), from the user,
   or from the model's initial point. The exact Hessian at the start sets the scale of the
   derivative-free methods (Nelder-Mead's initial simplex, Powell's initial directions), so
   data such as 1e7 ± 0.1 are as easy as data near 0.
2. **find_MAP** runs the chosen scipy optimizer with tolerances near machine precision.
3. **Verify and polish.** At find_MAP's point the exact gradient and Hessian give the Newton
   step to the maximum. Newton steps with the exact Hessian (a second look by another method)
   polish the point to the floating-point noise floor. The result is *converged* only if the
   Hessian is negative definite and the remaining Newton step is below ``VERIFY_TOL_SE``
   standard errors. Otherwise a :class:`~ppl_mle.ConvergenceWarning` says why (or
   :class:`~ppl_mle.ConvergenceError` is raised with ``on_failure="raise"``).
4. **Boundaries.** Where the family knows the MLE is on the boundary (a category never
   observed), that estimate is exactly 0 and the rest is verified in the interior.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pymc as pm
from pymc.initial_point import make_initial_point_fn
from scipy import linalg

from ppl_mle.api.result import MLEResult
from ppl_mle.core.errors import (
    ConvergenceError,
    ConvergenceWarning,
    DataError,
    ModelError,
    PrecisionWarning,
)
from ppl_mle.core.families import CategoricalFamily
from ppl_mle.core.newton import newton_minimize
from ppl_mle.data.validation import check_start_shapes
from ppl_mle.fit.analytic import check_analytic
from ppl_mle.fit.objective import Objective, objective_for
from ppl_mle.fit.verify import Verification, newton_polish, unbounded_direction, verify_maximum
from ppl_mle.model._pytensor import (
    no_creation_traces,
    quiet_pymc_log,
    quiet_vendor_warnings,
    serialised,
)
from ppl_mle.model.declarations import MLEModel, model_for
from ppl_mle.model.flat import flat_priors, has_flat_priors

__all__ = [
    "DERIVATIVE_FREE_METHODS",
    "GRADIENT_METHODS",
    "NEWTON_METHODS",
    "VERIFY_TOL_SE",
    "fit_mle",
]

GRADIENT_METHODS = ("L-BFGS-B", "BFGS", "CG", "TNC", "SLSQP")
#: Methods given the exact Hessian (Newton, trust-exact) or Hessian-vector products
#: (Newton-CG): quadratic convergence where quasi-Newton methods crawl (many badly scaled
#: coefficients). "Newton" is :func:`ppl_mle.core.newton.newton_minimize`, handed to find_MAP
#: as a custom scipy method.
NEWTON_METHODS = ("Newton", "trust-exact", "Newton-CG")
DERIVATIVE_FREE_METHODS = ("Nelder-Mead", "Powell")

#: A fit is verified when the Newton step left is below this many standard errors: the
#: optimisation error is then negligible against the statistical uncertainty.
VERIFY_TOL_SE = 1e-4

_DEFAULT_MAXEVAL = 20_000
#: Newton converges quadratically: this many iterations mean the maximum is not there
#: (separated classes, an unbounded likelihood), which the verification then reports.
_NEWTON_MAXITER = 200


@serialised
def fit_mle(
    model: pm.Model,
    method: str | None = None,
    start: Mapping[str, Any] | None = None,
    *,
    maxeval: int = _DEFAULT_MAXEVAL,
    polish: bool = True,
    on_failure: Literal["warn", "raise"] = "warn",
    progressbar: bool = False,
    estimate: Literal["mle", "map"] = "mle",
) -> MLEResult:
    """Maximum-likelihood estimate of a flat-prior PyMC model, verified.

    Parameters
    ----------
    model : pymc.Model
        The model, e.g. from :func:`ppl_mle.normal` or :func:`ppl_mle.categorical`. Its
        ``logp`` (without Jacobian terms) is maximised; with flat priors that is the
        likelihood.
    method : str, optional
        Optimizer run by ``pymc.find_MAP``: scipy's gradient methods ``"L-BFGS-B"``,
        ``"BFGS"``, ``"CG"``, ``"TNC"``, ``"SLSQP"``; Newton methods given the exact
        Hessian, ``"Newton"`` (:func:`ppl_mle.core.newton.newton_minimize`), ``"trust-exact"``
        and ``"Newton-CG"`` (best for many coefficients, e.g. softmax regression); or
        derivative-free ``"Nelder-Mead"``, ``"Powell"``. By default ``"Newton"`` where
        the model knows its Hessian in closed form (softmax regression), ``"L-BFGS-B"``
        otherwise.
    start : mapping, optional
        Starting values by variable name, natural (``{"sigma": 2.0}``) or unconstrained
        (``{"sigma_log__": 0.7}``). Missing variables start from the family's robust values
        or the model's initial point.
    maxeval : int
        Most evaluations of the objective find_MAP may spend.
    polish : bool
        Polish find_MAP's point with Newton steps using the exact Hessian. With ``False``
        the point is returned as find_MAP found it (still verified).
    on_failure : {"warn", "raise"}
        What to do when the maximum cannot be verified: issue a ``ConvergenceWarning`` and
        return a result with ``converged=False``, or raise ``ConvergenceError``.
    progressbar : bool
        Show find_MAP's progress bar.
    estimate : {"mle", "map"}
        For a model with proper priors: ``"mle"`` fits a copy with every prior replaced
        by a flat one on the same support (:func:`ppl_mle.flat_priors`), ``"map"`` the
        model as it is (its posterior mode). The result says which (``estimate_kind``).
        Models declared by :func:`ppl_mle.normal` and friends are flat already.

    Returns
    -------
    MLEResult

    Raises
    ------
    ModelError
        Not a PyMC model, unknown method or start variable, discrete free variables, or a
        log-likelihood that is not finite at the start.
    ConvergenceError
        With ``on_failure="raise"``, when the maximum cannot be verified.
    """
    if not isinstance(model, pm.Model):
        raise ModelError(f"`model` must be a pymc.Model; got {type(model).__name__}.")
    method = _default_method(model) if method is None else _check_method(method)
    if on_failure not in ("warn", "raise"):
        raise ModelError(f"`on_failure` must be 'warn' or 'raise'; got {on_failure!r}.")
    if not (isinstance(maxeval, int) and maxeval > 0):
        raise ModelError(f"`maxeval` must be a positive integer; got {maxeval!r}.")
    if estimate not in ("mle", "map"):
        raise ModelError(f"`estimate` must be 'mle' or 'map'; got {estimate!r}.")
    _check_no_imputation(model)
    source = model
    flat = has_flat_priors(model)
    if estimate == "mle" and not flat:
        model = flat_priors(model)
    kind = "MLE" if (estimate == "mle" or flat) else "MAP"

    family = getattr(model, "family", None)
    with no_creation_traces():
        objective = objective_for(model)
        z0 = _start_vector(model, objective, family, start)
        raw = _run_find_map(objective, method, z0, maxeval, progressbar)

    # Where the family knows estimates sit on the boundary, verify the rest in the interior.
    boundary = family.boundary() if family is not None else {}
    interior_family = family.interior() if boundary else None
    if interior_family is not None and interior_family.k == 1:
        return _vertex_result(model, objective, family, method, raw, boundary)
    if interior_family is not None:
        inner = objective_for(model_for(interior_family))
        theta = np.asarray(raw["natural"]["theta"])[~boundary["theta"]]
        z_raw = _start_vector(inner.model, inner, None, {"theta": theta / theta.sum()})
    else:
        inner, z_raw = objective, raw["z"]

    simplex = interior_family if interior_family is not None else family
    polished: dict[str, np.ndarray] | None = None
    if isinstance(simplex, CategoricalFamily) and simplex.structured:
        z, steps, check, theta = _polish_simplex(inner, simplex, z_raw, polish)
        polished = {"theta": theta}
    else:
        z, steps, check = newton_polish(inner, z_raw) if polish else (z_raw, 0, None)
        check = check if check is not None else verify_maximum(inner, z)
    converged = check.problem == "" and check.step_se <= VERIFY_TOL_SE
    # A second look where the MLE may not exist: separated classes (the family knows how
    # to tell), or a log-likelihood that keeps rising along the flattest direction.
    if hasattr(family, "diagnose") and np.all(np.isfinite(z)):
        separated = family.diagnose(inner.natural(z))
        if separated:
            check = dataclasses.replace(check, problem=separated)
            converged = False
    if converged and check.hessian is not None:
        escape = unbounded_direction(inner, z, check.hessian)
        if escape:
            check = dataclasses.replace(check, problem=escape)
            converged = False

    # The structured polish holds θ itself: no round trip through z (k log-odds).
    estimates = polished if polished is not None else inner.natural(z)
    if interior_family is not None:
        estimates = family.embed(estimates)
    # In the interior the polished z *is* the unconstrained point; only estimates embedded
    # with boundary zeros need the transforms applied again.
    unconstrained = (
        objective.user_point(z)
        if interior_family is None
        else _unconstrained(model, objective, estimates)
    )
    shift = _shift_se(inner, z_raw, z, check)
    if interior_family is not None:
        shift = max(shift, _boundary_shift_se(family, raw["natural"]))

    message = _message(method, raw, check, converged, steps, shift, boundary, family)
    if source is not model:
        message += " Priors replaced by flat ones on the same supports: this is the MLE."
    elif kind == "MAP":
        message += " With the model's own priors: this is the MAP, not the MLE."
    result = MLEResult(
        estimates=estimates,
        unconstrained=unconstrained,
        loglik=_loglik(family, inner, z, estimates),
        n_obs=family.n_obs if family is not None else _n_obs(model),
        n_params=objective.size,
        method=method,
        n_iterations=raw["nit"],
        n_evaluations=raw["nfev"],
        grad_norm=check.grad_norm,
        newton_step_se=check.step_se,
        converged=converged,
        message=message,
        optimizer_success=raw["success"],
        optimizer_message=raw["message"],
        optimizer_estimates=raw["natural"],
        optimizer_shift_se=shift,
        polish_steps=steps,
        on_boundary={k: np.asarray(v) for k, v in boundary.items()},
        family=family,
        model=model,
        objective=inner,
        z=z,
        data_version=getattr(model, "data_version", 0),
        hessian=check.hessian,
        estimate_kind=kind,
        source_model=source,
    )
    if converged and polish:
        # Polished to the noise floor, the estimate must also pass the closed-form check
        # (an unpolished fit is vouched for only to VERIFY_TOL_SE standard errors).
        contradiction = _contradicts_closed_form(result)
        if contradiction:
            message = f"Cannot vouch for this estimate: {contradiction}. {message}"
            result = dataclasses.replace(result, converged=False, message=message)
    if not result.converged:
        if on_failure == "raise":
            raise ConvergenceError(result.message)
        warnings.warn(result.message, ConvergenceWarning, stacklevel=3)
    coarse = _coarse_data_note(family)
    if coarse:
        warnings.warn(coarse, PrecisionWarning, stacklevel=3)
    return result


def _check_no_imputation(model: pm.Model) -> None:
    """Refuse observed data with missing values, which PyMC turns into parameters.

    Given observed data with NaN (or masked entries), PyMC splits the variable into
    ``y_observed`` and a free ``y_unobserved`` whose values it estimates (imputation). The
    MLE of a missing observation is not a question a user asked: name the problem instead.
    """
    for rv in model.free_RVs:
        base = rv.name.removesuffix("_unobserved")
        if base != rv.name and f"{base}_observed" in model.named_vars:
            missing = int(np.prod(model.initial_point()[model.rvs_to_values[rv].name].shape))
            observed = model.named_vars[f"{base}_observed"]
            total = missing + int(np.size(model.rvs_to_values[observed].eval()))
            raise DataError(
                f"the observed data of {base!r} contain {missing} missing value(s) (NaN or "
                f"masked) of {total}: PyMC would impute them as parameters. Remove them first "
                "(e.g. y[~np.isnan(y)])."
            )


def _loglik(family: Any, objective: Objective, z: np.ndarray, estimates: dict[str, Any]) -> float:
    """The log-likelihood at the estimate, as accurately as it can be evaluated.

    PyTensor sums the n log-densities one by one (an error that grows with n, 5e-10 at
    n = 5000 on NIST's PiDigits); a family with sufficient statistics evaluates the same
    function from them, to a few units in the last place.
    """
    if family is not None and getattr(family, "has_closed_form", False):
        return float(family.loglik(estimates))
    return objective.loglik(z)


def _contradicts_closed_form(result: MLEResult) -> str:
    """Why a verified fit disagrees with its family's closed form, or ``""``.

    A fit is never reported converged against its own oracle: where the family knows the
    MLE in closed form, the estimates must agree with it within the tolerances of
    :func:`ppl_mle.check_analytic`.
    """
    family = result.family
    if family is None or not getattr(family, "has_closed_form", False):
        return ""
    check = check_analytic(result)
    if check.passed:
        return ""
    return (
        f"it differs from the closed-form MLE by {check.max_rel_diff:.2g} relative (tolerance "
        f"{check.rtol:g}) or in log-likelihood by {abs(check.loglik_diff):.2g} (tolerance "
        f"{check.loglik_atol:.2g})"
    )


def _coarse_data_note(family: Any) -> str:
    """A note when float64 holds the data too coarsely for their spread, or ``""``."""
    digits = getattr(family, "resolution_digits", None)
    if digits is None:
        return ""
    d = digits()
    if d is None or d >= _COARSE_DIGITS:
        return ""
    return (
        f"the spread of the data is only {10**d:.3g} times the spacing of float64 numbers "
        f"at their magnitude: each value holds about {max(d, 0.0):.1f} significant digits of "
        "the spread. The estimates are exact for the values as stored, but data rounded to "
        "float64 this coarsely support no more digits than that: subtract a known offset "
        "before passing them (the MLE of mu shifts with it, sigma is unchanged)."
    )


#: Below this many digits of their spread held by each value, a fit warns (PrecisionWarning).
_COARSE_DIGITS = 2.0


def _vertex_result(
    model: pm.Model,
    objective: Objective,
    family: CategoricalFamily,
    method: str,
    raw: dict[str, Any],
    boundary: dict[str, np.ndarray],
) -> MLEResult:
    """Every observation in one category: the MLE is that vertex of the simplex, exactly.

    Nothing is left to optimise or verify: θⱼ = 1 for the observed category maximises
    Σ cᵢ log θᵢ = n log θⱼ on the simplex. The log-likelihood is PyMC's own Categorical
    log-probability of the data at that vertex (0).
    """
    estimates = family.embed({"theta": np.ones(1)})
    theta = estimates["theta"]
    if family.codes is None:
        loglik = family.loglik(estimates)
    else:
        with quiet_vendor_warnings():
            loglik = float(pm.logp(pm.Categorical.dist(p=theta), family.codes).sum().eval())
    (observed,) = [family.categories[i] for i in np.flatnonzero(~boundary["theta"])]
    message = (
        f"Every observation is {observed!r}: the MLE is the vertex theta[{observed!r}] = 1 "
        "exactly, on the boundary of the simplex, with every other category at 0; nothing "
        f"is left to optimise. find_MAP ({method}) stopped at {raw['message'].strip()!r}."
    )
    return MLEResult(
        estimates=estimates,
        unconstrained=_unconstrained(model, objective, estimates),
        loglik=loglik,
        n_obs=family.n_obs,
        n_params=objective.size,
        method=method,
        n_iterations=raw["nit"],
        n_evaluations=raw["nfev"],
        grad_norm=0.0,
        newton_step_se=0.0,
        converged=True,
        message=message,
        optimizer_success=raw["success"],
        optimizer_message=raw["message"],
        optimizer_estimates=raw["natural"],
        optimizer_shift_se=_boundary_shift_se(family, raw["natural"]),
        polish_steps=0,
        on_boundary={k: np.asarray(v) for k, v in boundary.items()},
        family=family,
        model=model,
        objective=objective,
        z=raw["z"],
        data_version=getattr(model, "data_version", 0),
    )


def _default_method(model: pm.Model) -> str:
    """Newton where the Hessian is cheap and worth it (softmax regression), else L-BFGS-B.

    The categorical model knows its Hessian too, but L-BFGS-B needs no k × k matrix and
    the fit's own Newton polish (O(k), :meth:`CategoricalFamily.newton_step`) finishes it.
    """
    closed_form = getattr(model, "loglik_hessian", None)
    dense = closed_form is not None and closed_form() is not None
    if dense and not isinstance(getattr(model, "family", None), CategoricalFamily):
        return "Newton"
    return "L-BFGS-B"


def _polish_simplex(
    objective: Objective, family: CategoricalFamily, z_raw: np.ndarray, polish: bool
) -> tuple[np.ndarray, int, Verification, np.ndarray]:
    """Polish and verify a categorical fit in O(k), never forming a k × k matrix.

    Newton steps on the log-odds (:meth:`CategoricalFamily.newton_step`) converge
    quadratically; they stop at the noise floor (the decrement stops shrinking). The
    verification is the Newton decrement λ at the returned point, an upper bound on the
    remaining step along any coordinate in standard errors, and the gradient of the
    objective itself (PyTensor's, not the family's).
    """
    theta = np.asarray(objective.natural(z_raw)["theta"], dtype=np.float64)
    steps, previous = 0, math.inf
    new, decrement = family.newton_step(theta)
    while polish and steps < _NEWTON_MAXITER and decrement > _DECREMENT_FLOOR:
        if not decrement < previous:  # stalled at rounding noise
            break
        theta, previous, steps = new, decrement, steps + 1
        new, decrement = family.newton_step(theta)
    log_theta = np.log(theta)
    z = log_theta[:-1] - log_theta.mean()
    value, grad = objective.value_and_grad(z)
    interior = bool(np.all(theta > 0)) and math.isfinite(value)
    check = Verification(
        value=value,
        grad_norm=float(np.linalg.norm(grad)),
        step_se=decrement if interior else math.inf,
        se=None,
        step=None,
        problem="" if interior else "a fitted probability is 0 or the objective is not finite",
    )
    return z, steps, check, theta


#: A Newton decrement this small is at the floating-point noise floor.
_DECREMENT_FLOOR = 1e-13


def _check_method(method: str) -> str:
    methods = GRADIENT_METHODS + NEWTON_METHODS + DERIVATIVE_FREE_METHODS
    known = {m.lower(): m for m in methods}
    if not isinstance(method, str) or method.lower() not in known:
        raise ModelError(f"unknown method {method!r}; choose one of {', '.join(methods)}.")
    return known[method.lower()]


def _start_vector(
    model: pm.Model, objective: Objective, family: Any, start: Mapping[str, Any] | None
) -> np.ndarray:
    """Starting point in unconstrained coordinates: user values over family values."""
    overrides: dict[str, Any] = dict(family.start()) if family is not None else {}
    if start is not None:
        if not isinstance(start, Mapping):
            raise ModelError(f"`start` must be a dict of values by name; got {start!r}.")
        valid = {rv.name for rv in model.free_RVs} | {v.name for v in model.value_vars}
        unknown = sorted(set(start) - valid)
        if unknown:
            raise ModelError(
                f"`start` names {unknown}, which are not free variables of the model; "
                f"valid names: {sorted(valid)}."
            )
        check_start_shapes(model, start)
        for key, value in start.items():
            # A user's value for a variable replaces the family's, in whichever space.
            for other in list(overrides):
                if other != key and model[_base_name(other)] is model[_base_name(key)]:
                    del overrides[other]
            overrides[key] = value
    with quiet_vendor_warnings(), np.errstate(all="ignore"):
        point = make_initial_point_fn(
            model=model, overrides=overrides, jitter_rvs=set(), return_transformed=True
        )(None)
    z0 = objective.from_user_point(point)
    f0, _ = objective.value_and_grad(z0)
    if not (np.all(np.isfinite(z0)) and math.isfinite(f0)):
        bad = [name for name, v in point.items() if not np.all(np.isfinite(v))]
        where = f" (non-finite start for {bad})" if bad else ""
        raise ModelError(
            f"the log-likelihood is not finite at the starting point{where}: choose `start` "
            "inside the support of every parameter."
        )
    return z0


def _base_name(name: str) -> str:
    """``sigma_log__`` → ``sigma``; natural names unchanged."""
    if name.endswith("__") and "_" in name[:-2]:
        return name[:-2].rsplit("_", 1)[0]
    return name


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
            "fatol": 8 * np.finfo(float).eps * max(1.0, abs(f0)),
            "adaptive": True,
            "maxiter": big,
            "maxfev": big,
        }
    if method == "Powell":
        return {"direc": _directions(h0, scale), "xtol": 1e-10, "ftol": 1e-15, "maxiter": big}
    if method == "L-BFGS-B":
        return {"ftol": 1e-15, "gtol": 1e-12, "maxiter": big, "maxfun": big, "maxls": 50}
    if method in ("BFGS", "CG"):
        return {"gtol": 1e-10, "maxiter": big}
    if method == "trust-exact":
        return {"gtol": 1e-10, "maxiter": big}
    if method == "Newton":
        return {"tol": 1e-10, "maxiter": min(maxeval, _NEWTON_MAXITER)}
    if method == "Newton-CG":
        return {"xtol": 1e-12, "maxiter": big}
    if method == "TNC":
        return {"ftol": 1e-15, "gtol": 1e-12, "maxfun": big}
    return {"ftol": 1e-15, "maxiter": big}  # SLSQP


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
        return linalg.solve_triangular(chol, np.eye(h.shape[0]), lower=True)
    except (linalg.LinAlgError, ValueError):
        return np.diag(scale)


def _run_find_map(
    objective: Objective,
    method: str,
    z0: np.ndarray,
    maxeval: int,
    progressbar: bool,
) -> dict[str, Any]:
    """Run ``pymc.find_MAP`` on the objective's model (in its working units) from ``z0``."""
    model = objective.model
    options = _method_options(method, objective, z0, maxeval)
    if isinstance(model, MLEModel):
        # find_MAP's logp and gradient from the objective's compiled function: no second
        # compilation, one pass over the data per point.
        slots = [s.name for s in objective.slots]
        model.share_compiled(slots, objective.logp_at, objective.grad_at)
    extra: dict[str, Any] = {}
    if method in NEWTON_METHODS:
        # find_MAP passes these on to scipy.optimize.minimize; it minimises −logp over the
        # value variables in the model's order, which is the order of z.
        order = [v.name for v in model.value_vars]
        if order != [s.name for s in objective.slots]:
            raise ModelError(
                f"method {method!r} needs a model whose parameters are all continuous."
            )
        if method in ("Newton", "trust-exact"):
            extra["hess"] = lambda x: -objective.hessian(x)
        else:
            extra["hessp"] = lambda x, v: -objective.hvp(x, v)
    with quiet_vendor_warnings(), quiet_pymc_log(), np.errstate(all="ignore"):
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
        return {
            "z": z,
            "natural": natural,
            "success": False,
            "message": f"find_MAP stopped after maxeval={maxeval} evaluations",
            "nit": None,
            "nfev": None,
        }
    return {
        "z": z,
        "natural": natural,
        "success": bool(opt.success),
        "message": str(opt.message),
        "nit": int(opt.nit) if "nit" in opt else None,
        "nfev": int(opt.nfev) if "nfev" in opt else None,
    }


def _unconstrained(
    model: pm.Model, objective: Objective, estimates: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """The estimate in the model's unconstrained coordinates (NaN/inf on a boundary)."""
    with quiet_vendor_warnings(), np.errstate(all="ignore"):
        point = make_initial_point_fn(
            model=model, overrides=estimates, jitter_rvs=set(), return_transformed=True
        )(None)
    return {s.name: np.asarray(point[s.name]) for s in objective.slots}


def _shift_se(objective: Objective, z_raw: np.ndarray, z: np.ndarray, check: Verification) -> float:
    if check.se is None:
        return math.nan
    with np.errstate(all="ignore"):
        return float(np.max(np.abs(z - z_raw) / check.se))


def _boundary_shift_se(family: CategoricalFamily, natural: dict[str, np.ndarray]) -> float:
    """How far find_MAP left the boundary categories from 0, in their own standard errors.

    For a category with count 0 the natural yardstick is the binomial SE of a probability
    of 1/n, about 1/n; a find_MAP value of 1e-9 is then ~1e-9·n SE from the boundary.
    """
    theta = np.asarray(natural["theta"])[family.counts == 0]
    return float(np.max(theta) * family.n_obs) if theta.size else 0.0


def _n_obs(model: pm.Model) -> int:
    return int(sum(np.size(model.rvs_to_values[rv].eval()) for rv in model.observed_RVs))


def _message(
    method: str,
    raw: dict[str, Any],
    check: Verification,
    converged: bool,
    steps: int,
    shift: float,
    boundary: dict[str, np.ndarray],
    family: Any,
) -> str:
    parts = []
    if converged:
        parts.append(
            f"Verified maximum: Hessian negative definite, gradient norm {check.grad_norm:.2g}, "
            f"Newton step left {check.step_se:.2g} standard errors."
        )
    elif check.problem:
        parts.append(f"Cannot vouch for this estimate: {check.problem}.")
    else:
        parts.append(
            f"Cannot vouch for this estimate: the maximum is still {check.step_se:.3g} "
            f"standard errors away (tolerance {VERIFY_TOL_SE:g}); try another method, a "
            "larger maxeval or polish=True."
        )
    claim = "succeeded" if raw["success"] else "did not succeed"
    parts.append(
        f"find_MAP ({method}) {claim} ({raw['message'].strip()}) at {shift:.2g} standard "
        f"errors from the returned estimate"
        + (f"; {steps} Newton step(s) with the exact Hessian polished it." if steps else ".")
    )
    if boundary:
        cats = [family.categories[i] for i in np.flatnonzero(boundary["theta"])]
        parts.append(
            f"Categories {cats!r} were never observed: their MLE is exactly 0, on the "
            "boundary of the simplex."
        )
    return " ".join(parts)
