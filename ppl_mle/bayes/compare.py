"""The MLE beside the full posterior of the same model (NUTS), with diagnostics that gate.

``compare_bayes`` fits the MLE (``fit_mle``), samples the same PyMC model with NUTS, and
puts per parameter side by side: the MLE with its SE, Wald and (on request) profile
intervals; the posterior mean, sd, joint mode and marginal mode, HDI, and ArviZ's mcse,
ess_bulk, ess_tail and r_hat; the Laplace approximation; and, where the model's family
knows it (``Family.exact_posterior``: normal, categorical), the exact posterior mean and
sd; NaN for the others (softmax regression, a model without a family).

Under flat priors the joint posterior mode *is* the MLE: find_MAP maximises the same
density. Marginals differ: the posterior of σ is skewed, so its mean lies above σ̂ and its
marginal mode is sqrt(SS/(n − 1)), not sqrt(SS/n).

The sampling is trusted only if every r_hat ≤ 1.01, every ess_bulk and ess_tail ≥ 400 and
there is no divergent transition; otherwise a :class:`~ppl_mle.SamplingWarning` names the
parameter and the figure, and the comparison says it is not trustworthy.

Time goes to the sampler: the profile-likelihood intervals (a constrained optimisation per
endpoint and parameter) are computed only when asked for (``profile=True``), the Laplace
draws are transformed all at once, and a model with little data is sampled in this process,
one chain after the other: PyMC's worker processes hand every draw to this one and wait for
its reply, which for a cheap log-density costs more than the draw (see
``SEQUENTIAL_MAX_VALUES`` and ``benchmarks/bench_compare.py``).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any, overload

import arviz as az
import numpy as np
import pandas as pd
import pymc as pm
from scipy import stats

from ppl_mle.api.fit_mle import fit_mle
from ppl_mle.api.grouped_result import GroupedResult
from ppl_mle.api.result import MLEResult
from ppl_mle.bayes.grouped import GroupedComparison, compare_groups
from ppl_mle.bayes.sampling import (
    DIAGNOSTIC_MIN_DRAWS,
    ESS_MIN,
    RHAT_MAX,
    SEQUENTIAL_MAX_VALUES,
    arviz_summary,
    run_nuts,
)
from ppl_mle.core.errors import ModelError, SamplingWarning, find_stack_level
from ppl_mle.core.jsonable import json_number, parameter_record
from ppl_mle.core.progress import watched
from ppl_mle.data.validation import check_level
from ppl_mle.fit.inputs import model_in_context
from ppl_mle.inference.laplace import laplace_draws
from ppl_mle.model.declarations import MLEModel
from ppl_mle.model.grouped import GroupedModel

__all__ = [
    "ESS_MIN",
    "RHAT_MAX",
    "SEQUENTIAL_MAX_VALUES",
    "BayesComparison",
    "compare_bayes",
    "diagnose",
]


@dataclass(frozen=True, eq=False)
class BayesComparison:
    """The MLE and the NUTS posterior of one model, side by side.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per scalar parameter; columns ``mle``, ``se``, ``wald_lower``,
        ``wald_upper``, ``profile_lower``, ``profile_upper`` (NaN unless asked for with
        ``profile=True``), ``posterior_mean``,
        ``posterior_sd``, ``posterior_mode`` (joint mode: the MAP under the model's own
        priors, equal to the MLE under flat priors), ``marginal_mode`` (of the draws, by
        kernel density), ``hdi_lower``,
        ``hdi_upper``, ``mcse_mean``, ``ess_bulk``, ``ess_tail``, ``r_hat``,
        ``laplace_sd``, ``laplace_lower``, ``laplace_upper``, ``width_ratio`` (HDI width
        over the Laplace interval's), ``wasserstein`` (between the posterior and Laplace
        draws, in posterior sds), and ``exact_mean``, ``exact_sd`` where the exact
        posterior is known.
    idata : arviz.InferenceData
        The NUTS run (posterior, sample_stats, observed_data).
    mle : MLEResult
        The maximum-likelihood fit.
    divergences : int
        Number of divergent transitions after tuning.
    problems : tuple of str
        Each failed diagnostic, in words; empty when the sampling can be trusted.
    level : float
        Level of the intervals and the HDI.
    """

    table: pd.DataFrame
    idata: az.InferenceData
    mle: MLEResult
    divergences: int
    problems: tuple[str, ...]
    level: float

    @property
    def trustworthy(self) -> bool:
        """Whether every diagnostic passed (r_hat, ess_bulk, ess_tail, divergences)."""
        return not self.problems

    def to_dataframe(self) -> pd.DataFrame:
        """The comparison table."""
        return self.table

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: parameters → figures, divergences, trustworthy (NaN → None).

        ``profile_ci`` is always there: ``[None, None]`` when the profile intervals were
        not asked for.
        """
        params = {}
        for label, row in self.table.iterrows():
            params[str(label)] = {
                **parameter_record(
                    row["mle"],
                    row["se"],
                    (row["wald_lower"], row["wald_upper"]),
                    (row["profile_lower"], row["profile_upper"]),
                ),
                "mle": json_number(row["mle"]),
                "posterior_mean": json_number(row["posterior_mean"]),
                "posterior_sd": json_number(row["posterior_sd"]),
                "posterior_mode": json_number(row["posterior_mode"]),
                "marginal_mode": json_number(row["marginal_mode"]),
                "hdi": [json_number(row["hdi_lower"]), json_number(row["hdi_upper"])],
                "mcse_mean": json_number(row["mcse_mean"]),
                "ess_bulk": json_number(row["ess_bulk"]),
                "ess_tail": json_number(row["ess_tail"]),
                "r_hat": json_number(row["r_hat"]),
                "laplace_sd": json_number(row["laplace_sd"]),
            }
        return {
            "model": self.mle.model_name,
            "status": self.mle.status.value,
            "converged": self.mle.converged,
            "level": self.level,
            "parameters": params,
            "divergences": self.divergences,
            "trustworthy": self.trustworthy,
            "problems": list(self.problems),
        }

    def __str__(self) -> str:
        shown = self.table[
            [
                "mle",
                "se",
                "posterior_mean",
                "posterior_sd",
                "posterior_mode",
                "hdi_lower",
                "hdi_upper",
                "ess_bulk",
                "r_hat",
                "laplace_sd",
            ]
        ]
        verdict = (
            "trustworthy: every r_hat <= 1.01, ess >= 400, no divergences"
            if self.trustworthy
            else "NOT TRUSTWORTHY: " + "; ".join(self.problems)
        )
        chains = self.idata["posterior"].sizes["chain"]
        draws = self.idata["posterior"].sizes["draw"]
        return (
            f"MLE vs NUTS posterior ({self.mle.model_name} model; {chains} chains x {draws} "
            f"draws, {self.divergences} divergences; HDI {100 * self.level:g}%)\n"
            f"{shown.to_string(float_format=lambda v: f'{v:.6g}', na_rep='—')}\n{verdict}"
        )


