"""Newton's method: the one iteration loop, and the optimizer find_MAP runs with it.

Three Newton iterations run in ppl_mle: the optimizer handed to ``pymc.find_MAP``
(:func:`newton_minimize`), the polish of find_MAP's point
(:func:`ppl_mle.fit.verify.newton_polish`) and the constrained (KKT) Newton of the profile
likelihood (``ppl_mle.inference.profile``). Each forms and takes its own step; all of them
iterate and stop by :func:`newton_iterate`: stop once the step is below ``tol``; stop once a
step below ``stall_below`` is no longer half the previous whole step (quadratic convergence
has met the floating-point noise floor); stop after ``max_steps`` steps.

:func:`newton_minimize` is a custom ``scipy.optimize.minimize`` method (``find_MAP`` hands
its ``method`` to ``minimize``, which accepts a callable). It is the textbook method of
statsmodels' ``MNLogit`` and R's ``glm`` (iteratively reweighted least squares): from x,
step to the minimum of the local quadratic model, −H⁻¹g, halving the step while it does not
lower the objective (Armijo's rule). On a concave log-likelihood with a cheap exact Hessian
(softmax regression) it needs a handful of iterations where trust-region methods, which
grow their radius from 1, need three times as many, and quasi-Newton methods thousands.

Where the Hessian is not positive definite the step uses its eigenvalues' absolute values
(still a descent direction, and Newton's step where the model is convex).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, cast

import numpy as np
from scipy import linalg
from scipy.optimize import OptimizeResult

from ppl_mle.core.tolerances import MIN_STEP_FRACTION, NEWTON_DECREMENT_TOL, QUADRATIC_SE

__all__ = [
    "HessianOperator",
    "NewtonProblem",
    "NewtonRun",
    "NewtonStatus",
    "backtrack",
    "newton_iterate",
    "newton_minimize",
]

#: Armijo's sufficient-decrease constant.
_ARMIJO = 1e-4


class NewtonStatus(enum.Enum):
    """Why a Newton iteration stopped."""

    #: The step fell to ``tol``.
    CONVERGED = "converged"
    #: A small step stopped halving: rounding noise, not distance, sets the step now.
    NOISE_FLOOR = "noise floor"
    #: ``max_steps`` steps taken without either.
    MAX_STEPS = "max steps"
    #: No Newton step could be formed (a value that is not finite, a singular system).
    NO_STEP = "no step"
    #: The step was formed but no acceptable point was found along it (line search failed,
    #: or the step was too long to trust).
    NO_PROGRESS = "no progress"


@dataclass(frozen=True)
class NewtonRun:
    """The outcome of :func:`newton_iterate`.

    Attributes
    ----------
    status : NewtonStatus
        Why the iteration stopped.
    steps : int
        Steps taken.
    size : float
        Size of the last step formed (standard errors or Newton decrement); NaN if none.
    """

    status: NewtonStatus
    steps: int
    size: float

    @property
    def success(self) -> bool:
        """True where the iteration stopped at the optimum (to ``tol`` or the noise floor)."""
        return self.status in (NewtonStatus.CONVERGED, NewtonStatus.NOISE_FLOOR)


class HessianOperator(Protocol):
    """A Hessian that solves its own Newton step (a structured one: block-diagonal...)."""

    def is_finite(self) -> bool:
        """Whether every entry is finite."""
        ...

    def descent_step(self, g: np.ndarray) -> np.ndarray:
        """−H⁻¹g, with H made positive definite where it is not (a descent direction)."""
        ...


class NewtonProblem(Protocol):
    """One Newton iteration's two moves, supplied by the caller of :func:`newton_iterate`."""

    def propose(self) -> float | None:
        """Form the Newton step at the current point.

        Returns
        -------
        float or None
            Its size: the largest component in standard errors, or the Newton decrement;
            0.0 if it cannot change the point in floating point. None if no step can be
            formed here.
        """
        ...

    def advance(self, size: float) -> float | None:
        """Move along the step :meth:`propose` formed.

        Parameters
        ----------
        size : float
            The size :meth:`propose` returned (callers take steps below ``QUADRATIC_SE``
            whole, larger ones with a line search).

        Returns
        -------
        float or None
            The fraction of the step taken (1.0: whole); None if no acceptable point was
            found along it (the point is then unchanged).
        """
        ...


