"""From find_MAP's point to a verified maximum: boundary, polish, verification, existence.

The steps of :func:`locate_maximum`, each in its own module:

1. **Boundary** (:mod:`ppl_mle.fit.boundary`): where the family knows estimates sit on the
   boundary, they are set exactly and the rest is verified in the interior.
2. **Polish** (:mod:`ppl_mle.fit.polish`): Newton steps with the exact Hessian to the
   floating-point noise floor.
3. **Verify** (:mod:`ppl_mle.fit.verify`): Hessian negative definite and the Newton step left
   below ``VERIFY_TOL_SE`` standard errors; then a second look where the MLE may not exist.
4. **Bounds of supports** (:mod:`ppl_mle.fit.support_bound`): in any other model, where the
   point cannot be verified as an interior maximum, estimates on a bound of their support
   are held there, the rest verified in the interior, and the KKT conditions checked. Where
   the support of the likelihood depends on a parameter (:mod:`ppl_mle.fit.data_bound`),
   the bounds the data set on it count as bounds of its support.
5. **A second look** with a Newton-type method: where the point still cannot be verified,
   find_MAP again with ``SECOND_LOOK_METHOD`` and the exact Hessian, from the first
   optimizer's end point.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
import pymc as pm

from ppl_mle.core.families import Family
from ppl_mle.fit.boundary import (
    Boundary,
    boundary_shift_se,
    embedded_unconstrained,
    find_boundary,
    interior_problem,
    vertex_estimates,
)
from ppl_mle.fit.data_bound import DataBoundMaximum, data_bounds, maximum_on_data_bounds
from ppl_mle.fit.loglik import loglik_at
from ppl_mle.fit.objective import Objective
from ppl_mle.fit.optimize import NEWTON_MAXITER, NEWTON_METHODS, OptimizerRun, run_find_map
from ppl_mle.fit.polish import polish_maximum, shift_se
from ppl_mle.fit.status import FitStatus
from ppl_mle.fit.support_bound import BoundMaximum, maximum_on_bounds
from ppl_mle.fit.verify import Verification, check_existence

__all__ = ["SECOND_LOOK_METHOD", "Maximum", "SecondLook", "locate_maximum"]


@dataclass(frozen=True)
class Maximum:
    """A candidate maximum, with its verification and status.

    Attributes
    ----------
    objective : Objective
        The objective verified (that of the interior parameters when some estimates are on
        the boundary).
    z : numpy.ndarray
        The point in ``objective``'s unconstrained coordinates.
    estimates : dict of str to numpy.ndarray
        The estimate of every variable in natural coordinates (boundary values included).
    unconstrained : dict of str to numpy.ndarray
        The estimate in the model's unconstrained coordinates.
    loglik : float
        Log-likelihood at the estimate.
    check : Verification
        The verification at ``z``; its ``problem`` is the text of a failure.
    status : FitStatus
        The verdict (before any comparison with a closed form).
    polish_steps : int
        Newton steps taken from find_MAP's point.
    shift_se : float
        Distance from find_MAP's point to ``z``, in standard errors.
    boundary : Boundary
        The estimates on the boundary.
    second_look : SecondLook or None
        The second find_MAP run, with a Newton-type method from the first one's end point,
        where the first could not be verified; None where it was not needed.
    """

    objective: Objective
    z: np.ndarray
    estimates: dict[str, np.ndarray]
    unconstrained: dict[str, np.ndarray]
    loglik: float
    check: Verification
    status: FitStatus
    polish_steps: int
    shift_se: float
    boundary: Boundary
    second_look: SecondLook | None = None


@dataclass(frozen=True)
class SecondLook:
    """A second find_MAP run, from the end point of a first one that was not verified.

    Attributes
    ----------
    run : OptimizerRun
        The second run (its ``method`` is ``SECOND_LOOK_METHOD``).
    first_problem : str
        What was wrong at the first run's point, in words (for the message).
    """

    run: OptimizerRun
    first_problem: str


def locate_maximum(
    model: pm.Model, objective: Objective, family: Family | None, run: OptimizerRun, *, polish: bool
) -> Maximum:
    """Polish and verify find_MAP's point, with boundary estimates set exactly.

    Where the point cannot be verified (not a maximum, or still too far from one) although
    its exact Hessian is finite, and find_MAP's method was not a Newton-type one, a second
    look: find_MAP again, with ``SECOND_LOOK_METHOD`` from the first method's end point.
    Its point is kept when it is verified, or at least higher.

    Parameters
    ----------
    model : pymc.Model
        The fitted model.
    objective : Objective
        Its compiled objective.
    family : Family or None
        The model's family.
    run : OptimizerRun
        What find_MAP returned.
    polish : bool
        Polish with Newton steps (otherwise only verify, and take no second look).
    """
    found = _locate(model, objective, family, run, polish=polish)
    if not (polish and _second_look_helps(found, objective, run)):
        return found
    try:
        with np.errstate(all="ignore"):
            second = run_find_map(objective, SECOND_LOOK_METHOD, run.z, NEWTON_MAXITER, False)
    except (ValueError, ArithmeticError, np.linalg.LinAlgError):
        # scipy's trust-exact refuses a Hessian that is not finite along its way (a step
        # into overflow): the second look found nothing, the first verdict stands.
        return found
    again = _locate(model, objective, family, second, polish=polish)
    if not (again.status.converged or again.check.value > found.check.value):
        return found
    look = SecondLook(run=second, first_problem=_problem(found))
    return dataclasses.replace(again, second_look=look)


#: The method of the second look at a point that could not be verified: the exact Hessian,
#: a trust region that follows negative curvature out of a saddle, and quadratic
#: convergence where a quasi-Newton method stalls (a regression whose design matrix has a
#: condition number of 1e8).
SECOND_LOOK_METHOD = "trust-exact"


def _second_look_helps(found: Maximum, objective: Objective, run: OptimizerRun) -> bool:
    """Whether to run find_MAP again with a Newton-type method from ``run``'s end point.

    Where the verdict is "not a maximum" or "not converged" on the model's own objective
    (no boundary estimate, no interior problem), with a finite exact Hessian, after a
    method that did not use it, on a model whose parameters are all continuous.
    """
    if found.status not in (FitStatus.NOT_A_MAXIMUM, FitStatus.NOT_CONVERGED):
        return False
    if run.method in NEWTON_METHODS or found.objective is not objective:
        return False
    hessian = found.check.hessian
    if hessian is None or not np.all(np.isfinite(hessian)):
        return False
    order = [v.name for v in objective.model.value_vars]
    return order == [s.name for s in objective.slots]


def _problem(found: Maximum) -> str:
    """What kept ``found`` from being verified, in words."""
    if found.status is FitStatus.NOT_CONVERGED:
        return f"the maximum was still {found.check.step_se:.3g} standard errors away"
    return found.check.problem


def _locate(
    model: pm.Model, objective: Objective, family: Family | None, run: OptimizerRun, *, polish: bool
) -> Maximum:
    """:func:`locate_maximum` without the second look."""
    boundary = find_boundary(family)
    if boundary.at_vertex:
        return _vertex(model, objective, run, boundary)
    inner, z_raw = interior_problem(boundary, objective, run)
    simplex = boundary.interior if boundary.interior is not None else family
    polished = polish_maximum(inner, simplex, z_raw, polish=polish)
    z = polished.z
    check = check_existence(family, inner, z, polished.check)
    if boundary.simplex is None:
        if not check.status.converged and objective.affine.identity:
            bounds = data_bounds(model)
            if bounds is not None:
                on_data = maximum_on_data_bounds(model, objective, z, check, bounds, polish=polish)
                if on_data is not None:
                    return _on_data_bounds(model, objective, on_data)
        on_bounds = maximum_on_bounds(model, objective, z, check, polish=polish)
        if on_bounds is not None:
            return _on_bounds(objective, on_bounds, z_raw)
    # The structured polish holds θ itself: no round trip through z (k log-odds).
    estimates = {"theta": polished.theta} if polished.theta is not None else inner.natural(z)
    shift = shift_se(z_raw, z, check)
    if boundary.simplex is None or boundary.interior is None:
        # In the interior the polished z *is* the unconstrained point.
        unconstrained = objective.user_point(z)
    else:
        estimates = boundary.simplex.embed(estimates)
        unconstrained = embedded_unconstrained(model, objective, estimates)
        shift = max(shift, boundary_shift_se(boundary.simplex, run.natural))
    status = check.status
    if status is FitStatus.VERIFIED and boundary.mask:
        status = FitStatus.BOUNDARY
    return Maximum(
        objective=inner,
        z=z,
        estimates=estimates,
        unconstrained=unconstrained,
        loglik=loglik_at(family, inner, z, estimates),
        check=check,
        status=status,
        polish_steps=polished.steps,
        shift_se=shift,
        boundary=boundary,
    )


def _on_bounds(objective: Objective, found: BoundMaximum, z_raw: np.ndarray) -> Maximum:
    """Estimates on bounds of their supports, the others verified in the interior."""
    view, check = found.objective, found.check
    with np.errstate(all="ignore"):
        shift = shift_se(view.restrict(z_raw), found.z, check)
    return Maximum(
        objective=view,
        z=found.z,
        estimates=found.estimates,
        unconstrained=objective.user_point(view.full(found.z)),
        loglik=view.loglik(found.z),
        check=check,
        status=FitStatus.BOUNDARY,
        polish_steps=found.polish_steps,
        shift_se=shift,
        boundary=Boundary(found.mask, note=found.note),
    )


def _on_data_bounds(model: pm.Model, objective: Objective, found: DataBoundMaximum) -> Maximum:
    """Estimates on bounds set by the data, the others verified in the interior.

    The interior problem is that of the model whose supports include the data's bounds;
    the unconstrained estimate is given in ``model``'s own coordinates.
    """
    inner = found.found
    return Maximum(
        objective=inner.objective,
        z=inner.z,
        estimates=inner.estimates,
        unconstrained=embedded_unconstrained(model, objective, inner.estimates),
        loglik=inner.objective.loglik(inner.z),
        check=inner.check,
        status=found.status,
        polish_steps=inner.polish_steps,
        shift_se=math.nan,  # find_MAP's point lies in other coordinates
        boundary=Boundary(inner.mask, note=found.prior_note, data_note=found.data_note),
    )


def _vertex(
    model: pm.Model,
    objective: Objective,
    run: OptimizerRun,
    boundary: Boundary,
) -> Maximum:
    """The vertex of the simplex: exact, with nothing left to optimise or verify."""
    simplex = boundary.simplex
    if simplex is None:  # at_vertex holds only for a simplex
        raise RuntimeError("internal error: a vertex fit without a simplex family")
    estimates, loglik = vertex_estimates(simplex)
    check = Verification(
        value=loglik,
        grad_norm=0.0,
        step_se=0.0,
        se=None,
        step=None,
        problem="",
        status=FitStatus.BOUNDARY,
    )
    return Maximum(
        objective=objective,
        z=run.z,
        estimates=estimates,
        unconstrained=embedded_unconstrained(model, objective, estimates),
        loglik=loglik,
        check=check,
        status=FitStatus.BOUNDARY,
        polish_steps=0,
        shift_se=boundary_shift_se(simplex, run.natural),
        boundary=boundary,
    )
