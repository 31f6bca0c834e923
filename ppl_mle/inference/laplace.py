"""The Laplace approximation at the MLE, with the exact Hessian.

A multivariate normal in the unconstrained coordinates ``z`` — mean ẑ, covariance the
inverse observed information −∇²ℓ(ẑ)⁻¹ (PyTensor autodiff) — pushed through the model's
transforms into the natural parameters: log-normal for σ, logistic-normal for θ. This is
the approximation pymc-extras' ``fit_laplace`` makes, but with the exact Hessian instead of
the optimizer's quasi-Newton one. Estimates on the boundary stay exactly there.

The transforms are applied to all the draws at once: the model's graph from ``z`` to its
natural values, vectorised over a leading axis of draws (``vectorize_graph``) and compiled
once per graph structure, kept with the objective's (:meth:`Objective.kept`), so that a
new model of the same shape reuses it. The draws never pass over the data, which the
transforms do not read.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pymc as pm
import pytensor.tensor as pt
from pytensor.graph.replace import vectorize_graph

from ppl_mle.core.errors import ModelError
from ppl_mle.fit.compiled import compile_function
from ppl_mle.fit.held import HeldObjective
from ppl_mle.fit.objective import Objective
from ppl_mle.fit.record import FitRecord, at_vertex
from ppl_mle.inference.uncertainty import Uncertainty, natural_labels, uncertainty
from ppl_mle.model._pytensor import no_creation_traces, quiet_vendor_warnings

__all__ = ["laplace_draws"]


def laplace_draws(
    result: FitRecord,
    size: int = 4000,
    random_seed: int | None = None,
    *,
    precomputed: Uncertainty | None = None,
) -> dict[str, np.ndarray]:
    """Draws from the Laplace approximation, by parameter label.

    Parameters
    ----------
    result : MLEResult
        A verified fit.
    size : int
        Number of draws.
    random_seed : int, optional
        Seed.
    precomputed : Uncertainty, optional
        The fit's uncertainty when already computed (:meth:`MLEResult.uncertainty`).

    Returns
    -------
    dict of str to numpy.ndarray
        One array of ``size`` draws per scalar natural parameter; NaN when the information
        matrix is singular or nothing is left in the interior (a single category, every
        estimate on a bound of its support).
    """
    labels = list(result.estimates_frame().index)
    unc = precomputed if precomputed is not None else uncertainty(result)
    if at_vertex(result) or not unc.identified:
        return {label: np.full(size, np.nan) for label in labels}
    if unc.working_estimate is None or unc.working_cov is None:
        # The O(k) uncertainty of a categorical fit with very many categories forms no
        # covariance in the unconstrained coordinates.
        raise ModelError(
            "the Laplace approximation needs the covariance of the unconstrained "
            "coordinates, which this fit's uncertainty does not form (a categorical model "
            "with very many categories has closed-form standard errors only)."
        )
    rng = np.random.default_rng(random_seed)
    # Drawn in the units the fit worked in (finite whatever the scale of the data).
    z = rng.multivariate_normal(unc.working_estimate, unc.working_cov, size=size)
    objective = result.objective
    values = _natural_rows(objective, np.asarray(result.z, dtype=np.float64), z)
    inner = natural_labels(result)
    out = {label: np.zeros(size) for label in labels}  # boundary estimates stay at 0
    for j, label in enumerate(inner):
        out[label] = values[:, j]
    return out


def _natural_rows(objective: Objective, z_hat: np.ndarray, z: np.ndarray) -> np.ndarray:
    """The natural values at each row of ``z``, flat in the objective's order, user units.

    ``z_hat`` (the estimate) gives the shape of each free variable's natural value. Rows
    of a :class:`~ppl_mle.fit.held.HeldObjective` are completed with its held coordinates
    (estimates on a bound of their support stay there) and mapped by the whole model's.
    """
    if isinstance(objective, HeldObjective):
        full = np.tile(objective.fixed, (z.shape[0], 1))
        full[:, objective.free] = z
        return _natural_rows(objective.base, objective.full(z_hat), full)
    shapes = {name: np.shape(v) for name, v in objective.natural(z_hat).items()}
    fn = objective.kept("natural_rows", functools.partial(_batched_natural, objective.model))
    with np.errstate(all="ignore"):
        flat = np.asarray(fn(z, *objective.data_values()), dtype=np.float64)
    working, start = {}, 0
    for name, shape in shapes.items():
        stop = start + int(np.prod(shape, dtype=np.int64))
        working[name] = flat[:, start:stop].reshape((z.shape[0], *shape))
        start = stop
    natural = objective.affine.values(working) if not objective.affine.identity else working
    return np.concatenate([v.reshape(z.shape[0], -1) for v in natural.values()], axis=1)


def _batched_natural(model: pm.Model, compiled: Any) -> Any:
    """A function of (draws × ``z``, data…) → draws × natural values.

    The objective's natural values (``compiled.natural_flat``), vectorised over the rows
    of a matrix.
    """
    with quiet_vendor_warnings(), no_creation_traces():
        rows = pt.matrix("rows", dtype="float64")
        batched = vectorize_graph(compiled.natural_flat, replace={compiled.z: rows})
    return compile_function(model, [rows, *compiled.standins], batched)
