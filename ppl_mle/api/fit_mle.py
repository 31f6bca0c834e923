"""``fit_mle``: the MLE of a PyMC model through ``pymc.find_MAP``, verified.

The steps, each visible in :class:`~ppl_mle.MLEResult` and each a module of
:mod:`ppl_mle.fit` (``fit_mle`` composes them):

1. **Start and scale** (:mod:`~ppl_mle.fit.start`, :mod:`~ppl_mle.fit.optimize`). Starting
   values come from the model's family (median and scaled MAD for the normal model: on the
   scale of the data, but not the closed form), from the user, or from the model's initial
   point. The exact Hessian at the start sets the scale of the derivative-free methods
   (Nelder-Mead's initial simplex, Powell's initial directions), so data such as 1e7 ± 0.1
   are as easy as data near 0.
2. **find_MAP** (:mod:`~ppl_mle.fit.optimize`) runs the chosen scipy optimizer with
   tolerances near machine precision.
3. **Verify and polish** (:mod:`~ppl_mle.fit.polish`, :mod:`~ppl_mle.fit.verify`). At
   find_MAP's point the exact gradient and Hessian give the Newton step to the maximum.
   Newton steps with the exact Hessian (a second look by another method) polish the point
   to the floating-point noise floor. The result is *converged* only if the Hessian is
   negative definite and the remaining Newton step is below ``VERIFY_TOL_SE`` standard
   errors. Otherwise a :class:`~ppl_mle.ConvergenceWarning` says why (or
   :class:`~ppl_mle.ConvergenceError` is raised with ``on_failure="raise"``).
4. **Boundaries** (:mod:`~ppl_mle.fit.boundary`, :mod:`~ppl_mle.fit.support_bound`). Where
   the family knows the MLE is on the boundary (a category never observed), that estimate is
   exactly 0 and the rest is verified in the interior. In any other model, estimates that
   find_MAP drove to a bound of their support are held there, the rest verified in the
   interior, and the KKT conditions checked; a :class:`~ppl_mle.BoundaryWarning` says which.
5. **Closed form and status** (:mod:`~ppl_mle.fit.analytic`, :mod:`~ppl_mle.fit.status`). A
   polished, verified fit must agree with its family's closed form; the outcome is a
   :class:`~ppl_mle.FitStatus`, and the message (:mod:`~ppl_mle.fit.message`) is rendered
   from it.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import fields
from typing import Any, Literal, overload

import numpy as np
import pymc as pm

from ppl_mle.api.grouped_result import GroupedResult
from ppl_mle.api.result import MLEResult
from ppl_mle.core.errors import (
    BoundaryWarning,
    ConvergenceError,
    ConvergenceWarning,
    IdentifiabilityWarning,
    ModelError,
    PrecisionWarning,
    find_stack_level,
)
from ppl_mle.core.progress import watched
from ppl_mle.core.tolerances import VERIFY_TOL_SE
from ppl_mle.fit.analytic import closed_form_contradiction
from ppl_mle.fit.grouped import fit_groups
from ppl_mle.fit.inputs import check_fit_arguments, model_in_context
from ppl_mle.fit.locate import locate_maximum
from ppl_mle.fit.loglik import count_observations
from ppl_mle.fit.message import fit_message
from ppl_mle.fit.objective import objective_for
from ppl_mle.fit.optimize import (
    DERIVATIVE_FREE_METHODS,
    GRADIENT_METHODS,
    NEWTON_METHODS,
    run_find_map,
)
from ppl_mle.fit.precision import coarse_data_note
from ppl_mle.fit.saddle import escape_saddle
from ppl_mle.fit.start import start_vector
from ppl_mle.fit.status import FitStatus
from ppl_mle.model._pytensor import no_creation_traces
from ppl_mle.model.compiled import CompiledModel
from ppl_mle.model.copies import derived_model
from ppl_mle.model.declarations import MLEModel, family_of
from ppl_mle.model.flat import flat_priors, has_flat_priors, model_copy
from ppl_mle.model.grouped import GroupedModel

__all__ = [
    "DERIVATIVE_FREE_METHODS",
    "GRADIENT_METHODS",
    "NEWTON_METHODS",
    "VERIFY_TOL_SE",
    "fit_mle",
]

_DEFAULT_MAXEVAL = 20_000

#: A per-group fit of this many groups or more shows find_MAP's progress bar by default
#: (where someone watches: a terminal or a notebook).
GROUPS_WITH_PROGRESS = 100_000


@overload
def fit_mle(
    model: MLEModel,
    method: str | None = None,
    start: Mapping[str, Any] | None = None,
    *,
    maxeval: int = ...,
    polish: bool = ...,
    on_failure: Literal["warn", "raise"] = ...,
    progressbar: bool | None = ...,
    estimate: Literal["mle", "map"] = ...,
) -> MLEResult: ...


@overload
def fit_mle(
    model: GroupedModel,
    method: str | None = None,
    start: Mapping[str, Any] | None = None,
    *,
    maxeval: int = ...,
    polish: bool = ...,
    on_failure: Literal["warn", "raise"] = ...,
    progressbar: bool | None = ...,
    estimate: Literal["mle", "map"] = ...,
) -> GroupedResult: ...


@overload
def fit_mle(
    model: pm.Model | None = None,
    method: str | None = None,
    start: Mapping[str, Any] | None = None,
    *,
    maxeval: int = ...,
    polish: bool = ...,
    on_failure: Literal["warn", "raise"] = ...,
    progressbar: bool | None = ...,
    estimate: Literal["mle", "map"] = ...,
) -> MLEResult: ...


def fit_mle(
    model: pm.Model | None = None,
    method: str | None = None,
    start: Mapping[str, Any] | None = None,
    *,
    maxeval: int = _DEFAULT_MAXEVAL,
    polish: bool = True,
    on_failure: Literal["warn", "raise"] = "warn",
    progressbar: bool | None = None,
    estimate: Literal["mle", "map"] = "mle",
) -> MLEResult | GroupedResult:
    """Maximum-likelihood estimate of a flat-prior PyMC model, verified.

    Parameters
    ----------
    model : pymc.Model, optional
        The model, e.g. from :func:`ppl_mle.normal` or :func:`ppl_mle.categorical`. Its
        ``logp`` (without Jacobian terms) is maximised; with flat priors that is the
        likelihood. By default the model of the enclosing ``with pm.Model():`` block, as
        for ``pymc.find_MAP``.
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
    progressbar : bool, optional
        Show find_MAP's progress bar. By default none, except for a per-group model of
        ``GROUPS_WITH_PROGRESS`` groups or more where someone watches (a terminal or a
        notebook).
    estimate : {"mle", "map"}
        For a model with proper priors: ``"mle"`` fits a copy with every prior replaced
        by a flat one on the same support (:func:`ppl_mle.flat_priors`), ``"map"`` the
        model as it is (its posterior mode). The result says which (``estimate_kind``).
        Models declared by :func:`ppl_mle.normal` and friends are flat already.

    Returns
    -------
    MLEResult or GroupedResult
        A :class:`GroupedResult` for a per-group model (:func:`ppl_mle.normal` or
        :func:`ppl_mle.categorical` with ``groups=``): every group fitted at once by
        find_MAP with a block-diagonal Newton method, and verified
        (:mod:`ppl_mle.fit.grouped`).

    Raises
    ------
    ModelError
        No model given and no ``with pm.Model():`` context, not a PyMC model, unknown
        method or start variable, discrete free variables, or a log-likelihood that is not
        finite at the start (the message names the variables whose log-density is not).
    ConvergenceError
        With ``on_failure="raise"``, when the maximum cannot be verified.

    Examples
    --------
    Inside a model's context, as with ``pymc.find_MAP`` (the priors are made flat):

    >>> import pymc as pm
    >>> import ppl_mle
    >>> with pm.Model():  # doctest: +SKIP
    ...     mu = pm.Normal("mu", 0, 10)
    ...     sigma = pm.HalfNormal("sigma", 5)
    ...     pm.Normal("y", mu, sigma, observed=[1.0, 2.0, 4.0])
    ...     result = ppl_mle.fit_mle()
    >>> result.params  # doctest: +SKIP
    parameter
    mu       2.333333
    sigma    1.247219
    Name: estimate, dtype: float64
    """
    model = model_in_context(model, "fit_mle")
    if isinstance(model, GroupedModel):
        if progressbar is None:  # a bar where someone waits for many groups
            progressbar = watched() and model.family.n_groups >= GROUPS_WITH_PROGRESS
        return _fit_grouped(model, method, start, maxeval, on_failure, progressbar, estimate)
    progressbar = bool(progressbar)
    method = check_fit_arguments(
        model, method, on_failure=on_failure, maxeval=maxeval, estimate=estimate
    )
    source = model
    flat = has_flat_priors(model)
    priors_replaced = estimate == "mle" and not flat
    if priors_replaced:
        # One flat copy per model, fed the model's current data (a refit compiles nothing).
        model = derived_model(model, "flat", flat_priors)
    elif not isinstance(model, CompiledModel):
        # Its priors kept, a copy all the same: find_MAP on the user's model would compile
        # its own functions at every fit.
        model = derived_model(model, "copy", model_copy)
    kind = "MLE" if (estimate == "mle" or flat) else "MAP"

    family = family_of(model)
    with no_creation_traces():
        objective = objective_for(model)
        z0 = start_vector(model, objective, family, start)
        run = run_find_map(objective, method, z0, maxeval, progressbar)
    found = locate_maximum(model, objective, family, run, polish=polish)
    escape = None
    hessian = found.check.hessian
    if (
        found.status is FitStatus.NOT_A_MAXIMUM
        and found.objective is objective
        and hessian is not None
    ):
        # A second look: find_MAP stopped at a saddle; restart it uphill from there.
        escape = escape_saddle(objective, found.z, hessian)
        if escape is not None:
            with no_creation_traces():
                second = run_find_map(objective, method, escape.z, maxeval, progressbar)
            again = locate_maximum(model, objective, family, second, polish=polish)
            # Kept if verified, or at least higher: its verdict then tells the truth about
            # the model (a flat ridge of maxima), not about where find_MAP first stopped.
            if again.status.converged or again.check.value > found.check.value:
                found, run = again, second
            else:
                escape = None
    # Polished to the noise floor, a verified estimate must also agree with the closed form
    # (an unpolished fit is vouched for only to VERIFY_TOL_SE standard errors).
    contradiction = None
    if found.status.converged and polish:
        contradiction = closed_form_contradiction(family, found.estimates, found.loglik, model)
    status = found.status if contradiction is None else FitStatus.CONTRADICTS_CLOSED_FORM
    message = fit_message(
        found,
        run,
        method,
        family,
        priors_replaced=priors_replaced,
        estimate_kind=kind,
        contradiction=contradiction,
        saddle=None if escape is None else escape.direction,
    )

    result = MLEResult(
        estimates=found.estimates,
        unconstrained=found.unconstrained,
        loglik=found.loglik,
        n_obs=count_observations(model, family),
        n_params=objective.size,
        method=method,
        n_iterations=run.nit,
        n_evaluations=run.nfev,
        grad_norm=found.check.grad_norm,
        newton_step_se=found.check.step_se,
        converged=status.converged,
        message=message,
        optimizer_success=run.success,
        optimizer_message=run.message,
        optimizer_estimates=run.natural,
        optimizer_shift_se=found.shift_se,
        polish_steps=found.polish_steps,
        on_boundary={k: np.asarray(v) for k, v in found.boundary.mask.items()},
        family=family,
        model=model,
        objective=found.objective,
        z=found.z,
        data_version=getattr(model, "data_version", 0),
        hessian=found.check.hessian,
        estimate_kind=kind,
        source_model=source,
        status=status,
    )
    if not result.converged:
        if on_failure == "raise":
            raise ConvergenceError(result.message)
        category = (
            IdentifiabilityWarning if status is FitStatus.NOT_IDENTIFIED else ConvergenceWarning
        )
        warnings.warn(result.message, category, stacklevel=find_stack_level())
    elif found.boundary.note:
        warnings.warn(
            f"{found.boundary.note} Is the support in the model what you meant?",
            BoundaryWarning,
            stacklevel=find_stack_level(),
        )
    coarse = coarse_data_note(family)
    if coarse is not None:
        warnings.warn(coarse, PrecisionWarning, stacklevel=find_stack_level())
    return result


def _fit_grouped(
    model: GroupedModel,
    method: str | None,
    start: Mapping[str, Any] | None,
    maxeval: int,
    on_failure: Literal["warn", "raise"],
    progressbar: bool,
    estimate: str,
) -> GroupedResult:
    """Every group of a per-group model (:func:`ppl_mle.fit.grouped.fit_groups`)."""
    if method not in (None, "Newton"):
        raise ModelError(
            f"a per-group model is fitted by find_MAP with the block-diagonal Newton method; "
            f"method={method!r} is not available for it."
        )
    if start is not None:
        raise ModelError("a per-group fit chooses its own start (it is not the closed form).")
    if on_failure not in ("warn", "raise"):
        raise ModelError(f"on_failure must be 'warn' or 'raise', not {on_failure!r}.")
    if estimate not in ("mle", "map"):
        raise ModelError(f"estimate must be 'mle' or 'map', not {estimate!r}.")
    fit = fit_groups(model, maxeval=maxeval, on_failure=on_failure, progressbar=progressbar)
    values = {f.name: getattr(fit, f.name) for f in fields(fit)}
    # The per-group model's priors are flat: its MAP is its MLE, named as asked.
    values["estimate_kind"] = estimate.upper()
    return GroupedResult(**values)
