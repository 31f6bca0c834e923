"""Tables and ArviZ data of a per-group fit.

- :func:`grouped_table`: one row per group — n, every estimate with its standard error,
  Wald and profile-likelihood intervals, and the group's verdict;
- :func:`grouped_inference_data`: the estimates as ``arviz.InferenceData`` with the
  ``group`` dim (the layout of :mod:`ppl_mle.inference.inference_data`).
"""

from __future__ import annotations

from typing import Any

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr
from scipy import stats as sps
from scipy.special import logsumexp

from ppl_mle.core.errors import ModelError
from ppl_mle.data.validation import check_level
from ppl_mle.fit.criteria import aic, bic
from ppl_mle.fit.grouped import GroupedFit
from ppl_mle.inference.inference_data import LAPLACE_CHAINS, LAPLACE_DRAWS

__all__ = ["grouped_covariance", "grouped_inference_data", "grouped_parameters", "grouped_table"]


def _columns(fit: GroupedFit) -> dict[str, tuple[np.ndarray, np.ndarray, str, int | None]]:
    """Each parameter as (estimates, SEs, variable, column) per group, one entry a column."""
    g = fit.family.n_groups
    out: dict[str, tuple[np.ndarray, np.ndarray, str, int | None]] = {}
    for name, value in fit.estimates.items():
        se = fit.standard_errors[name]
        if np.ndim(value) == 2:  # theta[group, category]
            categories = getattr(fit.family, "categories", ())
            for j, cat in enumerate(categories):
                out[f"{name}[{cat}]"] = (value[:, j], se[:, j], name, j)
        else:
            out[name] = (np.broadcast_to(value, (g,)), np.broadcast_to(se, (g,)), name, None)
    return out


def grouped_table(fit: GroupedFit, level: float = 0.95, *, profile: bool = True) -> pd.DataFrame:
    """One row per group: n, estimates, SEs, Wald and profile intervals, verdict.

    Parameters
    ----------
    fit : GroupedFit
        A per-group fit.
    level : float
        Confidence level of the intervals.
    profile : bool
        Include the profile-likelihood intervals (closed forms per group: cheap).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``group``; for each parameter ``p``: ``p``, ``p_se``,
        ``p_wald_lower``, ``p_wald_upper`` (and ``p_profile_lower``, ``p_profile_upper``);
        then ``n``, ``verdict`` (the group's :class:`~ppl_mle.FitStatus` value) and ``note``.
        A shared σ repeats on every row.
    """
    level = check_level(level)
    z = float(sps.norm.ppf(0.5 + level / 2))
    family = fit.family
    intervals = family.profile_intervals(level) if profile else {}
    data: dict[str, Any] = {}
    for label, (est, se, name, j) in _columns(fit).items():
        data[label] = est
        data[f"{label}_se"] = se
        data[f"{label}_wald_lower"] = est - z * se
        data[f"{label}_wald_upper"] = est + z * se
        if name in intervals:
            lo, hi = intervals[name]
            if j is not None:
                lo, hi = lo[:, j], hi[:, j]
            data[f"{label}_profile_lower"] = np.broadcast_to(lo, est.shape)
            data[f"{label}_profile_upper"] = np.broadcast_to(hi, est.shape)
    data["n"] = np.asarray(family.n)
    verdict = np.empty(family.n_groups, dtype=object)
    for state in set(fit.group_status.tolist()):
        verdict[fit.group_status == state] = state.value
    data["verdict"] = verdict
    data["note"] = fit.reasons
    index = pd.Index(list(family.groups), name="group")
    return pd.DataFrame(data, index=index)


