"""Models derived from a user's model (flat priors, no transforms), built once per model.

Building a derived model rewrites the user's graph, and its compiled objective is keyed on
the derived model: rebuilding it at every fit (a bootstrap, ``pm.set_data`` in a loop)
would pay both every time. :func:`derived_model` keeps one derived model per user model and
kind, beside the model (never written into it), and rebuilds it when the model's
structure changed. PyMC's graph conversion gives the copy its own data containers, so
before each use their values are set from the user's model: the copy always sees the data
the user's model holds now.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Hashable
from typing import Any

import numpy as np
import pymc as pm
from pytensor.compile.sharedvalue import SharedVariable

from ppl_mle.model._pytensor import PYTENSOR_LOCK

__all__ = ["derived_model", "sync_data"]

_DERIVED: weakref.WeakKeyDictionary[pm.Model, dict[str, tuple[Hashable, pm.Model]]] = (
    weakref.WeakKeyDictionary()
)
_LOCK = threading.Lock()


def derived_model(model: pm.Model, kind: str, build: Callable[[pm.Model], pm.Model]) -> pm.Model:
    """The model ``build(model)``, built once per structure of ``model`` and fed its data.

    Parameters
    ----------
    model : pymc.Model
        The user's model.
    kind : str
        What is derived (``"flat"``, ``"untransformed"``): one copy is kept per kind.
    build : callable
        Builds the derived model from ``model``; must keep the names of data containers.

    Returns
    -------
    pymc.Model
        The derived model, its data containers holding ``model``'s current values.
    """
    key = structure_key(model)
    with _LOCK:
        cached = _DERIVED.get(model, {}).get(kind)
    if cached is not None and cached[0] == key:
        derived = cached[1]
        sync_data(model, derived)
        return derived
    with PYTENSOR_LOCK:  # a graph rewritten, one thread at a time
        derived = build(model)
    sync_data(model, derived)
    with _LOCK:
        _DERIVED.setdefault(model, {})[kind] = (key, derived)
    return derived


def structure_key(model: pm.Model) -> Hashable:
    """What a derived model depends on besides data: the variables and initial values."""
    initial = tuple(
        (rv.name, _value_key(value)) for rv, value in model.rvs_to_initial_values.items()
    )
    return (
        tuple(model.free_RVs),
        tuple(model.observed_RVs),
        tuple(model.potentials),
        tuple(model.deterministics),
        initial,
    )


def _value_key(value: Any) -> Hashable:
    if value is None or isinstance(value, str):
        return value
    try:
        array = np.asarray(value)
    except Exception:  # a symbolic initial value: the object itself
        return id(value)
    if array.dtype == object:
        return id(value)
    return (array.dtype.str, array.shape, array.tobytes())


def sync_data(source: pm.Model, derived: pm.Model) -> None:
    """Give ``derived``'s data containers (and mutable dimension lengths) ``source``'s values.

    A container already given the array the source holds now is left as it is:
    ``set_value`` may store a copy, and a fit of the derived model takes a new array in
    its container for data replaced since the fit (a comparison refits the model).
    """
    pairs = [(var, derived.named_vars.get(name)) for name, var in source.named_vars.items()]
    pairs += [(n, derived.dim_lengths.get(dim)) for dim, n in source.dim_lengths.items()]
    for var, other in pairs:
        if isinstance(var, SharedVariable) and isinstance(other, SharedVariable):
            value = var.get_value(borrow=True)
            if getattr(other.tag, "synced_from", None) is not value:
                other.set_value(value, borrow=True)
                other.tag.synced_from = value
