"""Several fits of one data set side by side: information criteria, weights, LR tests.

:func:`compare_fits` puts one row per model — log-likelihood, number of estimated
parameters k, number of observations n, AIC, AICc and BIC (defined once, in
:mod:`ppl_mle.fit.criteria`), each one's difference from the smallest, and the weights
exp(−Δ/2) normalised over the models — sorted by AIC, the best first. Pairs the user
declares nested get a likelihood-ratio test each, by :func:`ppl_mle.lr_test` (with the
boundary mixture where the smaller model sets a variance at 0).

The NUTS side (LOO by ``arviz.compare``) is added by :func:`ppl_mle.compare_models`, in
:mod:`ppl_mle.bayes.model_comparison`: this module needs no sampler.
"""

from __future__ import annotations

import html
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from pytensor.compile.sharedvalue import SharedVariable
from pytensor.graph.basic import Constant

from ppl_mle.core.errors import ConvergenceWarning, ModelError, find_stack_level
from ppl_mle.fit import criteria
from ppl_mle.fit.grouped import GroupedFit
from ppl_mle.fit.record import FitRecord
from ppl_mle.fit.status import FitStatus
from ppl_mle.inference.likelihood_ratio import lr_test

__all__ = [
    "CRITERIA_COLUMNS",
    "TEST_COLUMNS",
    "ModelComparison",
    "compare_fits",
    "nested_pairs",
]

#: The columns of :attr:`ModelComparison.table`, in order (``compare_models`` given NUTS
#: comparisons adds ``elpd_loo``, ``p_loo``, ``elpd_diff``, ``loo_weight``).
CRITERIA_COLUMNS = (
    "llf",
    "k",
    "nobs",
    "aic",
    "aicc",
    "bic",
    "d_aic",
    "d_aicc",
    "d_bic",
    "w_aic",
    "w_aicc",
    "w_bic",
    "status",
)

#: The columns of :attr:`ModelComparison.tests`, one row per declared nested pair.
TEST_COLUMNS = ("restricted", "full", "statistic", "df", "p_value", "mixture", "boundary")

#: A fit whose log-likelihood may be compared: a single fit or a per-group one.
Fit = FitRecord | GroupedFit


@dataclass(frozen=True, eq=False, repr=False)
class ModelComparison:
    """Fits of one data set compared: criteria, weights, likelihood-ratio tests, LOO.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per model, indexed by its name and sorted by AIC (smallest first; ties in
        the order given). Columns :data:`CRITERIA_COLUMNS`: ``llf`` (log-likelihood at the
        estimate), ``k`` (estimated scalar parameters), ``nobs``, ``aic``, ``aicc``,
        ``bic``, their differences from the smallest (``d_aic``…) and the weights
        exp(−Δ/2) normalised to sum to 1 (``w_aic``…), and the fit's ``status``. Given
        NUTS comparisons, also ``elpd_loo``, ``p_loo``, ``elpd_diff`` and ``loo_weight``
        from ``arviz.compare``. A criterion that is undefined for some model (AICc where
        n − k − 1 ≤ 0, BIC where n is unknown) has NaN differences and weights for all,
        with a note.
    tests : pandas.DataFrame
        One row per declared nested pair, columns :data:`TEST_COLUMNS`: the restricted and
        full model's names, the likelihood-ratio statistic, its degrees of freedom, the
        p-value, whether it is that of the boundary mixture, and the parameter on its bound
        (None otherwise). Empty when no pair was declared.
    results : dict of str to MLEResult or GroupedResult
        The fits compared, by name, in the order given.
    notes : tuple of str
        What a reader of the table must know (an undefined AICc, a fit on a boundary).
    loo : pandas.DataFrame or None
        The whole ``arviz.compare`` table (``ic="loo"``, log scale) when the models were
        given as NUTS comparisons; None otherwise.
    """

    table: pd.DataFrame
    tests: pd.DataFrame
    results: Mapping[str, Any]
    notes: tuple[str, ...] = ()
    loo: pd.DataFrame | None = field(default=None)

    @property
    def best(self) -> str:
        """The name of the model with the smallest AIC."""
        return str(self.table.index[0])

    def to_dataframe(self) -> pd.DataFrame:
        """The table: one row per model, sorted by AIC."""
        return self.table

    def __str__(self) -> str:
        text = self.table.to_string(float_format=lambda v: f"{v:.6g}", na_rep="—")
        parts = [
            f"{len(self.table)} models of {self.table['nobs'].iloc[0]} observations, sorted by AIC",
            text,
        ]
        if len(self.tests):
            parts.append("likelihood-ratio tests of the nested pairs")
            parts.append(self.tests.to_string(float_format=lambda v: f"{v:.6g}", na_rep="—"))
        parts.extend(f"note: {note}" for note in self.notes)
        return "\n".join(parts)

    def __repr__(self) -> str:
        """The table, the tests and the notes, as :meth:`__str__`."""
        return str(self)

    def _repr_html_(self) -> str:
        """The table and the tests for a notebook; the notes below."""
        fmt = {"float_format": lambda v: f"{v:.6g}", "na_rep": ""}
        parts = [
            f"<p><b>{len(self.table)} models, sorted by AIC</b></p>",
            self.table.to_html(**fmt),
        ]
        if len(self.tests):
            parts += ["<p><b>likelihood-ratio tests</b></p>", self.tests.to_html(**fmt)]
        parts += [f"<p>note: {html.escape(note)}</p>" for note in self.notes]
        return "".join(parts)


