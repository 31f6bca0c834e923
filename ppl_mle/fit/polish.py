"""Polishing find_MAP's point to the floating-point noise floor, and verifying it there.

Newton steps with the exact Hessian (:func:`ppl_mle.fit.verify.newton_polish`), or, for a
categorical model with many categories, Newton steps on the log-odds in O(k) that never form
a k × k matrix.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ppl_mle.core.families import CategoricalFamily, Family
from ppl_mle.core.newton import newton_iterate
from ppl_mle.core.tolerances import NOISE_FLOOR_SE
from ppl_mle.fit.objective import Objective
from ppl_mle.fit.optimize import NEWTON_MAXITER
from ppl_mle.fit.status import FitStatus
from ppl_mle.fit.verify import Verification, newton_polish, step_status, verify_maximum

__all__ = ["Polished", "polish_maximum", "shift_se"]


@dataclass(frozen=True)
class Polished:
    """The polished point and its verification.

    Attributes
    ----------
    z : numpy.ndarray
        The point in the objective's unconstrained coordinates.
    steps : int
        Newton steps taken.
    check : Verification
        The verification at ``z``.
    theta : numpy.ndarray or None
        The probabilities themselves where the structured polish held them (no round trip
        through the k log-odds); None otherwise.
    """

    z: np.ndarray
    steps: int
    check: Verification
    theta: np.ndarray | None = None


def polish_maximum(
    objective: Objective, family: Family | None, z_raw: np.ndarray, *, polish: bool
) -> Polished:
    """Polish ``z_raw`` (if asked) and verify the point reached.

    Parameters
    ----------
    objective : Objective
        The objective to maximise.
    family : Family or None
        The family of ``objective``'s model: a structured categorical family is polished in
        O(k).
    z_raw : numpy.ndarray
        find_MAP's point.
    polish : bool
        Take Newton steps; with ``False`` the point is only verified.
    """
    simplex = family.simplex() if family is not None else None
    if simplex is not None and simplex.structured:
        return _polish_simplex(objective, simplex, z_raw, polish)
    if polish:
        z, steps, check = newton_polish(objective, z_raw)
        return Polished(z, steps, check)
    return Polished(z_raw, 0, verify_maximum(objective, z_raw))


def shift_se(z_raw: np.ndarray, z: np.ndarray, check: Verification) -> float:
    """How far the polish moved the point, in standard errors (NaN without them)."""
    if check.se is None:
        return math.nan
    with np.errstate(all="ignore"):
        return float(np.max(np.abs(z - z_raw) / check.se))


def _polish_simplex(
    objective: Objective, family: CategoricalFamily, z_raw: np.ndarray, polish: bool
) -> Polished:
    """Polish and verify a categorical fit in O(k), never forming a k × k matrix.

    Newton steps on the log-odds (:meth:`CategoricalFamily.newton_step`) converge
    quadratically; they stop at the noise floor (the decrement stops shrinking). The
    verification is the Newton decrement λ at the returned point, an upper bound on the
    remaining step along any coordinate in standard errors, and the gradient of the
    objective itself (PyTensor's, not the family's).
    """
    problem = _SimplexNewton(family, np.asarray(objective.natural(z_raw)["theta"], np.float64))
    steps = 0
    if polish:
        # Stalled at rounding noise once the decrement no longer decreases at all.
        run = newton_iterate(
            problem,
            tol=NOISE_FLOOR_SE,
            stall_below=math.inf,
            stall_ratio=1.0,
            max_steps=NEWTON_MAXITER,
        )
        steps = run.steps
    else:
        problem.propose()
    theta, decrement = problem.theta, problem.decrement
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
        status=step_status(decrement) if interior else FitStatus.NOT_FINITE,
    )
    return Polished(z, steps, check, theta)


class _SimplexNewton:
    """Newton on the log-odds of a categorical fit, in O(k) (for :func:`newton_iterate`)."""

    def __init__(self, family: CategoricalFamily, theta: np.ndarray) -> None:
        self.family = family
        self.theta = theta
        self.decrement = math.nan
        self._next = theta

    def propose(self) -> float | None:
        """The Newton decrement at ``theta`` (None if not finite), and where the step leads."""
        self._next, self.decrement = self.family.newton_step(self.theta)
        return self.decrement if math.isfinite(self.decrement) else None

    def advance(self, size: float) -> float:
        """Take the whole step (the log-likelihood is concave in the log-odds)."""
        self.theta = self._next
        return 1.0