def newton_iterate(
    problem: NewtonProblem,
    *,
    tol: float,
    stall_below: float,
    max_steps: int,
    stall_ratio: float = 0.5,
) -> NewtonRun:
    """Iterate Newton steps until they converge, stall at the noise floor, or run out.

    Each iteration forms the step (``problem.propose()``) and stops when

    - no step can be formed (:attr:`NewtonStatus.NO_STEP`);
    - its size is at most ``tol`` (:attr:`NewtonStatus.CONVERGED`);
    - its size is below ``stall_below`` and at least ``stall_ratio`` (a half) times the size
      of the previous step, which was taken whole (:attr:`NewtonStatus.NOISE_FLOOR`):
      quadratic convergence would have cut it far more, so rounding noise in the
      derivatives, not the distance to the optimum, now sets the step;
    - ``max_steps`` steps have been taken (:attr:`NewtonStatus.MAX_STEPS`);

    and otherwise takes it (``problem.advance(size)``), stopping if no acceptable point lies
    along it (:attr:`NewtonStatus.NO_PROGRESS`). A damped step (a fraction below 1) says
    nothing about quadratic convergence: the step after it is not tested for stalling.

    Parameters
    ----------
    problem : NewtonProblem
        Forms and takes the steps, and holds the current point.
    tol : float
        Converged at a step this small.
    stall_below : float
        Steps below this size are in the region of quadratic convergence.
    max_steps : int
        Most steps taken; the point after the last one is still measured.
    stall_ratio : float
        A step no smaller than this fraction of the previous whole one has stalled.

    Returns
    -------
    NewtonRun
    """
    previous = math.inf
    steps = 0
    while True:
        size = problem.propose()
        if size is None or math.isnan(size):
            return NewtonRun(NewtonStatus.NO_STEP, steps, math.nan if size is None else size)
        if size <= tol:
            return NewtonRun(NewtonStatus.CONVERGED, steps, size)
        if size < stall_below and size >= stall_ratio * previous:
            return NewtonRun(NewtonStatus.NOISE_FLOOR, steps, size)
        if steps >= max_steps:
            return NewtonRun(NewtonStatus.MAX_STEPS, steps, size)
        fraction = problem.advance(size)
        if fraction is None:
            return NewtonRun(NewtonStatus.NO_PROGRESS, steps, size)
        steps += 1
        previous = size if fraction == 1.0 else math.inf


def backtrack(accept: Callable[[float], bool]) -> float | None:
    """Halve a step fraction t from 1 until ``accept(t)``; None past ``MIN_STEP_FRACTION``.

    Parameters
    ----------
    accept : callable
        ``accept(t)``: whether the point at fraction ``t`` of the step is acceptable (the
        caller evaluates it there and keeps what it needs).

    Returns
    -------
    float or None
        The accepted fraction, or None if none down to ``MIN_STEP_FRACTION`` was.
    """
    t = 1.0
    while t >= MIN_STEP_FRACTION:
        if accept(t):
            return t
        t *= 0.5
    return None