@overload
def compare_bayes(
    model: MLEModel | MLEResult | None = None,
    draws: int = ...,
    tune: int = ...,
    chains: int = ...,
    random_seed: int | None = None,
    *,
    level: float = ...,
    method: str | None = None,
    cores: int | None = None,
    target_accept: float = ...,
    progressbar: bool | None = ...,
    profile: bool = ...,
    **sample_kwargs: Any,
) -> BayesComparison: ...


@overload
def compare_bayes(
    model: GroupedModel | GroupedResult,
    draws: int = ...,
    tune: int = ...,
    chains: int = ...,
    random_seed: int | None = None,
    *,
    level: float = ...,
    method: str | None = None,
    cores: int | None = None,
    target_accept: float = ...,
    progressbar: bool | None = ...,
    profile: bool = ...,
    **sample_kwargs: Any,
) -> GroupedComparison: ...


@overload
def compare_bayes(
    model: pm.Model | None = None,
    draws: int = ...,
    tune: int = ...,
    chains: int = ...,
    random_seed: int | None = None,
    *,
    level: float = ...,
    method: str | None = None,
    cores: int | None = None,
    target_accept: float = ...,
    progressbar: bool | None = ...,
    profile: bool = ...,
    **sample_kwargs: Any,
) -> BayesComparison: ...


