"""The MLE of any PyMC model: replace every prior by a flat density on the same support.

``flat_priors(model)`` returns a copy of a PyMC model in which each free variable's prior
is replaced by a flat density on its support, recognised by the transform PyMC attached to
it — which is kept, so the optimizer works in the same unconstrained space:

=====================  =============================  ==========================
transform              support                        flat prior
=====================  =============================  ==========================
none                   real line                      ``Flat``
log                    positive half-line             ``HalfFlat``
logodds                (0, 1)                         ``Uniform(0, 1)``
interval               (a, b)                         ``Uniform(a, b)``
simplex                the simplex                    ``Dirichlet(1, …, 1)``
=====================  =============================  ==========================

With flat priors, ``find_MAP`` (which maximises ``logp`` without the Jacobian of the
transforms) finds the MLE. Flattening makes no sense for a discrete free variable, or for
a free variable whose prior depends on other free variables (a hierarchical model: with
the hierarchy kept the likelihood is unbounded as the group scale goes to 0; with it
flattened the group-level parameters leave the likelihood altogether). Both are refused
with an error naming the variable. The original model is not modified.

The copy starts where the user's model starts: its initial point (the priors' support
points, or the ``initval`` given to a variable) becomes the flat copy's, so a flat prior
does not move the start to 0 (outside the support of an untransformed ``Uniform(0, 1)``) or
to 1.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

import numpy as np
import pymc as pm
import pytensor.tensor as pt
from pymc.initial_point import make_initial_point_fn
from pymc.logprob.transforms import (
    IntervalTransform,
    LogOddsTransform,
    LogTransform,
    SimplexTransform,
)
from pymc.model.fgraph import ModelFreeRV, fgraph_from_model, model_from_fgraph

from ppl_mle.core.errors import ModelError
from ppl_mle.model._compat import ancestors
from ppl_mle.model._pytensor import PYTENSOR_LOCK, quiet_vendor_warnings
from ppl_mle.model.compiled import CompiledModel, compiled_copy
from ppl_mle.model.declarations import family_of

__all__ = ["flat_priors", "has_flat_priors", "initial_values_set_aside"]

_FLAT_OPS = ("flat", "half_flat")


def flat_priors(model: pm.Model) -> CompiledModel:
    """A copy of ``model`` with every prior replaced by a flat density on its support.

    Parameters
    ----------
    model : pymc.Model

    Returns
    -------
    CompiledModel
        The copy, a ``pymc.Model``; observed variables, data, coords, deterministics and
        potentials are kept.

    Raises
    ------
    ModelError
        A discrete free variable, a prior that depends on other free variables
        (hierarchical), or a support other than those in the module's table.
    """
    if not isinstance(model, pm.Model):
        raise ModelError(f"`model` must be a pymc.Model; got {type(model).__name__}.")
    discrete = [rv.name for rv in model.free_RVs if rv.type.dtype.startswith(("int", "uint"))]
    if discrete:
        raise ModelError(
            f"free variables {discrete} are discrete: a flat prior on them gives no MLE by "
            "find_MAP (it needs continuous parameters). Marginalise them out first."
        )
    start = _initial_point(model)
    with quiet_vendor_warnings(), initial_values_set_aside(model):
        fgraph, _ = fgraph_from_model(model)
        free_nodes = [n for n in fgraph.toposort() if isinstance(n.op, ModelFreeRV)]
        free_outputs = {n.outputs[0]: n.inputs[0].name for n in free_nodes}
        for node in free_nodes:
            rv = node.inputs[0]
            parents = sorted(
                {free_outputs[v] for v in ancestors(rv.owner.inputs) if v in free_outputs}
            )
            if parents:
                raise ModelError(
                    f"the prior of {rv.name!r} depends on the free variables {parents}: "
                    "a hierarchical model has no MLE by flattening (kept, its likelihood is "
                    f"unbounded as the spread of {rv.name!r} goes to 0; flattened, "
                    f"{parents} leave the likelihood). Fit it as a MAP with its "
                    "priors (estimate='map'), or marginalise the group effects. If "
                    f"{rv.name!r} holds data, its declaration is missing `observed=`."
                )
            fgraph.replace(rv, _flat_like(rv, node.op.transform), import_missing=True)
        # A CompiledModel: find_MAP on the copy runs on the fit's compiled functions.
        flat = compiled_copy(model_from_fgraph(fgraph, mutate_fgraph=True))
    for rv in flat.free_RVs:
        if rv.name in start:
            flat.set_initval(rv, start[rv.name])
    return flat


def _initial_point(model: pm.Model) -> dict[str, np.ndarray]:
    """The model's initial point in natural units, where every value is finite."""
    with quiet_vendor_warnings(), np.errstate(all="ignore"):
        point = make_initial_point_fn(model=model, return_transformed=False, jitter_rvs=set())(None)
    return {
        name: np.asarray(value)
        for name, value in point.items()
        if np.all(np.isfinite(np.asarray(value, dtype=np.float64)))
    }


@contextmanager
def initial_values_set_aside(model: pm.Model) -> Iterator[None]:
    """Hide the model's ``initval`` settings while PyMC converts it to a graph.

    ``fgraph_from_model`` refuses a model with initial values; they are restored as soon as
    the conversion is done (holding the PyTensor lock meanwhile), and reach the flat copy
    through :func:`_initial_point`.
    """
    held = {rv: value for rv, value in model.rvs_to_initial_values.items() if value is not None}
    with PYTENSOR_LOCK:
        try:
            for rv in held:
                model.rvs_to_initial_values[rv] = None
            yield
        finally:
            for rv, value in held.items():
                model.rvs_to_initial_values[rv] = value


def _flat_like(rv: pt.TensorVariable[Any, Any], transform: object) -> pt.TensorVariable[Any, Any]:
    """A flat random variable with the shape and support of ``rv``."""
    shape = tuple(rv.shape)
    if transform is None:
        new = pm.Flat.dist(shape=shape)
    elif isinstance(transform, LogTransform):
        new = pm.HalfFlat.dist(shape=shape)
    elif isinstance(transform, LogOddsTransform):
        new = pm.Uniform.dist(0.0, 1.0, shape=shape)
    elif isinstance(transform, IntervalTransform):
        lower, upper, *_ = transform.get_a_and_b(rv.owner.inputs)
        if lower is None or upper is None:
            raise ModelError(
                f"the support of {rv.name!r} is a half-bounded interval: no flat prior is "
                "defined for it here (only the real line, (0, inf), (a, b), the simplex)."
            )
        new = pm.Uniform.dist(lower, upper, shape=shape)
    elif isinstance(transform, SimplexTransform):
        new = pm.Dirichlet.dist(a=pt.ones(shape[-1]), shape=shape)
    else:
        raise ModelError(
            f"{rv.name!r} has support transform {type(transform).__name__}: no flat prior "
            "is defined for it here."
        )
    new.name = rv.name
    return cast(
        "pt.TensorVariable[Any, Any]", new.astype(rv.dtype) if new.dtype != rv.dtype else new
    )


def has_flat_priors(model: pm.Model) -> bool:
    """Whether every free variable already has a flat prior (Flat, HalfFlat, declared here)."""
    if family_of(model) is not None:
        return True
    return all(rv.owner.op.name in _FLAT_OPS for rv in model.free_RVs if rv.owner is not None)
