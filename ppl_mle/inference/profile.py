"""Profile-likelihood intervals.

The profile log-likelihood of one natural parameter ψⱼ is ℓₚ(t) = max ℓ(z) subject to
ψⱼ(z) = t. The profile interval at level 1 − α is the set of t where
2(ℓ̂ − ℓₚ(t)) ≤ q, q the 1 − α quantile of χ²₁. Unlike the Wald interval it follows the
shape of the likelihood: asymmetric for a standard deviation or a small probability, and
the same whatever parametrisation the model uses.

Each ℓₚ(t) is a constrained maximum found by Newton's method on the Lagrange (KKT)
conditions ∇ℓ = λ∇ψⱼ, ψⱼ = t, with the exact Hessians of ℓ and of ψⱼ (PyTensor autodiff),
started from the nearest point already solved and a first-order prediction along the
profile path. The endpoints are roots of the signed root deviance
r(t) = sign(t − ψ̂ⱼ)·sqrt(2(ℓ̂ − ℓₚ(t))) = ±sqrt(q), found by bracketing and Brent's
method on a scale where the parameter's support is the whole real line (log for a
positive parameter, logit for a probability). Each endpoint is verified as a fit is: the
KKT Newton step left is within ``VERIFY_TOL_SE`` standard errors (the constrained gradient
vanishes, the constraint holds), the Lagrangian's Hessian is negative definite along the
constraint, and the deviance there is q; otherwise the bound is NaN, with a note saying why.

Any scalar element of a ``pm.Deterministic`` is profiled alike, as ψ(z) = g(z) with g's
exact gradient and Hessian (:class:`~ppl_mle.inference.derived.DerivedFunctions`). Where g
is unbounded within the support and its profile stays below q (cv = sigma/mu when mu's
interval holds 0), the bound is ±∞: the search finds the deviance settled below q far out.

An estimate on the boundary of its support (a category never observed: θ̂ⱼ = 0) gets a
one-sided interval: it starts at the boundary and ends where 2(ℓ̂ − ℓₚ) = q. That uses the
same χ²₁ quantile as every other interval; the LR statistic at a boundary is asymptotically
a 50:50 mixture of 0 and χ²₁, so this interval is conservative.
"""

from __future__ import annotations

import math
import threading
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from pymc.initial_point import make_initial_point_fn
from pymc.logprob.transforms import (
    SimplexTransform,
)
from scipy import linalg, optimize, stats
from scipy.special import expit

from ppl_mle.core.affine import AffineMap
from ppl_mle.core.errors import ModelError
from ppl_mle.core.families import CategoricalFamily
from ppl_mle.core.newton import newton_iterate
from ppl_mle.core.tolerances import NOISE_FLOOR_SE, ROOT_RTOL, VERIFY_TOL_SE
from ppl_mle.data.validation import check_level
from ppl_mle.fit.cache import computed
from ppl_mle.fit.held import HeldObjective
from ppl_mle.fit.objective import Objective, objective_for
from ppl_mle.fit.record import FitRecord, at_vertex, parameter_labels
from ppl_mle.inference.derived import derived_functions
from ppl_mle.model._pytensor import quiet_vendor_warnings
from ppl_mle.model.support import natural_bounds

__all__ = ["ProfileInterval", "profile_interval", "profile_loglik"]

#: Most Newton steps of one constrained maximum: started from a first-order prediction, the
#: KKT Newton converges in a few; more mean the prediction was too far (the path is then
#: approached in halves).
_KKT_MAX_STEPS = 60
#: A KKT Newton step longer than this many standard errors has left the region where the
#: linearisation means anything: give up on this start.
_KKT_DIVERGED_SE = 1e3

