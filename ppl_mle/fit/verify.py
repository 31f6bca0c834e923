"""Checking an optimizer's answer: Newton polishing and the verdict.

An optimizer's ``success`` is not evidence. At the point it returns we evaluate the exact
gradient and Hessian (PyTensor autodiff) and ask: is the Hessian negative definite (a
local maximum), and how far is the maximum still — the Newton step −H⁻¹g, measured in
standard errors sqrt(diag(−H⁻¹))? Polishing takes such Newton steps, with a backtracking
line search that never lowers the objective, until the step stops shrinking (the
floating-point noise floor).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import linalg

from ppl_mle.fit.objective import Objective

__all__ = [
    "Verification",
    "describe_indefinite",
    "information_problem",
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
        coordinates involved.
    hessian : numpy.ndarray or None
        The exact Hessian at ``z`` (None where the objective is not finite).
    """

    value: float
    grad_norm: float
    step_se: float
    se: np.ndarray | None
    step: np.ndarray | None
    problem: str
    hessian: np.ndarray | None = None


def verify_maximum(objective: Objective, z: np.ndarray) -> Verification:
    """Evaluate gradient, Hessian and Newton step at ``z``."""
    f, g, h = objective(z)
    if not (math.isfinite(f) and np.all(np.isfinite(g)) and np.all(np.isfinite(h))):
        return Verification(f, math.nan, math.nan, None, None, "the objective is not finite")
    grad_norm = float(np.linalg.norm(g))
    problem = information_problem(objective.coordinate_names(), h)
    if problem:
        return Verification(f, grad_norm, math.inf, None, None, problem, h)
    chol = linalg.cho_factor(-0.5 * (h + h.T), lower=True)
    step = linalg.cho_solve(chol, g)
    cov = linalg.cho_solve(chol, np.eye(g.size))
    se = np.sqrt(np.diag(cov))
    step_se = float(np.max(np.abs(step) / se))
    return Verification(f, grad_norm, step_se, se, step, "", h)


#: Smallest eigenvalue of the information matrix scaled to unit diagonal (a correlation-like
#: matrix with eigenvalues in (0, d]) below which a direction counts as not identified:
#: standard errors along it would be 1e6 times larger than along the axes.
SINGULAR_RTOL = 1e-12


def information_problem(names: list[str], h: np.ndarray) -> str:
    """Why ``-h`` is not a usable information matrix, or ``""`` if it is.

    The matrix must be positive definite and not nearly singular. Singularity is judged
    on the scaled matrix D^(-1/2) (-h) D^(-1/2), D = diag(-h), so that the verdict does not
    depend on the units of the parameters.

    Parameters
    ----------
    names : list of str
        One name per coordinate of ``h``.
    h : numpy.ndarray
        Hessian of the log-likelihood at a candidate maximum.
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
                return ""
    return describe_indefinite(names, h)


#: How far (in standard errors along the flattest direction) the unboundedness probe looks.
_PROBE_SE = 30.0


def unbounded_direction(objective: Objective, z: np.ndarray, h: np.ndarray) -> str:
    """Look along the flattest direction for a log-likelihood that keeps rising.

    A regular maximum falls by about ½·30² = 450 log units 30 standard errors away along
    any direction. Where the MLE does not exist — it lies at infinity, as for separated
    classes in a logistic regression — the optimizer stops where the gradient became
    small, the curvature along the escape direction is tiny, and the log-likelihood 30
    "standard errors" further on is as high or higher. Returns ``""`` when it falls, or a
    description of the direction otherwise.

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
    step = _PROBE_SE / math.sqrt(eigval[0])
    base = objective.loglik(z)
    for sign in (1.0, -1.0):
        value = objective.loglik(z + sign * step * direction)
        if math.isfinite(value) and value >= base - 0.5:
            names = objective.coordinate_names()
            order = np.argsort(-np.abs(direction))
            terms = [
                f"{sign * direction[i]:+.3g}·{names[i]}"
                for i in order[:4]
                if abs(direction[i]) > 1e-3
            ]
            return (
                f"the log-likelihood keeps rising along {' '.join(terms)} (from {base:.6g} to "
                f"{value:.6g} {_PROBE_SE:g} standard errors on): the MLE does not exist, "
                "the estimates diverge"
            )
    return ""


