"""Running NUTS for a comparison: where to run the chains, what to store, the summary.

Shared by :mod:`ppl_mle.bayes.compare` (one model) and :mod:`ppl_mle.bayes.grouped`
(one model per group).
"""

from __future__ import annotations

import logging
import warnings
from typing import Any, cast

import arviz as az
import numpy as np
import pandas as pd
import pymc as pm
from pytensor.compile.sharedvalue import SharedVariable

from ppl_mle.core.errors import ModelError
from ppl_mle.model._pytensor import quiet_pymc_log, quiet_vendor_warnings

__all__ = [
    "run_nuts",
    "DIAGNOSTIC_MIN_DRAWS",
    "ESS_MIN",
    "LOG_LIKELIHOOD_MAX_VALUES",
    "RHAT_MAX",
    "SEQUENTIAL_MAX_VALUES",
    "arviz_summary",
    "default_cores",
    "sample_options",
]

#: Largest acceptable r_hat (rank-normalised split R-hat, Vehtari et al. 2021).
RHAT_MAX = 1.01
#: Smallest acceptable bulk and tail effective sample size.
ESS_MIN = 400
#: With ``cores=None``, a model whose data hold at most this many values is sampled in this
#: process, one chain after the other. PyMC's worker processes send each draw to this
#: process and wait for its reply before the next; for so cheap a log-density that exchange
#: and the workers' start-up cost more than running the chains side by side saves (the
#: heights, 4 chains x 2000 steps: 1.7 s in this process, 2.5-3.3 s in 2 workers on 2 CPUs;
#: benchmarks/bench_compare.py). The draws are the same either way.
SEQUENTIAL_MAX_VALUES = 10_000


def default_cores(model: pm.Model) -> int | None:
    """1 for a model with little data (see ``SEQUENTIAL_MAX_VALUES``), else PyMC's default."""
    return 1 if _data_size(model) <= SEQUENTIAL_MAX_VALUES else None


def _data_size(model: pm.Model) -> int:
    """How many values the model's data hold (observed arrays and ``pm.Data`` containers)."""
    values = model.data_vars + [model.rvs_to_values[rv] for rv in model.observed_RVs]
    total = 0
    for var in {id(v): v for v in values}.values():
        # Observed arrays are constants of the graph; anything else counts as one value.
        if isinstance(var, SharedVariable):
            total += int(np.size(var.get_value(borrow=True)))
        else:
            total += int(np.size(getattr(var, "data", 0)))
    return total


#: The pointwise log-likelihood of every draw (ArviZ's ``log_likelihood`` group, which
#: ``az.loo`` and ``az.compare`` need) is stored by default up to this many values
#: (observations × draws × chains): 80 MB.
LOG_LIKELIHOOD_MAX_VALUES = 10_000_000

#: ``pm.sample`` arguments that compare_bayes sets itself (pass them as its own arguments).
_OWN_SAMPLE_ARGUMENTS = frozenset(
    {
        "draws",
        "tune",
        "chains",
        "random_seed",
        "model",
        "cores",
        "target_accept",
        "progressbar",
        "compute_convergence_checks",
        "return_inferencedata",
    }
)


def sample_options(
    source: pm.Model, draws: int, chains: int, sample_kwargs: dict[str, Any]
) -> dict[str, Any]:
    """The user's extra ``pm.sample`` options, with the log-likelihood stored where small."""
    clash = sorted(_OWN_SAMPLE_ARGUMENTS & set(sample_kwargs))
    if clash:
        raise ModelError(
            f"{clash} are compare_bayes's own arguments (or fixed by it): pass them as such, "
            "not as extra pm.sample options."
        )
    options = dict(sample_kwargs)
    if "idata_kwargs" not in options and (
        _data_size(source) * draws * chains <= LOG_LIKELIHOOD_MAX_VALUES
    ):
        options["idata_kwargs"] = {"log_likelihood": True}
    return options


#: ArviZ's fewest draws per chain for ess and mcse; r_hat also needs two chains.
DIAGNOSTIC_MIN_DRAWS = 4


