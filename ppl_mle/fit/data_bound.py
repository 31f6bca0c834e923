"""Estimates on a bound set by the data: a likelihood whose support depends on a parameter.

``x ~ Uniform(0, θ)`` puts every observation below θ: the likelihood θ⁻ⁿ is 0 for
θ < max(x) and falls beyond, so the MLE is max(x), on a bound the data set. The same holds
for the lower end of a Uniform (min(x)), for the scale ``m`` of a Pareto (min(x)), and for
the truncation points of a truncated normal. find_MAP cannot reach such a point: the
log-likelihood is −∞ just past it, the optimizer stops short, and the point cannot be
verified (the gradient does not vanish there).

:func:`maximum_on_data_bounds` takes the second look. A bound of an observed variable's
support (PyMC's default transform of its distribution says which of its parameters are
bounds) that *is* a free variable, or entries of one (``theta[group]``), constrains that
variable by the data: ``x <= θ[j]`` for every observation of group j makes
``θ[j] >= max(x[group == j])``. The model is refitted as one whose supports include these
bounds (their transforms changed to intervals ending at the data's extremes), where
:func:`~ppl_mle.fit.support_bound.maximum_on_bounds` holds the estimates on them, verifies
the others in the interior and checks the KKT conditions.

A bound that depends on free variables any other way (``Uniform(0, 2·θ)``) is not
inverted: the fit keeps its own verdict.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import pymc as pm
import pytensor
import pytensor.tensor as pt
from pymc.distributions.transforms import _default_transform
from pymc.initial_point import make_initial_point_fn
from pymc.logprob.transforms import IntervalTransform
from pymc.model.transform.conditioning import change_value_transforms
from pytensor.compile.sharedvalue import SharedVariable
from pytensor.tensor.elemwise import DimShuffle
from pytensor.tensor.shape import Reshape, SpecifyShape
from pytensor.tensor.subtensor import AdvancedSubtensor, AdvancedSubtensor1, Subtensor
from pytensor.tensor.variable import TensorConstant

from ppl_mle.fit.cache import keep_model_entry, model_entry
from ppl_mle.fit.objective import Objective, objective_for
from ppl_mle.fit.record import parameter_labels
from ppl_mle.fit.status import FitStatus
from ppl_mle.fit.support_bound import BoundMaximum, maximum_on_bounds
from ppl_mle.fit.verify import Verification, verify_maximum
from ppl_mle.model._compat import ancestors
from ppl_mle.model._pytensor import quiet_vendor_warnings
from ppl_mle.model.copies import structure_key, sync_data
from ppl_mle.model.flat import initial_values_set_aside
from ppl_mle.model.support import support_bounds

__all__ = [
    "DataBound",
    "DataBoundMaximum",
    "data_bounds",
    "inside_data_bounds",
    "maximum_on_data_bounds",
]


@dataclass(frozen=True)
class DataBound:
    """The bounds the data set on one free variable, elementwise.

    Attributes
    ----------
    name : str
        The free variable.
    lower, upper : numpy.ndarray
        Its support with the data's bounds: the prior's support intersected with
        ``[max of the observations it bounds from above, min of those it bounds from
        below]`` (±inf where unbounded).
    by_data_lower, by_data_upper : numpy.ndarray
        Where ``lower`` (``upper``) is set by the data rather than by the prior.
    observed : tuple of str
        The observed variables whose support the variable bounds.
    """

    name: str
    lower: np.ndarray
    upper: np.ndarray
    by_data_lower: np.ndarray
    by_data_upper: np.ndarray
    observed: tuple[str, ...]


@dataclass(frozen=True)
class DataBoundMaximum:
    """A maximum with some estimates on bounds set by the data.

    Attributes
    ----------
    found : BoundMaximum
        The maximum in the model whose supports include the data's bounds (its objective
        is the interior problem there).
    status : FitStatus
        ``DATA_BOUND`` where an estimate is on a bound set by the data; ``BOUNDARY`` where
        the estimates held are all on bounds of the priors' supports.
    data_note : str
        The estimates on bounds set by the data, in words.
    prior_note : str
        The KKT note where some estimate is on a bound of its prior's support (a bound that
        may not be meant), else empty.
    """

    found: BoundMaximum
    status: FitStatus
    data_note: str
    prior_note: str


#: Operations that only pick or rearrange entries of a variable: a bound that is the
#: variable through these is, entry by entry, one of its entries.
_GATHER = (DimShuffle, Subtensor, AdvancedSubtensor, AdvancedSubtensor1, Reshape, SpecifyShape)


def data_bounds(model: pm.Model) -> dict[str, DataBound] | None:
    """The free variables whose support the data bound, with those bounds; None if none.

    Parameters
    ----------
    model : pymc.Model
        The fitted model.

    Returns
    -------
    dict of str to DataBound or None
        By the name of the free variable's value variable. None when no observed variable's
        support depends on a free variable in a way this module inverts, when the data's
        bounds leave a variable no room (its prior's support and the data disagree), when a
        variable has a transform whose support is not elementwise, or when an end of its
        support is finite for some of its entries only.
    """
    free = set(model.free_RVs)
    if not free:
        return None
    found: dict[Any, tuple[np.ndarray, np.ndarray, list[str]]] = {}
    for obs in model.observed_RVs:
        for rv, side, mapping, data in _bounding(model, obs, free):
            size = int(np.prod(_rv_shape(model, rv), dtype=np.int64))
            lo, hi, names = found.setdefault(
                rv, (np.full(size, -np.inf), np.full(size, np.inf), [])
            )
            if side == "upper":  # x <= θ: θ >= max(x)
                np.maximum.at(lo, mapping, data)
            else:  # x >= θ: θ <= min(x)
                np.minimum.at(hi, mapping, data)
            if obs.name not in names:
                names.append(obs.name)
    if not found:
        return None
    priors = support_bounds(model)
    out = {}
    for rv, (lo_data, hi_data, names) in found.items():
        value = model.rvs_to_values[rv]
        shape = _rv_shape(model, rv)
        if model.rvs_to_transforms.get(rv) is None:
            prior_lo, prior_hi = np.full(shape, -np.inf), np.full(shape, np.inf)
        elif value.name in priors:
            prior_lo, prior_hi = priors[value.name]
        else:
            return None  # a support that is not elementwise, or bounds that are variables
        prior_lo, prior_hi = np.ravel(prior_lo), np.ravel(prior_hi)
        lower, upper = np.maximum(prior_lo, lo_data), np.minimum(prior_hi, hi_data)
        finite_lower, finite_upper = np.isfinite(lower), np.isfinite(upper)
        if not np.all(lower < upper) or not all(
            np.all(f) or not np.any(f) for f in (finite_lower, finite_upper)
        ):
            return None  # no room, or ends finite for some entries only
        out[value.name] = DataBound(
            name=rv.name,
            lower=lower.reshape(shape),
            upper=upper.reshape(shape),
            by_data_lower=(lo_data > prior_lo).reshape(shape),
            by_data_upper=(hi_data < prior_hi).reshape(shape),
            observed=tuple(names),
        )
    return out


def inside_data_bounds(
    model: pm.Model, natural: dict[str, np.ndarray], keep: set[str]
) -> dict[str, np.ndarray]:
    """Starting values moved inside the bounds the data set, where they lie outside.

    A start of θ = 1 for ``x ~ Uniform(0, θ)`` with max(x) = 3.1 has likelihood 0. Each
    value outside its data-bounded support is reflected across the bound it violates (and
    moved inside by at least the bound's own magnitude, and at least 1), or put halfway
    between the bounds where that would pass the other one.

    Parameters
    ----------
    model : pymc.Model
        The fitted model.
    natural : dict of str to numpy.ndarray
        The start's natural values by free variable.
    keep : set of str
        Variables whose start the user gave: never moved.

    Returns
    -------
    dict of str to numpy.ndarray
        The moved variables' new values (empty when none moved).
    """
    bounds = data_bounds(model)
    moved: dict[str, np.ndarray] = {}
    for bound in (bounds or {}).values():
        if bound.name in keep or bound.name not in natural:
            continue
        value = np.array(natural[bound.name], dtype=np.float64)
        lo, hi = bound.lower, bound.upper
        below, above = ~(value > lo), ~(value < hi)
        if not (below.any() or above.any()):
            continue
        with np.errstate(all="ignore"):
            up = lo + np.maximum(np.maximum(lo - value, np.abs(lo)), 1.0)
            down = hi - np.maximum(np.maximum(value - hi, np.abs(hi)), 1.0)
            middle = lo + 0.5 * (hi - lo)
        value = np.where(below, np.where(up < hi, up, middle), value)
        value = np.where(above, np.where(down > lo, down, middle), value)
        moved[bound.name] = value
    return moved


def _rv_shape(model: pm.Model, rv: Any) -> tuple[int, ...]:
    """The shape of a free variable's value: its static shape, else its evaluated one."""
    static = rv.type.shape
    if all(isinstance(d, int) for d in static):
        return tuple(static)
    with quiet_vendor_warnings():
        return tuple(int(d) for d in rv.shape.eval())


def _bounding(
    model: pm.Model, obs: Any, free: set[Any]
) -> list[tuple[Any, str, np.ndarray, np.ndarray]]:
    """The free variables that bound ``obs``'s support: (variable, side, map, data).

    ``map`` gives, for each observation (flattened), the flat index of the entry of the
    variable that bounds it; ``data`` the observations, flattened alike.
    """
    node = obs.owner
    if node is None:
        return []
    try:
        transform = _default_transform(node.op, obs)
    except Exception:  # an operation PyMC knows no transform for
        return []
    if not isinstance(transform, IntervalTransform):
        return []
    lower, upper, has_lower, has_upper = transform.get_a_and_b(node.inputs)
    data = _observed(model.rvs_to_values[obs])
    out = []
    for bound, present, side in ((lower, has_lower, "lower"), (upper, has_upper, "upper")):
        if not present:
            continue
        rvs = [v for v in ancestors([bound]) if v in free]
        if len(rvs) != 1 or not _gathers(bound, rvs[0]) or not np.all(np.isfinite(data)):
            continue
        mapping = _entry_map(model, bound, rvs[0], data.shape)
        if mapping is not None:
            out.append((rvs[0], side, mapping, data.ravel()))
    return out


def _observed(value: Any) -> np.ndarray:
    """The observations a value variable holds (a constant, a data container, a graph)."""
    if isinstance(value, TensorConstant):
        return np.asarray(value.data, dtype=np.float64)
    if isinstance(value, SharedVariable):
        return np.asarray(value.get_value(borrow=True), dtype=np.float64)
    with quiet_vendor_warnings():
        return np.asarray(value.eval(), dtype=np.float64)


def _gathers(bound: Any, rv: Any) -> bool:
    """Whether ``bound`` is ``rv`` through operations that only pick its entries."""
    var = bound
    while var is not rv:
        owner = var.owner
        if owner is None or not isinstance(owner.op, _GATHER):
            return False
        var = owner.inputs[0]
    return True


def _entry_map(
    model: pm.Model, bound: Any, rv: Any, data_shape: tuple[int, ...]
) -> np.ndarray | None:
    """For each observation, the flat index of the entry of ``rv`` that bounds it."""
    shape = _rv_shape(model, rv)
    index = np.arange(int(np.prod(shape, dtype=np.int64)), dtype=np.float64).reshape(shape)
    with quiet_vendor_warnings():
        picked = pytensor.graph_replace(bound, {rv: pt.as_tensor(index)}, strict=False)
        try:
            values = np.asarray(picked.eval())
            return np.broadcast_to(values, data_shape).ravel().astype(np.int64)
        except Exception:  # shapes that do not broadcast against the data
            return None


def maximum_on_data_bounds(
    model: pm.Model,
    objective: Objective,
    z: np.ndarray,
    check: Verification,
    bounds: dict[str, DataBound],
    *,
    polish: bool,
) -> DataBoundMaximum | None:
    """Look for a maximum with some estimates on bounds the data set.

    Parameters
    ----------
    model : pymc.Model
        The fitted model.
    objective : Objective
        Its objective (in the user's units).
    z : numpy.ndarray
        The point reached, whose verification ``check`` failed.
    check : Verification
        Its verification.
    bounds : dict of str to DataBound
        What :func:`data_bounds` found for ``model``.
    polish : bool
        Polish the interior coordinates with Newton steps.

    Returns
    -------
    DataBoundMaximum or None
        None when no estimate is on a bound, or the maximum there cannot be verified.
    """
    if not objective.affine.identity or check.status.converged:
        return None
    bounded = _bounded_by_data(model, bounds)
    inner = objective_for(bounded)
    u = _moved(bounded, inner, objective.natural(z))
    found = maximum_on_bounds(bounded, inner, u, verify_maximum(inner, u), polish=polish)
    if found is None:
        return None
    data_parts, on_prior = [], False
    for bound in bounds.values():
        mask = found.mask.get(bound.name)
        if mask is None:
            continue
        estimate = np.asarray(found.estimates[bound.name])
        labels = parameter_labels(bound.name, estimate.shape, model)
        where = ", ".join(bound.observed)
        for k in np.flatnonzero(mask.ravel()):
            at = float(estimate.ravel()[k])
            if bound.by_data_lower.ravel()[k] and at == bound.lower.ravel()[k]:
                data_parts.append(
                    f"{labels[k]} = {at:.6g}, the largest observation of {where} it bounds"
                )
            elif bound.by_data_upper.ravel()[k] and at == bound.upper.ravel()[k]:
                data_parts.append(
                    f"{labels[k]} = {at:.6g}, the smallest observation of {where} it bounds"
                )
            else:
                on_prior = True
    held = sum(int(np.count_nonzero(m)) for m in found.mask.values())
    on_prior = on_prior or held > len(data_parts)
    if not data_parts:
        return DataBoundMaximum(found, FitStatus.BOUNDARY, "", found.note)
    shown = "; ".join(data_parts[:6]) + (
        f"; and {len(data_parts) - 6} more" if len(data_parts) > 6 else ""
    )
    data_note = (
        f"On a bound set by the data (the support of the likelihood depends on the "
        f"parameter): {shown}. The likelihood is 0 beyond it and falls into the interior "
        "from it: the MLE is there, exactly"
        + (" (KKT conditions verified)." if not on_prior else ".")
    )
    return DataBoundMaximum(
        dataclasses.replace(
            found, check=dataclasses.replace(found.check, status=FitStatus.DATA_BOUND)
        ),
        FitStatus.DATA_BOUND,
        data_note,
        found.note if on_prior else "",
    )


def _moved(bounded: pm.Model, inner: Objective, natural: dict[str, np.ndarray]) -> np.ndarray:
    """The point of natural values ``natural`` in ``inner``'s coordinates.

    A value outside the data's bounds (on one, or past it) has no finite coordinate: it
    starts at 0 instead, the middle of its transform.
    """
    with quiet_vendor_warnings(), np.errstate(all="ignore"):
        point = make_initial_point_fn(
            model=bounded, overrides=natural, jitter_rvs=set(), return_transformed=True
        )(None)
    u = inner.from_point(point)
    return np.where(np.isfinite(u), u, 0.0)


def _bounded_by_data(model: pm.Model, bounds: dict[str, DataBound]) -> pm.Model:
    """``model`` with the data's bounds in the supports of the variables they constrain.

    Each constrained variable's transform becomes an interval ending at its bounds. The
    ends are constants of the graph (PyMC's log-density rewrites admit no new shared
    variable there), so the model is kept for the bounds it was built for and built anew
    when the data move them.
    """
    key = (
        structure_key(model),
        tuple((n, b.lower.tobytes(), b.upper.tobytes()) for n, b in sorted(bounds.items())),
    )
    cached = model_entry(model, "data bounds")
    if cached is not None and cached[0] == key:
        sync_data(model, cached[1])
        return cached[1]
    transforms = {}
    for rv in model.free_RVs:
        bound = bounds.get(model.rvs_to_values[rv].name)
        if bound is not None:
            transforms[rv] = _DataInterval(bound.lower, bound.upper)
    with quiet_vendor_warnings(), initial_values_set_aside(model):
        built = change_value_transforms(model, transforms)
    keep_model_entry(model, "data bounds", (key, built))
    return built


class _DataInterval(IntervalTransform):  # type: ignore[misc]  # PyMC is untyped
    """An increasing map of the real line onto a support with constant ends (±inf allowed).

    ``lower + exp(z)`` below a bound only, ``upper − exp(−z)`` above one only (increasing,
    unlike PyMC's interval transform with only an upper end: the bound of every held
    estimate is then at z = −∞ for a lower bound and z = +∞ for an upper one), and PyMC's
    logistic map between two. Its ends are tensor constants, infinite ones included, so
    that :func:`~ppl_mle.model.support.support_bounds` reads them.
    """

    name = "interval"

    def __init__(self, lower: np.ndarray, upper: np.ndarray) -> None:
        self.lower, self.upper = pt.as_tensor(lower), pt.as_tensor(upper)
        self.kind = "both" if np.all(np.isfinite(lower)) else "upper"
        if not np.all(np.isfinite(upper)):
            self.kind = "lower"

    def get_a_and_b(self, inputs: Any) -> tuple[Any, Any, bool, bool]:
        """The constant ends (PyMC's interface: with both marked as bounded)."""
        return self.lower, self.upper, True, True

    def forward(self, value: Any, *inputs: Any) -> Any:
        """The unconstrained value of ``value``."""
        a, b = self.lower, self.upper
        if self.kind == "lower":
            return pt.log(value - a)
        if self.kind == "upper":
            return -pt.log(b - value)
        return pt.log(value - a) - pt.log(b - value)

    def backward(self, value: Any, *inputs: Any) -> Any:
        """The natural value of the unconstrained ``value``."""
        a, b = self.lower, self.upper
        if self.kind == "lower":
            return a + pt.exp(value)
        if self.kind == "upper":
            return b - pt.exp(-value)
        sigmoid = pt.sigmoid(value)
        return sigmoid * b + (1 - sigmoid) * a

    def log_jac_det(self, value: Any, *inputs: Any) -> Any:
        """Log |d backward / d value|."""
        if self.kind == "lower":
            return value
        if self.kind == "upper":
            return -value
        return pt.log(self.upper - self.lower) - 2 * pt.softplus(-value) - value