def describe_indefinite(names: list[str], h: np.ndarray) -> str:
    """Name the direction in which the Hessian ``h`` is least negative definite.

    Parameters
    ----------
    names : list of str
        One name per coordinate of ``h``.
    h : numpy.ndarray
        Hessian of the log-likelihood.
    """
    neg_h = -0.5 * (h + h.T)
    d = np.abs(np.diag(neg_h))
    scale = np.where(d > 0, 1.0 / np.sqrt(np.where(d > 0, d, 1.0)), 1.0)
    eigval, eigvec = np.linalg.eigh(neg_h * np.outer(scale, scale))
    worst = eigvec[:, 0]
    order = np.argsort(-np.abs(worst))
    terms = [f"{worst[i]:+.3g}·{names[i]}" for i in order[:4] if abs(worst[i]) > 1e-3]
    flat = abs(eigval[0]) <= SINGULAR_RTOL * max(1.0, abs(eigval[-1]))
    kind = "flat (not identified)" if flat else "curving upward (not a maximum)"
    return (
        f"the information matrix is {'singular' if flat else 'not positive definite'}: "
        f"the log-likelihood is {kind} along {' '.join(terms)} "
        f"(scaled curvature {eigval[0]:.3g})"
    )


def newton_polish(
    objective: Objective, z: np.ndarray, max_steps: int = 100
) -> tuple[np.ndarray, int, Verification]:
    """Take Newton steps with the exact Hessian from ``z`` until the noise floor.

    Far from the maximum (a step over ``_QUADRATIC_SE`` standard errors) each step −H⁻¹g is
    halved until the objective does not drop. Closer in, the quadratic model is exact to far
    below the rounding noise of the objective's value, so full steps are taken and the
    objective's value is not consulted. Polishing stops when the step is below 1e-14
    standard errors or too small to change ``z`` in floating point, when a small step no
    longer shrinks (quadratic convergence has met the noise floor), when the Hessian is not
    negative definite, or after ``max_steps``; the visited point with the smallest
    remaining step is returned.

    Returns
    -------
    z : numpy.ndarray
        The polished point (``z`` itself if no step was taken).
    steps : int
        Number of steps taken.
    check : Verification
        The verification at the returned point.
    """
    z = np.array(z, dtype=np.float64)
    check = verify_maximum(objective, z)
    best_z, best_se, best_check = z, check.step_se, check
    previous = math.inf
    steps = 0
    while steps < max_steps and check.step is not None:
        if check.step_se <= 1e-14 or np.array_equal(z + check.step, z):
            break  # at the maximum to the last representable digit
        if check.step_se < _QUADRATIC_SE and check.step_se >= 0.5 * previous:
            break  # no longer converging quadratically: the noise floor
        t = 1.0
        if check.step_se >= _QUADRATIC_SE:
            slack = 8 * np.finfo(float).eps * max(1.0, abs(check.value))
            while t > 1e-12:
                trial = verify_maximum(objective, z + t * check.step)
                if math.isfinite(trial.value) and trial.value >= check.value - slack:
                    break
                t *= 0.5
            else:
                break
        else:
            trial = verify_maximum(objective, z + check.step)
        previous = check.step_se if t == 1.0 else math.inf
        z, check = z + t * check.step, trial
        steps += 1
        if check.step_se < best_se:
            best_z, best_se, best_check = z, check.step_se, check
    return best_z, steps, best_check


#: Below this many standard errors the Newton step is taken whole.
_QUADRATIC_SE = 1e-2