#: The most constrained maxima that may fail while a search for an endpoint of a
#: Deterministic's interval halves its step (:attr:`_Profiler.open_range`).
_MAX_FAILURES = 40
#: Bisection towards a value with no constrained maximum stops this close to it (relative,
#: on the search scale): the edge of the Deterministic's range, inside the interval.
_EDGE_RTOL = 1e-9
#: A Deterministic's profile has settled when its deviance changes by less than this
#: fraction of the cutoff between two points of the search, the last more than
#: ``_FAR_SE`` delta-method SEs from the estimate: the bound is then infinite.
_SETTLED = 1e-6
_FAR_SE = 1e6
#: An endpoint's deviance must equal the cutoff to this relative tolerance, plus the
#: rounding noise of the log-likelihood (this many ulps of |ℓ̂|).
_DEVIANCE_RTOL = 1e-8
_DEVIANCE_NOISE = 256 * float(np.finfo(np.float64).eps)
#: A constrained maximum of a Deterministic g meets g = t to this relative tolerance.
_CONSTRAINT_RTOL = 1e-9

_PROFILERS_LOCK = threading.Lock()


@dataclass(frozen=True)
class ProfileInterval:
    """A profile-likelihood confidence interval for one parameter.

    Attributes
    ----------
    parameter : str
        Its label (``mu``, ``sigma``, ``theta[a]``…).
    estimate : float
        The MLE.
    lower, upper : float
        The endpoints; NaN if they could not be found.
    level : float
        Confidence level.
    note : str
        Empty, or what is special: a one-sided interval from a boundary estimate, an
        endpoint at the edge of the parameter's support, a failure.
    """

    parameter: str
    estimate: float
    lower: float
    upper: float
    level: float
    note: str = ""


def chi2_cutoff(level: float) -> float:
    """The 1 − α quantile of χ²₁ for a confidence level 1 − α."""
    return float(stats.chi2.ppf(check_level(level), df=1))


def profile_interval(result: FitRecord, parameter: str, level: float = 0.95) -> ProfileInterval:
    """Profile-likelihood interval of one scalar parameter.

    Parameters
    ----------
    result : FitRecord
        A fit from :func:`ppl_mle.fit_mle`.
    parameter : str
        A label from ``result.params.index``: a free parameter (``"mu"``, ``"sigma"``,
        ``"theta[a]"``) or an element of a ``pm.Deterministic`` (``"cv"``, ``"p[2]"``).
    level : float
        Confidence level in (0, 1).

    Returns
    -------
    ProfileInterval
        A Deterministic's bounds are NaN, with a note saying why, for a fit with an
        estimate on the boundary of its support or a Deterministic not finite there.

    Raises
    ------
    ModelError
        Unknown parameter or a level outside (0, 1).
    """
    q = chi2_cutoff(level)
    family = result.family
    simplex = family.simplex() if family is not None else None
    if simplex is not None and simplex.structured:
        return _simplex_interval(result, simplex, parameter, q, level)
    if _is_derived(result, parameter):
        result.check_data_current()
        why = _no_derived_profile(result, parameter)
        if why:
            estimate = derived_functions(result).estimates[parameter]
            return ProfileInterval(parameter, estimate, math.nan, math.nan, level, why)
    profiler = _profiler(result, parameter)
    return profiler.interval(q, level)


def _simplex_interval(
    result: FitRecord, family: CategoricalFamily, parameter: str, q: float, level: float
) -> ProfileInterval:
    """The profile interval of one of many categories, in closed form (O(1) each)."""
    j = _checked_labels(result, parameter).index(parameter)
    lower, upper = family.profile_interval(j, q)
    estimate = float(np.ravel(result.estimates["theta"])[j])
    note = "lower: one-sided: the estimate is on the boundary" if estimate == 0.0 else ""
    return ProfileInterval(parameter, estimate, lower, upper, level, note)


def profile_loglik(result: FitRecord, parameter: str, values: Any) -> np.ndarray:
    """The profile log-likelihood ℓₚ(t) of one parameter at each of ``values``.

    Parameters
    ----------
    result : FitRecord
    parameter : str
        A label from ``result.params.index`` (a free parameter or a Deterministic's).
    values : array_like
        Values t of the parameter, inside its support.

    Returns
    -------
    numpy.ndarray
        max ℓ subject to the parameter = t, with all constants (NaN where not found).
    """
    why = _no_derived_profile(result, parameter) if _is_derived(result, parameter) else ""
    if why:
        raise ModelError(f"no profile of {parameter!r}: {why}.")
    profiler = _profiler(result, parameter)
    out = []
    for t in np.atleast_1d(np.asarray(values, dtype=float)):
        solved = profiler.solve(profiler.working(float(t)))
        out.append(math.nan if solved is None else solved.loglik + profiler.loglik_offset)
    return np.asarray(out)