def compare_fits(
    results: Mapping[str, Any],
    *,
    nested: Sequence[Sequence[str]] | None = None,
) -> ModelComparison:
    """Compare fits of one data set by AIC, AICc and BIC; test the nested pairs.

    Parameters
    ----------
    results : mapping of str to MLEResult or GroupedResult
        At least two fits of the same observations, by name.
    nested : sequence of (str, str) or (str, str, str), optional
        Pairs ``(restricted, full)`` of names whose models are nested: the restricted
        model is the full one with some parameters fixed. Each gets a likelihood-ratio
        test (:func:`ppl_mle.lr_test`). A third element names the full model's scalar
        parameter that the restricted model sets on a bound of its support (a standard
        deviation at 0): the test then uses the 50:50 mixture of χ²_(df−1) and χ²_df.

    Returns
    -------
    ModelComparison

    Raises
    ------
    ModelError
        Fewer than two fits, a value that is not a fit, a name that is not a string, a
        fit that is not an MLE or whose MLE does not exist, fits of different numbers of
        observations or of different observed data, or a nested pair that names an
        unknown model, whose restricted model does not have fewer parameters, or fits
        better than its full model.

    Warns
    -----
    ConvergenceWarning
        A fit that was not verified as a maximum: its log-likelihood may be too low.
    """
    fits = _check_results(results)
    notes = _check_statuses(fits)
    _check_same_data(fits)
    table = _criteria_table(fits, notes)
    tests = _tests(fits, nested_pairs(nested, fits))
    return ModelComparison(table, tests, dict(fits), tuple(notes))


def nested_pairs(
    nested: Sequence[Sequence[str]] | None, fits: Mapping[str, Fit]
) -> list[tuple[str, str, str | None]]:
    """The declared nested pairs as ``(restricted, full, boundary or None)``, checked.

    Raises
    ------
    ModelError
        A pair that is not two or three strings, names an unknown model, or whose
        restricted model has not fewer parameters than the full one or fits better than it.
    """
    if nested is None:
        return []
    if isinstance(nested, str) or not isinstance(nested, Sequence):
        raise ModelError(
            f"`nested` must be a list of (restricted, full) name pairs; got {nested!r}."
        )
    if nested and isinstance(nested[0], str):
        raise ModelError(
            f"`nested` is a list of pairs: nested=[{tuple(nested)!r}], not nested={nested!r}."
        )
    pairs = []
    for pair in nested:
        if (
            isinstance(pair, str)
            or not isinstance(pair, Sequence)
            or len(pair) not in (2, 3)
            or not all(isinstance(name, str) for name in pair)
        ):
            raise ModelError(
                "each entry of `nested` must be (restricted, full) or (restricted, full, "
                f"parameter on its bound), names as strings; got {pair!r}."
            )
        small, big = pair[0], pair[1]
        unknown = [name for name in (small, big) if name not in fits]
        if unknown:
            raise ModelError(
                f"nested pair ({small!r}, {big!r}): no model named {unknown[0]!r}; the "
                f"models are {list(fits)}."
            )
        r, f = fits[small], fits[big]
        if r.n_params >= f.n_params:
            raise ModelError(
                f"nested pair ({small!r}, {big!r}): the restricted model {small!r} must have "
                f"fewer parameters than {big!r}; it has {r.n_params} against {f.n_params}. "
                "Give the pair as (restricted, full)."
            )
        if r.loglik - f.loglik > 1e-8 * max(1.0, abs(f.loglik)):
            raise ModelError(
                f"nested pair ({small!r}, {big!r}): the restricted model fits better than "
                f"the full one (log-likelihoods {r.loglik:.10g} > {f.loglik:.10g}): the "
                "models are not nested, or the full fit did not reach its maximum."
            )
        pairs.append((small, big, pair[2] if len(pair) == 3 else None))
    return pairs


