"""Tests between models: likelihood ratio and Pearson's chi-square.

``lr_test(restricted, full)`` compares two fits of nested models to the same data;
``lr_test(full, p=...)`` compares a categorical fit with a given probability vector (the
G-test, which is what ``scipy.stats.power_divergence(..., lambda_="log-likelihood")``
computes); ``pearson_test(full, p=...)`` is Pearson's goodness-of-fit statistic, as
``scipy.stats.chisquare``. Results have ``statistic``, ``df`` and ``pvalue`` like scipy's.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Hashable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from ppl_mle.core.errors import ConvergenceWarning, ModelError, find_stack_level
from ppl_mle.core.families import Family
from ppl_mle.core.grouped.homogeneity import homogeneity_statistic
from ppl_mle.fit.grouped import GroupedFit
from ppl_mle.fit.record import FitRecord

__all__ = ["HypothesisTestResult", "lr_test", "pearson_test"]


@dataclass(frozen=True)
class HypothesisTestResult:
    """The outcome of a test: statistic, degrees of freedom, p-value.

    Attributes
    ----------
    statistic : float
        The test statistic (2·(ℓ̂_full − ℓ̂_restricted) for a likelihood-ratio test).
    df : int
        Degrees of freedom of its χ² reference distribution.
    pvalue : float
        P(χ²_df ≥ statistic).
    method : str
        Which test.
    null : str
        The null hypothesis, in words.
    """

    statistic: float
    df: int
    pvalue: float
    method: str
    null: str

    def __iter__(self) -> Iterator[float]:
        """Unpack as ``statistic, pvalue``, like scipy's results."""
        return iter((self.statistic, self.pvalue))

    def __str__(self) -> str:
        return (
            f"{self.method}: statistic = {self.statistic:.6g}, df = {self.df}, "
            f"p = {self.pvalue:.4g} (null: {self.null})"
        )


def lr_test(
    restricted: FitRecord | GroupedFit,
    full: FitRecord | None = None,
    *,
    p: Any = None,
    share: str | None = None,
) -> HypothesisTestResult:
    """Likelihood-ratio test.

    Two forms:

    - ``lr_test(restricted, full)``: two fits of nested models to the same data (for
      example the normal model with sd fixed, against sd free). The statistic
      2·(ℓ̂_full − ℓ̂_restricted) is referred to χ² with as many degrees of freedom as the
      full model has extra parameters.
    - ``lr_test(full, p=[...])``: a categorical fit against the probability vector ``p``
      (a sequence in the order of the categories, or a mapping category → probability);
      k − 1 degrees of freedom.
    - ``lr_test(per_group_fit, share="mu")``: a per-group fit against the model in which
      all groups share ``"mu"``, ``"sigma"``, ``"mu and sigma"`` (normal) or ``"theta"``
      (categorical: the G-test of homogeneity, as ``scipy.stats.chi2_contingency(table,
      correction=False, lambda_="log-likelihood")``); see
      :mod:`ppl_mle.core.grouped.homogeneity` for each statistic.

    Parameters
    ----------
    restricted : FitRecord
        The restricted fit, or the categorical fit when ``p`` is given.
    full : FitRecord, optional
        The full fit.
    p : array_like or mapping, optional
        Null probabilities of a categorical fit; they must sum to 1.
    share : str, optional
        With a per-group fit: the parameter the null hypothesis shares across groups.

    Returns
    -------
    HypothesisTestResult

    Raises
    ------
    ModelError
        Arguments that are not fits, models that are not nested or not fitted to the same
        data, or a ``p`` that is not a probability vector over the categories.
    """
    if isinstance(restricted, GroupedFit):
        if full is not None or p is not None or share is None:
            raise ModelError(
                "a per-group fit is tested alone, against groups that share a parameter: "
                "lr_test(fit, share='mu') (or 'sigma', 'mu and sigma', 'theta')."
            )
        return _lr_homogeneity(restricted, share)
    if share is not None:
        raise ModelError("`share` is for a per-group fit (ppl_mle.normal(data, groups=...)).")
    if p is not None:
        if full is not None:
            raise ModelError("give either a second fit or `p`, not both.")
        return _lr_against_p(restricted, p)
    if full is None:
        raise ModelError("lr_test needs two fits (restricted, full) or one fit and `p`.")
    _check_fit(restricted, "restricted")
    _check_fit(full, "full")
    df = _nested_df(restricted, full)
    _check_same_data(restricted, full)
    for name, fit in (("restricted", restricted), ("full", full)):
        if not fit.converged:
            warnings.warn(
                f"the {name} fit was not verified as a maximum; the test may be wrong.",
                ConvergenceWarning,
                stacklevel=find_stack_level(),
            )
    statistic = 2.0 * (full.loglik - restricted.loglik)
    slack = 1e-8 * max(1.0, abs(full.loglik))
    if statistic < -2.0 * slack:
        raise ModelError(
            "the restricted model fits better than the full one "
            f"(log-likelihoods {restricted.loglik:.10g} > {full.loglik:.10g}): the models "
            "are not nested, or the full fit did not reach its maximum."
        )
    statistic = max(statistic, 0.0)
    return HypothesisTestResult(
        statistic=statistic,
        df=df,
        pvalue=float(stats.chi2.sf(statistic, df)),
        method="likelihood-ratio test",
        null=f"the restricted model ({restricted.model_name})",
    )