def grouped_parameters(
    fit: GroupedFit, level: float = 0.95, *, profile: bool = True
) -> pd.DataFrame:
    """One row per scalar parameter of every group, the columns of every result's table.

    Parameters
    ----------
    fit : GroupedFit
        A per-group fit.
    level : float
        Confidence level of the intervals.
    profile : bool
        Include the profile-likelihood intervals (closed forms per group).

    Returns
    -------
    pandas.DataFrame
        Indexed by parameter label (``mu[a]``, ``theta[a, x]``; a shared ``sigma`` once),
        columns ``estimate``, ``se``, ``z``, ``p_value``, ``wald_lower``, ``wald_upper``,
        ``profile_lower``, ``profile_upper`` (NaN without ``profile``), ``verdict`` (the
        group's status) and ``note``.
    """
    wide = grouped_table(fit, level, profile=profile)
    groups = list(fit.family.groups)
    categories = list(getattr(fit.family, "categories", ()))
    frames = []
    for label, (_, _, name, j) in _columns(fit).items():
        shared = np.ndim(fit.estimates[name]) == 0
        rows = wide.iloc[:1] if shared else wide
        if shared:
            index = [name]
        elif j is None:
            index = [f"{name}[{g}]" for g in groups]
        else:
            index = [f"{name}[{g}, {categories[j]}]" for g in groups]
        part = pd.DataFrame(index=pd.Index(index, name="parameter"))
        part["estimate"] = rows[label].to_numpy()
        part["se"] = rows[f"{label}_se"].to_numpy()
        with np.errstate(divide="ignore", invalid="ignore"):
            part["z"] = part["estimate"] / part["se"]
        part["p_value"] = 2.0 * sps.norm.sf(np.abs(part["z"]))
        for kind in ("wald", "profile"):
            for end in ("lower", "upper"):
                column = f"{label}_{kind}_{end}"
                part[f"{kind}_{end}"] = rows[column].to_numpy() if column in rows else np.nan
        part["verdict"] = fit.status.value if shared else rows["verdict"].to_numpy()
        part["note"] = "shared by every group" if shared else rows["note"].to_numpy()
        frames.append(part)
    table = pd.concat(frames)
    if categories:  # theta[group, category] in ArviZ's order: group by group
        table = table.loc[[f"theta[{g}, {c}]" for g in groups for c in categories]]
    table.attrs.update(
        {
            "model": fit.family.name,
            "method": fit.method,
            "loglik": fit.loglik,
            "aic": aic(fit.loglik, fit.n_params),
            "bic": bic(fit.loglik, fit.n_params, fit.n_obs),
            "n_obs": fit.n_obs,
            "n_params": fit.n_params,
            "level": level,
            "converged": fit.converged,
            "estimate_kind": fit.estimate_kind,
        }
    )
    return table


def grouped_covariance(fit: GroupedFit) -> pd.DataFrame:
    """Covariance of the estimates of :func:`grouped_parameters`, labelled alike.

    Groups are independent. Within a group, the normal model's information in (μ, σ) is
    diagonal, and a categorical group's θ has the multinomial covariance
    (diag θ − θθᵀ)/n.
    """
    table = grouped_parameters(fit, profile=False)
    labels = list(table.index)
    cov = np.zeros((len(labels), len(labels)))
    if "theta" in fit.estimates:
        theta = np.asarray(fit.estimates["theta"], dtype=float)
        k = theta.shape[1]
        n = np.asarray(fit.family.n, dtype=float)
        for g in range(theta.shape[0]):
            idx = list(range(g * k, (g + 1) * k))  # the labels run group by group
            block = (np.diag(theta[g]) - np.outer(theta[g], theta[g])) / n[g]
            cov[np.ix_(idx, idx)] = block
    else:
        cov[np.diag_indices_from(cov)] = table["se"].to_numpy() ** 2
    unknown = np.isnan(table["se"].to_numpy())  # on the boundary, or a group set aside
    cov[unknown, :] = np.nan
    cov[:, unknown] = np.nan
    return pd.DataFrame(cov, index=labels, columns=labels)


