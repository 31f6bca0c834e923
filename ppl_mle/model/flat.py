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
ordered                the ordered vectors            ``Flat``
cholesky-cov-packed    Cholesky factors, diagonal>0   ``Flat``
a chain of these       the image of the chain         ``Flat``
=====================  =============================  ==========================

With flat priors, ``find_MAP`` (which maximises ``logp`` without the Jacobian of the
transforms) finds the MLE: the transform maps the real space one to one onto the support,
where the flat density is constant (a ``Flat`` kept with an ordered transform has the
density 0 on the ordered vectors, the only values it takes). Flattening makes no sense
for a discrete free variable, or for a free variable whose prior depends on other free
variables (a hierarchical model: with the hierarchy kept the likelihood is unbounded as
the group scale goes to 0; with it flattened the group-level parameters leave the
likelihood altogether). Both are refused with an error naming the variable. The original
model is not modified. The copy computes in float64 throughout
(:func:`~ppl_mle.model.float64.in_float64`), whatever the types of the model's constants.

The copy starts where the user's model starts: its initial point (the priors' support
points, or the ``initval`` given to a variable) becomes the flat copy's, so a flat prior
does not move the start to 0 (outside the support of an untransformed ``Uniform(0, 1)``) or
to 1. A start on the boundary of an ordered or Cholesky support (the tied ``[0, 0]`` of a
``Normal`` prior with an ordered transform) is replaced by the image of the origin.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

import numpy as np
import pymc as pm
import pytensor.tensor as pt
from pymc.distributions.transforms import CholeskyCovPacked, Ordered
from pymc.initial_point import make_initial_point_fn
from pymc.logprob.transforms import (
    ChainedTransform,
    IntervalTransform,
    LogOddsTransform,
    LogTransform,
    SimplexTransform,
)
from pymc.model.fgraph import ModelFreeRV, fgraph_from_model, model_from_fgraph
from pytensor.graph.fg import FunctionGraph

from ppl_mle.core.errors import ModelError
from ppl_mle.model._compat import ancestors
from ppl_mle.model._pytensor import PYTENSOR_LOCK, quiet_vendor_warnings
from ppl_mle.model.compiled import CompiledModel, compiled_copy
from ppl_mle.model.declarations import family_of
from ppl_mle.model.float64 import in_float64

__all__ = ["flat_priors", "has_flat_priors", "initial_values_set_aside"]

_FLAT_OPS = ("flat", "half_flat")

#: Transforms that map the real space one to one onto the whole of a multivariate support:
#: the ordered vectors (ascending or descending, positive or not), and the packed Cholesky
#: factors with a positive diagonal (an ``LKJCholeskyCov``, any covariance matrix).
_ONTO_SUPPORT = (Ordered, CholeskyCovPacked)

#: The transforms a chain may be made of (each one to one, so the chain is too).
_LINKS = (LogTransform, LogOddsTransform, IntervalTransform, SimplexTransform, *_ONTO_SUPPORT)


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
    return _fitting_copy(model, flatten=True)


def model_copy(model: pm.Model) -> CompiledModel:
    """A copy of ``model`` with its priors as they are, for find_MAP to run on.

    What :func:`flat_priors` makes, the priors kept: a model with flat priors already, or
    one fitted as a MAP. On the copy ``pymc.find_MAP`` runs on the fit's compiled
    functions (:class:`~ppl_mle.model.compiled.CompiledModel`), where on the user's model
    it would compile its own at every fit.

    Raises
    ------
    ModelError
        A discrete free variable.
    """
    return _fitting_copy(model, flatten=False)


def _fitting_copy(model: pm.Model, *, flatten: bool) -> CompiledModel:
    """A :class:`CompiledModel` copy of ``model``, its priors made flat if ``flatten``."""
    if not isinstance(model, pm.Model):
        raise ModelError(f"`model` must be a pymc.Model; got {type(model).__name__}.")
    discrete = [rv.name for rv in model.free_RVs if rv.type.dtype.startswith(("int", "uint"))]
    if discrete:
        what = "a flat prior on them gives no MLE by" if flatten else "no maximum is found by"
        raise ModelError(
            f"free variables {discrete} are discrete: {what} find_MAP (it needs continuous "
            "parameters). Marginalise them out first."
        )
    short = [
        f"{rv.name} ({rv.type.dtype})"
        for rv in [*model.free_RVs, *model.observed_RVs]
        if rv.type.dtype in ("float16", "float32")
    ]
    if short:
        raise ModelError(
            f"variables {short} are short floats: the model was declared with PyTensor's "
            "floatX = float32 (or an explicit dtype), and PyMC has rounded its constants and "
            "observations to float32. ppl_mle fits in float64: declare the model with "
            "floatX = float64, PyTensor's default (outside "
            "pytensor.config.change_flags(floatX='float32'), and without floatX=float32 in "
            "PYTENSOR_FLAGS or .pytensorrc)."
        )
    start = _initial_point(model)
    with quiet_vendor_warnings(), initial_values_set_aside(model):
        fgraph, _ = fgraph_from_model(model)
        if flatten:
            _flatten_priors(fgraph)
        fgraph = _in_float64(fgraph)
        # A CompiledModel: find_MAP on the copy runs on the fit's compiled functions.
        flat = compiled_copy(model_from_fgraph(fgraph, mutate_fgraph=True))
    # PyMC rebuilds the variables in the graph's order: the user's order of declaration back.
    declared = {rv.name: i for i, rv in enumerate(model.free_RVs)}
    flat.free_RVs.sort(key=lambda rv: declared[rv.name])
    for rv in flat.free_RVs:
        transform = flat.rvs_to_transforms.get(rv)
        if _onto_support(transform):
            transform = flat.rvs_to_transforms[rv] = _numpy_safe(transform)
        if rv.name in start:
            value = start[rv.name]
            if _onto_support(transform):
                value = _inside(transform, rv, value)
            flat.set_initval(rv, value)
    return flat


