"""Tests between models: likelihood ratio and Pearson's chi-square.

``lr_test(restricted, full)`` compares two fits of nested models to the same data;
``lr_test(full, p=...)`` compares a categorical fit with a given probability vector (the
G-test, which is what ``scipy.stats.power_divergence(..., lambda_="log-likelihood")``
computes); ``pearson_test(full, p=...)`` is Pearson's goodness-of-fit statistic, as
``scipy.stats.chisquare``. Results have ``statistic``, ``df`` and ``pvalue`` like scipy's.

Where the restricted model sets a parameter of the full one on a bound of its support (a
standard deviation or variance component at 0), the statistic is not χ²_df under the null:
with one such parameter it is the 50:50 mixture of χ²_(df−1) and χ²_df (Self and Liang,
1987, case 5: χ²₀ is the point mass at 0), which ``lr_test(restricted, full,
boundary="tau")`` refers it to. The plain χ²_df p-value is then twice too large.
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
from ppl_mle.model.support import natural_bounds

__all__ = ["HypothesisTestResult", "boundary_pvalue", "lr_test", "pearson_test"]


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
    boundary : str or None
        The full model's parameter that the null sets on a bound of its support, where the
        p-value is that of the 50:50 mixture of χ²_(df−1) and χ²_df; None otherwise.
    """

    statistic: float
    df: int
    pvalue: float
    method: str
    null: str
    boundary: str | None = None

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
    boundary: str | None = None,
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

    With ``boundary="tau"`` (two fits only), the null sets the full model's scalar
    parameter ``tau`` on a bound of its support — a standard deviation at 0: the random
    effect's variance component of a mixed model, against the model without it. The
    statistic is then referred to the 50:50 mixture of χ²_(df−1) and χ²_df (Self and Liang,
    1987), ``pvalue = ½ P(χ²_(df−1) ≥ T) + ½ P(χ²_df ≥ T)`` with χ²₀ the point mass at 0;
    the other extra parameters, if any, must be interior under the null.

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
    boundary : str, optional
        With two fits: the full model's scalar parameter that the restricted model sets on
        a bound of its support (not in the restricted model; a support with a finite
        bound, such as ``pm.HalfFlat`` or ``pm.HalfNormal``).

    Returns
    -------
    HypothesisTestResult

    Raises
    ------
    ModelError
        Arguments that are not fits, models that are not nested or not fitted to the same
        data, a ``p`` that is not a probability vector over the categories, or a
        ``boundary`` that is not a bounded scalar parameter of the full model alone.
    """
    if boundary is not None and (full is None or p is not None or share is not None):
        raise ModelError(
            "`boundary` is for two fits of nested models: lr_test(restricted, full, "
            "boundary='tau')."
        )
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
    if boundary is not None:
        _check_boundary(restricted, full, boundary)
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
    if boundary is None:
        return HypothesisTestResult(
            statistic=statistic,
            df=df,
            pvalue=float(stats.chi2.sf(statistic, df)),
            method="likelihood-ratio test",
            null=f"the restricted model ({restricted.model_name})",
        )
    return HypothesisTestResult(
        statistic=statistic,
        df=df,
        pvalue=boundary_pvalue(statistic, df),
        method=f"likelihood-ratio test, 50:50 mixture of χ²_{df - 1} and χ²_{df}",
        null=f"the restricted model ({restricted.model_name}): {boundary} on its bound",
        boundary=boundary,
    )


def boundary_pvalue(statistic: float, df: int) -> float:
    """P(T ≥ statistic) for T the 50:50 mixture of χ²_(df−1) and χ²_df.

    The null distribution of the likelihood-ratio statistic when one parameter of the
    ``df`` tested sits on a bound of its support (Self and Liang, 1987); χ²₀ is the point
    mass at 0, so with ``df = 1`` the p-value of a positive statistic is half the χ²₁ one.

    Parameters
    ----------
    statistic : float
        The likelihood-ratio statistic, at least 0.
    df : int
        Number of parameters tested, at least 1.

    Returns
    -------
    float
    """
    below = (1.0 if statistic <= 0.0 else 0.0) if df == 1 else stats.chi2.sf(statistic, df - 1)
    return float(0.5 * below + 0.5 * stats.chi2.sf(statistic, df))


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


def _check_boundary(restricted: FitRecord, full: FitRecord, name: str) -> None:
    """``name`` is a scalar parameter of the full model alone, with a finite bound."""
    names_f = {rv.name for rv in full.model.free_RVs}
    names_r = {rv.name for rv in restricted.model.free_RVs}
    if name not in names_f or name in names_r:
        raise ModelError(
            f"`boundary` must name a parameter of the full model that the restricted one "
            f"does not estimate; got {name!r} (full: {sorted(names_f)}, restricted: "
            f"{sorted(names_r)})."
        )
    if np.size(full.estimates[name]) != 1:
        raise ModelError(
            f"`boundary` must name a scalar parameter; {name!r} has "
            f"{np.size(full.estimates[name])} values (the mixture of χ²_(df−1) and χ²_df "
            "holds for one parameter on its bound)."
        )
    lo, hi = natural_bounds(full.model, name, ())
    if not (np.isfinite(lo) or np.isfinite(hi)):
        raise ModelError(
            f"`boundary` must name a parameter with a bounded support (a standard deviation "
            f"on (0, ∞)); {name!r} ranges over the real line, so a null value is interior."
        )


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
