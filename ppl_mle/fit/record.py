"""What a fit found: the frozen record of estimates, log-likelihood and verification.

The inference layer (:mod:`ppl_mle.inference`) computes from a record; the public
:class:`ppl_mle.MLEResult` adds those computations as methods.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ppl_mle.core.errors import ModelError
from ppl_mle.core.jsonable import json_value
from ppl_mle.fit.status import FitStatus

if TYPE_CHECKING:
    import pymc as pm

    from ppl_mle.core.families import Family
    from ppl_mle.fit.objective import Objective

__all__ = ["FitRecord", "FrozenDict", "at_vertex", "frozen", "parameter_labels", "read_only"]


class FrozenDict(dict[Any, Any]):
    """A ``dict`` that refuses every change: the mappings held by a frozen result.

    A subclass of ``dict`` (not ``types.MappingProxyType``), so that code expecting a
    dict, xarray and pickling keep working; every method that would change it raises
    ``TypeError``.
    """

    def _refuse(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError(
            "a fit's results are read-only; copy them first (dict(result.estimates), "
            "np.array(value)) to change them."
        )

    __setitem__ = __delitem__ = __ior__ = _refuse  # type: ignore[assignment]
    clear = pop = popitem = setdefault = update = _refuse  # type: ignore[assignment]

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenDict, (dict(self),))


def read_only(value: Any) -> Any:
    """A read-only copy of an array (other values unchanged)."""
    if not isinstance(value, np.ndarray):
        return value
    copy = np.array(value, copy=True)
    copy.flags.writeable = False
    return copy


def frozen(mapping: Any) -> Any:
    """A :class:`FrozenDict` of read-only copies of the arrays of ``mapping``."""
    if not isinstance(mapping, dict):
        return mapping
    return FrozenDict({k: read_only(v) for k, v in mapping.items()})


def _data_snapshot(*models: Any) -> tuple[tuple[Any, Any], ...]:
    """Each ``pm.Data`` container of the models, with the array it holds now."""
    pairs = []
    for model in models:
        for var in getattr(model, "data_vars", ()):
            if hasattr(var, "get_value"):
                pairs.append((var, var.get_value(borrow=True)))
    return tuple(pairs)


@dataclass(frozen=True, eq=False)
class FitRecord:
    """A maximum-likelihood estimate, with the evidence that it is one.

    The fields of :class:`ppl_mle.MLEResult`, which adds the computations of the inference
    layer as methods.

    Frozen all the way down: its mappings are :class:`FrozenDict` and its arrays are
    read-only copies, so ``result.estimates["mu"] += 1`` raises instead of changing it.

    Attributes
    ----------
    estimates : dict of str to numpy.ndarray
        MLE of each free variable in its natural (constrained) space: ``mu``, ``sigma``,
        ``theta``.
    unconstrained : dict of str to numpy.ndarray
        The same point in the unconstrained coordinates find_MAP optimises
        (``sigma_log__``, ``theta_simplex__``); infinite or NaN where an estimate is on the
        boundary of its support.
    loglik : float
        Log-likelihood at the estimate, with all constants.
    n_obs : int
        Number of observations.
    n_params : int
        Number of free parameters (the dimension of the unconstrained space).
    method : str
        The scipy optimizer find_MAP ran.
    n_iterations, n_evaluations : int or None
        Iterations and function evaluations reported by the optimizer (None when find_MAP
        stopped at ``maxeval`` and returned no optimizer result).
    grad_norm : float
        Euclidean norm of the gradient of the objective at the estimate (unconstrained
        coordinates, interior parameters).
    newton_step_se : float
        Size of the Newton step left at the estimate, in standard errors (the largest over
        parameters): how far the true maximum may still be. ``inf`` where the Hessian is not
        negative definite.
    converged : bool
        Whether the estimate was verified as a maximum: Hessian negative definite and
        ``newton_step_se`` below the tolerance of :func:`~ppl_mle.fit_mle`.
    message : str
        What was verified, or why the result cannot be vouched for.
    optimizer_success : bool
        What find_MAP's optimizer itself claimed (not evidence on its own).
    optimizer_message : str
        The optimizer's own message.
    optimizer_estimates : dict of str to numpy.ndarray
        The point find_MAP returned, before verification and polishing.
    optimizer_shift_se : float
        Distance from find_MAP's point to the returned estimate, in standard errors.
    polish_steps : int
        Newton steps (exact Hessian) taken from find_MAP's point.
    on_boundary : dict of str to numpy.ndarray
        Boolean mask, per variable, of estimates that lie exactly on the boundary of the
        parameter space (e.g. a category never observed has probability exactly 0).
    family : NormalFamily or CategoricalFamily or None
        The model's family, when it has one (enables :meth:`check_analytic`).
    model : pymc.Model
        The fitted model.
    objective : Objective
        The compiled log-density with exact derivatives the estimate was verified with.
    z : numpy.ndarray
        The estimate in the objective's unconstrained coordinates.
    data_version : int
        The model's ``data_version`` when it was fitted; the uncertainty methods refuse to
        run once the model's data have been replaced.
    hessian : numpy.ndarray or None
        The exact Hessian of the objective at ``z`` from the verification, reused for the
        standard errors.
    estimate_kind : str
        ``"MLE"`` (flat priors, or priors replaced by flat ones) or ``"MAP"`` (the
        model's own priors).
    source_model : pymc.Model or None
        The model the user passed; ``model`` is its flat copy when priors were replaced.
    status : FitStatus
        How the fit ended (``VERIFIED``, ``BOUNDARY``, ``NOT_CONVERGED``, ``SEPARATED``…);
        ``converged`` is ``status.converged``. Keyword-only.
    """

    estimates: dict[str, np.ndarray]
    unconstrained: dict[str, np.ndarray]
    loglik: float
    n_obs: int
    n_params: int
    method: str
    n_iterations: int | None
    n_evaluations: int | None
    grad_norm: float
    newton_step_se: float
    converged: bool
    message: str
    optimizer_success: bool
    optimizer_message: str
    optimizer_estimates: dict[str, np.ndarray] = field(repr=False)
    optimizer_shift_se: float
    polish_steps: int
    on_boundary: dict[str, np.ndarray] = field(repr=False)
    family: Family | None = field(repr=False)
    model: pm.Model = field(repr=False)
    objective: Objective = field(repr=False)
    z: np.ndarray = field(repr=False)
    data_version: int = field(default=0, repr=False)
    hessian: np.ndarray | None = field(default=None, repr=False)
    estimate_kind: str = "MLE"
    source_model: Any = field(default=None, repr=False)
    status: FitStatus = field(kw_only=True)
    _data: tuple[tuple[Any, Any], ...] = field(default=(), init=False, repr=False)

    def __post_init__(self) -> None:
        """Check the status against ``converged``, freeze the arrays, note the data the fit saw."""
        if self.status.converged != self.converged:
            raise ValueError(
                f"`converged={self.converged}` contradicts `status={self.status}`: a "
                "verified status is exactly a converged fit."
            )
        for name in ("estimates", "unconstrained", "optimizer_estimates", "on_boundary"):
            object.__setattr__(self, name, frozen(getattr(self, name)))
        for name in ("z", "hessian"):
            object.__setattr__(self, name, read_only(getattr(self, name)))
        models = [self.model] + ([self.source_model] if self.source_model is not None else [])
        object.__setattr__(self, "_data", _data_snapshot(*models))

    @property
    def model_name(self) -> str:
        """Name of the model's family, or ``"pymc"`` for a model without one."""
        return self.family.name if self.family is not None else "pymc"

    def estimates_frame(self) -> pd.DataFrame:
        """One row per scalar parameter: estimate and whether it lies on the boundary."""
        rows = []
        for name, value in self.estimates.items():
            arr = np.atleast_1d(np.asarray(value, dtype=float))
            mask = np.atleast_1d(self.on_boundary.get(name, np.zeros(arr.shape, dtype=bool)))
            labels = parameter_labels(name, np.asarray(value).shape, self.model)
            for label, v, b in zip(labels, arr.ravel(), mask.ravel(), strict=True):
                rows.append({"parameter": label, "estimate": v, "on_boundary": bool(b)})
        return pd.DataFrame(rows).set_index("parameter")

    def check_data_current(self) -> None:
        """Raise if the model's data were replaced after this fit.

        Both the model's ``data_version`` (bumped by :meth:`MLEModel.set_data`) and the
        arrays held by its ``pm.Data`` containers (replaced by ``pm.set_data`` on any
        model, and on the user's model behind a flat copy) are compared with the fit's.
        """
        current = getattr(self.model, "data_version", 0)
        replaced = any(var.get_value(borrow=True) is not held for var, held in self._data)
        if current != self.data_version or replaced:
            raise ModelError(
                "the model's data were replaced after this fit (pm.set_data or "
                "replace_data): its uncertainty can no longer be computed from the model. "
                "Compute summaries before replacing the data, or refit."
            )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary: model, estimates, loglik, n, converged, status, method, message."""
        return {
            "model": self.model_name,
            "estimates": {k: json_value(np.asarray(v, float)) for k, v in self.estimates.items()},
            "unconstrained": {
                k: json_value(np.asarray(v, float)) for k, v in self.unconstrained.items()
            },
            "loglik": self.loglik,
            "n": self.n_obs,
            "n_params": self.n_params,
            "converged": self.converged,
            "status": self.status.value,
            "method": self.method,
            "estimate_kind": self.estimate_kind,
            "message": self.message,
        }

    def __str__(self) -> str:
        table = self.estimates_frame().to_string(float_format=lambda v: f"{v:.12g}")
        verdict = "converged" if self.converged else "NOT VERIFIED"
        return (
            f"{self.estimate_kind} of the {self.model_name} model ({self.method}, "
            f"n = {self.n_obs}): {verdict}\n"
            f"{table}\nlog-likelihood = {self.loglik:.12g}\n{self.message}"
        )


def parameter_labels(name: str, shape: tuple[int, ...], model: Any) -> list[str]:
    """Readable labels for the entries of a parameter, as ArviZ writes them.

    Coordinate values where the model names its dims (``theta[a]``,
    ``beta[selfLR, 3]``), positions otherwise (``b[0, 1]``).
    """
    if shape == ():
        return [name]
    dims = getattr(model, "named_vars_to_dims", {}).get(name) or ()
    coords = getattr(model, "coords", {})
    axes = []
    for axis, size in enumerate(shape):
        dim = dims[axis] if axis < len(dims) else None
        values = coords.get(dim) if dim is not None else None
        if values is not None and len(values) == size:
            axes.append([str(v) for v in values])
        else:
            axes.append([str(i) for i in range(size)])
    return [
        f"{name}[{', '.join(axes[a][i] for a, i in enumerate(index))}]"
        for index in np.ndindex(*shape)
    ]


def at_vertex(result: FitRecord) -> bool:
    """Whether no interior parameter is left: the estimate is a vertex of the parameter space.

    Every estimate on a bound of its support (a probability of 1 when every trial
    succeeded: the fit's objective has no free coordinate), or a categorical fit that put
    all mass on one category.
    """
    if result.objective.size == 0:
        return True
    return result.family is not None and result.family.at_vertex()
