"""Model comparison with both views: AIC, BIC and LR tests of the MLEs, LOO of the posteriors.

:func:`compare_models` takes fits (``fit_mle``'s results) and compares them by information
criteria and likelihood-ratio tests (:func:`ppl_mle.inference.model_comparison.compare_fits`);
given NUTS comparisons (``compare_bayes``'s results) instead, it compares their MLEs the
same way and puts ``arviz.compare``'s leave-one-out figures (PSIS-LOO, log scale) beside,
so the two views of the same models are read on one row each.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import arviz as az
import pymc as pm

from ppl_mle.bayes.compare import BayesComparison
from ppl_mle.bayes.grouped import GroupedComparison
from ppl_mle.core.errors import ModelError
from ppl_mle.inference.model_comparison import ModelComparison, compare_fits
from ppl_mle.model._pytensor import quiet_vendor_warnings

__all__ = ["LOO_COLUMNS", "compare_models"]

#: ``arviz.compare``'s columns added to the table, as named there (``weight`` renamed).
LOO_COLUMNS = {
    "elpd_loo": "elpd_loo",
    "p_loo": "p_loo",
    "elpd_diff": "elpd_diff",
    "weight": "loo_weight",
}


def compare_models(
    models: Mapping[str, Any],
    *,
    nested: Sequence[Sequence[str]] | None = None,
) -> ModelComparison:
    """Compare models of one data set: AIC, AICc, BIC, weights, LR tests, and LOO.

    Parameters
    ----------
    models : mapping of str to MLEResult, GroupedResult or BayesComparison
        At least two models of the same observations, by name: all fits of
        :func:`ppl_mle.fit_mle`, or all comparisons of :func:`ppl_mle.compare_bayes`
        (their MLEs are compared, and their posteriors by LOO).
    nested : sequence of (str, str) or (str, str, str), optional
        Pairs ``(restricted, full)`` of names whose models are nested. Each gets a
        likelihood-ratio test (:func:`ppl_mle.lr_test`). A third element names the full
        model's scalar parameter that the restricted one sets on a bound of its support (a
        standard deviation at 0): the p-value is then that of the 50:50 mixture of
        χ²_(df−1) and χ²_df.

    Returns
    -------
    ModelComparison
        ``table``: one row per model, sorted by AIC (smallest first): ``llf``, ``k``,
        ``nobs``, ``aic``, ``aicc``, ``bic``, the differences from the smallest
        (``d_aic``, ``d_aicc``, ``d_bic``) and the weights exp(−Δ/2) normalised
        (``w_aic``, ``w_aicc``, ``w_bic``), ``status``; given NUTS comparisons, also
        ``elpd_loo``, ``p_loo``, ``elpd_diff`` and ``loo_weight`` of ``arviz.compare``
        (whose whole table is ``loo``). ``tests``: one row per nested pair.

    Raises
    ------
    ModelError
        Fewer than two models, a value that is neither a fit nor a NUTS comparison, fits
        and NUTS comparisons mixed, fits of different data, a fit without an MLE, a NUTS
        run of a model with several observed variables (LOO needs one pointwise
        log-likelihood), or a bad nested pair (unknown name, restricted model not smaller or
        fitting better than the full one).

    Warns
    -----
    ConvergenceWarning
        A fit that was not verified as a maximum.

    Notes
    -----
    The models given as NUTS comparisons are not changed: where a run holds no pointwise
    log-likelihood (``compare_bayes(..., idata_kwargs={})``, or more than
    ``LOG_LIKELIHOOD_MAX_VALUES`` values), it is computed by
    ``pymc.compute_log_likelihood`` on a new ``InferenceData`` sharing the posterior.

    Examples
    --------
    Two regressions of one outcome, with and without the slope:

    >>> import numpy as np, pymc as pm, ppl_mle
    >>> rng = np.random.default_rng(1)
    >>> x = rng.normal(size=50)
    >>> y = 1.0 + 0.5 * x + rng.normal(size=50)
    >>> with pm.Model() as small:
    ...     a, s = pm.Flat("a"), pm.HalfFlat("s")
    ...     _ = pm.Normal("y", a, s, observed=y)
    >>> with pm.Model() as big:
    ...     a, b, s = pm.Flat("a"), pm.Flat("b"), pm.HalfFlat("s")
    ...     _ = pm.Normal("y", a + b * x, s, observed=y)
    >>> fits = {"small": ppl_mle.fit_mle(small), "big": ppl_mle.fit_mle(big)}
    >>> comparison = ppl_mle.compare_models(fits, nested=[("small", "big")])
    >>> comparison.best
    'big'
    >>> float(comparison.table["w_aic"].sum())
    1.0
    >>> bool(comparison.tests.loc[0, "p_value"] < 0.01)
    True
    """
    if not isinstance(models, Mapping):
        raise ModelError(
            "compare the models given as a mapping of name to fit: "
            f"compare_models({{'small': fit_a, 'big': fit_b}}); got {type(models).__name__}."
        )
    grouped = [name for name, value in models.items() if isinstance(value, GroupedComparison)]
    if grouped:
        raise ModelError(
            f"model {grouped[0]!r} is a per-group NUTS comparison: compare its fit "
            "(comparison.mle) by the likelihood; its LOO is not computed here."
        )
    bayes = [name for name, value in models.items() if isinstance(value, BayesComparison)]
    if not bayes:
        return compare_fits(models, nested=nested)
    if len(bayes) < len(models):
        others = [name for name in models if name not in bayes]
        raise ModelError(
            f"give every model as a fit or every model as a NUTS comparison: {bayes} are "
            f"compare_bayes results and {others} are not. Pass comparison.mle for the "
            "likelihood view alone."
        )
    comparisons: dict[str, BayesComparison] = dict(models)
    comparison = compare_fits({n: c.mle for n, c in comparisons.items()}, nested=nested)
    runs = {n: _with_log_likelihood(n, c) for n, c in comparisons.items()}
    with quiet_vendor_warnings():
        loo = az.compare(runs, ic="loo")
    added = loo[list(LOO_COLUMNS)].rename(columns=LOO_COLUMNS).astype(float)
    table = comparison.table.join(added)
    table.attrs = dict(comparison.table.attrs)
    doubtful = [name for name, c in comparisons.items() if not c.trustworthy]
    notes = comparison.notes
    if doubtful:
        notes += (
            f"the NUTS runs of {doubtful} failed their diagnostics (see each comparison's "
            "problems): their LOO figures are uncertain beyond the se arviz reports.",
        )
    return replace(comparison, table=table, loo=loo, notes=notes)


def _with_log_likelihood(name: str, comparison: BayesComparison) -> az.InferenceData:
    """The run with its pointwise log-likelihood, the user's own ``idata`` untouched."""
    idata = comparison.idata
    if "log_likelihood" in idata.groups():
        found = list(idata["log_likelihood"].data_vars)
    else:
        source = comparison.mle.source_model
        model = source if source is not None else comparison.mle.model
        found = [rv.name for rv in model.observed_RVs]
        if len(found) == 1:
            idata = pm.compute_log_likelihood(
                az.InferenceData(posterior=idata["posterior"]),
                model=model,
                extend_inferencedata=True,
                progressbar=False,
            )
    if len(found) != 1:
        raise ModelError(
            f"model {name!r} has {len(found)} observed variables ({found}): LOO needs one "
            "pointwise log-likelihood per observation, from one observed variable."
        )
    return idata