def compare_bayes(
    model: pm.Model | MLEResult | GroupedResult | None = None,
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 4,
    random_seed: int | None = None,
    *,
    level: float = 0.95,
    method: str | None = None,
    cores: int | None = None,
    target_accept: float = 0.8,
    progressbar: bool | None = None,
    profile: bool = False,
    **sample_kwargs: Any,
) -> BayesComparison | GroupedComparison:
    """Fit the MLE and sample the posterior of the same model; compare them.

    Parameters
    ----------
    model : pymc.Model or MLEResult, optional
        A model (its MLE is fitted with ``method``) or an existing fit of one. A model
        with proper priors is sampled with them, beside the MLE of its flattened copy. By
        default the model of the enclosing ``with pm.Model():`` block, as for
        ``pymc.sample``.
    draws, tune, chains : int
        NUTS draws and tuning steps per chain, and number of chains.
    random_seed : int, optional
        Seed of the sampler (and of the Laplace draws).
    level : float
        Level of the HDI, of the Laplace interval and of the Wald and profile intervals.
    method : str, optional
        Optimizer for the MLE when ``model`` is a model (by default :func:`fit_mle`'s:
        Newton where the Hessian is known in closed form, else L-BFGS-B).
    cores : int, optional
        Processes sampling in parallel. By default 1 — the chains one after the other, in
        this process — for a model whose data hold at most ``SEQUENTIAL_MAX_VALUES``
        values (observed arrays and ``pm.Data`` containers: a sample of heights, label
        counts), where worker processes — started, then handed every draw — cost more
        than they save; for more data, PyMC's default (up to 4, from the number of CPUs).
        The draws are the same either way: each chain's seed comes from ``random_seed``.
    target_accept : float
        NUTS target acceptance rate; raise it (0.9, 0.99) against divergences.
    progressbar : bool, optional
        Show PyMC's progress bar while sampling. By default where someone watches: in a
        terminal or a Jupyter notebook (:func:`ppl_mle.core.progress.watched`), never in a
        log or a pipe.
    profile : bool
        Also compute the profile-likelihood intervals (columns ``profile_lower`` and
        ``profile_upper``, NaN otherwise). Each endpoint of each parameter is a constrained
        optimisation: off by default, since the comparison is about the posterior.
    **sample_kwargs
        Further options of ``pymc.sample`` (``init``, ``nuts_sampler``, ``idata_kwargs``…).
        By default the pointwise log-likelihood is stored (``idata_kwargs={"log_likelihood":
        True}``, so that ``az.loo(comparison.idata)`` works) when it holds at most
        ``LOG_LIKELIHOOD_MAX_VALUES`` values.

    Returns
    -------
    BayesComparison or GroupedComparison
        A :class:`~ppl_mle.bayes.grouped.GroupedComparison` for a per-group model (or
        its fit): one row per group and parameter, with the exact posterior moments.

    Raises
    ------
    ModelError
        An improper posterior (the normal model with sigma unknown and n < 3), bad sampler
        settings, or no model given and none in context.
    """
    model = model_in_context(model, "compare_bayes")
    level = check_level(level)
    if progressbar is None:
        progressbar = watched()
    for name, value, low in (("draws", draws, 1), ("tune", tune, 0), ("chains", chains, 1)):
        if not isinstance(value, int | np.integer) or isinstance(value, bool) or value < low:
            raise ModelError(f"`{name}` must be an integer >= {low}; got {value!r}.")
    if isinstance(model, GroupedModel | GroupedResult):
        if method is not None or profile:
            raise ModelError(
                "a per-group model is fitted by its own block Newton method, with closed-form "
                "profile intervals in fit.conf_int(): `method` and `profile` do not apply."
            )
        return compare_groups(
            model,
            draws,
            tune,
            chains,
            random_seed,
            level=level,
            cores=cores,
            target_accept=target_accept,
            progressbar=progressbar,
            **sample_kwargs,
        )
    result = model if isinstance(model, MLEResult) else None
    pymc_model = result.model if result is not None else model
    if not isinstance(pymc_model, pm.Model):
        raise ModelError(f"`model` must be a pymc.Model or an MLEResult; got {type(model)}.")
    if isinstance(pymc_model, MLEModel):
        pymc_model.family.check_proper()
    if result is None:
        result = fit_mle(pymc_model, method=method)
    result.check_data_current()
    # The posterior under the user's own priors; its mode (the MAP) beside the MLE.
    source = result.source_model if result.source_model is not None else result.model
    posterior_mode = None
    if source is not result.model:
        posterior_mode = fit_mle(source, method=method, estimate="map").params

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
    divergences = int(idata["sample_stats"]["diverging"].sum())
    table = _table(result, idata, summary, level, random_seed, profile=profile)
    if posterior_mode is not None:
        table["posterior_mode"] = posterior_mode.reindex(table.index).to_numpy()
    problems = diagnose(table, divergences, chains)
    for problem in problems:
        warnings.warn(problem, SamplingWarning, stacklevel=find_stack_level())
    return BayesComparison(table, idata, result, divergences, tuple(problems), level)


