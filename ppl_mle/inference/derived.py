"""Derived quantities of an MLE: the model's ``pm.Deterministic`` variables, with SEs.

``pymc.find_MAP`` returns the deterministics of a model (``ratio = b / a``) beside its free
variables. :func:`derived_quantities` gives them for a verified fit: each deterministic
g(ψ) evaluated at the MLE (invariance: the MLE of g(ψ) is g(ψ̂)), and its standard error by
the delta method, sqrt(diag(J C Jᵀ)), where C is the inverse observed information in the
unconstrained coordinates ``z`` the fit optimised and J = ∂g/∂z is the exact Jacobian by
PyTensor automatic differentiation (never finite differences). The deterministic's graph is
rebuilt on the value variables of the fitted model (``result.model``, the flat copy of a
model with priors, which keeps its deterministics) and those on slices of one flat ``z``, in
the layout of :class:`~ppl_mle.fit.objective.Objective`.

Where the fit has no standard errors (not verified, information singular) the SEs and the
Wald intervals are NaN; :func:`~ppl_mle.inference.uncertainty.uncertainty` says why.
Estimates held on a bound of their support (:class:`~ppl_mle.fit.held.HeldObjective`) stay
fixed there: a deterministic's SE then comes from the free coordinates alone.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytensor
import pytensor.tensor as pt
from pytensor.gradient import jacobian

from ppl_mle.core.errors import ModelError
from ppl_mle.fit.compiled import compile_function
from ppl_mle.fit.held import HeldObjective
from ppl_mle.fit.record import FitRecord, parameter_labels
from ppl_mle.inference.uncertainty import Uncertainty, uncertainty, z_quantile
from ppl_mle.model.float64 import in_float64

__all__ = ["derived_quantities"]

_COLUMNS = ["estimate", "se", "wald_lower", "wald_upper"]


def derived_quantities(
    result: FitRecord, level: float = 0.95, *, precomputed: Uncertainty | None = None
) -> pd.DataFrame:
    """Every ``pm.Deterministic`` of the fitted model at the MLE, with its delta-method SE.

    Parameters
    ----------
    result : FitRecord
        A fit from :func:`ppl_mle.fit_mle`.
    level : float
        Confidence level of the Wald intervals, in (0, 1).
    precomputed : Uncertainty, optional
        The fit's uncertainty when already computed (:meth:`MLEResult.uncertainty`);
        computed here otherwise (with its warning when there are no standard errors).

    Returns
    -------
    pandas.DataFrame
        One row per scalar element of each deterministic, labelled like the parameters
        (``ratio``, ``w[0]``, ``w[a]`` with coords), columns ``estimate``, ``se``,
        ``wald_lower`` and ``wald_upper`` (estimate ± z·se). Empty, with these columns,
        for a model without deterministics.

    Raises
    ------
    ModelError
        The model's data were replaced after the fit, or the fit worked in other units
        than the model's own (a model declared by :func:`ppl_mle.normal`, which has no
        deterministics).
    """
    q = z_quantile(level)
    result.check_data_current()
    model = result.model
    deterministics = list(model.deterministics)
    # In the order the user declared them (a flat copy may list them otherwise).
    declared = [d.name for d in getattr(result.source_model, "deterministics", ())]
    deterministics.sort(
        key=lambda d: declared.index(d.name) if d.name in declared else len(declared)
    )
    if not deterministics:
        return pd.DataFrame(
            {c: np.zeros(0) for c in _COLUMNS}, index=pd.Index([], name="parameter", dtype=str)
        )
    objective = result.objective
    if not objective.affine.identity:
        raise ModelError(
            "derived quantities need the fit in the model's own units; this fit worked in "
            "rescaled units (a model declared by ppl_mle.normal has no deterministics)."
        )
    z = np.asarray(result.z, dtype=np.float64)
    if isinstance(objective, HeldObjective):
        # Held coordinates stay at ±inf (estimates on a bound); the covariance is over the
        # free ones only.
        base, free = objective.base, objective.free
        full_z = objective.full(z)
    else:
        base, free = objective, np.arange(objective.size)
        full_z = z
    values, jac = _evaluate(model, base, deterministics, full_z)

    unc = precomputed if precomputed is not None else uncertainty(result)
    cov = unc.working_cov
    labels: list[str] = []
    estimates: list[np.ndarray] = []
    ses: list[np.ndarray] = []
    for det, value, jac_g in zip(deterministics, values, jac, strict=True):
        value = np.asarray(value, dtype=np.float64)
        labels.extend(parameter_labels(det.name, value.shape, model))
        estimates.append(value.ravel())
        if cov is None or cov.shape != (free.size, free.size):
            ses.append(np.full(value.size, np.nan))
            continue
        j = np.asarray(jac_g, dtype=np.float64).reshape(value.size, -1)[:, free]
        with np.errstate(all="ignore"):
            var = np.einsum("ij,jk,ik->i", j, cov, j)
        # No delta method about an infinite value (odds p/(1 − p) at p̂ = 1).
        ses.append(np.sqrt(np.where((var < 0.0) | ~np.isfinite(value.ravel()), np.nan, var)))
    estimate = np.concatenate(estimates)
    se = np.concatenate(ses)
    return pd.DataFrame(
        {
            "estimate": estimate,
            "se": se,
            "wald_lower": estimate - q * se,
            "wald_upper": estimate + q * se,
        },
        index=pd.Index(labels, name="parameter"),
    )


def _evaluate(
    model: Any, objective: Any, deterministics: list[Any], z: np.ndarray
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Each deterministic and its Jacobian with respect to ``z`` (flattened), at ``z``.

    The value variables are replaced by slices of one flat ``z`` exactly as in
    :class:`~ppl_mle.fit.objective.Objective`, by the names of its slots.
    """
    by_name = {v.name: v for v in model.continuous_value_vars}
    flat = pt.vector("z", dtype="float64")
    replace = {}
    for s in objective.slots:
        v = by_name.get(s.name)
        if v is None:
            raise ModelError(
                f"the fitted model has no value variable {s.name!r} of its objective: "
                "its deterministics cannot be evaluated at the estimate."
            )
        replace[v] = flat[s.start : s.stop].reshape(s.shape).astype(v.dtype)
    on_values = model.replace_rvs_by_values(deterministics)
    # In float64 throughout, as the objective (a constant like 3.0 is float32 in PyTensor).
    graphs = in_float64(pytensor.graph_replace(on_values, replace, strict=False))
    outputs: list[Any] = []
    for g in graphs:
        g = pt.cast(g, "float64")
        outputs.append(g)
        outputs.append(jacobian(g.ravel(), flat, disconnected_inputs="ignore"))
    fn = compile_function(model, [flat], outputs)
    with np.errstate(all="ignore"):
        evaluated = [np.asarray(out) for out in fn(np.asarray(z, dtype=np.float64))]
    return evaluated[0::2], evaluated[1::2]
