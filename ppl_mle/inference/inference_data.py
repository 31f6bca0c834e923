"""An MLE as ArviZ ``InferenceData``.

Layout (chosen so that ArviZ functions written for posteriors accept an MLE, with no
warning):

- ``posterior``: 4 chains of 1000 independent draws from the Laplace approximation at the
  MLE (:func:`ppl_mle.inference.laplace.laplace_draws`: the exact inverse information
  pushed through the model's transforms), each variable with the model's own dims and
  coords, and every ``pm.Deterministic`` computed on each draw, as pymc-extras'
  ``fit_laplace`` returns it. ``az.summary``, ``az.plot_forest`` and ``az.plot_posterior``
  then show the MLE's uncertainty, and ``az.plot_forest([nuts, mle])`` draws it beside a
  NUTS posterior. Where there is no
  covariance to draw from (an estimate on the boundary, a singular information matrix)
  or with ``laplace=None``, ``posterior`` is the MLE as a point mass (one chain, one draw):
  ArviZ then has no spread to report.
- ``point_estimate``: the MLE itself and its deterministics, same dims, no chain or draw.
- ``fit``: as pymc-extras writes it, ``mean_vector`` (the MLE in the unconstrained
  coordinates find_MAP optimised, over ``rows``) and ``covariance_matrix`` (the inverse
  observed information there, over ``rows`` × ``columns``), where it is formed.
- ``unconstrained_posterior``: the MLE in those coordinates (``sigma_log__``,
  ``theta_simplex__``) with the model's dims, one chain and one draw.
- ``standard_error``: one value per parameter, same dims as in ``posterior`` but without
  ``chain`` and ``draw`` (NaN on the boundary).
- ``observed_data``: the data.
- ``constant_data``: the model's ``pm.Data`` containers that are not observations (covariates,
  design matrices), each with the value it holds now, as PyMC's ``sample`` writes them;
  absent when there are none.
- ``attrs`` of ``posterior``: how it was obtained (``inference``, method, log-likelihood,
  n, converged).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import arviz as az
import numpy as np
import pymc as pm
import xarray as xr

from ppl_mle.core.errors import ModelError
from ppl_mle.fit.record import FitRecord
from ppl_mle.inference.laplace import laplace_draws
from ppl_mle.inference.uncertainty import Uncertainty, uncertainty

__all__ = ["mle_inference_data"]


def _dims_coords(model: Any, name: str, shape: tuple[int, ...]) -> tuple[list[str], dict[str, Any]]:
    dims = list(model.named_vars_to_dims.get(name, ()) or ())
    coords: dict[str, Any] = {}
    if len(dims) != len(shape):
        dims = [f"{name}_dim_{i}" for i in range(len(shape))]
    for dim, size in zip(dims, shape, strict=True):
        values = model.coords.get(dim)
        coords[dim] = list(values) if values is not None else np.arange(size)
    return dims, coords


def _dataset(values: Mapping[str, np.ndarray], model: Any, point_mass: bool) -> xr.Dataset:
    data_vars = {}
    coords: dict[str, Any] = {}
    for name, value in values.items():
        arr = np.asarray(value, dtype=float)
        dims, var_coords = _dims_coords(model, name, arr.shape)
        coords.update(var_coords)
        if point_mass:
            data_vars[name] = (["chain", "draw", *dims], arr[np.newaxis, np.newaxis, ...])
        else:
            data_vars[name] = (dims, arr)
    if point_mass:
        coords.update({"chain": [0], "draw": [0]})
    return xr.Dataset(data_vars, coords=coords)


#: Chains of Laplace draws in ``posterior`` (independent draws: r_hat ≈ 1 by construction).
LAPLACE_CHAINS = 4

#: Draws per chain in the default ``posterior``.
LAPLACE_DRAWS = 1000


def mle_inference_data(
    result: FitRecord,
    *,
    precomputed: Uncertainty | None = None,
    laplace: int | bool | None = True,
    random_seed: int | None = None,
) -> az.InferenceData:
    """The MLE of ``result`` as ``arviz.InferenceData`` (layout in the module docstring).

    Parameters
    ----------
    result : MLEResult
        A fit.
    precomputed : Uncertainty, optional
        The fit's uncertainty when already computed (:meth:`MLEResult.uncertainty`);
        computed here otherwise.
    laplace : int, bool or None
        Draws per chain (4 chains) from the Laplace approximation to put in ``posterior``.
        ``True`` (the default): ``LAPLACE_DRAWS`` where there is a covariance to draw
        from, else the MLE as a point mass; ``None`` or ``False``: the point mass.
    random_seed : int, optional
        Seed of the Laplace draws.

    Raises
    ------
    ModelError
        ``laplace`` is not a positive integer, or the fit has no finite standard errors
        to draw from (a singular information matrix).
    """
    model = result.model
    unc = precomputed if precomputed is not None else uncertainty(result)
    if laplace is True:  # the default: draws where there is a covariance to draw from
        drawable = unc.identified and bool(np.all(np.isfinite(unc.se)))
        laplace = LAPLACE_DRAWS if drawable else None
    if laplace is None or laplace is False:
        posterior = _dataset(result.estimates, model, point_mass=True)
        kind = "maximum likelihood"
    else:
        posterior = _laplace_posterior(result, unc, laplace, random_seed)
        kind = "Laplace approximation at the maximum likelihood estimate"
    point = _dataset(result.estimates, model, point_mass=True)
    if model.deterministics:  # as pymc-extras: every pm.Deterministic, draw by draw
        posterior, point = (
            pm.compute_deterministics(d, model=model, merge_dataset=True, progressbar=False)
            for d in (posterior, point)
        )
    posterior.attrs.update(
        {
            "inference": kind,
            "method": result.method,
            "loglik": result.loglik,
            "n_obs": result.n_obs,
            "converged": int(result.converged),
            "model": result.model_name,
        }
    )
    unconstrained = _dataset(result.unconstrained, model, point_mass=True)
    se = np.asarray(unc.se, dtype=float)
    se_values = {}
    start = 0
    for name, value in result.estimates.items():
        size = int(np.size(value))
        se_values[name] = se[start : start + size].reshape(np.shape(value))
        start += size
    standard_error = _dataset(se_values, model, point_mass=False)
    observed = {rv.name: np.asarray(model.rvs_to_values[rv].eval()) for rv in model.observed_RVs}
    observed_data = xr.Dataset(
        {name: ([f"{name}_dim_0"], np.ravel(v)) for name, v in observed.items()}
    )
    idata = az.InferenceData(
        posterior=posterior,
        unconstrained_posterior=unconstrained,
        standard_error=standard_error,
        observed_data=observed_data,
    )
    idata.add_groups(point_estimate=point.isel(chain=0, draw=0, drop=True))
    fit = _fit_group(result, unc)
    if fit is not None:
        idata.add_groups(fit=fit)
    constant = _constant_data(model)
    if constant is not None:
        idata.add_groups(constant_data=constant)
    return idata


def _fit_group(result: FitRecord, unc: Uncertainty) -> xr.Dataset | None:
    """pymc-extras' ``fit`` group: the unconstrained MLE and its covariance, or None."""
    if unc.unconstrained_cov is None:
        return None
    labels = list(unc.unconstrained_labels)
    mean = np.concatenate([np.ravel(v) for v in result.unconstrained.values()])
    if mean.size != len(labels):
        return None
    return xr.Dataset(
        {
            "mean_vector": (["rows"], mean.astype(float)),
            "covariance_matrix": (["rows", "columns"], unc.unconstrained_cov),
        },
        coords={"rows": labels, "columns": labels},
    )