def diagnose(table: pd.DataFrame, divergences: int, chains: int) -> list[str]:
    """The failed diagnostics, each naming the parameter and the figure.

    Parameters
    ----------
    table : pandas.DataFrame
        With columns ``r_hat``, ``ess_bulk``, ``ess_tail``, one row per parameter.
    divergences : int
        Divergent transitions after tuning.
    chains : int
        Number of chains (r_hat needs at least 2).

    Returns
    -------
    list of str
    """
    problems = []
    if chains < 2:
        problems.append("r_hat cannot be assessed with a single chain: run at least 2 chains")
    for label, row in table.iterrows():
        for column in ("r_hat", "ess_bulk", "ess_tail"):
            if column == "r_hat" and chains < 2:
                continue
            if np.isnan(row[column]):
                problems.append(
                    f"{column} of {label} cannot be computed: fewer than "
                    f"{DIAGNOSTIC_MIN_DRAWS} draws per chain, or draws that never move; "
                    "increase draws"
                )
            elif column == "r_hat" and not row[column] <= RHAT_MAX:
                problems.append(
                    f"r_hat of {label} is {row['r_hat']:.4g} (> {RHAT_MAX}): the chains "
                    "disagree; run longer chains or reparametrise"
                )
            elif column != "r_hat" and not row[column] >= ESS_MIN:
                problems.append(
                    f"{column} of {label} is {row[column]:.0f} (< {ESS_MIN}): too few "
                    "effective draws; increase draws"
                )
    if divergences:
        problems.append(
            f"{divergences} divergent transitions: NUTS could not follow the posterior's "
            "curvature; raise target_accept or reparametrise the model"
        )
    return problems


