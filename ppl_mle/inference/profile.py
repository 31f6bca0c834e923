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
positive parameter, logit for a probability).

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
        A label from ``result.params.index``: ``"mu"``, ``"sigma"``, ``"theta[a]"``.
    level : float
        Confidence level in (0, 1).

    Returns
    -------
    ProfileInterval

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
        A label from ``result.params.index``.
    values : array_like
        Values t of the parameter, inside its support.

    Returns
    -------
    numpy.ndarray
        max ℓ subject to the parameter = t, with all constants (NaN where not found).
    """
    profiler = _profiler(result, parameter)
    out = []
    for t in np.atleast_1d(np.asarray(values, dtype=float)):
        solved = profiler.solve(profiler.working(float(t)))
        out.append(math.nan if solved is None else solved.loglik + profiler.loglik_offset)
    return np.asarray(out)


def _checked_labels(result: FitRecord, parameter: str) -> list[str]:
    """The result's parameter labels, once its data and ``parameter`` are checked."""
    result.check_data_current()
    labels = list(result.estimates_frame().index)
    if not isinstance(parameter, str) or parameter not in labels:
        raise ModelError(f"no parameter {parameter!r} in this model; choose one of {labels}.")
    return labels


def _profiler(result: FitRecord, parameter: str) -> _Profiler:
    _checked_labels(result, parameter)
    # Kept on the fit (:func:`ppl_mle.fit.cache.computed`), by parameter label.
    cache = computed(result)
    key = ("profiler", parameter)
    if key not in cache:
        profiler = _Profiler(result, parameter)  # built outside the lock: it evaluates ℓ
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
    """Constrained maxima of the log-likelihood along one parameter."""

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
        self.points: list[_Point] = []
        if not boundary:
            z = np.asarray(result.z, dtype=np.float64)
            self.points.append(_Point(self.estimate, z, 0.0, self.loglik_hat))
        _, _, h, _ = self.objective.evaluate(
            self.points[0].z if self.points else self._boundary_start(self._inside(0.5))
        )
        d = np.abs(np.diag(h))
        self.z_scale = np.where(d > 0, 1.0 / np.sqrt(np.where(d > 0, d, 1.0)), 1.0)

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
        if point is None and depth < 30:
            # Too far for one prediction: approach t in two halves.
            if self.solve(0.5 * (near.t + t), depth + 1) is not None:
                return self.solve(t, depth + 1)
            return None
        if point is not None:
            self.points.append(point)
        return point

    def _multiplier(self, z: np.ndarray) -> float:
        _, g, _, _ = self.objective.evaluate(z)
        _, jac, _ = self.objective.natural_derivatives(z)
        a = jac[self.index]
        return float(a @ g / (a @ a)) if a @ a > 0 else 0.0

    def _kkt(self, z: np.ndarray, lam: float) -> tuple[np.ndarray, np.ndarray, float, float]:
        """KKT matrix, residual, constraint value and log-likelihood at (z, λ)."""
        _, g, h, loglik = self.objective.evaluate(z)
        weights = np.zeros(len(self.names))
        weights[self.index] = lam
        psi, jac, h_lam = self.objective.natural_derivatives(z, weights)
        a = jac[self.index]
        d = z.size
        matrix = np.zeros((d + 1, d + 1))
        matrix[:d, :d] = h - h_lam
        matrix[:d, d] = -a
        matrix[d, :d] = a
        residual = np.concatenate([g - lam * a, [psi[self.index]]])
        return matrix, residual, float(psi[self.index]), loglik

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
            solve, tol=NOISE_FLOOR_SE, stall_below=VERIFY_TOL_SE, max_steps=_KKT_MAX_STEPS
        )
        return _Point(t, solve.z, solve.lam, solve.loglik) if run.success else None

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
        for _ in range(200):
            value = excess(u_out)
            if math.isnan(value):
                return math.nan, f"profile search failed near {self._to_t(u_out):.6g}"
            if value > 0:
                break
            t_out = self._to_t(u_out)
            if t_out == bound or abs(u_out) > 1e300:
                return bound, "reaches the edge of the parameter's support"
            u_in, step = u_out, step * 2
            u_out = u_in + side * step
        else:
            return math.nan, "profile search failed"
        lo, hi = sorted((u_in, u_out))
        root = optimize.brentq(excess, lo, hi, xtol=1e-15, rtol=ROOT_RTOL, maxiter=200)
        return self._to_t(root), ""

    def _start_value(self, q: float) -> float:
        """A first value beyond a boundary estimate: about where the deviance is q."""
        lo, hi = self.lower_bound, self.upper_bound
        width = (hi - lo) if math.isfinite(hi - lo) else 1.0
        guess = q / (2.0 * max(self.n_obs, 1)) * width
        return self.estimate + guess if self.estimate == lo else self.estimate - guess

    def _u_step(self, q: float) -> float:
        """Wald half-width on the search scale, as the first bracketing step."""
        if self.boundary:
            return 1.0
        z = self.points[0].z
        _, _, h, _ = self.objective.evaluate(z)
        _, jac, _ = self.objective.natural_derivatives(z)
        try:
            cov = linalg.inv(-0.5 * (h + h.T))
        except (linalg.LinAlgError, ValueError):
            return 1.0
        a = jac[self.index]
        se_t = math.sqrt(max(float(a @ cov @ a), 0.0))
        t, dt = self.estimate, max(se_t, 1e-300)
        du = abs(self._to_u(t + 1e-6 * dt) - self._to_u(t - 1e-6 * dt)) / (2e-6 * dt)
        step = math.sqrt(q) * se_t * du
        return step if math.isfinite(step) and step > 0 else 1.0

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


class _KKTNewton:
    """The steps of :meth:`_Profiler._newton`: whole Newton steps on the KKT system at ψⱼ = t."""

    def __init__(self, profiler: _Profiler, t: float, z: np.ndarray, lam: float) -> None:
        self.profiler, self.t, self.z, self.lam = profiler, t, z, lam
        self.loglik = math.nan
        self.step = np.zeros(z.size + 1)

    def propose(self) -> float | None:
        matrix, residual, psi, self.loglik = self.profiler._kkt(self.z, self.lam)
        if not (np.all(np.isfinite(matrix)) and np.all(np.isfinite(residual))):
            return None
        residual[-1] = psi - self.t
        step = _solve(matrix, -residual)
        if step is None:
            return None
        self.step = step
        return float(np.max(np.abs(step[:-1]) / self.profiler.z_scale))

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