def _check_results(results: Any) -> dict[str, Fit]:
    """The fits by name: at least two, each a fit, named by strings."""
    if not isinstance(results, Mapping):
        raise ModelError(
            "compare the fits given as a mapping of name to fit: "
            f"compare_models({{'small': fit_a, 'big': fit_b}}); got {type(results).__name__}."
        )
    if len(results) < 2:
        raise ModelError(
            f"a comparison needs at least two fits; got {len(results)} ({list(results)})."
        )
    fits: dict[str, Fit] = {}
    for name, fit in results.items():
        if not isinstance(name, str):
            raise ModelError(f"name the models by strings; got the name {name!r}.")
        if not isinstance(fit, FitRecord | GroupedFit):
            raise ModelError(
                f"model {name!r} is not a fit: got {type(fit).__name__}; pass the result of "
                "ppl_mle.fit_mle (or of compare_bayes, for every model)."
            )
        if fit.estimate_kind != "MLE":
            raise ModelError(
                f"model {name!r} is a {fit.estimate_kind} estimate: information criteria and "
                "likelihood-ratio tests need the maximum-likelihood estimate (fit_mle's "
                "default)."
            )
        fits[name] = fit
    return fits


def _check_statuses(fits: Mapping[str, Fit]) -> list[str]:
    """Refuse a fit without an MLE; warn of an unverified one; note the boundary."""
    notes = []
    for name, fit in fits.items():
        status = fit.status
        if status.no_mle:
            raise ModelError(
                f"model {name!r} has no MLE ({status.value}): its log-likelihood is a "
                "supremum that no estimate attains, and its AIC and tests mean nothing."
            )
        if isinstance(fit, GroupedFit) and not np.all(np.isfinite(fit.loglik_groups)):
            raise ModelError(
                f"model {name!r} has groups whose log-likelihood is unbounded: its total "
                "leaves them out, and cannot be compared with another model's."
            )
        if not status.converged:
            warnings.warn(
                f"model {name!r} was not verified as a maximum ({status.value}): its "
                "log-likelihood may be too low, and its AIC, BIC and tests wrong.",
                ConvergenceWarning,
                stacklevel=find_stack_level(),
            )
        elif status is not FitStatus.VERIFIED:
            notes.append(
                f"model {name!r} has estimates on a bound of the parameter space "
                f"({status.value}): k counts them as free, and the χ²-based penalties are "
                "approximate there."
            )
    return notes


def _check_same_data(fits: Mapping[str, Fit]) -> None:
    """The same number of observations, and the same observed values where both show them."""
    (first, fit0), *rest = fits.items()
    for name, fit in rest:
        if fit.n_obs != fit0.n_obs:
            raise ModelError(
                f"models {first!r} and {name!r} are fits of different data: {fit0.n_obs} "
                f"and {fit.n_obs} observations. Likelihoods compare only on one data set."
            )
    shown = {name: _observed(fit) for name, fit in fits.items()}
    known = [(name, values) for name, values in shown.items() if values is not None]
    for name, values in known[1:]:
        if not _same_values(known[0][1], values):
            raise ModelError(
                f"models {known[0][0]!r} and {name!r} are fits of different data: as many "
                "observations, but not the same observed values. Likelihoods compare only "
                "on one data set."
            )