def _laplace_posterior(
    result: FitRecord, unc: Uncertainty, draws: int, random_seed: int | None
) -> xr.Dataset:
    """``LAPLACE_CHAINS`` chains of ``draws`` Laplace draws, each variable with its dims."""
    if not isinstance(draws, int | np.integer) or isinstance(draws, bool) or draws < 1:
        raise ModelError(f"`laplace` must be a positive number of draws per chain; got {draws!r}.")
    if not unc.identified:
        raise ModelError(
            "the information matrix is singular: there is no Laplace approximation to draw "
            "from (see the fit's IdentifiabilityWarning)."
        )
    total = LAPLACE_CHAINS * int(draws)
    flat = laplace_draws(result, total, random_seed=random_seed, precomputed=unc)
    labels = iter(flat)
    values = {}
    for name, estimate in result.estimates.items():
        shape = np.shape(estimate)
        columns = [flat[next(labels)] for _ in range(int(np.prod(shape, dtype=np.int64)))]
        stacked = np.stack(columns, axis=-1).reshape(LAPLACE_CHAINS, int(draws), *shape)
        values[name] = stacked
    data_vars: dict[str, Any] = {}
    coords: dict[str, Any] = {"chain": np.arange(LAPLACE_CHAINS), "draw": np.arange(draws)}
    for name, value in values.items():
        dims, var_coords = _dims_coords(result.model, name, value.shape[2:])
        coords.update(var_coords)
        data_vars[name] = (["chain", "draw", *dims], value)
    return xr.Dataset(data_vars, coords=coords)


def _constant_data(model: Any) -> xr.Dataset | None:
    """The model's ``pm.Data`` containers other than observations, by name (or None)."""
    observed = {id(model.rvs_to_values.get(rv)) for rv in model.observed_RVs}
    values = {}
    for var in getattr(model, "data_vars", ()):
        if id(var) in observed or not hasattr(var, "get_value") or var.name is None:
            continue
        # No copy of a large design matrix: a read-only view of the array held now.
        value = np.asarray(var.get_value(borrow=True)).view()
        value.flags.writeable = False
        values[var.name] = value
    if not values:
        return None
    data_vars = {}
    coords: dict[str, Any] = {}
    for name, value in values.items():
        dims, var_coords = _dims_coords(model, name, value.shape)
        for dim, size in zip(dims, value.shape, strict=True):
            if len(var_coords[dim]) != size:  # data replaced without new coords
                dims = [f"{name}_dim_{i}" for i in range(value.ndim)]
                var_coords = {d: np.arange(n) for d, n in zip(dims, value.shape, strict=True)}
                break
        coords.update(var_coords)
        data_vars[name] = (dims, value)
    return xr.Dataset(data_vars, coords=coords)