def _checked_labels(result: FitRecord, parameter: str) -> list[str]:
    """The result's parameter labels, once its data and ``parameter`` are checked.

    The free parameters' labels; a Deterministic's is accepted (and listed) too.
    """
    result.check_data_current()
    labels = list(result.estimates_frame().index)
    if not isinstance(parameter, str) or not (
        parameter in labels or _is_derived(result, parameter)
    ):
        every = labels + (derived_functions(result).labels if result.model.deterministics else [])
        raise ModelError(f"no parameter {parameter!r} in this model; choose one of {every}.")
    return labels


def _is_derived(result: FitRecord, parameter: str) -> bool:
    """Whether ``parameter`` labels an element of one of the model's Deterministics."""
    if not isinstance(parameter, str) or not result.model.deterministics:
        return False
    if parameter in result.estimates_frame().index:
        return False
    return parameter in derived_functions(result).labels


def _no_derived_profile(result: FitRecord, label: str) -> str:
    """Why a Deterministic's element has no profile here ('' if it has one).

    The constrained maxima are interior points: beside an estimate on the bound of its
    support the profile would have to let it leave the bound, and bounds found with it
    held there could be too narrow.
    """
    on_bound = any(np.any(b) for b in result.on_boundary.values())
    if on_bound or isinstance(result.objective, HeldObjective) or at_vertex(result):
        return "not computed: an estimate is on the boundary of its support"
    if not math.isfinite(derived_functions(result).estimates[label]):
        return "not computed: not finite at the estimate"
    return ""


def _profiler(result: FitRecord, parameter: str) -> _Profiler:
    free = parameter in _checked_labels(result, parameter)
    # Kept on the fit (:func:`ppl_mle.fit.cache.computed`), by parameter label.
    cache = computed(result)
    key = ("profiler", parameter)
    if key not in cache:
        # Built outside the lock: it evaluates ℓ.
        profiler = _Profiler(result, parameter) if free else _DerivedProfiler(result, parameter)
        with _PROFILERS_LOCK:
            cache.setdefault(key, profiler)
    kept: _Profiler = cache[key]
    return kept


@dataclass
class _Point:
    t: float
    z: np.ndarray
    lam: float
    loglik: float