def arviz_summary(idata: az.InferenceData, level: float) -> pd.DataFrame:
    """ArviZ's summary of every parameter, as the comparisons use it.

    Columns ``mean``, ``sd``, ``hdi_lower``, ``hdi_upper``, ``mcse_mean``, ``ess_bulk``,
    ``ess_tail`` and ``r_hat``. With a single chain, or fewer than 4 draws per chain, the
    diagnostics ArviZ cannot compute are not asked of it (it would log ``Shape validation
    failed`` and answer NaN): they are NaN here, and the diagnoses of the callers say why
    in words. ess and mcse of one chain of enough draws are ArviZ's (``az.ess``,
    ``az.mcse``), the figures ``az.summary`` gives.
    """
    posterior = idata["posterior"]
    chains, draws = posterior.sizes["chain"], posterior.sizes["draw"]
    with quiet_vendor_warnings(), warnings.catch_warnings():
        # A parameter that never moves has an undefined r_hat and ess: NumPy warns dividing
        # by zero; the diagnoses report the NaN in words.
        warnings.simplefilter("ignore", RuntimeWarning)
        full = chains >= 2 and draws >= DIAGNOSTIC_MIN_DRAWS
        # A DataFrame: ArviZ annotates summary's result as DataFrame | Dataset (fmt="xarray").
        summary = cast(
            pd.DataFrame,
            az.summary(
                idata,
                kind="all" if full else "stats",
                hdi_prob=level,
                round_to="none",
                stat_funcs=None if full else _one_chain_diagnostics(chains, draws),
                extend=True,
            ),
        )
    if not full:
        summary["r_hat"] = np.nan
    hdi_cols = [c for c in summary.columns if c.startswith("hdi_")]
    summary = summary.rename(columns=dict(zip(hdi_cols, ["hdi_lower", "hdi_upper"], strict=True)))
    return summary[
        ["mean", "sd", "hdi_lower", "hdi_upper", "mcse_mean", "ess_bulk", "ess_tail", "r_hat"]
    ]


def _one_chain_diagnostics(chains: int, draws: int) -> dict[str, Any]:
    """``stat_funcs`` for ``az.summary``: mcse_mean, ess_bulk and ess_tail without r_hat.

    ``az.summary`` hands each function one parameter's draws, flattened: with one chain,
    that chain. With several chains (only when they are too short) or too few draws, NaN,
    as ArviZ would answer, without asking it.
    """
    computable = chains == 1 and draws >= DIAGNOSTIC_MIN_DRAWS

    def figure(function: Any, method: str) -> Any:
        def one_chain(values: np.ndarray) -> float:
            if not computable:
                return np.nan
            # (chain, draw); az.mcse answers an array of one value.
            return float(np.asarray(function(values[np.newaxis], method=method)).item())

        return one_chain

    return {
        "mcse_mean": figure(az.mcse, "mean"),
        "ess_bulk": figure(az.ess, "bulk"),
        "ess_tail": figure(az.ess, "tail"),
    }


def run_nuts(
    model: pm.Model,
    *,
    draws: int,
    tune: int,
    chains: int,
    random_seed: int | None,
    cores: int | None,
    target_accept: float,
    progressbar: bool,
    sample_kwargs: dict[str, Any],
) -> az.InferenceData:
    """``pm.sample`` of ``model`` as a comparison runs it.

    Chains in this process for little data (:func:`default_cores`, unless ``cores`` is
    given), the log-likelihood stored where small (:func:`sample_options`), PyMC's set-up
    log shown only beside a progress bar, convergence judged by the caller.
    """
    options = sample_options(model, draws, chains, sample_kwargs)
    with quiet_vendor_warnings(), quiet_pymc_log(logging.INFO if progressbar else logging.WARNING):
        idata: az.InferenceData = pm.sample(
            draws=draws,
            tune=tune,
            chains=chains,
            cores=default_cores(model) if cores is None else cores,
            random_seed=random_seed,
            target_accept=target_accept,
            progressbar=progressbar,
            compute_convergence_checks=False,
            model=model,
            **options,
        )
    return idata