def _flatten_priors(fgraph: Any) -> None:
    """Replace, in place, each free variable's prior in ``fgraph`` by a flat one.

    Raises
    ------
    ModelError
        A prior that depends on other free variables (hierarchical).
    """
    free_nodes = [n for n in fgraph.toposort() if isinstance(n.op, ModelFreeRV)]
    free_outputs = {n.outputs[0]: n.inputs[0].name for n in free_nodes}
    for node in free_nodes:
        rv = node.inputs[0]
        parents = sorted({free_outputs[v] for v in ancestors(rv.owner.inputs) if v in free_outputs})
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


def _onto_support(transform: object) -> bool:
    """Whether ``transform`` needs the plain ``Flat`` density: one of :data:`_ONTO_SUPPORT`.

    A chain of :data:`_LINKS` (``transform=ordered`` on a positive prior: log, then
    ordered) maps one to one into the support of its first link, which is the prior's own
    transform, onto the positive ordered vectors there.
    """
    if isinstance(transform, ChainedTransform):
        return all(isinstance(link, _LINKS) for link in transform.transform_list)
    return isinstance(transform, _ONTO_SUPPORT)


def _transform_name(transform: object) -> str:
    """The class name of ``transform``, with its links for a chain."""
    if isinstance(transform, ChainedTransform):
        links = ", ".join(_transform_name(link) for link in transform.transform_list)
        return f"ChainedTransform({links})"
    return type(transform).__name__


def _numpy_safe(transform: Any) -> Any:
    """``transform``, its Cholesky links mapping a NumPy start back (:class:`_PackedCholesky`)."""
    if isinstance(transform, CholeskyCovPacked):
        return _PackedCholesky(transform)
    if isinstance(transform, ChainedTransform):
        return ChainedTransform([_numpy_safe(link) for link in transform.transform_list])
    return transform


def _inside(transform: Any, rv: Any, value: np.ndarray) -> Any:
    """``value``, or the image of the origin where ``transform`` maps it to no finite point.

    A prior's own start may lie on the boundary of the support a transform gives it: the
    tied means ``[0, 0]`` of a ``Normal`` with an ordered transform. The flat copy starts
    where the transform maps 0 then (``[0, 1]``), a point inside the support.
    """
    x = pt.as_tensor_variable(np.asarray(value, dtype=rv.dtype))
    z = transform.forward(x, *rv.owner.inputs)
    origin = transform.backward(pt.zeros_like(z), *rv.owner.inputs)
    return pt.switch(pt.all(pt.lt(pt.abs(z), np.inf)), x, origin)


class _PackedCholesky(CholeskyCovPacked):  # type: ignore[misc]  # pymc ships no py.typed
    """PyMC's ``CholeskyCovPacked``, mapping a NumPy array back as well as a tensor.

    find_MAP maps its start (NumPy arrays of the transformed values) back through the
    transform, and PyMC's ``backward`` indexes its argument by a tensor of indices, which a
    NumPy array refuses.
    """

    def __init__(self, transform: CholeskyCovPacked) -> None:
        self.diag_idxs = transform.diag_idxs

    def backward(self, value: Any, *inputs: Any) -> Any:
        """The packed Cholesky factor of the unconstrained ``value`` (exp on the diagonal)."""
        return super().backward(pt.as_tensor_variable(value), *inputs)


def _in_float64(fgraph: FunctionGraph) -> FunctionGraph:
    """The model graph ``fgraph`` with every floating-point value in float64.

    Before PyMC derives the log-density, which folds constants: ``pt.sqrt(2)`` of the int8
    constant 2 would become a float32 constant √2, off in its 8th digit
    (:func:`~ppl_mle.model.float64.in_float64`).
    """
    outputs = in_float64(fgraph.outputs)
    if all(a is b for a, b in zip(outputs, fgraph.outputs, strict=True)):
        return fgraph
    wide = FunctionGraph(outputs=outputs, clone=False)
    wide._coords = fgraph._coords  # type: ignore[attr-defined]  # PyMC's model meta-data
    wide._dim_lengths = fgraph._dim_lengths  # type: ignore[attr-defined]
    return wide


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
                "defined for it here (only the real line, (0, inf), (a, b), the simplex, "
                "ordered vectors and Cholesky factors)."
            )
        new = pm.Uniform.dist(lower, upper, shape=shape)
    elif isinstance(transform, SimplexTransform):
        new = pm.Dirichlet.dist(a=pt.ones(shape[-1]), shape=shape)
    elif _onto_support(transform):
        # The transform, kept, maps the real space one to one onto its support: a density
        # 0 there is flat on the support, and find_MAP maximises the likelihood.
        new = pm.Flat.dist(shape=shape)
    else:
        raise ModelError(
            f"{rv.name!r} has support transform {_transform_name(transform)}: no flat prior "
            "is defined for it here (only for the transforms log, logodds, interval, "
            "simplex, ordered and cholesky-cov-packed, and chains of them). Fit it as a MAP "
            "with its prior (estimate='map'), or declare it with one of these transforms."
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