class _Profiler:
    """Constrained maxima of the log-likelihood along one parameter.

    The value profiled, ψ(z), enters through :meth:`_constraint` alone (its value, gradient
    and weighted Hessian): a free parameter's here, a Deterministic's in
    :class:`_DerivedProfiler`.
    """

    #: Whether the value profiled may be unbounded, or undefined beyond some value, without
    #: the parameter space saying so (a Deterministic): a failed constrained maximum
    #: shortens the search step, and a profile that settles below the cutoff far out gives
    #: an infinite bound.
    open_range = False
    #: How many times a constrained maximum too far from the points solved is approached
    #: in halves.
    max_depth = 30
    #: Most Newton steps of one constrained maximum.
    max_steps = _KKT_MAX_STEPS

    def __init__(self, result: FitRecord, label: str) -> None:
        frame = result.estimates_frame()
        self.label = label
        self.n_obs = result.n_obs
        boundary = bool(frame.loc[label, "on_boundary"]) or at_vertex(result)
        # A boundary estimate is outside the interior problem the fit verified: profile it
        # where it is free again, and every t inside the support is an interior point: on
        # the full model (a category never observed), or with only this estimate released
        # (other estimates held on bounds of their supports stay there).
        objective = result.objective
        if boundary and not isinstance(objective, HeldObjective):
            objective = objective_for(result.model)
        self.objective: Objective = objective
        self.names, self.free_name, self.flat_index = self._locate(label)
        if boundary and isinstance(objective, HeldObjective):
            objective = objective.releasing(self.free_name, self.flat_index)
        # The profile runs in the units the fit worked in (data near 1e300 or 1e12 ± 1 are
        # near 1 there), and its values are mapped back: t = offset + unit·t_working.
        affine = objective.affine
        self.objective = objective.mapped(AffineMap()) if not affine.identity else objective
        self.boundary = boundary
        self.estimates = result.estimates
        offset, unit = affine.natural.get(self.free_name, (0.0, 1.0))
        shape = np.shape(result.estimates[self.free_name])
        self.offset = float(offset)
        self.unit = (
            float(np.broadcast_to(unit, shape).ravel()[self.flat_index]) if shape else float(unit)
        )
        self.loglik_offset = affine.loglik_offset
        self.estimate = self.working(float(frame.loc[label, "estimate"]))
        self.loglik_hat = float(result.loglik) - self.loglik_offset
        self.index = self.names.index(label)
        self.lower_bound, self.upper_bound = self._support()
        if boundary:
            self._first_points(self._boundary_start(self._inside(0.5)))
        else:
            self._first_points(np.asarray(result.z, dtype=np.float64))

    def _first_points(self, z: np.ndarray) -> None:
        """The estimate as the first solved point (unless on the boundary), scales at ``z``."""
        self.points: list[_Point] = []
        if not self.boundary:
            self.points.append(_Point(self.estimate, z, 0.0, self.loglik_hat))
        _, _, h, _ = self.objective.evaluate(z)
        d = np.abs(np.diag(h))
        self.z_scale = np.where(d > 0, 1.0 / np.sqrt(np.where(d > 0, d, 1.0)), 1.0)

    def _constraint(self, z: np.ndarray, lam: float) -> tuple[float, np.ndarray, np.ndarray]:
        """ψ(z), its gradient ∇ψ and λ∇²ψ, for the value profiled."""
        weights = np.zeros(len(self.names))
        weights[self.index] = lam
        psi, jac, h_lam = self.objective.natural_derivatives(z, weights)
        return float(psi[self.index]), jac[self.index], h_lam

    # -- units ----------------------------------------------------------------------------
    def working(self, t: float) -> float:
        """A value of the parameter in the units the profile runs in."""
        return (t - self.offset) / self.unit

    def user(self, t: float) -> float:
        """A value of the parameter in the user's units."""
        return self.offset + self.unit * t

    # -- where the parameter lives ---------------------------------------------------------
    def _locate(self, label: str) -> tuple[list[str], str, int]:
        objective = self.objective
        values = objective.natural(np.zeros(objective.size))
        names: list[str] = []
        for name, value in values.items():
            entry = parameter_labels(name, np.shape(value), objective.model)
            if label in entry:
                free_name, flat_index = name, entry.index(label)
            names.extend(entry)
        return names, free_name, flat_index

    def _support(self) -> tuple[float, float]:
        shape = np.shape(self.estimates[self.free_name])
        bounds = natural_bounds(self.objective.model, self.free_name, shape)
        lo, hi = (float(np.ravel(b)[self.flat_index]) for b in bounds)
        return lo, hi

    # -- the scale on which the search runs -----------------------------------------------
    def _to_t(self, u: float) -> float:
        lo, hi = self.lower_bound, self.upper_bound
        if math.isinf(lo) and math.isinf(hi):
            return u
        if math.isinf(hi):
            return lo + math.exp(min(u, 709.0))
        if math.isinf(lo):
            return hi - math.exp(min(-u, 709.0))
        return lo + (hi - lo) * float(expit(u))

    def _to_u(self, t: float) -> float:
        lo, hi = self.lower_bound, self.upper_bound
        if math.isinf(lo) and math.isinf(hi):
            return t
        with np.errstate(divide="ignore"):
            if math.isinf(hi):
                return float(np.log(t - lo))
            if math.isinf(lo):
                return float(-np.log(hi - t))
            p = (t - lo) / (hi - lo)
            return float(np.log(p) - np.log1p(-p))

    def _inside(self, fraction: float) -> float:
        """A value of t inside the support, for a first evaluation."""
        lo, hi = self.lower_bound, self.upper_bound
        if math.isfinite(lo) and math.isfinite(hi):
            return lo + fraction * (hi - lo)
        return self.estimate

    # -- one constrained maximum ---------------------------------------------------------
    def _boundary_start(self, t: float) -> np.ndarray:
        """A point with the parameter at t, the others moved as little as the support lets."""
        natural = {k: np.array(v, dtype=float) for k, v in self.estimates.items()}
        value = natural[self.free_name]
        flat = value.ravel()
        model = self.objective.model
        transform = model.rvs_to_transforms.get(model[self.free_name])
        if isinstance(transform, SimplexTransform):
            others = np.ones(flat.size, dtype=bool)
            others[self.flat_index] = False
            mass = flat[others].sum()
            if mass > 0:
                flat[others] *= (1.0 - t) / mass
            else:
                flat[others] = (1.0 - t) / others.sum()
        flat[self.flat_index] = t
        natural[self.free_name] = flat.reshape(value.shape)
        with quiet_vendor_warnings(), np.errstate(all="ignore"):
            point = make_initial_point_fn(
                model=model, overrides=natural, jitter_rvs=set(), return_transformed=True
            )(None)
        return self.objective.from_point(point)

    def solve(self, t: float, depth: int = 0) -> _Point | None:
        """Solve max ℓ(z) subject to ψⱼ(z) = t; None if Newton's method does not converge."""
        if not self.points:
            z0 = self._boundary_start(t)
            point = self._newton(t, z0, self._multiplier(z0))
            if point is not None:
                self.points.append(point)
            return point
        near = min(self.points, key=lambda p: abs(self._to_u(p.t) - self._to_u(t)))
        if near.t == t:
            return near
        z0, lam0 = self._predict(near, t)
        point = self._newton(t, z0, lam0)
        if point is None and depth < self.max_depth:
            # Too far for one prediction: approach t in two halves (on the search scale).
            half = self._to_t(0.5 * (self._to_u(near.t) + self._to_u(t)))
            if self.solve(half, depth + 1) is not None:
                return self.solve(t, depth + 1)
            return None
        if point is not None:
            self.points.append(point)
        return point

    def _multiplier(self, z: np.ndarray) -> float:
        _, g, _, _ = self.objective.evaluate(z)
        _, a, _ = self._constraint(z, 0.0)
        return float(a @ g / (a @ a)) if a @ a > 0 else 0.0

    def _kkt(self, z: np.ndarray, lam: float) -> tuple[np.ndarray, np.ndarray, float, float]:
        """KKT matrix, residual, constraint value and log-likelihood at (z, λ)."""
        _, g, h, loglik = self.objective.evaluate(z)
        psi, a, h_lam = self._constraint(z, lam)
        d = z.size
        matrix = np.zeros((d + 1, d + 1))
        matrix[:d, :d] = h - h_lam
        matrix[:d, d] = -a
        matrix[d, :d] = a
        residual = np.concatenate([g - lam * a, [psi]])
        return matrix, residual, psi, loglik

    def _predict(self, near: _Point, t: float) -> tuple[np.ndarray, float]:
        """First-order step along the profile path from a solved point to t."""
        matrix, _, _, _ = self._kkt(near.z, near.lam)
        rhs = np.zeros(near.z.size + 1)
        rhs[-1] = 1.0
        tangent = _solve(matrix, rhs)
        if tangent is None:
            return near.z, near.lam
        dt = t - near.t
        return near.z + dt * tangent[:-1], near.lam + dt * tangent[-1]

    def _newton(self, t: float, z: np.ndarray, lam: float) -> _Point | None:
        """Newton's method on the KKT conditions from (z, λ); None if it does not converge.

        Converged when the step is at the noise floor (``NOISE_FLOOR_SE``), or stops
        shrinking below ``VERIFY_TOL_SE`` standard errors: the floating-point noise of the
        log-likelihood (large n, data far from 0), within the tolerance of a verified fit.
        """
        solve = _KKTNewton(self, t, z, lam)
        run = newton_iterate(
            solve, tol=NOISE_FLOOR_SE, stall_below=VERIFY_TOL_SE, max_steps=self.max_steps
        )
        if not (run.success and self._meets(solve.psi, t)):
            return None
        return _Point(t, solve.z, solve.lam, solve.loglik)

    def _meets(self, psi: float, t: float) -> bool:
        """Whether ψ = t holds closely enough at a converged point (a free parameter: yes).

        A free parameter is a coordinate or a smooth monotone map of one: a KKT step small
        in standard errors leaves ψ − t small too.
        """
        return True

    def _step_size(self, step: np.ndarray, psi: float, t: float) -> float:
        """The size of a KKT Newton step in z at ψ(z) = ``psi``: in standard errors."""
        return float(np.max(np.abs(step) / self.z_scale))

    # -- the interval ----------------------------------------------------------------------
    def _signed_root(self, u: float, side: int) -> float:
        t = self._to_t(u)
        point = self.solve(t)
        if point is None:
            return math.nan
        deviance = max(0.0, 2.0 * (self.loglik_hat - point.loglik))
        return side * math.copysign(math.sqrt(deviance), t - self.estimate)

    def _endpoint(self, side: int, q: float) -> tuple[float, str]:
        root_q = math.sqrt(q)
        bound = self.upper_bound if side > 0 else self.lower_bound
        if self.boundary and self.estimate == bound:
            return bound, "one-sided: the estimate is on the boundary"

        def excess(u: float) -> float:
            return self._signed_root(u, side) - root_q

        u_hat = self._to_u(self.estimate)
        if self.boundary:
            # Start inside the support, step towards the estimate until inside the interval.
            u_in = self._to_u(self._start_value(q))
            step = 1.0
            while excess(u_in) > 0:
                u_in -= side * step
                step *= 2
                if step > 1e4:
                    return math.nan, "profile search failed"
        else:
            u_in = u_hat
        step = self._u_step(q)
        u_out = u_in + side * step
        deviance_in, failures, u_fail = 0.0, 0, math.nan
        for _ in range(200):
            t_out = self._to_t(u_out)
            if not math.isfinite(t_out):
                return math.nan, "profile search failed: the profile stays below the cutoff"
            value = excess(u_out)
            if math.isnan(value) and self.open_range and failures < _MAX_FAILURES:
                if abs(u_out - u_in) <= _EDGE_RTOL * max(1.0, abs(u_in)):
                    return math.nan, (
                        f"no constrained maximum beyond {self.user(self._to_t(u_in)):.6g}, where "
                        f"the deviance is {deviance_in:.6g} < {q:.6g}: the edge of its range?"
                    )
                # No constrained maximum there: perhaps beyond the range of the value
                # profiled (a probability below 0). Bisect towards it from inside.
                failures += 1
                u_fail, u_out = u_out, 0.5 * (u_in + u_out)
                continue
            if math.isnan(value):
                return math.nan, f"profile search failed near {self.user(t_out):.6g}"
            if value > 0:
                break
            if t_out == bound or abs(u_out) > 1e300:
                return bound, "reaches the edge of the parameter's support"
            deviance = (value + root_q) ** 2
            if self._settled(t_out, deviance, deviance_in, q):
                direction = "+" if side > 0 else "-"
                return side * math.inf, (
                    f"unbounded: as {self.label} goes to {direction}inf its profile settles "
                    f"below the cutoff (deviance {deviance:.6g} < {q:.6g})"
                )
            u_in, deviance_in = u_out, deviance
            step *= 2
            u_out = u_in + side * step if math.isnan(u_fail) else 0.5 * (u_in + u_fail)
        else:
            return math.nan, "profile search failed"
        lo, hi = sorted((u_in, u_out))
        root = optimize.brentq(excess, lo, hi, xtol=1e-15, rtol=ROOT_RTOL, maxiter=200)
        t = self._to_t(root)
        why = self._unverified(t, q)
        return (math.nan, f"not verified: {why}") if why else (t, "")

    def _settled(self, t: float, deviance: float, previous: float, q: float) -> bool:
        """Whether the profile has settled below the cutoff far from the estimate, at t.

        Never for a free parameter: its search ends at the edge of its support.
        """
        return False

    def _unverified(self, t: float, q: float) -> str:
        """Why the constrained maximum at t cannot vouch for an endpoint ('' if it can).

        The checks of a fit, on the constrained problem: the KKT Newton step left is within
        ``VERIFY_TOL_SE`` standard errors (the constrained gradient vanishes and the
        constraint holds); the Lagrangian's Hessian is negative definite on the tangent
        space of the constraint (a maximum, not a saddle); and the deviance is the cutoff.
        """
        point = self.solve(t)
        if point is None:
            return "no constrained maximum at the endpoint"
        matrix, residual, value, _ = self._kkt(point.z, point.lam)
        residual[-1] = value - t
        step = _solve(matrix, -residual)
        d = point.z.size
        size = math.nan if step is None else float(np.max(np.abs(step[:d]) / self.z_scale))
        if not size <= VERIFY_TOL_SE:
            return f"KKT conditions not met at {self.user(t):.6g} (step {size:.3g} SE)"
        basis = linalg.null_space(matrix[d:, :d])
        reduced = basis.T @ matrix[:d, :d] @ basis
        if reduced.size and not np.all(np.linalg.eigvalsh(0.5 * (reduced + reduced.T)) < 0):
            return f"not a constrained maximum at {self.user(t):.6g}"
        deviance = 2.0 * (self.loglik_hat - point.loglik)
        noise = _DEVIANCE_NOISE * abs(self.loglik_hat + self.loglik_offset)
        if not abs(deviance - q) <= _DEVIANCE_RTOL * q + noise:
            return f"the deviance at {self.user(t):.6g} is {deviance:.6g}, not {q:.6g}"
        return ""

    def _start_value(self, q: float) -> float:
        """A first value beyond a boundary estimate: about where the deviance is q."""
        lo, hi = self.lower_bound, self.upper_bound
        width = (hi - lo) if math.isfinite(hi - lo) else 1.0
        # Inside the support whatever n counts (one binomial observation of 10 trials).
        guess = min(q / (2.0 * max(self.n_obs, 1)), 0.5) * width
        return self.estimate + guess if self.estimate == lo else self.estimate - guess

    def _u_step(self, q: float) -> float:
        """Wald half-width on the search scale, as the first bracketing step."""
        if self.boundary:
            return 1.0
        se_t = self._wald_se()
        if not math.isfinite(se_t):
            return 1.0
        t, dt = self.estimate, max(se_t, 1e-300)
        du = abs(self._to_u(t + 1e-6 * dt) - self._to_u(t - 1e-6 * dt)) / (2e-6 * dt)
        step = math.sqrt(q) * se_t * du
        return step if math.isfinite(step) and step > 0 else 1.0

    def _wald_se(self) -> float:
        """The delta-method SE of the value profiled, at the estimate (NaN if none)."""
        z = self.points[0].z
        _, _, h, _ = self.objective.evaluate(z)
        _, a, _ = self._constraint(z, 0.0)
        try:
            cov = linalg.inv(-0.5 * (h + h.T))
        except (linalg.LinAlgError, ValueError):
            return math.nan
        return math.sqrt(max(float(a @ cov @ a), 0.0))

    def interval(self, q: float, level: float) -> ProfileInterval:
        lower, note_lo = self._endpoint(-1, q)
        upper, note_hi = self._endpoint(+1, q)
        notes = []
        for side, note in (("lower", note_lo), ("upper", note_hi)):
            if note:
                notes.append(f"{side}: {note}")
        return ProfileInterval(
            self.label,
            self.user(self.estimate),
            self.user(lower),
            self.user(upper),
            level,
            "; ".join(notes),
        )