def newton_minimize(
    fun: Callable[..., float],
    x0: np.ndarray,
    args: tuple[Any, ...] = (),
    jac: Callable[..., np.ndarray] | None = None,
    hess: Callable[..., np.ndarray] | None = None,
    callback: Callable[..., Any] | None = None,
    *,
    tol: float = NEWTON_DECREMENT_TOL,
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
        ``hess(x, *args)``, the Hessian: an array, or a :class:`HessianOperator` (such as
        the block-diagonal :class:`ppl_mle.core.grouped.BlockMatrix` of a per-group model)
        that forms its own Newton step.
    callback : callable, optional
        Called as ``callback(x)`` after each iteration.
    tol : float
        Stop when the Newton decrement √(gᵀH⁻¹g) is at most ``tol``: the remaining step is
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
    problem = _Minimization(fun, jac, hess, args, callback, np.array(x0, dtype=np.float64))
    run = newton_iterate(problem, tol=tol, stall_below=QUADRATIC_SE, max_steps=maxiter)
    messages = {
        NewtonStatus.CONVERGED: f"Newton decrement {run.size:.2g} below tol={tol:g}",
        NewtonStatus.NOISE_FLOOR: (
            f"Newton decrement {run.size:.2g} stopped shrinking (rounding noise)"
        ),
        NewtonStatus.MAX_STEPS: f"maximum number of iterations ({maxiter}) reached",
        NewtonStatus.NO_STEP: problem.failure,
        NewtonStatus.NO_PROGRESS: "the line search found no decrease along the Newton direction",
    }
    return OptimizeResult(
        x=problem.x,
        fun=problem.f,
        jac=problem.g,
        nit=run.steps,
        nfev=problem.nfev,
        njev=problem.njev,
        nhev=problem.nhev,
        success=run.success,
        status=0 if run.success else 1,
        message=messages[run.status],
    )


class _Minimization:
    """The steps of :func:`newton_minimize`: −H⁻¹g, with Armijo's line search."""

    def __init__(
        self,
        fun: Callable[..., float],
        jac: Callable[..., np.ndarray],
        hess: Callable[..., np.ndarray],
        args: tuple[Any, ...],
        callback: Callable[..., Any] | None,
        x: np.ndarray,
    ) -> None:
        self.fun, self.jac, self.hess, self.args, self.callback = fun, jac, hess, args, callback
        self.x = x
        self.f = float(fun(x, *args))
        self.g = np.asarray(jac(x, *args), dtype=np.float64)
        self.nfev = self.njev = 1
        self.nhev = 0
        self.step = np.zeros_like(x)
        self.failure = ""

    def propose(self) -> float | None:
        if not (math.isfinite(self.f) and np.all(np.isfinite(self.g))):
            self.failure = "the objective or its gradient is not finite"
            return None
        hess = self.hess(self.x, *self.args)
        self.nhev += 1
        if hasattr(hess, "descent_step"):  # a structured Hessian solves its own step
            operator = cast(HessianOperator, hess)
            if not operator.is_finite():
                self.failure = "the Hessian is not finite"
                return None
            self.step = operator.descent_step(self.g)
        else:
            h = np.asarray(hess, dtype=np.float64)
            if not np.all(np.isfinite(h)):
                self.failure = "the Hessian is not finite"
                return None
            self.step = _descent_step(h, self.g)
        if not np.all(np.isfinite(self.step)):
            self.failure = "the Newton step is not finite"
            return None
        return math.sqrt(max(-float(self.g @ self.step), 0.0))

    def advance(self, size: float) -> float | None:
        slope = float(self.g @ self.step)
        trial: list[tuple[np.ndarray, float]] = []

        def accept(t: float) -> bool:
            x = self.x + t * self.step
            f = float(self.fun(x, *self.args))
            self.nfev += 1
            trial[:] = [(x, f)]
            if not math.isfinite(f):
                return False
            # Close in, the quadratic model is exact: the whole step, whatever f says.
            return size < QUADRATIC_SE or f <= self.f + _ARMIJO * t * slope

        t = backtrack(accept)
        if t is None:
            return None
        self.x, self.f = trial[0]
        self.g = np.asarray(self.jac(self.x, *self.args), dtype=np.float64)
        self.njev += 1
        if self.callback is not None:
            self.callback(np.copy(self.x))
        return t


def _descent_step(h: np.ndarray, g: np.ndarray) -> np.ndarray:
    """−H⁻¹g by Cholesky; with |eigenvalues| where H is not positive definite.

    Eigenvalues are floored at √ε of the largest, so that a flat direction (a model that is
    not identified) gets a short step, not one blown up by rounding noise in the gradient.
    """
    h = 0.5 * (h + h.T)
    try:
        return cast(np.ndarray, -linalg.cho_solve(linalg.cho_factor(h, lower=True), g))
    except linalg.LinAlgError:
        eigval, eigvec = np.linalg.eigh(h)
        floor = math.sqrt(np.finfo(float).eps) * max(float(np.max(np.abs(eigval))), 1e-300)
        return cast(np.ndarray, -eigvec @ ((eigvec.T @ g) / np.maximum(np.abs(eigval), floor)))