def grouped_inference_data(
    fit: GroupedFit, *, laplace: int | bool | None = True, random_seed: int | None = None
) -> az.InferenceData:
    """The per-group MLE as ``arviz.InferenceData``, with the ``group`` dim.

    ``posterior`` holds 4 chains of Laplace draws at every group's MLE (1000 per chain by
    default, ``laplace`` to choose), so that ``az.summary``, ``az.plot_forest`` and
    ``az.plot_posterior`` take it as they are: μ normal with its SE, σ log-normal (its log
    normal with SE σ̂⁻¹·SE(σ̂)), a group's θ the softmax of normal log-ratios with the
    multinomial covariance. Where a group's estimate is on the boundary (no SE), or with
    ``laplace=None``, ``posterior`` is the estimates as a point mass (one chain, one draw).
    ``point_estimate`` holds the estimates, ``standard_error`` their SEs (the model's dims:
    ``mu[group]``, ``theta[group, category]``), ``observed_data`` the statistics per group;
    ``attrs`` of ``posterior`` the method, the log-likelihood and how many groups were
    verified.
    """
    model = fit.model
    coords: dict[str, Any] = {}
    dims_of: dict[str, list[str]] = {}
    se: dict[str, Any] = {}
    point: dict[str, Any] = {}
    for name, value in fit.estimates.items():
        dims = list(model.named_vars_to_dims.get(name) or ())
        for dim in dims:
            coords[dim] = list(model.coords[dim])
        dims_of[name] = dims
        point[name] = (dims, np.asarray(value))
        se[name] = (dims, np.asarray(fit.standard_errors[name]))
    drawable = all(np.isfinite(v).all() for v in fit.standard_errors.values())
    if laplace is True:
        laplace = LAPLACE_DRAWS if drawable else None
    if laplace is None or laplace is False:
        draws = {name: np.asarray(value)[None, None, ...] for name, value in fit.estimates.items()}
        kind = "maximum likelihood per group"
    else:
        draws = _grouped_laplace(fit, int(laplace), np.random.default_rng(random_seed))
        kind = "Laplace approximation at the maximum likelihood estimate per group"
    first = next(iter(draws.values()))
    chain_draw = {"chain": np.arange(first.shape[0]), "draw": np.arange(first.shape[1])}
    posterior = {name: (["chain", "draw", *dims_of[name]], value) for name, value in draws.items()}
    post = xr.Dataset(posterior, coords={**coords, **chain_draw})
    post.attrs.update(
        {
            "inference": kind,
            "method": fit.method,
            "loglik": fit.loglik,
            "n_groups": fit.family.n_groups,
            "groups_verified": int(sum(s.converged for s in fit.group_status)),
            "status": fit.status.value,
        }
    )
    se_coords = coords
    observed = {
        rv.name: np.asarray(model.rvs_to_values[rv].get_value()) for rv in model.observed_RVs
    }
    observed_data = xr.Dataset(
        {name: (["group", f"{name}_stat"], value) for name, value in observed.items()},
        coords={"group": coords["group"]},
    )
    return az.InferenceData(
        posterior=post,
        point_estimate=xr.Dataset(point, coords=se_coords),
        standard_error=xr.Dataset(se, coords=se_coords),
        observed_data=observed_data,
    )


def _grouped_laplace(
    fit: GroupedFit, draws: int, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """``LAPLACE_CHAINS`` × ``draws`` Laplace draws of every estimate, with its shape."""
    if draws < 1 or isinstance(draws, bool):
        raise ModelError(f"`laplace` must be a positive number of draws per chain; got {draws!r}.")
    size = (LAPLACE_CHAINS, draws)
    out: dict[str, np.ndarray] = {}
    for name, value in fit.estimates.items():
        est = np.asarray(value, dtype=float)
        se = np.asarray(fit.standard_errors[name], dtype=float)
        if name == "theta":  # per group: log-ratios to the last category, then softmax
            n = np.asarray(fit.family.n, dtype=float)
            ratios = np.log(est[:, :-1] / est[:, -1:])
            # Multinomial: Cov(log θ_j/θ_K) = (diag(1/θ_j) + 1/θ_K)/n.
            inverse = 1.0 / est
            cov = np.stack([np.diag(row[:-1]) + row[-1] for row in inverse]) / n[:, None, None]
            eta = np.stack(
                [
                    rng.multivariate_normal(r, c, size=size)
                    for r, c in zip(ratios, cov, strict=True)
                ],
                axis=2,
            )
            logits = np.concatenate([eta, np.zeros((*eta.shape[:-1], 1))], axis=-1)
            out[name] = np.exp(logits - logsumexp(logits, axis=-1, keepdims=True))
        elif name == "sigma":  # log-normal: its log is normal with SE se/σ̂
            out[name] = est * np.exp(rng.normal(size=(*size, *est.shape)) * (se / est))
        else:
            out[name] = est + rng.normal(size=(*size, *est.shape)) * se
    return out