class _DerivedProfiler(_Profiler):
    """Constrained maxima of the log-likelihood along one element g of a Deterministic.

    The constraint is g(z) = t, with g's exact gradient and Hessian
    (:class:`~ppl_mle.inference.derived.DerivedFunctions`); the fit is interior (see
    :func:`_no_derived_profile`) and in the model's own units. Nothing says where g is
    defined or bounded, so the search runs on t = ĝ + s·sinh(u), s the delta-method SE:
    linear near the estimate, exponential far from it, where an unbounded profile settles
    (:attr:`_Profiler.open_range`).
    """

    open_range = True
    # Fewer halvings and Newton steps: a value beyond g's range is not approached for long.
    max_depth = 12
    max_steps = 20

    def __init__(self, result: FitRecord, label: str) -> None:
        self.label = label
        self.n_obs = result.n_obs
        self.objective = result.objective
        self.functions = derived_functions(result)
        self.index = self.functions.labels.index(label)
        self.boundary = False
        self.offset, self.unit, self.loglik_offset = 0.0, 1.0, 0.0
        self.estimate = self.functions.estimates[label]
        self.loglik_hat = float(result.loglik)
        self.lower_bound, self.upper_bound = -math.inf, math.inf
        self._first_points(np.asarray(result.z, dtype=np.float64))
        se = self._wald_se()
        self.scale = se if math.isfinite(se) and se > 0 else max(abs(self.estimate), 1.0)

    def _constraint(self, z: np.ndarray, lam: float) -> tuple[float, np.ndarray, np.ndarray]:
        values, grad, hess = self.functions(z, self.index)
        return float(values[self.index]), grad, lam * hess

    def _meets(self, psi: float, t: float) -> bool:
        # Near a pole of g (cv = sigma/mu at mu → 0) a KKT step tiny in standard errors of
        # z can leave g far from t, even across the pole: g itself must be close.
        return abs(psi - t) <= _CONSTRAINT_RTOL * (abs(t) + self.scale)

    def _step_size(self, step: np.ndarray, psi: float, t: float) -> float:
        # The distance to g = t counts too, relative to t: converged (NOISE_FLOOR_SE) once
        # g is within the tolerance of :meth:`_meets`.
        miss = abs(psi - t) / (abs(t) + self.scale) * (NOISE_FLOOR_SE / _CONSTRAINT_RTOL)
        return max(super()._step_size(step, psi, t), miss)

    def _to_t(self, u: float) -> float:
        with np.errstate(over="ignore"):
            return self.estimate + self.scale * float(np.sinh(u))

    def _to_u(self, t: float) -> float:
        return float(np.arcsinh((t - self.estimate) / self.scale))

    def _settled(self, t: float, deviance: float, previous: float, q: float) -> bool:
        far = abs(t - self.estimate) > _FAR_SE * self.scale
        return far and deviance < q and abs(deviance - previous) <= _SETTLED * q