def _observed(fit: Fit) -> list[np.ndarray] | None:
    """The observed values of a single fit, sorted by shape and content; None if unknown.

    Read only where the model holds them as a constant or ``pm.Data`` (no compilation); a
    per-group fit, a likelihood given as Potentials, or observations computed in the graph
    are not checked.
    """
    if not isinstance(fit, FitRecord):
        return None
    fit.check_data_current()
    arrays = []
    for rv in fit.model.observed_RVs:
        value = fit.model.rvs_to_values[rv]
        if isinstance(value, Constant):
            data = value.data
        elif isinstance(value, SharedVariable):
            data = value.get_value(borrow=True)
        else:
            return None
        arrays.append(np.asarray(data, dtype=np.float64))
    if not arrays:
        return None
    return sorted(arrays, key=lambda a: (a.shape, a.tobytes()))


def _same_values(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
    return len(a) == len(b) and all(
        x.shape == y.shape and np.array_equal(x, y, equal_nan=True)
        for x, y in zip(a, b, strict=True)
    )


def _criteria_table(fits: Mapping[str, Fit], notes: list[str]) -> pd.DataFrame:
    """One row per model, sorted by AIC."""
    rows = {}
    for name, fit in fits.items():
        llf, k, n = float(fit.loglik), int(fit.n_params), int(fit.n_obs)
        rows[name] = {
            "llf": llf,
            "k": k,
            "nobs": n,
            "aic": criteria.aic(llf, k),
            "aicc": criteria.aicc(llf, k, n),
            "bic": criteria.bic(llf, k, n),
        }
    table = pd.DataFrame.from_dict(rows, orient="index")
    for column, what in (
        ("aic", "AIC"),
        ("aicc", "AICc"),
        ("bic", "BIC"),
    ):
        values = table[column].to_numpy(dtype=np.float64)
        undefined = [
            str(name) for name, v in zip(table.index, values, strict=True) if math.isnan(v)
        ]
        if undefined:
            why = (
                "n − k − 1 ≤ 0, too few observations for the correction"
                if column == "aicc"
                else "the number of observations is unknown"
            )
            notes.append(
                f"{what} is undefined for {undefined} ({why}): no {what} differences or weights."
            )
        delta, weight = _deltas_and_weights(values)
        table[f"d_{column}"] = delta
        table[f"w_{column}"] = weight
    table["status"] = [fits[name].status.value for name in table.index]
    table = table.sort_values("aic", kind="stable")
    table.index.name = "model"
    table.attrs["sorted_by"] = "aic"
    return table[list(CRITERIA_COLUMNS)]


def _deltas_and_weights(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Differences from the smallest and the weights exp(−Δ/2) / Σ; NaN if any is NaN."""
    if np.any(np.isnan(values)):
        nan = np.full(values.shape, np.nan)
        return nan, nan.copy()
    delta = values - values.min()
    relative = np.exp(-0.5 * delta)
    return delta, relative / relative.sum()


def _tests(fits: Mapping[str, Fit], pairs: list[tuple[str, str, str | None]]) -> pd.DataFrame:
    """One likelihood-ratio test per declared nested pair, by :func:`lr_test`."""
    rows = []
    for small, big, boundary in pairs:
        r, f = fits[small], fits[big]
        if not isinstance(r, FitRecord) or not isinstance(f, FitRecord):
            raise ModelError(
                f"nested pair ({small!r}, {big!r}): a likelihood-ratio test between a per-group "
                "fit and another model is not available here; a per-group fit tests shared "
                "parameters itself: fit.lr_test(share='mu')."
            )
        try:
            with warnings.catch_warnings():
                # An unverified fit was warned of once, by name, in compare_fits.
                warnings.simplefilter("ignore", ConvergenceWarning)
                test = lr_test(r, f, boundary=boundary)
        except ModelError as err:
            raise ModelError(f"nested pair ({small!r}, {big!r}): {err}") from err
        rows.append(
            {
                "restricted": small,
                "full": big,
                "statistic": test.statistic,
                "df": test.df,
                "p_value": test.pvalue,
                "mixture": test.boundary is not None,
                "boundary": test.boundary,
            }
        )
    return pd.DataFrame(rows, columns=list(TEST_COLUMNS))
