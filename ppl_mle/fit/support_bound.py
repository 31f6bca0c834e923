"""Estimates on a bound of their support, in any model: found, fitted around, and verified.

A mean declared ``Uniform(0, 10)`` with data whose mean is negative has its MLE at 0; a
success probability with every trial a success has it at 1. find_MAP, working on the
unconstrained scale, drifts towards ±∞ and stops where the gradient has vanished in
floating point; the Hessian there is flat, and the fit cannot be vouched for as an interior
maximum. :func:`maximum_on_bounds` takes the second look:

1. **Which estimates are on a bound.** A coordinate of a bounded variable is held on a bound
   when the objective there (the coordinate at ±∞: exactly the bound in natural units) is
   at least as high as at find_MAP's point.
2. **The interior problem.** The other coordinates are polished and verified as an interior
   maximum with the bound ones held (:class:`~ppl_mle.fit.held.HeldObjective`).
3. **The KKT conditions**, on the model without transforms (derivatives in natural units,
   on the bound itself): the gradient of every held estimate points out of the support, or
   inwards by less than ``VERIFY_TOL_SE`` standard errors of the step it would take, with
   the curvature of the held estimates given the others (the Schur complement of the
   information).

If any step fails, there is no maximum on the bounds, and the fit keeps its own verdict.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
import pymc as pm
from scipy import linalg

from ppl_mle.core.tolerances import VALUE_RTOL, VERIFY_TOL_SE
from ppl_mle.fit.held import HeldObjective, variable_names
from ppl_mle.fit.objective import Objective, objective_for
from ppl_mle.fit.status import FitStatus
from ppl_mle.fit.verify import Verification, newton_polish, verify_maximum
from ppl_mle.model.copies import derived_model
from ppl_mle.model.support import support_bounds, untransformed

__all__ = ["BoundMaximum", "maximum_on_bounds"]


@dataclass(frozen=True)
class BoundMaximum:
    """A maximum with some estimates on bounds of their supports.

    Attributes
    ----------
    objective : HeldObjective
        The objective of the interior coordinates, the bound ones held.
    z : numpy.ndarray
        The interior coordinates.
    check : Verification
        The verification of the interior problem.
    polish_steps : int
        Newton steps taken on the interior problem.
    estimates : dict of str to numpy.ndarray
        Every estimate, the bound ones exactly on their bounds.
    mask : dict of str to numpy.ndarray
        Per variable, which estimates are on a bound.
    note : str
        The estimates on bounds and the outward gradients that make them a maximum.
    """

    objective: HeldObjective
    z: np.ndarray
    check: Verification
    polish_steps: int
    estimates: dict[str, np.ndarray]
    mask: dict[str, np.ndarray]
    note: str


def maximum_on_bounds(
    model: pm.Model, objective: Objective, z: np.ndarray, check: Verification, *, polish: bool
) -> BoundMaximum | None:
    """Look for a maximum with some estimates on bounds of their supports.

    Parameters
    ----------
    model : pymc.Model
        The fitted model.
    objective : Objective
        Its objective (in the user's units).
    z : numpy.ndarray
        The point reached, whose verification ``check`` failed.
    check : Verification
        Its verification.
    polish : bool
        Polish the interior coordinates with Newton steps.

    Returns
    -------
    BoundMaximum or None
        None when no coordinate is on a bound, or the maximum there cannot be verified.
    """
    if not objective.affine.identity:
        return None
    if check.status.converged and check.se is not None and not np.any(check.se > _SATURATED_SE):
        return None  # a verified interior maximum, no coordinate flattened by its transform
    bounds = support_bounds(model)
    if not bounds:
        return None
    held, fixed, ends = _held_coordinates(objective, z, check, bounds)
    if not held.any():
        return None
    view = HeldObjective(objective, held, fixed)
    u0 = view.restrict(np.where(np.isfinite(z), z, 0.0))
    if view.size == 0:
        steps, u = 0, u0
        value, _ = view.value_and_grad(u)
        inner = Verification(value, 0.0, 0.0, None, None, "", None, status=FitStatus.VERIFIED)
    elif polish:
        u, steps, inner = newton_polish(view, u0)
    else:
        steps, u, inner = 0, u0, verify_maximum(view, u0)
    if not inner.status.converged:
        return None
    estimates = _exact_on_bounds(objective, view.full(u), held, ends)
    kkt = _kkt(model, estimates, held, {i: math.copysign(1.0, fixed[i]) for i in ends}, objective)
    if kkt is None:
        return None
    mask = _natural_masks(objective, held)
    return BoundMaximum(
        objective=view,
        z=u,
        check=dataclasses.replace(inner, status=FitStatus.BOUNDARY),
        polish_steps=steps,
        estimates=estimates,
        mask=mask,
        note=kkt,
    )


def _held_coordinates(
    objective: Objective,
    z: np.ndarray,
    check: Verification,
    bounds: dict[str, tuple[np.ndarray, np.ndarray]],
) -> tuple[np.ndarray, np.ndarray, dict[int, float]]:
    """The coordinates whose bound is at least as good as the point reached.

    Every transform in :func:`~ppl_mle.model.support.support_bounds` is increasing:
    z → −∞ is the lower bound, z → +∞ the upper. A coordinate whose gradient points firmly
    inwards is not on its bound.
    """
    held = np.zeros(objective.size, dtype=bool)
    fixed = np.array(z, dtype=np.float64)
    ends: dict[int, float] = {}
    best = check.value if math.isfinite(check.value) else -math.inf
    _, grad = objective.value_and_grad(fixed)
    for slot in objective.slots:
        if slot.name not in bounds:
            continue
        lo, hi = (np.ravel(b) for b in bounds[slot.name])
        for j, i in enumerate(range(slot.start, slot.stop)):
            if not _may_be_on_bound(check, i):
                continue
            for side, end in ((-math.inf, lo[j]), (math.inf, hi[j])):
                inwards = math.isfinite(grad[i]) and grad[i] * math.copysign(1.0, side) < 0
                if not math.isfinite(end) or inwards:
                    continue
                trial = fixed.copy()
                trial[i] = side
                value, _ = objective.value_and_grad(trial)
                noise = VALUE_RTOL * max(1.0, abs(best)) if math.isfinite(best) else 0.0
                if math.isfinite(value) and value >= best - noise:
                    held[i], fixed[i], ends[i] = True, side, float(end)
                    best = max(best, value)
                    break
    return held, fixed, ends


#: A verified interior point whose coordinate has a standard error above this (on the
#: unconstrained scale) is within ``VERIFY_TOL_SE`` of its own standard errors of the bound:
#: near a bound the transform flattens the log-likelihood (ψ = lo + e^z: the Newton step
#: and the standard error of z grow together), so a point drifting to the bound looks
#: verified there.
_SATURATED_SE = 1.0 / VERIFY_TOL_SE


def _may_be_on_bound(check: Verification, i: int) -> bool:
    """Whether coordinate ``i`` could be on a bound, given the verification at the point.

    Where the point was not verified, any; where it was, only a coordinate flattened by its
    transform (standard error above ``_SATURATED_SE``), so that a verified interior fit
    costs no evaluations.
    """
    if not check.status.converged or check.se is None:
        return True
    return bool(check.se[i] > _SATURATED_SE)


def _exact_on_bounds(
    objective: Objective, z: np.ndarray, held: np.ndarray, ends: dict[int, float]
) -> dict[str, np.ndarray]:
    """Natural values at ``z``, with every held estimate set to its bound exactly.

    σ(−∞) = 0 puts a value on ``lower`` exactly, but ``lower + (upper − lower)·1`` need not
    round to ``upper``.
    """
    estimates = {k: np.array(v, dtype=np.float64) for k, v in objective.natural(z).items()}
    model = objective.model
    name_of = variable_names(model)
    for slot in objective.slots:
        value = estimates[name_of[slot.name]]
        flat = value.reshape(-1)
        for j, i in enumerate(range(slot.start, slot.stop)):
            if held[i]:
                flat[j] = ends[i]
        estimates[name_of[slot.name]] = flat.reshape(value.shape)
    return estimates


def _natural_masks(objective: Objective, held: np.ndarray) -> dict[str, np.ndarray]:
    """Per free variable, the mask of its estimates held on a bound."""
    model = objective.model
    name_of = variable_names(model)
    shapes = {s.name: s.shape for s in objective.slots}
    return {
        name_of[s.name]: held[s.start : s.stop].reshape(shapes[s.name])
        for s in objective.slots
        if held[s.start : s.stop].any()
    }


def _kkt(
    model: pm.Model,
    estimates: dict[str, np.ndarray],
    held: np.ndarray,
    sides: dict[int, float],
    objective: Objective,
) -> str | None:
    """Check that the held estimates' gradient points out of the support; describe it.

    On the model without transforms (natural values are its coordinates), at the estimate:
    the inward derivative of each held estimate must be ≤ 0, or its Newton step inwards,
    with the curvature given the other estimates, below ``VERIFY_TOL_SE`` standard errors.
    Returns None when the conditions fail or cannot be evaluated.
    """
    nat = objective_for(derived_model(model, "untransformed", untransformed))
    point = {name: estimates[name] for name in (s.name for s in nat.slots)}
    theta = nat.from_point(point)
    # The coordinates of ``nat`` in the order of ``objective``'s: one natural value each.
    order = _natural_order(objective, nat)
    held_nat = np.zeros(nat.size, dtype=bool)
    toward = np.zeros(nat.size)  # +1 where the interior is above the bound (a lower bound)
    for i in np.flatnonzero(held):
        held_nat[order[i]] = True
        toward[order[i]] = -sides[int(i)]
    _, g, h = nat(theta)
    if not np.all(np.isfinite(g[held_nat])):
        # 0·log 0 terms (a Poisson rate of 0 with counts of 0) have a one-sided derivative
        # but no derivative on the bound itself: take it a hair inside.
        inside = theta + toward * _HAIR * np.maximum(1.0, np.abs(theta))
        _, g, h = nat(inside)
    inward = toward * g
    if not np.all(np.isfinite(inward[held_nat])):
        return None
    steps = np.zeros(nat.size)
    if np.any(inward[held_nat] > 0):
        info = -0.5 * (h + h.T)
        hh, ff = np.ix_(held_nat, held_nat), np.ix_(~held_nat, ~held_nat)
        cross = info[np.ix_(held_nat, ~held_nat)]
        if not np.all(np.isfinite(info)):
            return None
        schur = info[hh]
        if cross.size:
            schur = schur - cross @ linalg.solve(info[ff], cross.T, assume_a="sym")
        curvature = np.diag(schur)
        with np.errstate(divide="ignore", invalid="ignore"):
            se_steps = np.where(inward[held_nat] > 0, inward[held_nat] / np.sqrt(curvature), 0.0)
        if not np.all(np.isfinite(se_steps)) or np.max(se_steps) > VERIFY_TOL_SE:
            return None
        steps[held_nat] = se_steps
    names = nat.coordinate_names()
    parts = [
        f"{names[k]} = {theta[k]:.6g} (∂ℓ/∂{names[k]} = {g[k]:.3g} on the bound)"
        for k in np.flatnonzero(held_nat)
    ]
    return (
        f"On the bound of the support: {', '.join(parts[:6])}"
        + (f" and {len(parts) - 6} more" if len(parts) > 6 else "")
        + "; the log-likelihood falls into the interior from each (KKT conditions verified)."
    )


#: How far inside a bound (relative to the bound, at least 1) the one-sided derivative is
#: taken where the derivative on the bound is not finite.
_HAIR = 1e-12


def _natural_order(objective: Objective, nat: Objective) -> np.ndarray:
    """For each coordinate of ``objective``, its coordinate in the untransformed ``nat``."""
    model = objective.model
    name_of = variable_names(model)
    start_of = {s.name: s.start for s in nat.slots}
    order = np.zeros(objective.size, dtype=np.int64)
    for slot in objective.slots:
        base = start_of[name_of[slot.name]]
        order[slot.start : slot.stop] = base + np.arange(slot.stop - slot.start)
    return order
