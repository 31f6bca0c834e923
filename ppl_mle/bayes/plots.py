"""The picture of the Bayesian comparison: each posterior beside the MLE and its intervals.

Built from ArviZ (``az.plot_posterior`` draws each marginal posterior with its HDI) and
matplotlib, on a ``matplotlib.figure.Figure`` of our own: nothing here touches pyplot's
global state or the backend, so importing this module changes nothing for the user.
"""

from __future__ import annotations

import os
from collections.abc import Hashable
from typing import Any, cast

import arviz as az
import numpy as np
from matplotlib.figure import Figure

from ppl_mle.bayes.compare import BayesComparison
from ppl_mle.inference.plots import MAX_ROWS
from ppl_mle.model._pytensor import quiet_vendor_warnings

__all__ = ["plot_comparison"]


def plot_comparison(
    comparison: BayesComparison, path: str | os.PathLike[str] | None = None
) -> Figure:
    """Posterior of each parameter with the MLE, Wald and profile intervals; trace plots.

    Left column: the marginal posterior (ArviZ's ``plot_posterior``, with its HDI), the
    exact posterior density where it is known (dashed), the MLE (vertical line), and the
    Wald and profile-likelihood intervals as bars under the curve. Right column: the draws
    of each chain against iteration.

    Parameters
    ----------
    comparison : BayesComparison
        From :func:`ppl_mle.compare_bayes`.
    path : str or path-like, optional
        Where to save the figure as PNG.

    Returns
    -------
    matplotlib.figure.Figure
    """
    table = comparison.table
    labels = list(table.index)[:MAX_ROWS]
    family = comparison.mle.family
    exact = (None if family is None else family.exact_posterior()) or {}
    fig = Figure(figsize=(11, 2.6 * len(labels)), layout="constrained")
    axes = np.atleast_2d(fig.subplots(len(labels), 2, gridspec_kw={"width_ratios": [3, 2]}))
    for row, label in enumerate(labels):
        name, coords = _selection(comparison, label)
        _posterior_panel(axes[row, 0], comparison, label, name, coords, exact.get(label))
        _trace_panel(axes[row, 1], comparison, label, name, coords)
    pct = f"{100 * comparison.level:g}%"
    profiled = bool(comparison.table[["profile_lower", "profile_upper"]].notna().any().any())
    intervals = "Wald (orange) and profile (green) intervals" if profiled else "Wald interval"
    fig.suptitle(
        f"{comparison.mle.model_name} model: MLE (red) with {pct} {intervals}, NUTS "
        f"posterior with {pct} HDI"
        + ("" if comparison.trustworthy else "  [sampling NOT trustworthy]")
    )
    if path is not None:
        fig.savefig(path, dpi=100, format="png")
    return fig


def _selection(comparison: BayesComparison, label: str) -> tuple[str, dict[Hashable, Any]]:
    """Variable name and ArviZ coords of a label such as ``theta[a]`` or ``beta[x, b]``."""
    if "[" not in label:
        return label, {}
    name = label.split("[", 1)[0]
    variable = comparison.idata["posterior"][name]
    dims = variable.dims[2:]
    # Labels are built as in compare_bayes: the coordinate values, joined by ", ".
    for index in np.ndindex(*variable.shape[2:]):
        values = [variable.coords[d].values[i] for d, i in zip(dims, index, strict=True)]
        if f"{name}[{', '.join(str(v) for v in values)}]" == label:
            return name, {d: [v] for d, v in zip(dims, values, strict=True)}
    raise KeyError(f"no draws of {label!r} in the comparison's posterior.")


def _posterior_panel(
    ax: Any,
    comparison: BayesComparison,
    label: str,
    name: str,
    coords: dict[Hashable, Any],
    exact: Any,
) -> None:
    row = comparison.table.loc[label]
    with quiet_vendor_warnings():
        az.plot_posterior(
            comparison.idata,
            var_names=[name],
            coords=coords,
            hdi_prob=comparison.level,
            point_estimate="mean",
            ax=ax,
            textsize=9,
        )
    lo, hi = ax.get_xlim()
    if exact is not None:
        grid = np.linspace(lo, hi, 400)
        density = _density(exact, grid)
        ax.plot(grid, density, "--", color="black", lw=1, label="exact posterior")
    top = ax.get_ylim()[1]
    ax.axvline(row["mle"], color="tab:red", lw=1.5, label="MLE")
    for k, (kind, color) in enumerate((("wald", "tab:orange"), ("profile", "tab:green"))):
        a, b = row[f"{kind}_lower"], row[f"{kind}_upper"]
        if np.isfinite(a) and np.isfinite(b):
            ax.hlines(top * (0.42 + 0.1 * k), a, b, color=color, lw=3, label=f"{kind} interval")
    ax.set_title(label)
    ax.legend(loc="upper right", fontsize=7, frameon=False)


def _density(dist: Any, grid: np.ndarray) -> np.ndarray:
    if hasattr(dist, "pdf"):
        return np.asarray(dist.pdf(grid))
    return cast(np.ndarray, np.gradient(dist.cdf(grid), grid))


def _trace_panel(
    ax: Any, comparison: BayesComparison, label: str, name: str, coords: dict[Hashable, Any]
) -> None:
    values = comparison.idata["posterior"][name]
    if coords:
        values = values.sel(coords).squeeze()
    for chain in values.coords["chain"].values:
        ax.plot(values.sel(chain=chain).values, lw=0.5, alpha=0.8)
    ax.axhline(comparison.table.loc[label, "mle"], color="tab:red", lw=1)
    ax.set_title(f"trace of {label}")
    ax.set_xlabel("draw")
