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
import pytensor
from pymc.initial_point import make_initial_point_fn

from ppl_mle.core.errors import ModelError
from ppl_mle.core.families import Family
from ppl_mle.data.validation import check_start_shapes
from ppl_mle.fit.cache import DECLARED, keep_model_entry, model_entry
from ppl_mle.fit.compiled import (
    STRUCTURES,
    abstract_data,
    compile_function,
    compile_settings,
    declaration_key_of,
)
from ppl_mle.fit.data_bound import inside_data_bounds
from ppl_mle.fit.objective import Objective
from ppl_mle.model._pytensor import PYTENSOR_LOCK, quiet_vendor_warnings

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
    point = _given_point(model, overrides)
    if point is None:
        with PYTENSOR_LOCK, quiet_vendor_warnings(), np.errstate(all="ignore"):
            point = make_initial_point_fn(
                model=model, overrides=overrides, jitter_rvs=set(), return_transformed=True
            )(None)
    z0 = objective.from_user_point(point)
    f0, _ = objective.value_and_grad(z0)
    if np.all(np.isfinite(z0)) and not math.isfinite(f0) and objective.affine.identity:
        # A likelihood whose support depends on a parameter (x ~ Uniform(0, θ)) is 0 at a
        # start of θ below max(x): such a start the user did not give is moved inside.
        given = {_base_name(k) for k in start or {}}
        moved = inside_data_bounds(model, objective.natural(z0), given)
        if moved:
            with PYTENSOR_LOCK, quiet_vendor_warnings(), np.errstate(all="ignore"):
                point = make_initial_point_fn(
                    model=model,
                    overrides={**objective.natural(z0), **moved},
                    jitter_rvs=set(),
                    return_transformed=True,
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


def _given_point(model: pm.Model, values: Mapping[str, Any]) -> dict[str, np.ndarray] | None:
    """The unconstrained point of values given for every free variable, or None.

    What PyMC's initial-point function computes when every variable has a value, without
    compiling it anew for each start: natural values mapped by the model's transforms
    (:func:`_forward_function`, compiled once per model), or values all given on the
    unconstrained scale, taken as they are. None when some variable has no value (its
    start then comes from the model) or values come on both scales.
    """
    rvs = model.free_RVs
    names = [model.rvs_to_values[rv].name for rv in rvs]
    if all(name in values for name in names):
        return {
            name: np.asarray(values[name], dtype=rv.dtype)
            for name, rv in zip(names, rvs, strict=True)
        }
    # An untransformed variable's value has its own name: natural and unconstrained alike.
    unconstrained = [name for rv, name in zip(rvs, names, strict=True) if name != rv.name]
    if not all(rv.name in values for rv in rvs) or any(n in values for n in unconstrained):
        return None
    natural = [np.asarray(values[rv.name], dtype=rv.dtype) for rv in rvs]
    with PYTENSOR_LOCK:  # built and compiled once, whichever thread asks first
        forward = _forward_function(model)
    with np.errstate(all="ignore"):
        mapped = forward(*natural)
    return {name: np.asarray(out) for name, out in zip(names, mapped, strict=True)}


def _forward_function(model: pm.Model) -> Any:
    """Natural values of the free variables → their unconstrained values, compiled once.

    One input per free variable, in ``model.free_RVs`` order; a transform's parameters
    that depend on other free variables (a bound given by another variable) read them
    from these inputs. Kept per model, and for models ppl_mle declares per declaration
    key (a new normal model builds no graph for it).
    """
    structure = (tuple(model.free_RVs), tuple(model.value_vars), compile_settings(model))
    cached = model_entry(model, "start")
    if cached is not None and cached[0] == structure:
        return cached[1]
    declared = declaration_key_of(model)
    found = DECLARED.get(("start", declared)) if declared is not None else None
    if found is None:
        compiled, data = _compile_forward(model)
        if declared is not None and all(model.named_vars.get(d.name) is d for d in data):
            entry = (compiled, tuple(d.name for d in data))
            DECLARED.setdefault(("start", declared), entry)
    else:
        compiled, names = found
        data = tuple(model[name] for name in names)

    def function(*natural: Any) -> Any:
        return compiled(*natural, *(d.get_value(borrow=True) for d in data))

    keep_model_entry(model, "start", (structure, function))
    return function


def _compile_forward(model: pm.Model) -> tuple[Any, tuple[Any, ...]]:
    """The compiled transforms of :func:`_forward_function` and the data they read."""
    inputs = [rv.type() for rv in model.free_RVs]
    outputs = []
    for rv, x in zip(model.free_RVs, inputs, strict=True):
        transform = model.rvs_to_transforms.get(rv)
        outputs.append(x if transform is None else transform.forward(x, *rv.owner.inputs))
    outputs = pytensor.graph_replace(
        outputs, dict(zip(model.free_RVs, inputs, strict=True)), strict=False
    )
    # Shared by every model whose transforms are alike, read with each one's data.
    graph = abstract_data(inputs, outputs)
    compiled = STRUCTURES.find(model, graph, ("start",))
    if compiled is None:
        compiled = compile_function(model, graph.inputs, list(graph.outputs))
        STRUCTURES.keep(model, graph, compiled, ("start",))
    return compiled, graph.data


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
        with PYTENSOR_LOCK, quiet_vendor_warnings(), np.errstate(all="ignore"):
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
