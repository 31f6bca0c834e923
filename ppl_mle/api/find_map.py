"""``find_MAP``: a drop-in replacement of ``pymc.find_MAP`` whose answer is verified.

Same arguments, same order, same return as ``pymc.find_MAP``: a dict of numpy arrays by
variable name (the free variables' values, their transformed values and every
``pm.Deterministic``), or ``(dict, optimizer_result)`` with ``return_raw=True``. The mode
is found by :func:`ppl_mle.fit_mle` with ``estimate="map"`` (the model as given, priors
and all, as PyMC does) and verified there; what ``fit_mle`` cannot do (optimise a subset
of the variables, discrete variables, a model without gradient, a custom scipy method or
scipy options...) is handed to ``pymc.find_MAP`` itself, whose answer is then returned
unchanged. :func:`find_MAP`'s docstring lists exactly when.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, overload

import numpy as np
import pymc as pm
from pymc.initial_point import make_initial_point_fn
from pymc.model.transform.conditioning import remove_value_transforms
from pymc.util import get_default_varnames, get_value_vars_from_user_vars
from pymc.vartypes import discrete_types, typefilter
from pytensor.gradient import NullTypeGradError
from scipy.optimize import OptimizeResult

from ppl_mle.api.fit_mle import fit_mle
from ppl_mle.api.result import MLEResult
from ppl_mle.core.errors import DataError, ModelError
from ppl_mle.core.methods import DERIVATIVE_FREE_METHODS, GRADIENT_METHODS, NEWTON_METHODS

try:  # PyMC 5.2x
    from pymc.progress_bar import default_progress_theme
except ImportError:  # PyMC before 5.2x keeps it in pymc.util
    from pymc.util import default_progress_theme

__all__ = ["find_MAP"]

_log = logging.getLogger(__name__)

#: The methods fit_mle runs, in lower case (scipy, hence pymc, ignores the case).
_FIT_METHODS = {m.lower() for m in GRADIENT_METHODS + NEWTON_METHODS + DERIVATIVE_FREE_METHODS}

#: The errors of a model whose gradient cannot be built, caught by pymc.find_MAP too.
_NO_GRADIENT = (NotImplementedError, NullTypeGradError)

Point = dict[str, np.ndarray]


@overload
def find_MAP(
    start: Mapping[Any, Any] | None = None,
    vars: Sequence[Any] | None = None,
    method: str | Callable[..., Any] = "L-BFGS-B",
    return_raw: Literal[False] = False,
    include_transformed: bool = True,
    progressbar: bool = True,
    progressbar_theme: Any = default_progress_theme,
    maxeval: int = 5000,
    model: pm.Model | None = None,
    *args: Any,
    seed: int | None = None,
    **kwargs: Any,
) -> Point: ...


@overload
def find_MAP(
    start: Mapping[Any, Any] | None,
    vars: Sequence[Any] | None,
    method: str | Callable[..., Any],
    return_raw: Literal[True],
    include_transformed: bool = True,
    progressbar: bool = True,
    progressbar_theme: Any = default_progress_theme,
    maxeval: int = 5000,
    model: pm.Model | None = None,
    *args: Any,
    seed: int | None = None,
    **kwargs: Any,
) -> tuple[Point, Any]: ...


@overload
def find_MAP(
    start: Mapping[Any, Any] | None = None,
    vars: Sequence[Any] | None = None,
    method: str | Callable[..., Any] = "L-BFGS-B",
    *,
    return_raw: Literal[True],
    include_transformed: bool = True,
    progressbar: bool = True,
    progressbar_theme: Any = default_progress_theme,
    maxeval: int = 5000,
    model: pm.Model | None = None,
    seed: int | None = None,
    **kwargs: Any,
) -> tuple[Point, Any]: ...


@overload
def find_MAP(
    start: Mapping[Any, Any] | None = None,
    vars: Sequence[Any] | None = None,
    method: str | Callable[..., Any] = "L-BFGS-B",
    return_raw: bool = False,
    include_transformed: bool = True,
    progressbar: bool = True,
    progressbar_theme: Any = default_progress_theme,
    maxeval: int = 5000,
    model: pm.Model | None = None,
    *args: Any,
    seed: int | None = None,
    **kwargs: Any,
) -> Point | tuple[Point, Any]: ...


def find_MAP(
    start: Mapping[Any, Any] | None = None,
    vars: Sequence[Any] | None = None,
    method: str | Callable[..., Any] = "L-BFGS-B",
    return_raw: bool = False,
    include_transformed: bool = True,
    progressbar: bool = True,
    progressbar_theme: Any = default_progress_theme,
    maxeval: int = 5000,
    model: pm.Model | None = None,
    *args: Any,
    seed: int | None = None,
    **kwargs: Any,
) -> Point | tuple[Point, Any]:
    """Maximum a posteriori point of a model, as ``pymc.find_MAP``, verified.

    A drop-in replacement of ``pymc.find_MAP``: the same arguments in the same order and
    the same return. The model is fitted as given, priors and all (its posterior mode, with
    no Jacobian term, as PyMC does), by :func:`ppl_mle.fit_mle` with ``estimate="map"``:
    ``pymc.find_MAP`` runs the optimizer with tolerances near machine precision, exact
    Newton steps polish its point, and the point is verified (gradient, negative definite
    Hessian, the Newton step left). A point that cannot be vouched for gives a
    :class:`~ppl_mle.ConvergenceWarning` that says why and points at the caller's line.

    Parameters
    ----------
    start : dict, optional
        Starting values by variable name (or variable), natural (``{"sigma": 2.0}``) or
        transformed (``{"sigma_log__": 0.7}``). By default the model's initial point.
        With ``vars``, the values at which the variables not optimised are held.
    vars : list of TensorVariable, optional
        The free variables (or their value variables) to optimise. By default every
        continuous free variable.
    method : str or callable
        The scipy method: ``"L-BFGS-B"``, ``"BFGS"``, ``"CG"``, ``"TNC"``, ``"SLSQP"``,
        ``"Newton-CG"``, ``"trust-exact"``, ``"Nelder-Mead"``, ``"Powell"`` (any case), or
        ``"Newton"`` (:func:`ppl_mle.core.newton.newton_minimize`, which ``pymc.find_MAP``
        does not know). Any other method, or a callable, is run by ``pymc.find_MAP``.
    return_raw : bool
        Also return the optimizer's result.
    include_transformed : bool
        Include the transformed values of the free variables (``sigma_log__``).
    progressbar : bool
        Show find_MAP's progress bar.
    progressbar_theme : rich.theme.Theme
        The progress bar's theme; used where ``pymc.find_MAP`` runs the fit on its own
        (below), the verified fit draws its bar with PyMC's default theme.
    maxeval : int
        Most evaluations of the log-density each run of the optimizer may spend.
    model : pymc.Model, optional
        By default the model of the enclosing ``with pm.Model():`` block.
    *args, **kwargs
        Extra arguments of ``scipy.optimize.minimize``; given any, ``pymc.find_MAP`` runs
        the fit (below).
    seed : int, optional
        Seed of the model's random initial values (``initval="prior"``), as in PyMC;
        without them it changes nothing.

    Returns
    -------
    dict of str to numpy.ndarray
        The value at the mode of every free variable, of its transformed value when
        ``include_transformed``, and of every ``pm.Deterministic``. Where the mode is on
        a bound of a support (a probability of 0), the natural value is the bound exactly
        and the transformed value infinite or NaN: it has none.
    tuple of (dict, scipy.optimize.OptimizeResult or None)
        With ``return_raw=True``. From the verified fit, an ``OptimizeResult`` with ``x``
        (the transformed free variables, flattened in the model's order, as PyMC's),
        ``fun`` and ``jac`` (minus the log-density without Jacobian and its gradient at
        ``x``), ``success`` (the point was verified), ``status`` (0 if verified, else 1),
        ``message`` (why, or why not), ``nit``, ``nfev``, ``method`` and ``fit_result``
        (the whole :class:`~ppl_mle.MLEResult`); None, as from PyMC, when the optimizer
        stopped at ``maxeval``.

    Raises
    ------
    TypeError
        No model given and no model in context.
    ValueError
        The model has no unobserved continuous variable (PyMC's error).

    Notes
    -----
    ``pymc.find_MAP`` itself runs the fit, and its answer is returned unchanged and
    unverified (a message logged at warning level on the ``ppl_mle.api.find_map`` logger
    says why; no Python warning, as from PyMC), exactly when:

    - ``vars`` is given and is not the set of every continuous free variable (a subset
      optimised with the others held at ``start``, or intermediate variables, whose
      inputs PyMC optimises instead);
    - the model has discrete free variables (PyMC holds them at ``start``, or optimises
      them with Powell's method when ``vars`` names them), or no continuous one (PyMC's
      ``ValueError``);
    - ``method`` is a callable or a scipy method ``fit_mle`` does not run (e.g.
      ``"trust-constr"``, ``"COBYLA"``);
    - extra arguments for ``scipy.optimize.minimize`` are given (``*args``, ``**kwargs``,
      e.g. ``options=`` or ``tol=``);
    - :func:`ppl_mle.fit_mle` refuses the model (:class:`~ppl_mle.ModelError` or
      :class:`~ppl_mle.DataError`: observed data with missing values, which PyMC
      imputes; a start where the log-density is not finite, where PyMC raises its own
      error; a per-group model with a method other than Newton; ``maxeval`` not a
      positive integer...);
    - the log-density has no gradient or no Hessian (an ``Op`` without ``grad``, where
      PyMC falls back to Powell's method).

    Examples
    --------
    >>> import pymc as pm
    >>> import ppl_mle
    >>> with pm.Model():  # doctest: +SKIP
    ...     mu = pm.Flat("mu")
    ...     sigma = pm.HalfFlat("sigma")
    ...     pm.Normal("y", mu, sigma, observed=[1.0, 2.0, 4.0])
    ...     point = ppl_mle.find_MAP(progressbar=False)
    >>> point["mu"], point["sigma"]  # doctest: +SKIP
    (array(2.33333333), array(1.24721913))
    """
    model = pm.modelcontext(model)
    reason = _fallback_reason(model, vars, method, args, kwargs)
    if reason is None:
        assert isinstance(method, str)  # a callable is a fallback
        try:
            result = fit_mle(
                model,
                method=method,
                start=_start_for(model, start, seed),
                maxeval=maxeval,
                estimate="map",
                on_failure="warn",
                progressbar=bool(progressbar),
            )
        except (ModelError, DataError) as exc:
            reason = f"fit_mle cannot fit it: {exc}"
        except _NO_GRADIENT as exc:
            reason = f"its log-density has no gradient or Hessian ({exc})"
        else:
            return _answer(model, result, include_transformed, return_raw)
    _log.warning("find_MAP: pymc.find_MAP runs this fit, unverified by ppl_mle: %s", reason)
    # mypy: pymc.find_MAP is untyped (Any)
    return pm.find_MAP(  # type: ignore[no-any-return]
        start,
        vars,
        method,
        return_raw,
        include_transformed,
        progressbar,
        progressbar_theme,
        maxeval,
        model,
        *args,
        seed=seed,
        **kwargs,
    )


def _fallback_reason(
    model: pm.Model,
    vars: Sequence[Any] | None,
    method: Any,
    args: tuple[Any, ...],
    kwargs: Mapping[str, Any],
) -> str | None:
    """Why ``pymc.find_MAP`` must run the fit itself, or None when fit_mle can."""
    if args or kwargs:
        given = [repr(a) for a in args] + [f"{k}=" for k in kwargs]
        return f"extra arguments for scipy.optimize.minimize were given ({', '.join(given)})."
    if not isinstance(method, str) or method.lower() not in _FIT_METHODS:
        return f"method {method!r} is not one that fit_mle runs."
    continuous = list(model.continuous_value_vars)
    if not continuous:
        return "the model has no unobserved continuous variables."
    discrete = list(typefilter(model.value_vars, discrete_types))
    if discrete:
        names = [v.name for v in discrete]
        return f"the model has discrete free variables {names}."
    if vars is not None:
        try:
            chosen = get_value_vars_from_user_vars(vars, model)
        except ValueError:
            return "`vars` names variables that are not free variables of the model."
        if set(chosen) != set(continuous):
            return "`vars` optimises some of the free variables only, the others held fixed."
    return None


def _start_for(model: pm.Model, start: Any, seed: int | None) -> Any:
    """The start for fit_mle: names for keys, and PyMC's seeded draws of random initvals."""
    if isinstance(start, Mapping):
        start = {getattr(key, "name", key): value for key, value in start.items()}
    initvals = model.rvs_to_initial_values.values()
    if seed is None or not any(isinstance(v, str) and v == "prior" for v in initvals):
        return start
    # The point pymc.find_MAP starts from: the seed draws the initial values from the prior.
    point = make_initial_point_fn(
        model=model, jitter_rvs=set(), return_transformed=True, overrides=start
    )(seed)
    return {name: np.asarray(value) for name, value in point.items()}


def _answer(
    model: pm.Model, result: MLEResult, include_transformed: bool, return_raw: bool
) -> Point | tuple[Point, Any]:
    """pymc.find_MAP's dict (and raw result) at the verified point."""
    point = {v.name: np.asarray(result.unconstrained[v.name]) for v in model.value_vars}
    outs = list(get_default_varnames(model.unobserved_value_vars, include_transformed))
    # pymc.find_MAP's optimizer result is None when it stopped at maxeval.
    stopped = result.n_iterations is None and result.n_evaluations is None
    with_raw = return_raw and not stopped
    extra = [model.logp(jacobian=False), model.dlogp(jacobian=False)] if with_raw else []
    values = model.compile_fn(outs + extra, inputs=model.value_vars)(point)
    answer: Point = {}
    for var, value in zip(outs, values[: len(outs)], strict=True):
        value = np.asarray(value)
        if var.name in result.estimates:  # the verified value itself, not a round trip
            estimate = np.asarray(result.estimates[var.name], dtype=value.dtype)
            value = estimate.reshape(value.shape).copy()
        answer[var.name] = value
    if not with_raw:
        return (answer, None) if return_raw else answer
    logp, dlogp = values[len(outs) :]
    x = np.concatenate([np.ravel(point[v.name]) for v in model.continuous_value_vars])
    jac = -np.array(dlogp, dtype=np.float64)
    fun = -float(logp)
    if not np.all(np.isfinite(x)):
        # On the boundary of a support the transformed coordinates are infinite (or NaN):
        # the log-density there is that of the natural values, and there is no gradient.
        fun = -_natural_logp(model, result.estimates)
        jac[~np.isfinite(x)] = np.nan
    raw = OptimizeResult(
        x=x,
        fun=fun,
        jac=jac,
        success=result.converged,
        status=0 if result.converged else 1,
        message=result.message,
        nit=result.n_iterations,
        nfev=result.n_evaluations,
        method=result.method,
        fit_result=result,
    )
    return answer, raw


def _natural_logp(model: pm.Model, estimates: Mapping[str, Any]) -> float:
    """The log-density without Jacobian at natural values, e.g. on a bound of a support."""
    plain = remove_value_transforms(model)
    logp = plain.compile_logp(jacobian=False)
    return float(logp({rv.name: np.asarray(estimates[rv.name]) for rv in plain.free_RVs}))
