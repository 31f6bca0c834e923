"""Checking an optimizer's answer: Newton polishing and the verdict.

An optimizer's ``success`` is not evidence. At the point it returns we evaluate the exact
gradient and Hessian (PyTensor autodiff) and ask: is the Hessian negative definite (a
local maximum), and how far is the maximum still — the Newton step −H⁻¹g, measured in
standard errors sqrt(diag(−H⁻¹))? Polishing takes such Newton steps, with a backtracking
line search that never lowers the objective, until the step stops shrinking (the
floating-point noise floor).

Each verification carries a :class:`~ppl_mle.fit.status.FitStatus`; its ``problem`` is the
text a message shows, never read to decide anything.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import numpy as np
from scipy import linalg

from ppl_mle.core.families import Family
from ppl_mle.core.newton import NewtonStatus, backtrack, newton_iterate
from ppl_mle.core.tolerances import POLISH_FLOOR_SE, QUADRATIC_SE, VALUE_RTOL, VERIFY_TOL_SE
from ppl_mle.fit.objective import Objective
from ppl_mle.fit.status import FitStatus

__all__ = [
    "VERIFY_TOL_SE",
    "Verification",
    "check_existence",
    "describe_indefinite",
    "information_verdict",
    "step_status",
    "unbounded_direction",
    "newton_polish",
    "verify_maximum",
]


@dataclass(frozen=True)
class Verification:
    """What is known about a candidate maximum ``z``.

    Attributes
    ----------
    value : float
        Objective at ``z``.
    grad_norm : float
        Euclidean norm of the gradient.
    step_se : float
        Largest Newton step component in standard errors; ``inf`` if the Hessian is not
        negative definite, NaN if the objective is not finite.
    se : numpy.ndarray or None
        Standard errors of the unconstrained coordinates, sqrt(diag(−H⁻¹)).
    problem : str
        Empty when the Hessian is negative definite; otherwise what is wrong, naming the
        coordinates involved (text for a message: decisions read ``status``).
    hessian : numpy.ndarray or None
        The exact Hessian at ``z`` (None where the objective is not finite).
    status : FitStatus
        The verdict at ``z``: ``VERIFIED`` or ``NOT_CONVERGED`` (by ``step_se`` against
        ``VERIFY_TOL_SE``) when the Hessian is negative definite, otherwise what is wrong.
        Keyword-only.
    """

    value: float
    grad_norm: float
    step_se: float
    se: np.ndarray | None
    step: np.ndarray | None
    problem: str
    hessian: np.ndarray | None = None
    status: FitStatus = field(kw_only=True)


def step_status(step_se: float) -> FitStatus:
    """``VERIFIED`` when the Newton step left is within ``VERIFY_TOL_SE``, else ``NOT_CONVERGED``.

    Parameters
    ----------
    step_se : float
        The Newton step left, in standard errors (NaN counts as not converged).
    """
    return FitStatus.VERIFIED if step_se <= VERIFY_TOL_SE else FitStatus.NOT_CONVERGED


def verify_maximum(
    objective: Objective, z: np.ndarray, hessian: np.ndarray | None = None
) -> Verification:
    """Evaluate gradient, Hessian and Newton step at ``z``.

    Parameters
    ----------
    objective : Objective
    z : numpy.ndarray
        The point.
    hessian : numpy.ndarray, optional
        A Hessian from a point near ``z`` to use instead of evaluating one (a chord step of
        the polish, where a Hessian costs a pass over the data per coordinate). The
        verdict of a fit is never taken with one: :func:`newton_polish` verifies its final
        point afresh.
    """
    if hessian is None:
        f, g, h = objective(z)
    else:
        f, g = objective.value_and_grad(z)
        h = hessian
    if not (math.isfinite(f) and np.all(np.isfinite(g)) and np.all(np.isfinite(h))):
        return Verification(
            f,
            math.nan,
            math.nan,
            None,
            None,
            "the objective is not finite",
            status=FitStatus.NOT_FINITE,
        )
    grad_norm = float(np.linalg.norm(g))
    status, problem = information_verdict(objective.coordinate_names(), h)
    if status is not None:
        return Verification(f, grad_norm, math.inf, None, None, problem, h, status=status)
    chol = linalg.cho_factor(-0.5 * (h + h.T), lower=True)
    step = linalg.cho_solve(chol, g)
    cov = linalg.cho_solve(chol, np.eye(g.size))
    se = np.sqrt(np.diag(cov))
    step_se = float(np.max(np.abs(step) / se))
    return Verification(f, grad_norm, step_se, se, step, "", h, status=step_status(step_se))


#: Smallest eigenvalue of the information matrix scaled to unit diagonal (a correlation-like
#: matrix with eigenvalues in (0, d]) below which a direction counts as not identified:
#: standard errors along it would be 1e6 times larger than along the axes.
SINGULAR_RTOL = 1e-12


def information_verdict(names: list[str], h: np.ndarray) -> tuple[FitStatus | None, str]:
    """Whether ``-h`` is a usable information matrix, and if not, why.

    The matrix must be positive definite and not nearly singular. Singularity is judged
    on the scaled matrix D^(-1/2) (-h) D^(-1/2), D = diag(-h), so that the verdict does not
    depend on the units of the parameters.

    Parameters
    ----------
    names : list of str
        One name per coordinate of ``h``.
    h : numpy.ndarray
        Hessian of the log-likelihood at a candidate maximum.

    Returns
    -------
    status : FitStatus or None
        None when the matrix is usable; ``NOT_IDENTIFIED`` (singular: a flat direction) or
        ``NOT_A_MAXIMUM`` (curving upward) otherwise.
    problem : str
        ``""`` when usable, otherwise the direction involved, in words.
    """
    neg_h = -0.5 * (h + h.T)
    d = np.diag(neg_h)
    if np.all(d > 0):
        scaled = neg_h / np.sqrt(np.outer(d, d))
        if np.linalg.eigvalsh(scaled).min() > SINGULAR_RTOL:
            try:
                linalg.cho_factor(neg_h, lower=True)
            except linalg.LinAlgError:
                pass
            else:
                return None, ""
    return _indefinite(names, h)


#: How far (in standard errors along the flattest direction) the unboundedness probe looks.
_PROBE_SE = 30.0
#: ... at least: far enough that a quadratic maximum falls this many times the rounding
#: noise of the objective's value.
_PROBE_NOISES = 1e3


def unbounded_direction(objective: Objective, z: np.ndarray, h: np.ndarray) -> str | None:
    """Look along the flattest direction for a log-likelihood that keeps rising.

    A regular maximum falls by about ½·30² = 450 log units 30 standard errors away along
    any direction. Where the MLE does not exist — it lies at infinity, as for separated
    classes in a logistic regression — the optimizer stops where the gradient became
    small, the curvature along the escape direction is tiny, and the log-likelihood 30
    "standard errors" further on is as high or higher. Returns None when it falls, or a
    description of the direction otherwise.

    The objective decides, not the likelihood alone: in a MAP fit a prior may pin the
    direction the likelihood leaves free. And the probe must find the objective *rising*
    (to within its rounding noise), not merely close: under an interval transform 30
    standard errors on reach the bound of the support, where the likelihood may be only a
    little lower than at an interior maximum (one observation at 10, a mean bounded in
    (9, 12): 0.5 lower at 9). Where 450 is itself within that noise (an objective of
    -1e20: a known sigma far below the spread of the data), the probe looks further, to
    where a quadratic maximum falls by ``_PROBE_NOISES`` times the noise.

    Parameters
    ----------
    objective : Objective
    z : numpy.ndarray
        The candidate maximum.
    h : numpy.ndarray
        The Hessian at ``z`` (negative definite).
    """
    eigval, eigvec = np.linalg.eigh(-0.5 * (h + h.T))
    direction = eigvec[:, 0]
    top, _ = objective.value_and_grad(z)
    noise = VALUE_RTOL * max(1.0, abs(top))
    # Far enough that a regular maximum falls well clear of the rounding noise of the
    # objective's value: 30 standard errors (a fall of 450), or further where the value
    # is so large (a known sigma far below the spread of the data) that 450 is noise.
    se_out = max(_PROBE_SE, math.sqrt(2.0 * _PROBE_NOISES * noise))
    step = se_out / math.sqrt(eigval[0])
    base = objective.loglik(z)
    for sign in (1.0, -1.0):
        probe = z + sign * step * direction
        rises, _ = objective.value_and_grad(probe)
        value = objective.loglik(probe)
        if math.isfinite(rises) and rises >= top - noise:
            names = objective.coordinate_names()
            order = np.argsort(-np.abs(direction))
            terms = [
                f"{sign * direction[i]:+.3g}·{names[i]}"
                for i in order[:4]
                if abs(direction[i]) > 1e-3
            ]
            return (
                f"the log-likelihood keeps rising along {' '.join(terms)} (from {base:.6g} to "
                f"{value:.6g} {se_out:.3g} standard errors on): the MLE does not exist, "
                "the estimates diverge"
            )
    return None


def check_existence(
    family: Family | None, objective: Objective, z: np.ndarray, check: Verification
) -> Verification:
    """A second look where the MLE may not exist.

    Separated classes (the family knows how to tell: ``SEPARATED``), or, at a verified
    maximum, a log-likelihood that keeps rising along the flattest direction
    (``UNBOUNDED``). Otherwise ``check`` unchanged.

    Parameters
    ----------
    family : Family or None
        The model's family.
    objective : Objective
        The objective ``check`` was made on.
    z : numpy.ndarray
        The candidate maximum.
    check : Verification
        The verification at ``z``.
    """
    if family is not None and np.all(np.isfinite(z)):
        separated = family.diagnose(objective.natural(z))
        if separated is not None:
            check = dataclasses.replace(check, problem=separated, status=FitStatus.SEPARATED)
    if check.status.converged and check.hessian is not None:
        escape = unbounded_direction(objective, z, check.hessian)
        if escape is not None:
            check = dataclasses.replace(check, problem=escape, status=FitStatus.UNBOUNDED)
    return check


def describe_indefinite(names: list[str], h: np.ndarray) -> str:
    """Name the direction in which the Hessian ``h`` is least negative definite.

    Parameters
    ----------
    names : list of str
        One name per coordinate of ``h``.
    h : numpy.ndarray
        Hessian of the log-likelihood.
    """
    return _indefinite(names, h)[1]


def _indefinite(names: list[str], h: np.ndarray) -> tuple[FitStatus, str]:
    """The status and description of an information matrix that is not usable."""
    neg_h = -0.5 * (h + h.T)
    d = np.abs(np.diag(neg_h))
    scale = np.where(d > 0, 1.0 / np.sqrt(np.where(d > 0, d, 1.0)), 1.0)
    eigval, eigvec = np.linalg.eigh(neg_h * np.outer(scale, scale))
    worst = eigvec[:, 0]
    order = np.argsort(-np.abs(worst))
    terms = [f"{worst[i]:+.3g}·{names[i]}" for i in order[:4] if abs(worst[i]) > 1e-3]
    flat = abs(eigval[0]) <= SINGULAR_RTOL * max(1.0, abs(eigval[-1]))
    kind = "flat (not identified)" if flat else "curving upward (not a maximum)"
    status = FitStatus.NOT_IDENTIFIED if flat else FitStatus.NOT_A_MAXIMUM
    return status, (
        f"the information matrix is {'singular' if flat else 'not positive definite'}: "
        f"the log-likelihood is {kind} along {' '.join(terms)} "
        f"(scaled curvature {eigval[0]:.3g})"
    )


def newton_polish(
    objective: Objective, z: np.ndarray, max_steps: int = 100
) -> tuple[np.ndarray, int, Verification]:
    """Take Newton steps with the exact Hessian from ``z`` until the noise floor.

    Far from the maximum (a step over ``QUADRATIC_SE`` standard errors) each step −H⁻¹g is
    halved until the objective does not drop. Closer in, the quadratic model is exact to far
    below the rounding noise of the objective's value, so full steps are taken and the
    objective's value is not consulted. The iteration is
    :func:`ppl_mle.core.newton.newton_iterate`: polishing stops when the step is below
    ``POLISH_FLOOR_SE`` standard errors or too small to change ``z`` in floating point, when
    a small step no longer shrinks (quadratic convergence has met the noise floor), when the
    Hessian is not negative definite, or after ``max_steps``; the visited point with the
    smallest remaining step is returned.

    ``POLISH_FLOOR_SE`` standard errors are the last digit of an estimate only where its
    standard error is not much larger than the estimate itself. Past it, whole steps
    continue while one moves some estimate (in the user's units) by more than an ulp and
    the steps still halve: a mean of 2.33 beside a known sigma of 1e300 is 1e-300 standard
    errors from a start at the median, and 1e15 ulps.

    Returns
    -------
    z : numpy.ndarray
        The polished point (``z`` itself if no step was taken).
    steps : int
        Number of steps taken.
    check : Verification
        The verification at the returned point.
    """
    polish = _Polish(objective, np.array(z, dtype=np.float64))
    run = newton_iterate(polish, tol=POLISH_FLOOR_SE, stall_below=QUADRATIC_SE, max_steps=max_steps)
    steps = run.steps
    if run.status is NewtonStatus.CONVERGED and steps < max_steps:
        # At the maximum to POLISH_FLOOR_SE standard errors, which is to the last digit
        # only where a standard error is not much larger than the estimate itself (in the
        # user's units). A known sigma of 1e300 beside data near 1: the mean is 1e-300
        # standard errors from the start, and 1e15 units in its last place. Whole steps
        # until the step moves no estimate by more than an ulp, or stops halving (noise).
        polish.in_ulps = True
        more = newton_iterate(polish, tol=1.0, stall_below=math.inf, max_steps=max_steps - steps)
        steps += more.steps
    check = polish.best_check
    if polish.best_is_chord:
        check = verify_maximum(objective, polish.best_z)  # the verdict on a fresh Hessian
    return polish.best_z, steps, check


class _Polish:
    """The steps of :func:`newton_polish`: −H⁻¹g from each verified point, the best kept."""

    def __init__(self, objective: Objective, z: np.ndarray) -> None:
        self.objective = objective
        self.z = z
        self.check = verify_maximum(objective, z)
        self.best_z, self.best_check = z, self.check
        # Chord steps (the last fresh Hessian reused) where a Hessian costs a pass over the
        # data per coordinate: within QUADRATIC_SE of the maximum the Hessian changes by
        # far less than the step, and each step still shrinks the error by a large factor.
        self.chord = objective.costly_hessian
        self.hessian = self.check.hessian
        self.is_chord = False
        self.best_is_chord = False
        # Steps measured in units in the last place of the estimates (user's units), not in
        # standard errors: the polish's last phase.
        self.in_ulps = False

    def propose(self) -> float | None:
        step = self.check.step
        if step is None:
            return None  # the Hessian is not negative definite, or nothing is finite
        user = self.objective.affine.user_z
        here, there = user(self.z), user(self.z + step)
        if np.array_equal(there, here):
            return 0.0  # at the maximum to the last representable digit
        if self.in_ulps:
            with np.errstate(all="ignore"):
                ulps = np.abs(there - here) / np.spacing(np.abs(here))
            return float(np.max(ulps))
        return self.check.step_se

    def advance(self, size: float) -> float | None:
        z, check, step = self.z, self.check, self.check.step
        if step is None:  # propose() formed it: never
            return None
        chord = False
        if check.step_se < QUADRATIC_SE:
            chord = self.chord and self.hessian is not None
            t, trial = (
                1.0,
                verify_maximum(self.objective, z + step, self.hessian if chord else None),
            )
        else:
            slack = VALUE_RTOL * max(1.0, abs(check.value))
            trials: list[Verification] = []

            def accept(t: float) -> bool:
                trials[:] = [verify_maximum(self.objective, z + t * step)]
                value = trials[0].value
                return math.isfinite(value) and value >= check.value - slack

            fraction = backtrack(accept)
            if fraction is None:
                return None
            t, trial = fraction, trials[0]
        self.z, self.check, self.is_chord = z + t * step, trial, chord
        if not chord:
            self.hessian = trial.hessian
        if trial.step_se < self.best_check.step_se:
            self.best_z, self.best_check, self.best_is_chord = self.z, trial, chord
        return t
