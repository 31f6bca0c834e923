"""Pictures of a fit: profile likelihoods and the log-likelihood surface.

Built with matplotlib on a ``matplotlib.figure.Figure`` of our own: nothing here touches
pyplot's global state or the backend, so importing this module changes nothing for the user.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure
from scipy import stats

from ppl_mle.core.errors import ModelError
from ppl_mle.data.validation import check_level
from ppl_mle.inference.profile import chi2_cutoff, profile_loglik
from ppl_mle.inference.summary import parameter_supports, summarize
from ppl_mle.model._pytensor import quiet_vendor_warnings

if TYPE_CHECKING:
    from ppl_mle.fit.record import FitRecord

__all__ = ["MAX_ROWS", "plot_loglik_contour", "plot_profiles"]

#: Most parameters drawn in one picture (a categorical model with many categories).
MAX_ROWS = 12


def plot_profiles(
    result: FitRecord, path: str | os.PathLike[str] | None = None, level: float = 0.95
) -> Figure:
    """Profile log-likelihood curve of each parameter, with the MLE and intervals marked.

    Each panel shows ℓₚ(t) − ℓ̂ (solid), its quadratic (Wald) approximation
    −(t − θ̂)²/(2·SE²) (dashed), the cut-off −q/2 with q the χ²₁ quantile at ``level``
    (dotted), the MLE, and the profile (green) and Wald (orange) intervals.

    Parameters
    ----------
    result : MLEResult
        A verified fit.
    path : str or path-like, optional
        Where to save the figure as PNG.
    level : float
        Level of the intervals.

    Returns
    -------
    matplotlib.figure.Figure
    """
    # The free parameters' (a Deterministic's range, beyond which its profile has no
    # value, is unknown to the grid).
    table = summarize(result, level, profile=True, derived=False)
    labels = [lab for lab in table.index if np.isfinite(table.loc[lab, "profile_upper"])]
    labels = labels[:MAX_ROWS]
    supports = parameter_supports(result)
    q = chi2_cutoff(level)
    cols = min(3, max(1, len(labels)))
    rows = -(-len(labels) // cols)
    fig = Figure(figsize=(4.2 * cols, 3.2 * rows), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    for ax, label in zip(axes, labels, strict=False):
        row = table.loc[label]
        lo, hi, est = row["profile_lower"], row["profile_upper"], row["estimate"]
        pad = 0.35 * (hi - lo)
        # Inside the parameter's support only: the profile is not defined beyond it.
        floor, ceiling = supports.get(label, (-np.inf, np.inf))
        grid = np.linspace(max(lo - pad, floor), min(hi + pad, ceiling), 61)
        grid = grid[np.isfinite(grid) & (grid > floor) & (grid < ceiling)]
        with quiet_vendor_warnings():
            prof = profile_loglik(result, label, grid)
        ax.plot(grid, prof - result.loglik, color="tab:blue", lw=2, label="profile ℓ − ℓ̂")
        if np.isfinite(row["se"]) and row["se"] > 0:
            ax.plot(
                grid,
                -0.5 * ((grid - est) / row["se"]) ** 2,
                "--",
                color="tab:orange",
                lw=1,
                label="Wald (quadratic)",
            )
        ax.axhline(-q / 2, color="grey", ls=":", lw=1)
        ax.axvline(est, color="tab:red", lw=1, label="MLE")
        ax.hlines(-q / 2 - 0.15, lo, hi, color="tab:green", lw=3, label="profile interval")
        if np.isfinite(row["wald_lower"]):
            ax.hlines(
                -q / 2 - 0.35,
                row["wald_lower"],
                row["wald_upper"],
                color="tab:orange",
                lw=3,
                label="Wald interval",
            )
        ax.set_ylim(-q / 2 - 1.5, 0.3)
        ax.set_title(label)
        ax.set_xlabel(label)
    for ax in axes[len(labels) :]:
        ax.set_visible(False)
    axes[0].legend(fontsize=7, loc="lower left")
    fig.suptitle(f"Profile log-likelihood, {result.model_name} model ({100 * level:g}% intervals)")
    if path is not None:
        fig.savefig(path, dpi=100, format="png")
    return fig


def plot_loglik_contour(
    result: FitRecord, path: str | os.PathLike[str] | None = None, level: float = 0.95
) -> Figure:
    """Contours of ℓ(μ, σ) − ℓ̂ for the normal model, with the MLE marked.

    The contour at −q/2 (q the χ²₂ quantile at ``level``) is the joint likelihood-ratio
    confidence region.

    Parameters
    ----------
    result : MLEResult
        A fit of :func:`ppl_mle.normal` with sigma unknown.
    path : str or path-like, optional
        Where to save the figure as PNG.
    level : float
        Level of the highlighted region.

    Returns
    -------
    matplotlib.figure.Figure
    """
    family = result.family
    if family is None or family.param_names != ("mu", "sigma"):
        raise ModelError("the contour plot needs the normal model with mu and sigma unknown.")
    table = summarize(result, level)
    mu_hat, sd_hat = table.loc["mu", "estimate"], table.loc["sigma", "estimate"]
    mu_se, sd_se = table.loc["mu", "se"], table.loc["sigma", "se"]
    mu_grid = np.linspace(mu_hat - 4 * mu_se, mu_hat + 4 * mu_se, 161)
    sd_grid = np.linspace(max(sd_hat - 4 * sd_se, sd_hat / 10), sd_hat + 5 * sd_se, 161)
    surface = (
        np.array([[family.loglik({"mu": m, "sigma": s}) for m in mu_grid] for s in sd_grid])
        - result.loglik
    )
    q2 = float(stats.chi2.ppf(check_level(level), df=2))
    fig = Figure(figsize=(6.5, 5), layout="constrained")
    ax = fig.subplots()
    filled = ax.contourf(mu_grid, sd_grid, np.maximum(surface, -20), levels=30, cmap="viridis")
    fig.colorbar(filled, ax=ax, label="ℓ(μ, σ) − ℓ̂")
    ax.contour(
        mu_grid,
        sd_grid,
        surface,
        levels=[-q2 / 2],
        colors="white",
        linewidths=2,
        linestyles="solid",
    )
    ax.plot([mu_hat], [sd_hat], "r*", ms=14, label="MLE")
    ax.set_xlabel("mu")
    ax.set_ylabel("sigma")
    ax.set_title(f"Log-likelihood surface; white: {100 * level:g}% likelihood-ratio region")
    ax.legend(loc="upper right")
    if path is not None:
        fig.savefig(path, dpi=100, format="png")
    return fig