def _table(
    result: MLEResult,
    idata: az.InferenceData,
    summary: pd.DataFrame,
    level: float,
    seed: int | None,
    *,
    profile: bool,
) -> pd.DataFrame:
    mle_table = result.table(level, profile=profile)
    draws = _flat_draws(idata, list(mle_table.index))
    n_laplace = max(4000, next(iter(draws.values())).size) if draws else 4000
    laplace = laplace_draws(result, n_laplace, random_seed=seed, precomputed=result.uncertainty())
    exact = _exact(result)
    alpha = 1 - level
    rows = []
    for label, row in mle_table.iterrows():
        post = draws[label]
        lap = laplace[label]
        sd = float(np.std(post, ddof=1))
        hdi_lo, hdi_hi = summary.loc[label, "hdi_lower"], summary.loc[label, "hdi_upper"]
        lap_lo, lap_hi = (
            np.quantile(lap, [alpha / 2, 1 - alpha / 2])
            if np.all(np.isfinite(lap))
            else (
                math.nan,
                math.nan,
            )
        )
        rows.append(
            {
                "parameter": label,
                "mle": row["estimate"],
                "se": row["se"],
                "wald_lower": row["wald_lower"],
                "wald_upper": row["wald_upper"],
                "profile_lower": row["profile_lower"],
                "profile_upper": row["profile_upper"],
                "posterior_mean": summary.loc[label, "mean"],
                "posterior_sd": summary.loc[label, "sd"],
                "posterior_mode": row["estimate"],
                "marginal_mode": _kde_mode(post),
                "hdi_lower": hdi_lo,
                "hdi_upper": hdi_hi,
                "mcse_mean": summary.loc[label, "mcse_mean"],
                "ess_bulk": summary.loc[label, "ess_bulk"],
                "ess_tail": summary.loc[label, "ess_tail"],
                "r_hat": summary.loc[label, "r_hat"],
                "laplace_sd": float(np.std(lap, ddof=1)) if np.all(np.isfinite(lap)) else math.nan,
                "laplace_lower": lap_lo,
                "laplace_upper": lap_hi,
                "width_ratio": (
                    (hdi_hi - hdi_lo) / (lap_hi - lap_lo) if lap_hi > lap_lo else math.nan
                ),
                "wasserstein": (
                    stats.wasserstein_distance(post, lap) / sd
                    if sd > 0 and np.all(np.isfinite(lap))
                    else math.nan
                ),
                "exact_mean": exact[label].mean() if label in exact else math.nan,
                "exact_sd": exact[label].std() if label in exact else math.nan,
            }
        )
    return pd.DataFrame(rows).set_index("parameter")


def _flat_draws(idata: az.InferenceData, labels: list[str]) -> dict[str, np.ndarray]:
    """Draws of each scalar parameter (all chains pooled), by label."""
    out = {}
    posterior = idata["posterior"]
    for name in posterior.data_vars:
        values = posterior[name].values  # (chain, draw, *shape)
        shape = values.shape[2:]
        flat = values.reshape(values.shape[0] * values.shape[1], -1)
        if shape == ():
            out[name] = flat[:, 0]
            continue
        dims = posterior[name].dims[2:]
        coords = [posterior[name].coords[d].values for d in dims]
        for j, index in enumerate(np.ndindex(*shape)):
            label = f"{name}[{', '.join(str(coords[i][k]) for i, k in enumerate(index))}]"
            out[label] = flat[:, j]
    return {label: out[label] for label in labels if label in out}


def _kde_mode(draws: np.ndarray) -> float:
    """Mode of a marginal posterior, from a Gaussian kernel density of the draws.

    The density (Scott's bandwidth) is maximised over 201 points between the 0.1% and
    99.9% quantiles, then over 201 points between the neighbours of the best: a resolution
    of 1/20 000 of that range, with 402 evaluations of the density (each a sum over all
    the draws) where one grid as fine would take 20 001.
    """
    if draws.size < 10 or np.ptp(draws) == 0:
        return math.nan
    kde = stats.gaussian_kde(draws)
    lo, hi = np.quantile(draws, [0.001, 0.999])
    grid = np.linspace(lo, hi, 201)
    best = int(np.argmax(kde(grid)))
    fine = np.linspace(grid[max(best - 1, 0)], grid[min(best + 1, grid.size - 1)], 201)
    return float(fine[np.argmax(kde(fine))])


def _exact(result: MLEResult) -> dict[str, Any]:
    """The exact flat-prior marginals by label; ``{}`` where the family has none."""
    exact = None if result.family is None else result.family.exact_posterior()
    return {} if exact is None else exact
