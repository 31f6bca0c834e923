"""Checking a fitted model against its closed-form MLE."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ppl_mle.core.errors import ModelError
from ppl_mle.core.families import Family
from ppl_mle.fit.record import FitRecord, parameter_labels

__all__ = ["AnalyticCheck", "check_analytic", "closed_form_contradiction", "compare_closed_form"]

#: Default tolerances: relative difference of each estimate, absolute difference of the
#: log-likelihood. A verified fit of ordinary data agrees to ~1e-14.
DEFAULT_RTOL = 1e-10
DEFAULT_LOGLIK_ATOL = 1e-10


@dataclass(frozen=True)
class AnalyticCheck:
    """find_MAP's estimate beside the closed form.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per scalar parameter and a last row ``loglik``; columns ``find_MAP``,
        ``closed_form``, ``abs_diff``, ``rel_diff`` and ``passed``.
    rtol : float
        Tolerance on the relative difference of each estimate (an estimate whose closed form
        is exactly 0 must be exactly 0).
    loglik_atol : float
        Tolerance on the absolute difference of the log-likelihoods.
    max_rel_diff : float
        Largest relative difference over the estimates.
    loglik_diff : float
        Log-likelihood at find_MAP's estimate minus that at the closed form.
    passed : bool
        Whether every row passed.
    """

    table: pd.DataFrame
    rtol: float
    loglik_atol: float
    max_rel_diff: float
    loglik_diff: float
    passed: bool

    def to_dataframe(self) -> pd.DataFrame:
        """The comparison table."""
        return self.table

    def __str__(self) -> str:
        verdict = "PASS" if self.passed else "FAIL"
        body = self.table.to_string(
            formatters={
                "find_MAP": "{:.12g}".format,
                "closed_form": "{:.12g}".format,
                "abs_diff": "{:.2e}".format,
                "rel_diff": "{:.2e}".format,
                "passed": lambda b: "pass" if b else "FAIL",
            }
        )
        return (
            f"{body}\n{verdict}: estimates within relative {self.rtol:g}, log-likelihood "
            f"within {self.loglik_atol:g} of the closed form"
        )


def check_analytic(
    result: FitRecord,
    *,
    rtol: float = DEFAULT_RTOL,
    loglik_atol: float = DEFAULT_LOGLIK_ATOL,
) -> AnalyticCheck:
    """Compare a fit with the closed-form MLE of its model's family.

    Parameters
    ----------
    result : FitRecord
        A fit of a model declared by :func:`ppl_mle.normal` or :func:`ppl_mle.categorical`.
    rtol : float
        Largest relative difference allowed for each estimate.
    loglik_atol : float
        Largest absolute difference allowed between the log-likelihoods. A log-likelihood
        of a large sample (|ℓ| ~ 2e7 at n = 1e7) cannot be represented that finely: the
        tolerance is never below 16 units in the last place of |ℓ|.

    Returns
    -------
    AnalyticCheck

    Raises
    ------
    ModelError
        The result's model has no family with a closed form.
    """
    family = result.family
    if family is None:
        raise ModelError(
            "this model has no closed form to check against: declare it with "
            "ppl_mle.normal or ppl_mle.categorical."
        )
    return compare_closed_form(
        family, result.estimates, result.loglik, result.model, rtol=rtol, loglik_atol=loglik_atol
    )


def compare_closed_form(
    family: Family,
    estimates: Mapping[str, Any],
    loglik: float,
    model: Any,
    *,
    rtol: float = DEFAULT_RTOL,
    loglik_atol: float = DEFAULT_LOGLIK_ATOL,
) -> AnalyticCheck:
    """Compare estimates and their log-likelihood with the family's closed form.

    Parameters
    ----------
    family : NormalFamily or CategoricalFamily
        A family with a closed-form MLE.
    estimates : mapping of str to array_like
        The estimates by variable name.
    loglik : float
        The log-likelihood at ``estimates``.
    model : pymc.Model
        The fitted model (labels the rows by its coordinates).
    rtol, loglik_atol : float
        As for :func:`check_analytic`.

    Returns
    -------
    AnalyticCheck
    """
    rows, loglik_atol = _closed_form_rows(family, estimates, loglik, model, rtol, loglik_atol)
    table = pd.DataFrame(rows).set_index("parameter")
    return AnalyticCheck(
        table=table,
        rtol=rtol,
        loglik_atol=loglik_atol,
        max_rel_diff=_max_rel_diff(rows),
        loglik_diff=rows[-1]["find_MAP"] - rows[-1]["closed_form"],
        passed=all(row["passed"] for row in rows),
    )


def _closed_form_rows(
    family: Family,
    estimates: Mapping[str, Any],
    loglik: float,
    model: Any,
    rtol: float,
    loglik_atol: float,
) -> tuple[list[dict[str, Any]], float]:
    """One row per estimate and one for the log-likelihood; the tolerance of the latter."""
    exact = family.closed_form()
    rows: list[dict[str, Any]] = []
    for name, closed in exact.items():
        found = np.atleast_1d(np.asarray(estimates[name], dtype=float)).ravel()
        closed_flat = np.atleast_1d(np.asarray(closed, dtype=float)).ravel()
        labels = parameter_labels(name, np.asarray(closed).shape, model)
        for label, a, b in zip(labels, found, closed_flat, strict=True):
            diff = abs(a - b)
            rel = diff / abs(b) if b != 0 else (0.0 if diff == 0 else np.inf)
            rows.append(_row(label, a, b, diff, rel, rel <= rtol))
    loglik_closed = family.loglik(exact)
    loglik_diff = loglik - loglik_closed
    # Rounding of the sum itself, plus what the estimates' own difference from the closed
    # form (within rtol) moves it: one ulp of θ times 1e14 counts is 0.08.
    implied = abs(family.loglik({name: estimates[name] for name in exact}) - loglik_closed)
    loglik_atol = max(loglik_atol, 16 * float(np.spacing(abs(loglik_closed)))) + implied
    rel_ll = abs(loglik_diff) / abs(loglik_closed) if loglik_closed != 0 else abs(loglik_diff)
    rows.append(
        _row(
            "loglik",
            loglik,
            loglik_closed,
            abs(loglik_diff),
            rel_ll,
            abs(loglik_diff) <= loglik_atol,
        )
    )
    return rows, loglik_atol


def closed_form_contradiction(
    family: Family | None, estimates: Mapping[str, Any], loglik: float, model: Any
) -> str | None:
    """Why a verified fit disagrees with its family's closed form, or None.

    A fit is never reported converged against its own oracle: where the family knows the
    MLE in closed form, the estimates must agree with it within the tolerances of
    :func:`check_analytic`.

    Parameters
    ----------
    family : Family or None
        The model's family; without a closed form there is nothing to contradict.
    estimates : mapping of str to array_like
        The estimates by variable name.
    loglik : float
        The log-likelihood at ``estimates``.
    model : pymc.Model
        The fitted model.
    """
    if family is None or not family.has_closed_form:
        return None
    rows, loglik_atol = _closed_form_rows(
        family, estimates, loglik, model, DEFAULT_RTOL, DEFAULT_LOGLIK_ATOL
    )
    if all(row["passed"] for row in rows):
        return None
    max_rel = _max_rel_diff(rows)
    return (
        f"it differs from the closed-form MLE by {max_rel:.2g} relative (tolerance "
        f"{DEFAULT_RTOL:g}) or in log-likelihood by {rows[-1]['abs_diff']:.2g} (tolerance "
        f"{loglik_atol:.2g})"
    )


def _max_rel_diff(rows: list[dict[str, Any]]) -> float:
    """The largest relative difference of the estimates (NaN ones left out, as pandas does)."""
    found = [row["rel_diff"] for row in rows[:-1] if not math.isnan(row["rel_diff"])]
    return max(found) if found else math.nan


def _row(label: str, a: float, b: float, diff: float, rel: float, ok: bool) -> dict[str, Any]:
    return {
        "parameter": label,
        "find_MAP": float(a),
        "closed_form": float(b),
        "abs_diff": float(diff),
        "rel_diff": float(rel),
        "passed": bool(ok),
    }
