"""The starting point of a fit, in the objective's unconstrained coordinates.

Starting values come from the user, over the family's robust values (median and scaled MAD
for the normal model: on the scale of the data, but not the closed form), over the model's
initial point.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pymc as pm
from pymc.initial_point import make_initial_point_fn

from ppl_mle.core.errors import ModelError
from ppl_mle.core.families import Family
from ppl_mle.data.validation import check_start_shapes
from ppl_mle.fit.objective import Objective
from ppl_mle.model._pytensor import quiet_vendor_warnings

__all__ = ["start_vector"]


def start_vector(
    model: pm.Model, objective: Objective, family: Family | None, start: Mapping[str, Any] | None
) -> np.ndarray:
    """Starting point in unconstrained coordinates: user values over family values.

    Parameters
    ----------
    model : pymc.Model
        The model of ``objective``.
    objective : Objective
        The compiled objective.
    family : Family or None
        Supplies default starting values when given.
    start : mapping, optional
        The user's values by name, natural or unconstrained.

    Raises
    ------
    ModelError
        ``start`` is not a mapping, names unknown variables, or the log-likelihood is not
        finite there.
    """
    overrides: dict[str, Any] = dict(family.start()) if family is not None else {}
    if start is not None:
        if not isinstance(start, Mapping):
            raise ModelError(f"`start` must be a dict of values by name; got {start!r}.")
        valid = {rv.name for rv in model.free_RVs} | {v.name for v in model.value_vars}
        unknown = sorted(set(start) - valid)
        if unknown:
            raise ModelError(
                f"`start` names {unknown}, which are not free variables of the model; "
                f"valid names: {sorted(valid)}."
            )
        check_start_shapes(model, start)
        for key, value in start.items():
            # A user's value for a variable replaces the family's, in whichever space.
            for other in list(overrides):
                if other != key and model[_base_name(other)] is model[_base_name(key)]:
                    del overrides[other]
            overrides[key] = value
    with quiet_vendor_warnings(), np.errstate(all="ignore"):
        point = make_initial_point_fn(
            model=model, overrides=overrides, jitter_rvs=set(), return_transformed=True
        )(None)
    z0 = objective.from_user_point(point)
    f0, _ = objective.value_and_grad(z0)
    if not (np.all(np.isfinite(z0)) and math.isfinite(f0)):
        bad = [name for name, v in point.items() if not np.all(np.isfinite(v))]
        where = f" (non-finite start for {bad})" if bad else ""
        raise ModelError(
            f"the log-likelihood is not finite at the starting point{where}"
            f"{_non_finite_terms(model, point)}. Choose `start` inside the support of every "
            "parameter."
        )
    return z0


def _non_finite_terms(model: pm.Model, point: Mapping[str, Any]) -> str:
    """Name the variables whose log-density is -inf or NaN at ``point``, with a hint.

    Parameters
    ----------
    model : pymc.Model
        The model fitted.
    point : mapping
        The starting point, by value variable (transformed) name.

    Returns
    -------
    str
        A clause for the error message (``": the log-density of 'y' is -inf there. Hint:
        …"``), or ``""`` when PyMC cannot evaluate the terms one by one.
    """
    try:
        with quiet_vendor_warnings(), np.errstate(all="ignore"):
            logps = model.point_logps(point, round_vals=12)
    except Exception:  # the message is a courtesy: never hide the error it explains
        return ""
    bad = {name: float(v) for name, v in logps.items() if not np.isfinite(v)}
    if not bad:
        return ""
    terms = " and ".join(f"{name!r} is {v:g}" for name, v in bad.items())
    return (
        f": the log-density of {terms} there. Hint: a parameter of its distribution is "
        "outside its support at the start, e.g. a scale whose prior allows values <= 0 "
        "(give it a positive prior such as HalfNormal, or a positive `start`)"
    )


def _base_name(name: str) -> str:
    """``sigma_log__`` → ``sigma``; natural names unchanged."""
    if name.endswith("__") and "_" in name[:-2]:
        return name[:-2].rsplit("_", 1)[0]
    return name