def _lr_homogeneity(fit: GroupedFit, share: str) -> HypothesisTestResult:
    """The test that all groups of a per-group fit share ``share``."""
    if not fit.converged:
        warnings.warn(
            "the per-group fit was not verified in every group; the test may be wrong.",
            ConvergenceWarning,
            stacklevel=find_stack_level(),
        )
    statistic, df = homogeneity_statistic(fit.family, share)
    what = "G-test of homogeneity" if share == "theta" else "likelihood-ratio test"
    return HypothesisTestResult(
        statistic=statistic,
        df=df,
        pvalue=float(stats.chi2.sf(statistic, df)) if df > 0 else 1.0,
        method=what,
        null=f"all {fit.family.n_groups} groups share {share}",
    )


def pearson_test(result: FitRecord, p: Any = None) -> HypothesisTestResult:
    """Pearson's chi-square goodness-of-fit test of a categorical fit.

    X² = Σ (cⱼ − n pⱼ)² / (n pⱼ) on k − 1 degrees of freedom, as
    ``scipy.stats.chisquare(counts, n * p)``.

    Parameters
    ----------
    result : FitRecord
        A fit of :func:`ppl_mle.categorical`.
    p : array_like or mapping, optional
        Null probabilities; equal probabilities by default.

    Returns
    -------
    HypothesisTestResult
    """
    family, categories, counts = _counts_fit(result, "pearson_test")
    probs = _probabilities(categories, p)
    expected = family.n_obs * probs
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(expected > 0, (counts - expected) ** 2 / expected, np.inf)
    terms = np.where((expected == 0) & (counts == 0), 0.0, terms)
    return _against_p(float(terms.sum()), probs, "Pearson chi-square test")


def _lr_against_p(result: FitRecord, p: Any) -> HypothesisTestResult:
    family, categories, _ = _counts_fit(result, "lr_test")
    probs = _probabilities(categories, p)
    loglik_null = family.loglik({"theta": probs})
    statistic = 2.0 * (result.loglik - loglik_null) if math.isfinite(loglik_null) else math.inf
    return _against_p(max(statistic, 0.0), probs, "likelihood-ratio (G) test")


def _against_p(statistic: float, probs: np.ndarray, method: str) -> HypothesisTestResult:
    """A goodness-of-fit result on k − 1 degrees of freedom."""
    df = probs.size - 1
    return HypothesisTestResult(
        statistic=statistic,
        df=df,
        pvalue=float(stats.chi2.sf(statistic, df)),
        method=method,
        null=f"theta = {np.round(probs, 6).tolist()}",
    )


