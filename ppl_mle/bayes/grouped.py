"""The per-group MLE beside the NUTS posterior of the same per-group model.

A per-group model is written in each group's statistics, so NUTS costs O(groups) per
gradient whatever the number of rows. :func:`compare_groups` (reached through
:func:`ppl_mle.compare_bayes`) fits every group's MLE, samples the model, and puts side by
side, one row per group and parameter: the MLE and its SE, the posterior mean, sd and HDI
with ArviZ's diagnostics, and the exact flat-prior posterior mean and sd (Student-t and
inverse-gamma marginals for the normal, Beta for the categorical).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import arviz as az
import numpy as np
import pandas as pd

from ppl_mle.api.fit_mle import fit_mle
from ppl_mle.api.grouped_result import GroupedResult
from ppl_mle.bayes.sampling import (
    DIAGNOSTIC_MIN_DRAWS,
    ESS_MIN,
    RHAT_MAX,
    arviz_summary,
    run_nuts,
)
from ppl_mle.core.errors import SamplingWarning, find_stack_level
from ppl_mle.model.grouped import GroupedModel

__all__ = ["GroupedComparison", "compare_groups"]


@dataclass(frozen=True, eq=False)
class GroupedComparison:
    """Every group's MLE and its NUTS posterior, side by side.

    Attributes
    ----------
    table : pandas.DataFrame
        Indexed by (``group``, ``parameter``); columns ``mle``, ``se``,
        ``posterior_mean``, ``posterior_sd``, ``hdi_lower``, ``hdi_upper``, ``mcse_mean``,
        ``ess_bulk``, ``ess_tail``, ``r_hat``, ``exact_mean``, ``exact_sd``. A parameter
        all groups share has the group ``"(all)"``.
    idata : arviz.InferenceData
        The NUTS run, with the ``group`` dim.
    mle : GroupedResult
        The per-group fit.
    divergences : int
        Divergent transitions after tuning.
    problems : tuple of str
        Failed diagnostics, counted and with the worst parameter named.
    level : float
        Level of the HDI.
    """

    table: pd.DataFrame
    idata: az.InferenceData
    mle: GroupedResult
    divergences: int
    problems: tuple[str, ...]
    level: float

    @property
    def trustworthy(self) -> bool:
        """Whether every diagnostic passed."""
        return not self.problems

    def to_dataframe(self) -> pd.DataFrame:
        """The comparison table."""
        return self.table

    def __str__(self) -> str:
        verdict = (
            f"trustworthy: every r_hat <= {RHAT_MAX}, ess >= {ESS_MIN}, no divergences"
            if self.trustworthy
            else "NOT TRUSTWORTHY: " + "; ".join(self.problems)
        )
        shown = self.table[["mle", "se", "posterior_mean", "posterior_sd", "exact_mean", "r_hat"]]
        with pd.option_context("display.max_rows", 12, "display.width", 120):
            text = shown.to_string(float_format=lambda v: f"{v:.6g}", max_rows=12)
        return (
            f"per-group MLE vs NUTS posterior ({self.mle.family.name}, "
            f"{self.mle.family.n_groups} groups; {self.divergences} divergences)\n{text}\n{verdict}"
        )


def compare_groups(
    model: GroupedModel | GroupedResult,
    draws: int,
    tune: int,
    chains: int,
    random_seed: int | None,
    *,
    level: float,
    cores: int | None,
    target_accept: float,
    progressbar: bool,
    **sample_kwargs: Any,
) -> GroupedComparison:
    """Fit every group, sample the per-group model, and compare (see the module)."""
    result = model if isinstance(model, GroupedResult) else fit_mle(model)
    if not isinstance(result, GroupedResult):  # fit_mle fits a GroupedModel group by group
        raise RuntimeError("internal error: a per-group model gave no per-group fit")
    source = result.model
    family = result.family
    family.check_proper()
    idata = run_nuts(
        source,
        draws=draws,
        tune=tune,
        chains=chains,
        random_seed=random_seed,
        cores=cores,
        target_accept=target_accept,
        progressbar=progressbar,
        sample_kwargs=sample_kwargs,
    )
    summary = arviz_summary(idata, level)
    exact = family.exact_posterior_moments()
    rows = []
    for name, estimate in result.estimates.items():
        se = result.standard_errors[name]
        mean, sd = exact.get(name, (np.full(np.shape(estimate), np.nan),) * 2)
        for index, group, label in _labels(result, name, np.shape(estimate)):
            row = summary.loc[label]
            rows.append(
                {
                    "group": group,
                    "parameter": _parameter(name, label),
                    "mle": float(np.asarray(estimate)[index]),
                    "se": float(np.asarray(se)[index]),
                    "posterior_mean": row["mean"],
                    "posterior_sd": row["sd"],
                    "hdi_lower": row["hdi_lower"],
                    "hdi_upper": row["hdi_upper"],
                    "mcse_mean": row["mcse_mean"],
                    "ess_bulk": row["ess_bulk"],
                    "ess_tail": row["ess_tail"],
                    "r_hat": row["r_hat"],
                    "exact_mean": float(np.asarray(mean)[index]),
                    "exact_sd": float(np.asarray(sd)[index]),
                }
            )
    table = pd.DataFrame(rows).set_index(["group", "parameter"])
    divergences = int(idata["sample_stats"]["diverging"].sum())
    problems = _diagnose(table, divergences, chains)
    for problem in problems:
        warnings.warn(problem, SamplingWarning, stacklevel=find_stack_level())
    return GroupedComparison(table, idata, result, divergences, tuple(problems), level)


def _labels(
    result: GroupedResult, name: str, shape: tuple[int, ...]
) -> list[tuple[tuple[int, ...], Any, str]]:
    """(index, group, ArviZ label) of every scalar of ``name``."""
    coords = result.model.coords
    if shape == ():
        return [((), "(all)", name)]
    groups = list(coords["group"])
    if len(shape) == 1:
        return [((i,), g, f"{name}[{g}]") for i, g in enumerate(groups)]
    cats = list(coords["category"])
    return [
        ((i, j), g, f"{name}[{g}, {c}]") for i, g in enumerate(groups) for j, c in enumerate(cats)
    ]


def _parameter(name: str, label: str) -> str:
    """``theta[g, a]`` → ``theta[a]``; ``mu[g]`` → ``mu``."""
    if ", " in label:
        return f"{name}[{label.rsplit(', ', 1)[1]}"
    return name


def _diagnose(table: pd.DataFrame, divergences: int, chains: int) -> list[str]:
    """Failed diagnostics, counted over all groups, naming the worst."""
    problems = []
    if chains < 2:
        problems.append("r_hat cannot be assessed with a single chain: run at least 2 chains")
    else:
        # NaN (too few draws to compute it) fails the gate as a figure beyond it does.
        bad = ~(table["r_hat"] <= RHAT_MAX)
        if bad.any():
            problems.append(
                f"r_hat > {RHAT_MAX} for {int(bad.sum())} of {len(table)} parameters "
                f"({_worst(table['r_hat'], largest=True, digits='.4g')}); run longer chains"
            )
    for column in ("ess_bulk", "ess_tail"):
        low = ~(table[column] >= ESS_MIN)
        if low.any():
            problems.append(
                f"{column} < {ESS_MIN} for {int(low.sum())} of {len(table)} parameters "
                f"({_worst(table[column], largest=False, digits='.0f')}); increase draws"
            )
    if divergences:
        problems.append(
            f"{divergences} divergent transitions: raise target_accept or reparametrise"
        )
    return problems


def _worst(values: pd.Series, *, largest: bool, digits: str) -> str:
    """``worst: label at figure``; a figure that could not be computed is the worst."""
    missing = values.isna()
    if missing.any():
        return (
            f"worst: {values.index[missing][0]}, not computable: fewer than "
            f"{DIAGNOSTIC_MIN_DRAWS} draws per chain, or draws that never move"
        )
    label = values.idxmax() if largest else values.idxmin()
    return f"worst: {label} at {values[label]:{digits}}"
