"""Likelihood-ratio tests that the groups share a parameter.

The statistic is 2(ℓ̂_full − ℓ̂_restricted), both maxima in closed form (the restricted
normal with a common μ and σ_g free is a one-dimensional maximisation), written so that no
digits cancel:

- categorical, "all groups share θ": the G-test of homogeneity 2 Σ c log(c/E),
  E = row·column/N, equal to ``scipy.stats.chi2_contingency(table, correction=False,
  lambda_="log-likelihood")``; df = (G − 1)(k' − 1) with k' the categories observed;
- normal, σ known, "share μ": Σ n_g (x̄_g − x̄)²/σ², df G − 1;
- normal, σ shared, "share μ" (one-way ANOVA as a likelihood ratio):
  N log(1 + SS_between/SS_within), df G − 1;
- normal, σ_g free, "share σ" (Bartlett's statistic without its correction):
  N log σ̂²_pooled − Σ n_g log σ̂²_g, df G − 1;
- normal, σ_g free, "share μ": common μ, σ_g free, maximised over μ (Welch's setting);
- normal, σ_g free, "share mu and sigma": one normal for all, df 2(G − 1).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import optimize

from ppl_mle.core.errors import ModelError
from ppl_mle.core.grouped.families import GroupedCategoricalFamily, GroupedNormalFamily

__all__ = ["homogeneity_statistic"]


def homogeneity_statistic(
    family: GroupedNormalFamily | GroupedCategoricalFamily, share: str
) -> tuple[float, int]:
    """2(ℓ̂_full − ℓ̂_restricted) for "every group of ``family`` shares ``share``", and its df.

    Parameters
    ----------
    family : GroupedNormalFamily or GroupedCategoricalFamily
        The fitted family.
    share : {"mu", "sigma", "mu and sigma", "theta"}
        What the null hypothesis shares.

    Returns
    -------
    statistic : float
    df : int

    Raises
    ------
    ModelError
        One group only; a parameter the family does not have (or a known σ); groups whose
        full likelihood is unbounded (one row or equal values with σ_g free).
    """
    if family.n_groups < 2:
        raise ModelError("there is one group only: there is nothing for groups to share.")
    if isinstance(family, GroupedCategoricalFamily):
        if share != "theta":
            raise ModelError(f"a categorical model per group can share 'theta', not {share!r}.")
        return _g_test(family.counts)
    return _normal_statistic(family, share)


def _g_test(counts: np.ndarray) -> tuple[float, int]:
    """2 Σ c log(c/E) over the observed categories, df (G − 1)(k' − 1)."""
    table = counts[:, counts.sum(axis=0) > 0].astype(np.float64)
    if table.shape[1] < 2:
        return 0.0, 0
    total = table.sum()
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / total
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(table > 0, table * np.log(table / expected), 0.0)
    return float(2.0 * terms.sum()), (table.shape[0] - 1) * (table.shape[1] - 1)


def _normal_statistic(family: GroupedNormalFamily, share: str) -> tuple[float, int]:
    st, g = family.stats, family.n_groups
    n = st.n.astype(np.float64)
    big_n = float(n.sum())
    grand = float(np.sum(n * st.mean) / big_n)
    grand += float(np.sum(n * (st.mean - grand)) / big_n)  # one correction step
    between = float(np.sum(n * (st.mean - grand) ** 2))
    shares = {"mu", "sigma", "mu and sigma"}
    if share not in shares:
        raise ModelError(
            f"a normal model per group can share one of {sorted(shares)}, not {share!r}."
        )
    if family.sigma is not None:
        if share != "mu":
            raise ModelError("sigma is known: only 'mu' can be tested for being shared.")
        return between / family.sigma**2, g - 1
    if np.any(family.degenerate):
        count = int(np.sum(family.degenerate))
        raise ModelError(
            f"{count} group(s) have no interior MLE (one row or values all equal, with sigma "
            "free): their likelihood is unbounded, and so is any likelihood-ratio statistic "
            "against them. Fit with common_sigma=True, or leave those groups out."
        )
    if family.common_sigma:
        if share != "mu":
            raise ModelError("sigma is already shared: only 'mu' can be tested.")
        within = family.pooled_sd**2 * big_n
        return big_n * math.log1p(between / within), g - 1
    log_var = 2.0 * np.log(st.sd_mle)
    pooled = 2.0 * math.log(family.pooled_sd)
    if share == "sigma":
        return float(big_n * pooled - np.sum(n * log_var)), g - 1
    if share == "mu and sigma":
        total = pooled + math.log1p(between / (family.pooled_sd**2 * big_n))
        return float(big_n * total - np.sum(n * log_var)), 2 * (g - 1)
    return _common_mu_statistic(family), g - 1


def _common_mu_statistic(family: GroupedNormalFamily) -> float:
    """Min over μ of Σ n_g log(1 + (x̄_g − μ)²/σ̂²_g): common μ, σ_g free (≥ 0)."""
    st = family.stats
    n = st.n.astype(np.float64)
    var = st.sd_mle**2

    def deviance(mu: float) -> float:
        return float(np.sum(n * np.log1p((st.mean - mu) ** 2 / var)))

    # The profile may have several local minima between the smallest and largest group
    # mean: a grid first, then Brent's method around the best grid point.
    lo, hi = float(np.min(st.mean)), float(np.max(st.mean))
    if lo == hi:
        return 0.0
    grid = np.linspace(lo, hi, 201)
    values = [deviance(m) for m in grid]
    best = int(np.argmin(values))
    a, b = grid[max(best - 1, 0)], grid[min(best + 1, grid.size - 1)]
    found = optimize.minimize_scalar(
        deviance,
        bounds=(a, b),
        method="bounded",
        options={"xatol": 1e-14 * max(abs(a), abs(b), 1e-300)},
    )
    return min(float(found.fun), values[best])
