"""Fitting one model per group: find_MAP with a block-diagonal Newton method, every group verified.

The log-likelihood of a per-group model is a sum of one term per group, so its Hessian is
block-diagonal (plus a border where the groups share a σ). The fit:

1. **Working units.** Groups without an interior MLE are set aside and reported per group:
   a normal group of one row or of equal values with its own σ (σ̂ = 0 on the boundary,
   the likelihood unbounded), a categorical group that never shows some category (θ̂ = 0
   there, checked by the KKT conditions). The other groups are fitted on their statistics
   in working units (each group centred on its mean and divided by a power of two near its
   spread: exact, and every group then has the same scale).
2. **find_MAP.** ``pymc.find_MAP`` runs :func:`ppl_mle.core.newton.newton_minimize` with the
   Hessian as a :class:`~ppl_mle.core.grouped.BlockMatrix`: k + s Hessian-vector products
   (PyTensor autodiff) give every block at once, and a step costs O(groups). The start is
   not the closed form (half a standard deviation off the mean, 1.5 times the spread;
   add-one smoothed proportions), so the optimizer has real work to do.
3. **Verify every group.** At find_MAP's point, Newton steps through the exact blocks polish
   the point to the noise floor; each group is verified when its block is negative definite
   and its remaining Newton step is below ``VERIFY_TOL_SE`` standard errors. A random
   Hessian-vector product checks that the Hessian really is block-diagonal.
4. **Closed form.** Every group's estimate must agree with its own closed form (relative
   1e-10), or the group is reported as contradicting it.
5. **Uncertainty.** Standard errors come from the exact blocks of the inverse information
   and the exact Jacobian of the natural parameters (forward-mode products), per group.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from ppl_mle.core.errors import (
    BoundaryWarning,
    ConvergenceError,
    ConvergenceWarning,
    ModelError,
    find_stack_level,
)
from ppl_mle.core.grouped.blocks import BlockLayout, BlockMatrix
from ppl_mle.core.grouped.families import GroupedCategoricalFamily, GroupedNormalFamily
from ppl_mle.core.grouped.stats import GroupStats
from ppl_mle.core.newton import NewtonStatus, newton_iterate
from ppl_mle.core.tolerances import NOISE_FLOOR_SE, QUADRATIC_SE, VERIFY_TOL_SE
from ppl_mle.fit.objective import Objective, objective_for
from ppl_mle.fit.optimize import NEWTON_MAXITER, run_find_map
from ppl_mle.fit.record import frozen, read_only
from ppl_mle.fit.status import FitStatus
from ppl_mle.model._pytensor import no_creation_traces
from ppl_mle.model.grouped import GroupedFamily, GroupedModel, grouped_model_for

__all__ = ["GroupedFit", "fit_groups"]

#: Relative agreement with each group's closed form that a verified group must reach.
CLOSED_FORM_RTOL = 1e-10

_POLISH_STEPS = 20


@dataclass(frozen=True, eq=False)
class GroupedFit:
    """The verified MLE of every group: read-only, like :class:`~ppl_mle.fit.record.FitRecord`.

    Attributes
    ----------
    model : GroupedModel
        The model fitted.
    family : GroupedNormalFamily or GroupedCategoricalFamily
        Its statistics per group.
    estimates : dict of str to numpy.ndarray
        Natural estimates in the user's units: (G,) for ``mu``/``sigma`` per group,
        (G, k) for ``theta``, a 0-d array for a shared ``sigma``.
    standard_errors : dict of str to numpy.ndarray
        Delta-method standard errors from the exact observed information, same shapes
        (NaN on the boundary and for groups without an interior MLE).
    group_status : numpy.ndarray
        One :class:`FitStatus` per group (object array).
    reasons : numpy.ndarray
        Why a group is not ``VERIFIED`` ('' otherwise).
    status : FitStatus
        The fit's overall status: ``VERIFIED`` when every group is; ``BOUNDARY`` when the
        others are and some groups have no interior MLE; else the worst group's.
    newton_step_se : numpy.ndarray
        Each group's remaining Newton step at the estimate, in standard errors (NaN for
        groups set aside).
    closed_form_rdiff : numpy.ndarray
        Each group's largest relative difference from its closed form.
    loglik_groups : numpy.ndarray
        Each group's log-likelihood at the estimate (+inf where it is unbounded).
    method : str
        The optimizer find_MAP ran.
    n_iterations : int or None
        Its iterations.
    polish_steps : int
        Newton steps taken after find_MAP.
    message : str
        What happened, in words.
    estimate_kind : str
        ``"MLE"``, or ``"MAP"`` where it was asked for: the same numbers, the model's
        priors being flat.
    """

    model: GroupedModel
    family: GroupedFamily
    estimates: dict[str, np.ndarray]
    standard_errors: dict[str, np.ndarray]
    group_status: np.ndarray
    reasons: np.ndarray
    status: FitStatus
    newton_step_se: np.ndarray
    closed_form_rdiff: np.ndarray
    loglik_groups: np.ndarray
    method: str
    n_iterations: int | None
    polish_steps: int
    message: str
    estimate_kind: str = "MLE"

    @property
    def converged(self) -> bool:
        """Whether every group with an MLE was verified (see :attr:`status`)."""
        return self.status.converged

    @property
    def loglik(self) -> float:
        """The log-likelihood summed over the groups whose maximum is finite."""
        finite = np.isfinite(self.loglik_groups)
        return float(np.sum(self.loglik_groups[finite]))

    @property
    def groups(self) -> tuple[Any, ...]:
        """The group labels."""
        return self.family.groups

    @property
    def n_obs(self) -> int:
        """The number of observations, over all groups."""
        return int(self.family.n_obs)

    @property
    def n_params(self) -> int:
        """The number of free scalar parameters, over all groups.

        A shared sigma counts once; each group's k probabilities are k − 1 free.
        """
        sizes = sum(int(np.size(value)) for value in self.estimates.values())
        on_simplex = self.estimates["theta"].shape[0] if "theta" in self.estimates else 0
        return sizes - on_simplex


@dataclass(frozen=True)
class _Working:
    """The regular groups as a model to fit, and the map of its estimates back."""

    index: np.ndarray
    family: GroupedFamily
    offset: np.ndarray | None
    scale: np.ndarray | None


def fit_groups(
    model: GroupedModel,
    *,
    maxeval: int = 20_000,
    on_failure: Literal["warn", "raise"] = "warn",
    progressbar: bool = False,
) -> GroupedFit:
    """The MLE of every group of a per-group model, verified (see the module's steps).

    Parameters
    ----------
    model : GroupedModel
        From :func:`ppl_mle.normal` or :func:`ppl_mle.categorical` with ``groups=``.
    maxeval : int
        Most evaluations find_MAP may spend.
    on_failure : {"warn", "raise"}
        A group that cannot be verified: ``ConvergenceWarning``, or ``ConvergenceError``.
    progressbar : bool
        find_MAP's progress bar.

    Returns
    -------
    GroupedFit
    """
    if not model.intact:
        raise ModelError(
            "variables were added to this per-group model after its declaration: fit it "
            "with the groups' statistics as declared, or declare your own model."
        )
    family = model.family
    g = family.n_groups
    closed = family.closed_form()
    estimates = {name: np.array(value, dtype=np.float64) for name, value in closed.items()}
    ses = {name: np.full(np.shape(value), np.nan) for name, value in closed.items()}
    status = np.full(g, FitStatus.VERIFIED, dtype=object)
    reasons = np.array(family.degenerate_reason(), dtype=object)
    step_se = np.full(g, np.nan)
    rdiff = np.full(g, np.nan)
    working = _working(family)
    nit: int | None = None
    polish_steps = 0
    if working.index.size:
        outcome = _fit_working(working, maxeval, progressbar)
        nit, polish_steps = outcome.nit, outcome.polish_steps
        idx = working.index
        for name, value in outcome.estimates.items():
            if np.ndim(estimates[name]) == 0:  # a shared sigma
                estimates[name] = np.asarray(value)
                ses[name] = np.asarray(outcome.ses[name])
            else:
                estimates[name][idx] = value
                ses[name][idx] = outcome.ses[name]
        step_se[idx] = outcome.step_se
        verified = outcome.verified
        status[idx[~verified]] = FitStatus.NOT_CONVERGED
        reasons[idx[~verified]] = outcome.why[~verified]
        rdiff[idx] = _closed_form_rdiff(family, estimates, closed, idx)
        contradicts = verified & ~(rdiff[idx] <= CLOSED_FORM_RTOL)
        status[idx[contradicts]] = FitStatus.CONTRADICTS_CLOSED_FORM
        reasons[idx[contradicts]] = "verified, but not equal to its closed form"
    degenerate = family.degenerate
    if isinstance(family, GroupedNormalFamily):
        status[degenerate] = FitStatus.UNBOUNDED
        if family.per_group_sigma:
            estimates["sigma"][degenerate] = 0.0
        elif family.sigma is None and np.all(degenerate):
            estimates["sigma"] = np.asarray(0.0)
    else:
        kkt = family.kkt_holds(estimates["theta"])
        status[degenerate & kkt] = FitStatus.BOUNDARY
        status[degenerate & ~kkt] = FitStatus.NOT_CONVERGED
        boundary_ses = family.boundary_standard_errors(estimates["theta"])
        ses["theta"][degenerate & kkt] = boundary_ses[degenerate & kkt]
    overall = _overall(status)
    loglik_groups = family.loglik_groups(estimates)
    if isinstance(family, GroupedNormalFamily):
        loglik_groups = np.where(degenerate, np.inf, loglik_groups)
    message = _message(family, status, nit, polish_steps)
    fit = GroupedFit(
        model=model,
        family=family,
        estimates=frozen(estimates),
        standard_errors=frozen(ses),
        group_status=read_only(status),
        reasons=read_only(reasons),
        status=overall,
        newton_step_se=read_only(step_se),
        closed_form_rdiff=read_only(rdiff),
        loglik_groups=read_only(loglik_groups),
        method="Newton (block-diagonal)",
        n_iterations=nit,
        polish_steps=polish_steps,
        message=message,
    )
    _warn(fit, on_failure)
    return fit


def _working(family: GroupedFamily) -> _Working:
    if isinstance(family, GroupedNormalFamily):
        work = family.working()
        labels = tuple(family.groups[i] for i in work.index)
        sub = GroupedNormalFamily(labels, work.stats, work.sigma, family.common_sigma)
        return _Working(work.index, sub, work.offset, work.scale)
    index = np.flatnonzero(~family.degenerate)
    labels = tuple(family.groups[i] for i in index)
    sub_cat = GroupedCategoricalFamily(labels, family.categories, family.counts[index])
    return _Working(index, sub_cat, None, None)


@dataclass(frozen=True)
class _Outcome:
    estimates: dict[str, np.ndarray]
    ses: dict[str, np.ndarray]
    verified: np.ndarray
    why: np.ndarray
    step_se: np.ndarray
    nit: int | None
    polish_steps: int


def _fit_working(working: _Working, maxeval: int, progressbar: bool) -> _Outcome:
    """find_MAP and the block Newton polish on the regular groups, in working units."""
    with no_creation_traces():
        model = grouped_model_for(working.family)
        objective = objective_for(model)
    layout, natural = _layouts(objective, model, working.index.size)
    blocks = _BlockHessian(objective, layout)
    z0 = objective.from_point(_start(working.family))
    blocks.check_block_diagonal(z0)
    with no_creation_traces():
        run = run_find_map(
            objective,
            "Newton",
            z0,
            min(maxeval, NEWTON_MAXITER),
            progressbar,
            hessian=lambda x: -blocks(x),
        )
    polish = _Polish(objective, blocks, run.z)
    result = newton_iterate(
        polish, tol=NOISE_FLOOR_SE, stall_below=QUADRATIC_SE, max_steps=_POLISH_STEPS
    )
    z = polish.z
    h = blocks(z)
    g = objective.value_and_grad(z)[1]
    verified, why, step_se, cov_g, cov_s = _verify(h, g, layout)
    if result.status is NewtonStatus.NO_STEP:
        verified[:] = False
        why[:] = "no Newton step could be formed at find_MAP's point"
    values = objective.natural(z)
    ses = _natural_ses(objective, z, layout, natural, cov_g, cov_s, values)
    estimates, ses = _to_user_units(working, values, ses)
    return _Outcome(estimates, ses, verified, why, step_se, run.nit, result.steps)


@dataclass(frozen=True)
class _NaturalLayout:
    """Where each group's natural values sit in the flat natural vector."""

    names: tuple[str, ...]
    shapes: tuple[tuple[int, ...], ...]
    index: np.ndarray  # (G, m)
    shared: np.ndarray


def _layouts(
    objective: Objective, model: GroupedModel, g: int
) -> tuple[BlockLayout, _NaturalLayout]:
    """The block layout of z and of the natural values, from the variables' dims."""
    value_to_rv = {v.name: rv.name for rv, v in model.rvs_to_values.items()}
    group_cols: list[np.ndarray] = []
    shared: list[np.ndarray] = []
    for slot in objective.slots:
        dims = model.named_vars_to_dims.get(value_to_rv[slot.name]) or ()
        positions = np.arange(slot.start, slot.stop)
        if dims and dims[0] == "group":
            group_cols.append(positions.reshape(g, -1))
        else:
            shared.append(positions)
    layout = BlockLayout(
        np.concatenate(group_cols, axis=1),
        np.concatenate(shared) if shared else np.zeros(0, dtype=np.intp),
        objective.size,
    )
    values = objective.natural(np.zeros(objective.size))
    names, shapes, cols, nat_shared, offset = [], [], [], [], 0
    for name, value in values.items():
        size = int(np.size(value))
        positions = np.arange(offset, offset + size)
        names.append(name)
        shapes.append(np.shape(value))
        dims = model.named_vars_to_dims.get(name) or ()
        if dims and dims[0] == "group":
            cols.append(positions.reshape(g, -1))
        else:
            nat_shared.append(positions)
        offset += size
    natural = _NaturalLayout(
        tuple(names),
        tuple(shapes),
        np.concatenate(cols, axis=1),
        np.concatenate(nat_shared) if nat_shared else np.zeros(0, dtype=np.intp),
    )
    return layout, natural


class _BlockHessian:
    """The Hessian of the log-density as a :class:`BlockMatrix`, from k + s products."""

    def __init__(self, objective: Objective, layout: BlockLayout) -> None:
        self.objective, self.layout = objective, layout
        self.probes = layout.probes()

    def __call__(self, z: np.ndarray) -> BlockMatrix:
        products = np.stack([self.objective.hvp(z, p) for p in self.probes])
        return self.layout.assemble(products)

    def check_block_diagonal(self, z: np.ndarray) -> None:
        """Raise unless one random product agrees with the assembled blocks."""
        rng = np.random.default_rng(0)
        v = rng.standard_normal(self.layout.size)
        exact = self.objective.hvp(z, v)
        assembled = self(z).matvec(v)
        scale = float(np.max(np.abs(exact))) or 1.0
        if not float(np.max(np.abs(exact - assembled))) <= 1e-8 * scale:
            raise ModelError(
                "internal error: the Hessian of this per-group model is not block-diagonal "
                "by group; the per-group Newton method does not apply."
            )


class _Polish:
    """Newton steps through the block Hessian, sized in standard errors."""

    def __init__(self, objective: Objective, blocks: _BlockHessian, z: np.ndarray) -> None:
        self.objective, self.blocks = objective, blocks
        self.z = np.asarray(z, dtype=np.float64)
        self.step = np.zeros_like(self.z)

    def propose(self) -> float | None:
        f, g = self.objective.value_and_grad(self.z)
        h = self.blocks(self.z)
        if not (math.isfinite(f) and np.all(np.isfinite(g)) and h.is_finite()):
            return None
        try:
            self.step = (-h).solve(g)
            cov_g, cov_s = (-h).group_covariances()
        except np.linalg.LinAlgError:
            return None
        return float(np.max(_step_in_se(self.step, cov_g, cov_s, self.blocks.layout)))

    def advance(self, size: float) -> float | None:
        f0 = self.objective.value_and_grad(self.z)[0]
        for t in (1.0, 0.5, 0.25, 0.125):
            trial = self.z + t * self.step
            f = self.objective.value_and_grad(trial)[0]
            if size < QUADRATIC_SE or (math.isfinite(f) and f >= f0):
                self.z = trial
                return t
        return None


def _step_in_se(
    step: np.ndarray, cov_g: np.ndarray, cov_s: np.ndarray, layout: BlockLayout
) -> np.ndarray:
    """Each group's largest step component in standard errors (shared ones in every group)."""
    sg, ss = layout.split(step)
    with np.errstate(divide="ignore", invalid="ignore"):
        per = np.max(np.abs(sg) / np.sqrt(np.diagonal(cov_g, axis1=1, axis2=2)), axis=1)
        if ss.size:
            shared = float(np.max(np.abs(ss) / np.sqrt(np.diag(cov_s))))
            per = np.maximum(per, shared)
    return np.asarray(per)


def _verify(
    h: BlockMatrix, g: np.ndarray, layout: BlockLayout
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per group: verified?, why not, Newton step in SEs, and the covariance blocks."""
    n = layout.n_groups
    why = np.full(n, "", dtype=object)
    negative = -h
    eig = negative.group_eigenvalues()
    definite = np.all(eig > 0, axis=1)
    why[~definite] = "the Hessian block is not negative definite: not a maximum"
    if not np.all(definite):
        return (
            definite,
            why,
            np.full(n, np.nan),
            np.full((n, layout.k, layout.k), np.nan),
            np.full((layout.shared.size,) * 2, np.nan),
        )
    try:
        cov_g, cov_s = negative.group_covariances()
        step = negative.solve(g)
    except np.linalg.LinAlgError:
        why[:] = "the shared parameters' information is not positive definite"
        return (
            np.zeros(n, dtype=bool),
            why,
            np.full(n, np.nan),
            np.full((n, layout.k, layout.k), np.nan),
            np.full((layout.shared.size,) * 2, np.nan),
        )
    step_se = _step_in_se(step, cov_g, cov_s, layout)
    verified = step_se <= VERIFY_TOL_SE
    why[~verified] = "the Newton step left exceeds the tolerance: not converged"
    return verified, why, step_se, cov_g, cov_s


def _natural_ses(
    objective: Objective,
    z: np.ndarray,
    layout: BlockLayout,
    natural: _NaturalLayout,
    cov_g: np.ndarray,
    cov_s: np.ndarray,
    values: dict[str, np.ndarray],
) -> dict[str, np.ndarray]:
    """Delta-method SEs per group: J_g C_g J_gᵀ, J_g from forward-mode products."""
    k = layout.k
    pushed = np.stack([objective.natural_jvp(z, p) for p in layout.probes()])
    jac_g = np.stack([pushed[j][natural.index] for j in range(k)], axis=-1)  # (G, m, k)
    var_g = np.einsum("gmk,gkl,gml->gm", jac_g, cov_g, jac_g)
    flat = np.full(sum(int(np.prod(s, dtype=np.int64)) for s in natural.shapes), np.nan)
    flat[natural.index] = np.sqrt(np.maximum(var_g, 0.0))
    if layout.shared.size:
        jac_s = pushed[k:][:, natural.shared].T  # (m_s, s)
        var_s = np.einsum("ms,st,mt->m", jac_s, cov_s, jac_s)
        flat[natural.shared] = np.sqrt(np.maximum(var_s, 0.0))
    out, offset = {}, 0
    for name, shape in zip(natural.names, natural.shapes, strict=True):
        size = int(np.prod(shape, dtype=np.int64))
        out[name] = flat[offset : offset + size].reshape(shape)
        offset += size
    return out


def _to_user_units(
    working: _Working, values: dict[str, np.ndarray], ses: dict[str, np.ndarray]
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """μ = a + b·μ_w and σ = b·σ_w (their SEs times b); θ as it is."""
    if working.offset is None or working.scale is None:
        return values, ses
    a, b = working.offset, working.scale
    est = {"mu": a + b * values["mu"]}
    se = {"mu": b * ses["mu"]}
    if "sigma" in values:
        shared = np.ndim(values["sigma"]) == 0
        factor = b[0] if shared else b
        est["sigma"] = np.asarray(factor * values["sigma"])
        se["sigma"] = np.asarray(factor * ses["sigma"])
    return est, se


def _start(family: GroupedFamily) -> dict[str, np.ndarray]:
    """A start that is not the closed form: μ half a σ off, σ 1.5 times; smoothed θ."""
    if isinstance(family, GroupedCategoricalFamily):
        theta = (family.counts + 1.0) / (family.n[:, None] + family.k)
        logs = np.log(theta)
        return {"theta_simplex__": logs[:, :-1] - logs.mean(axis=1, keepdims=True)}
    st: GroupStats = family.stats
    if family.per_group_sigma:
        spread = st.sd_mle
    else:
        spread = np.full(st.n_groups, family.pooled_sd if family.sigma is None else family.sigma)
    start = {"mu": st.mean + 0.5 * spread}
    if family.sigma is None:
        log_spread = np.log(1.5 * spread)
        start["sigma_log__"] = log_spread if family.per_group_sigma else log_spread[:1].reshape(())
    return start


def _closed_form_rdiff(
    family: GroupedFamily,
    estimates: dict[str, np.ndarray],
    closed: dict[str, np.ndarray],
    index: np.ndarray,
) -> np.ndarray:
    """Each group's largest relative difference from its closed form.

    μ is compared on the scale of its group's spread (relative to |μ| that would fail for
    a mean near 0), σ relative to itself, θ absolutely (a probability is its own scale).
    """
    if isinstance(family, GroupedCategoricalFamily):
        diff = np.abs(estimates["theta"][index] - closed["theta"][index])
        return np.asarray(np.max(diff, axis=1))
    sigma = family.sigma_of(closed)[index]
    scale = np.maximum(np.abs(closed["mu"][index]), sigma)
    worst = np.abs(estimates["mu"][index] - closed["mu"][index]) / scale
    if "sigma" in closed:
        est_sigma = np.broadcast_to(estimates["sigma"], (family.n_groups,))[index]
        worst = np.maximum(worst, np.abs(est_sigma - sigma) / sigma)
    return np.asarray(worst)


def _overall(status: np.ndarray) -> FitStatus:
    order = (
        FitStatus.NOT_A_MAXIMUM,
        FitStatus.NOT_CONVERGED,
        FitStatus.CONTRADICTS_CLOSED_FORM,
    )
    for bad in order:
        if np.any(status == bad):
            return bad
    if np.any((status == FitStatus.UNBOUNDED) | (status == FitStatus.BOUNDARY)):
        return FitStatus.BOUNDARY
    return FitStatus.VERIFIED


def _listed(labels: tuple[Any, ...], mask: np.ndarray, limit: int = 5) -> str:
    idx = np.flatnonzero(mask)
    shown = ", ".join(repr(labels[i]) for i in idx[:limit])
    return f"{shown}{', …' if idx.size > limit else ''}"


def _message(
    family: GroupedFamily,
    status: np.ndarray,
    nit: int | None,
    polish_steps: int,
) -> str:
    g = family.n_groups
    verified = int(np.sum(status == FitStatus.VERIFIED))
    if nit is None and verified == 0:
        parts = [f"No group of the {g} has an interior MLE: find_MAP had nothing to fit."]
    else:
        parts = [_verified_sentence(verified, g, nit, polish_steps)]
    for state, what in (
        (
            FitStatus.UNBOUNDED,
            "have one row or equal values: sigma = 0 on the boundary, "
            "the likelihood unbounded (no interior MLE)",
        ),
        (
            FitStatus.BOUNDARY,
            "have categories they never show: theta = 0 there, on the "
            "boundary (KKT conditions hold)",
        ),
        (FitStatus.NOT_CONVERGED, "could not be verified"),
        (FitStatus.CONTRADICTS_CLOSED_FORM, "disagree with their closed form"),
    ):
        mask = status == state
        if np.any(mask):
            parts.append(f"{int(mask.sum())} group(s) {what}: {_listed(family.groups, mask)}.")
    return " ".join(parts)


def _verified_sentence(verified: int, g: int, nit: int | None, polish_steps: int) -> str:
    return (
        f"{verified} of {g} groups verified (block Newton through find_MAP: "
        f"{nit if nit is not None else 0} iterations, {polish_steps} polish steps; each "
        f"group's Hessian block negative definite, its Newton step below {VERIFY_TOL_SE:g} SE, "
        f"its estimate equal to its closed form within {CLOSED_FORM_RTOL:g})."
    )


def _warn(fit: GroupedFit, on_failure: str) -> None:
    bad = fit.status not in (FitStatus.VERIFIED, FitStatus.BOUNDARY)
    if bad and on_failure == "raise":
        raise ConvergenceError(fit.message)
    if bad:
        warnings.warn(fit.message, ConvergenceWarning, stacklevel=find_stack_level())
    elif fit.status is FitStatus.BOUNDARY:
        warnings.warn(fit.message, BoundaryWarning, stacklevel=find_stack_level())
