"""The supports of a model's free variables: their bounds, and the model on natural values.

PyMC maps a bounded variable to the real line by its transform (log for (0, ∞), log-odds for
(0, 1), interval for (a, b)). An estimate on a bound of the support is at ±∞ there; its
derivatives on the bound are taken on the model without transforms, whose value variables
are the natural values themselves.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pymc as pm
from pymc.logprob.transforms import (
    IntervalTransform,
    LogOddsTransform,
    LogTransform,
    SimplexTransform,
)
from pymc.model.transform.conditioning import remove_value_transforms

from ppl_mle.model._pytensor import quiet_vendor_warnings
from ppl_mle.model.flat import initial_values_set_aside

__all__ = ["natural_bounds", "support_bounds", "untransformed"]


def support_bounds(model: pm.Model) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Lower and upper bounds of each free variable with an elementwise bounded transform.

    Parameters
    ----------
    model : pymc.Model

    Returns
    -------
    dict of str to (numpy.ndarray, numpy.ndarray)
        By the name of the variable's value variable (``"mu_interval__"``): its bounds,
        broadcast to the variable's shape (±inf where unbounded). Variables without a
        transform, with a simplex or another non-elementwise transform, or whose bounds
        depend on other free variables are left out.
    """
    point = model.initial_point()
    out = {}
    for rv in model.free_RVs:
        value = model.rvs_to_values[rv]
        bounds = _bounds(rv, model.rvs_to_transforms.get(rv))
        if bounds is None:
            continue
        shape = np.shape(point[value.name])
        lo, hi = (np.broadcast_to(np.asarray(b, dtype=np.float64), shape) for b in bounds)
        out[value.name] = (lo.copy(), hi.copy())
    return out


def natural_bounds(
    model: pm.Model, name: str, shape: tuple[int, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """The support of the free variable ``name``, elementwise, broadcast to ``shape``.

    (0, 1) for a simplex or log-odds transform, (0, ∞) for a log transform, an interval's
    bounds where they are fixed numbers, and the real line otherwise.
    """
    rv = model[name]
    transform = model.rvs_to_transforms.get(rv)
    simplex = isinstance(transform, SimplexTransform)
    bounds = (0.0, 1.0) if simplex else _bounds(rv, transform)
    lo, hi = bounds if bounds is not None else (-np.inf, np.inf)
    return (
        np.broadcast_to(np.asarray(lo, dtype=np.float64), shape),
        np.broadcast_to(np.asarray(hi, dtype=np.float64), shape),
    )


def _bounds(rv: Any, transform: object) -> tuple[Any, Any] | None:
    """The bounds a transform maps to the real line, as numbers, or None."""
    if isinstance(transform, LogTransform):
        return 0.0, np.inf
    if isinstance(transform, LogOddsTransform):
        return 0.0, 1.0
    if isinstance(transform, IntervalTransform):
        lower, upper, *_ = transform.get_a_and_b(rv.owner.inputs)
        try:
            with quiet_vendor_warnings():
                return np.asarray(lower.eval()), np.asarray(upper.eval())
        except Exception:  # bounds that depend on free variables: no fixed bound
            return None
    return None


def untransformed(model: pm.Model) -> pm.Model:
    """A copy of ``model`` whose value variables are the natural values (no transforms).

    Its log-density is defined on the bounds of the supports, where the transformed model's
    coordinates are infinite.
    """
    with quiet_vendor_warnings(), initial_values_set_aside(model):
        return remove_value_transforms(model)