class _KKTNewton:
    """The steps of :meth:`_Profiler._newton`: whole Newton steps on the KKT system at ψⱼ = t."""

    def __init__(self, profiler: _Profiler, t: float, z: np.ndarray, lam: float) -> None:
        self.profiler, self.t, self.z, self.lam = profiler, t, z, lam
        self.loglik = self.psi = math.nan
        self.step = np.zeros(z.size + 1)

    def propose(self) -> float | None:
        matrix, residual, self.psi, self.loglik = self.profiler._kkt(self.z, self.lam)
        if not (np.all(np.isfinite(matrix)) and np.all(np.isfinite(residual))):
            return None
        residual[-1] = self.psi - self.t
        step = _solve(matrix, -residual)
        if step is None:
            return None
        self.step = step
        return self.profiler._step_size(step[:-1], self.psi, self.t)

    def advance(self, size: float) -> float | None:
        if size > _KKT_DIVERGED_SE:
            return None
        self.z, self.lam = self.z + self.step[:-1], self.lam + float(self.step[-1])
        return 1.0


def _solve(matrix: np.ndarray, rhs: np.ndarray) -> np.ndarray | None:
    """Solve the KKT system; None if singular.

    Near the edge of the support (a probability profiled at 1e-12) the system is
    ill-conditioned but still gives a usable Newton step: SciPy's warning about it is not
    for the user, and convergence is checked anyway.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        try:
            out = linalg.solve(matrix, rhs)
        except (linalg.LinAlgError, ValueError):
            return None
    return out if np.all(np.isfinite(out)) else None