def _check_fit(result: Any, name: str) -> None:
    if not isinstance(result, FitRecord):
        raise ModelError(
            f"`{name}` must be a fitted model (the MLEResult of fit_mle); got "
            f"{type(result).__name__}. Fit it first: fit_mle(model)."
        )


def _counts_fit(result: Any, caller: str) -> tuple[Family, tuple[Hashable, ...], np.ndarray]:
    """The family, categories and counts of a fit of a model of category counts."""
    _check_fit(result, "result")
    family = result.family
    if family is None or family.categories is None or family.counts is None:
        raise ModelError(
            f"{caller} with `p` needs a fit of the categorical model; got a fit of the "
            f"{result.model_name} model."
        )
    return family, family.categories, family.counts


def _probabilities(categories: tuple[Hashable, ...], p: Any) -> np.ndarray:
    """Validate a null probability vector over the categories."""
    k = len(categories)
    if p is None:
        return np.full(k, 1.0 / k)
    if isinstance(p, Mapping):
        unknown = [c for c in p if c not in categories]
        missing = [c for c in categories if c not in p]
        if unknown or missing:
            raise ModelError(
                f"`p` must give a probability for every category {list(categories)}; "
                + (f"unknown {unknown}" if unknown else f"missing {missing}")
                + "."
            )
        p = [p[c] for c in categories]
    try:
        probs = np.asarray(p, dtype=float)
    except (TypeError, ValueError):
        raise ModelError(f"`p` must be numbers; got {p!r}.") from None
    if probs.shape != (k,):
        raise ModelError(
            f"`p` must have one probability per category ({k}: "
            f"{list(categories)}); got shape {probs.shape}."
        )
    if not np.all(np.isfinite(probs)) or np.any(probs < 0):
        raise ModelError(f"`p` must be finite and non-negative; got {probs.tolist()}.")
    total = float(probs.sum())
    if abs(total - 1.0) > 1e-9:
        raise ModelError(
            f"`p` must sum to 1; it sums to {total:.12g}. For ratios such as 9:3:3:1 pass "
            "them divided by their sum: np.array([9, 3, 3, 1]) / 16."
        )
    return probs


def _nested_df(restricted: FitRecord, full: FitRecord) -> int:
    """Degrees of freedom of the test, after checking the models are nested."""
    fam_r, fam_f = restricted.family, full.family
    if fam_r is not None and fam_f is not None and type(fam_r) is not type(fam_f):
        raise ModelError(
            f"the models are not nested: a {fam_r.name} model and a {fam_f.name} model."
        )
    if fam_f is not None and fam_f.known:
        fixed = ", ".join(f"{name} = {value:g}" for name, value in fam_f.known.items())
        raise ModelError(
            "the models are not nested as given: the full model must estimate "
            f"{', '.join(fam_f.known)} (it has {fixed} fixed). Pass (restricted, full)."
        )
    names_r = {rv.name for rv in restricted.model.free_RVs}
    names_f = {rv.name for rv in full.model.free_RVs}
    df = full.n_params - restricted.n_params
    if not names_r <= names_f or df <= 0:
        raise ModelError(
            "the models are not nested: the restricted model must estimate a subset of the "
            f"full model's parameters; got {sorted(names_r)} ({restricted.n_params} free) "
            f"and {sorted(names_f)} ({full.n_params} free). Pass (restricted, full)."
        )
    return df


def _check_same_data(restricted: FitRecord, full: FitRecord) -> None:
    data_r, data_f = _observed(restricted), _observed(full)
    same = data_r.keys() == data_f.keys() and all(
        data_r[k].shape == data_f[k].shape and np.array_equal(data_r[k], data_f[k]) for k in data_r
    )
    if not same:
        raise ModelError(
            "the two fits are not of the same data: a likelihood-ratio test compares "
            "models of one data set."
        )


def _observed(result: FitRecord) -> dict[str, np.ndarray]:
    result.check_data_current()
    model = result.model
    return {rv.name: np.asarray(model.rvs_to_values[rv].eval()) for rv in model.observed_RVs}
