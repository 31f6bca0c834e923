"""The summary table of a fit: estimates, standard errors, tests and intervals.

One row per scalar natural parameter, like statsmodels' ``summary()``: estimate, standard
error, Wald statistic z = estimate / SE and its two-sided p-value (the test of the
parameter being 0), the Wald interval and the profile-likelihood interval; then one row per
scalar element of each ``pm.Deterministic``, as ``pm.find_MAP`` returns them beside the free
variables, with its delta-method SE and its profile-likelihood interval. The fit's
log-likelihood, AIC, BIC, n and level travel in ``DataFrame.attrs``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from ppl_mle.data.validation import check_level
from ppl_mle.fit.criteria import aic, bic
from ppl_mle.fit.record import FitRecord, at_vertex, parameter_labels
from ppl_mle.inference.derived import derived_quantities
from ppl_mle.inference.profile import profile_interval
from ppl_mle.inference.uncertainty import (
    Identification,
    Uncertainty,
    uncertainty,
    wald_intervals,
)
from ppl_mle.model.support import natural_bounds

__all__ = [
    "PROFILE_MAX_PARAMS",
    "SUMMARY_COLUMNS",
    "format_summary",
    "parameter_supports",
    "summarize",
]

SUMMARY_COLUMNS = (
    "estimate",
    "se",
    "z",
    "p_value",
    "wald_lower",
    "wald_upper",
    "profile_lower",
    "profile_upper",
    "verdict",
    "note",
)


#: Above this many parameters the profile intervals are computed only on request: each
#: needs a constrained optimisation per endpoint.
PROFILE_MAX_PARAMS = 12


def summarize(
    result: FitRecord, level: float = 0.95, *, profile: bool | None = None, derived: bool = True
) -> pd.DataFrame:
    """Summary table of a fit.

    Parameters
    ----------
    result : FitRecord
        A fit from :func:`ppl_mle.fit_mle`.
    level : float
        Confidence level of the intervals, in (0, 1).
    profile : bool, optional
        Compute the profile-likelihood intervals. By default they are computed when the
        model has at most ``PROFILE_MAX_PARAMS`` parameters, and left NaN (with a note)
        above that; a Deterministic's, when besides there are at most that many
        Deterministic values.
    derived : bool
        Include the rows of the model's Deterministics.

    Returns
    -------
    pandas.DataFrame
        Indexed by parameter, with the columns of ``SUMMARY_COLUMNS``. ``attrs`` holds
        ``loglik``, ``aic``, ``bic``, ``n_obs``, ``n_params``, ``level``, ``converged``,
        ``estimate_kind`` (``"MLE"`` or ``"MAP"``).
        Standard errors, z, p and Wald intervals are NaN for estimates on the boundary of
        the parameter space, and for every parameter when the information matrix is
        singular (an :class:`~ppl_mle.IdentifiabilityWarning` says which direction).
    """
    level = check_level(level)
    do_profile = result.n_params <= PROFILE_MAX_PARAMS if profile is None else bool(profile)
    unc = uncertainty(result)
    se = unc.se
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # z = ±inf: p = 0
        z = unc.estimate / se
    p = 2.0 * stats.norm.sf(np.abs(z))
    wald_lo, wald_hi = wald_intervals(unc, level)
    vertex = at_vertex(result)
    supports = parameter_supports(result)
    rows = []
    for i, label in enumerate(unc.labels):
        notes = []
        if unc.on_boundary[i] or vertex:
            notes.append(
                f"on the boundary (estimate exactly {unc.estimate[i]:g}): no SE or Wald interval"
            )
        lo, hi = supports.get(label, (-math.inf, math.inf))
        if wald_lo[i] < lo or wald_hi[i] > hi:
            notes.append(
                f"Wald interval leaves the support [{lo:g}, {hi:g}]: prefer the profile interval"
            )
        elif not unc.identified:
            notes.append(
                "not identified: no SE"
                if result.converged or unc.identification is Identification.NOT_IDENTIFIED
                else "fit not verified: no SE"
            )
        if not do_profile:
            prof_lo = prof_hi = math.nan
            if i == 0:
                notes.append(
                    f"profile intervals not computed for {result.n_params} parameters: "
                    "pass profile=True (ppl-mle: --profile)"
                )
        elif unc.identified or unc.on_boundary[i] or vertex:
            prof = profile_interval(result, label, level)
            prof_lo, prof_hi = prof.lower, prof.upper
            if prof.note:
                notes.append(f"profile {prof.note}")
        else:
            prof_lo = prof_hi = math.nan
        rows.append(
            {
                "parameter": label,
                "estimate": unc.estimate[i],
                "se": se[i],
                "z": z[i],
                "p_value": p[i],
                "wald_lower": wald_lo[i],
                "wald_upper": wald_hi[i],
                "profile_lower": prof_lo,
                "profile_upper": prof_hi,
                "verdict": result.status.value,
                "note": "; ".join(notes),
            }
        )
    table = pd.DataFrame(rows).set_index("parameter")
    if derived and result.model.deterministics:
        table = pd.concat([table, _derived_rows(result, level, unc, profile)])
    table.attrs.update(
        {
            "model": result.model_name,
            "method": result.method,
            "loglik": result.loglik,
            "aic": aic(result.loglik, result.n_params),
            "bic": bic(result.loglik, result.n_params, result.n_obs),
            "n_obs": result.n_obs,
            "n_params": result.n_params,
            "level": level,
            "converged": result.converged,
            "estimate_kind": result.estimate_kind,
        }
    )
    return table


def _derived_rows(
    result: FitRecord, level: float, unc: Uncertainty, profile: bool | None
) -> pd.DataFrame:
    """The model's ``pm.Deterministic`` values in the table's columns.

    Delta-method SEs, and profile intervals where the free parameters get them and, by
    default, for at most ``PROFILE_MAX_PARAMS`` values.
    """
    derived = derived_quantities(result, level, precomputed=unc)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        derived["z"] = derived["estimate"] / derived["se"]
    derived["p_value"] = 2.0 * stats.norm.sf(np.abs(derived["z"]))
    many = len(derived) > PROFILE_MAX_PARAMS
    if profile is None:
        profile = result.n_params <= PROFILE_MAX_PARAMS and not many
    bounds, notes = [], []
    for i, label in enumerate(derived.index):
        note = "pm.Deterministic: delta-method SE"
        lower = upper = math.nan
        if profile and unc.identified:
            prof = profile_interval(result, label, level)
            lower, upper = prof.lower, prof.upper
            if prof.note:
                note += f"; profile {prof.note}"
        elif i == 0 and many and not profile:
            note += (
                f"; profile intervals not computed for {len(derived)} values: pass "
                "profile=True (ppl-mle: --profile)"
            )
        bounds.append((lower, upper))
        notes.append(note)
    derived["profile_lower"] = [b[0] for b in bounds]
    derived["profile_upper"] = [b[1] for b in bounds]
    derived["verdict"] = result.status.value
    derived["note"] = notes
    return derived[list(SUMMARY_COLUMNS)]


def parameter_supports(result: FitRecord) -> dict[str, tuple[float, float]]:
    """The support ``(lower, upper)`` of every scalar estimate, by label, where it is bounded."""
    out = {}
    for name, value in result.estimates.items():
        shape = np.shape(value)
        lo, hi = natural_bounds(result.model, name, shape)
        labels = parameter_labels(name, shape, result.model)
        for label, a, b in zip(labels, np.ravel(lo), np.ravel(hi), strict=True):
            if math.isfinite(a) or math.isfinite(b):
                out[label] = (float(a), float(b))
    return out


#: p-values below this are printed as "< 1e-16" (the normal tail is computed far below it,
#: but nothing that small is meaningful as a probability of the data).
_P_FLOOR = 1e-16


def format_summary(table: pd.DataFrame) -> str:
    """Render a summary table as text, statsmodels-style, with its header figures."""
    attrs = table.attrs
    pct = f"{100 * attrs['level']:g}%"
    kind = attrs.get("estimate_kind", "MLE")
    header = (
        f"{attrs['model']} model, {kind} by {attrs['method']}: n = {attrs['n_obs']}, "
        f"k = {attrs['n_params']}, log-likelihood = {attrs['loglik']:.10g}"
    )
    if kind == "MLE":  # information criteria compare maximised likelihoods, not posteriors
        header += f", AIC = {attrs['aic']:.10g}, BIC = {attrs['bic']:.10g}"
    hidden = ["note"]
    verdicts = table["verdict"].unique() if "verdict" in table else []
    if len(verdicts) == 1:  # one verdict for every row: said once, in the header
        header += f"; {verdicts[0]}"
        hidden.append("verdict")
    shown = table.drop(columns=hidden)
    # A p-value below what float64 resolves next to 1 is shown as a bound, not as 0.
    shown["p_value"] = [
        "—" if not math.isfinite(p) else (f"< {_P_FLOOR:g}" if p < _P_FLOOR else f"{p:.6g}")
        for p in shown["p_value"]
    ]
    shown = shown.rename(
        columns={
            "wald_lower": f"wald {pct} lo",
            "wald_upper": "wald hi",
            "profile_lower": f"profile {pct} lo",
            "profile_upper": "profile hi",
        }
    )
    body = shown.to_string(float_format=lambda v: f"{v:.6g}", na_rep="—")
    notes = [f"  {label}: {note}" for label, note in table["note"].items() if note]
    return "\n".join([header, body, *(["notes:", *notes] if notes else [])])
