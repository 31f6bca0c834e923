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

from ppl_mle.data.validation import check_level
from ppl_mle.fit.grouped import GroupedFit

__all__ = ["grouped_inference_data", "grouped_table"]


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


def grouped_inference_data(fit: GroupedFit) -> az.InferenceData:
    """The per-group MLE as ``arviz.InferenceData``, with the ``group`` dim.

    ``posterior`` holds the estimates as a point mass (one chain, one draw), with the
    model's dims (``mu[group]``, ``theta[group, category]``); ``standard_error`` their
    SEs; ``observed_data`` the statistics per group; ``attrs`` the method, the
    log-likelihood and how many groups were verified.
    """
    model = fit.model
    coords: dict[str, Any] = {"chain": [0], "draw": [0]}
    posterior: dict[str, Any] = {}
    se: dict[str, Any] = {}
    for name, value in fit.estimates.items():
        dims = list(model.named_vars_to_dims.get(name) or ())
        for dim in dims:
            coords[dim] = list(model.coords[dim])
        posterior[name] = (["chain", "draw", *dims], np.asarray(value)[None, None, ...])
        se[name] = (dims, np.asarray(fit.standard_errors[name]))
    post = xr.Dataset(posterior, coords=coords)
    post.attrs.update(
        {
            "inference": "maximum likelihood per group",
            "method": fit.method,
            "loglik": fit.loglik,
            "n_groups": fit.family.n_groups,
            "groups_verified": int(sum(s.converged for s in fit.group_status)),
            "status": fit.status.value,
        }
    )
    se_coords = {k: v for k, v in coords.items() if k not in ("chain", "draw")}
    observed = {
        rv.name: np.asarray(model.rvs_to_values[rv].get_value()) for rv in model.observed_RVs
    }
    observed_data = xr.Dataset(
        {name: (["group", f"{name}_stat"], value) for name, value in observed.items()},
        coords={"group": coords["group"]},
    )
    return az.InferenceData(
        posterior=post,
        standard_error=xr.Dataset(se, coords=se_coords),
        observed_data=observed_data,
    )
