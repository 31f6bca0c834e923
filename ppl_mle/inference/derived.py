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
from ppl_mle.fit.cache import computed
from ppl_mle.fit.compiled import STRUCTURES, AbstractGraph, abstract_data, compile_function
from ppl_mle.fit.held import HeldObjective
from ppl_mle.fit.record import FitRecord, parameter_labels
from ppl_mle.inference.uncertainty import Uncertainty, uncertainty, z_quantile
from ppl_mle.model._pytensor import PYTENSOR_LOCK
from ppl_mle.model.float64 import in_float64

__all__ = [
    "DerivedFunctions",
    "declared_deterministics",
    "derived_functions",
    "derived_quantities",
]

#: Up to this many coordinates the Hessian of a deterministic is compiled one gradient per
#: row; beyond, as PyTensor's ``jacobian`` of the gradient.
_UNROLLED_ROWS = 8

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
    deterministics = declared_deterministics(result)
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


def declared_deterministics(result: FitRecord, model: Any = None) -> list[Any]:
    """The deterministics of ``model`` (the fitted one), in the order the user declared them.

    A flat copy of a model, or a bootstrap's working copy, may list them otherwise.
    """
    deterministics = list((result.model if model is None else model).deterministics)
    declared = [d.name for d in getattr(result.source_model, "deterministics", ())]
    deterministics.sort(
        key=lambda d: declared.index(d.name) if d.name in declared else len(declared)
    )
    return deterministics


def _on_z(model: Any, objective: Any, deterministics: list[Any], flat: Any) -> list[Any]:
    """The deterministics' graphs in float64, on the flat vector ``flat`` of the objective.

    The value variables are replaced by slices of ``flat`` exactly as in
    :class:`~ppl_mle.fit.objective.Objective`, by the names of its slots.
    """
    by_name = {v.name: v for v in model.continuous_value_vars}
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
    return [pt.cast(g, "float64") for g in graphs]


def _evaluate(
    model: Any, objective: Any, deterministics: list[Any], z: np.ndarray
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Each deterministic and its Jacobian with respect to ``z`` (flattened), at ``z``.

    Compiled once per graph structure and kept with the compiled structures
    (:data:`~ppl_mle.fit.compiled.STRUCTURES`): a refit of the model, or another model
    with an equal graph and other data, compiles nothing.
    """
    with PYTENSOR_LOCK:  # graph building, one thread at a time
        flat = pt.vector("z", dtype="float64")
        outputs: list[Any] = []
        for g in _on_z(model, objective, deterministics, flat):
            outputs.append(g)
            outputs.append(jacobian(g.ravel(), flat, disconnected_inputs="ignore"))
        graph = abstract_data([flat], outputs)
    extra = "deterministic jacobians"
    fn = STRUCTURES.find(model, graph, extra)
    if fn is None:
        fn = compile_function(model, graph.inputs, list(graph.outputs))
        STRUCTURES.keep(model, graph, fn, extra)
    data = [d.get_value(borrow=True) for d in graph.data]
    with np.errstate(all="ignore"):
        evaluated = [np.asarray(out) for out in fn(np.asarray(z, dtype=np.float64), *data)]
    return evaluated[0::2], evaluated[1::2]


class DerivedFunctions:
    """The deterministics of a fit as functions of its ``z``, with exact derivatives.

    For the profile likelihood of one of them (:mod:`ppl_mle.inference.profile`): the
    value of every scalar element, and the gradient and Hessian of one, by PyTensor
    automatic differentiation in one compiled function (built on first use and kept with
    the compiled structures, :data:`~ppl_mle.fit.compiled.STRUCTURES`: a model with an
    equal graph and other data reuses it).

    Parameters
    ----------
    result : FitRecord
        A fit of a model with deterministics, in its own units.

    Attributes
    ----------
    labels : list of str
        One per scalar element, as the tables label them (``cv``, ``p[2]``, ``w[a]``).
    estimates : dict of str to float
        Each element at the estimate, by label.
    """

    def __init__(self, result: FitRecord) -> None:
        model = result.model
        objective = result.objective
        base = objective.base if isinstance(objective, HeldObjective) else objective
        self.size = base.size
        with PYTENSOR_LOCK:  # graph building, one thread at a time
            flat = pt.vector("z", dtype="float64")
            graph = abstract_data([flat], _on_z(model, base, declared_deterministics(result), flat))
            extra = ("deterministic derivatives", base.size)
            function = STRUCTURES.find(model, graph, extra)
            if function is None:
                function = _compile_derivatives(model, graph, base.size)
                STRUCTURES.keep(model, graph, function, extra)
        self._function = function
        self._data = graph.data
        z = objective.full(result.z) if isinstance(objective, HeldObjective) else result.z
        values = self._outputs(z, 0)[0]
        self.labels: list[str] = []
        for det, value in zip(declared_deterministics(result), values, strict=True):
            self.labels.extend(parameter_labels(det.name, np.shape(value), model))
        self.estimates = dict(
            zip(self.labels, np.concatenate([v.ravel() for v in values]).tolist(), strict=True)
        )

    def _outputs(self, z: np.ndarray, index: int) -> tuple[list[np.ndarray], Any, Any]:
        data = [d.get_value(borrow=True) for d in self._data]
        with np.errstate(all="ignore"):
            *values, grad, hess = self._function(np.asarray(z, dtype=np.float64), index, *data)
        return [np.asarray(v) for v in values], grad, hess

    def __call__(self, z: np.ndarray, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every element's value, and the gradient and Hessian of one element, at ``z``.

        Parameters
        ----------
        z : numpy.ndarray
            A point of the whole model's objective (held coordinates included).
        index : int
            The element differentiated, its position in :attr:`labels`.

        Returns
        -------
        values : numpy.ndarray
            g(z), shape (m,).
        grad : numpy.ndarray
            ∇gᵢ(z), shape (d,).
        hess : numpy.ndarray
            ∇²gᵢ(z), shape (d, d).
        """
        values, grad, hess = self._outputs(z, index)
        return (
            np.concatenate([v.ravel() for v in values]).astype(np.float64),
            np.asarray(grad, dtype=np.float64).reshape(self.size),
            np.asarray(hess, dtype=np.float64).reshape(self.size, self.size),
        )


def derived_functions(result: FitRecord) -> DerivedFunctions:
    """The fit's :class:`DerivedFunctions`, built once and kept on the result."""
    cache = computed(result)
    if "derived functions" not in cache:
        cache.setdefault("derived functions", DerivedFunctions(result))
    kept: DerivedFunctions = cache["derived functions"]
    return kept


def _compile_derivatives(model: Any, graph: AbstractGraph, size: int) -> Any:
    """(z, i, data…) → (each deterministic, ∇gᵢ, ∇²gᵢ) for an abstract graph of them."""
    z, i = graph.inputs[0], pt.scalar("i", dtype="int64")
    element = pt.concatenate([g.ravel() for g in graph.outputs])[i]
    grad: Any = pt.grad(element, z, disconnected_inputs="ignore")
    # Few coordinates: one gradient per row (a scan costs more to compile and to run).
    if size <= _UNROLLED_ROWS:
        rows: list[Any] = [pt.grad(grad[j], z, disconnected_inputs="ignore") for j in range(size)]
        hess = pt.stack(rows)
    else:
        hess = jacobian(grad, z, disconnected_inputs="ignore")
    return compile_function(model, [z, i, *graph.standins], [*graph.outputs, grad, hess])
