"""The public result of :func:`ppl_mle.fit_mle`: a fit record with everything computed from it.

:class:`MLEResult` is a :class:`~ppl_mle.fit.record.FitRecord` (the estimates and the evidence
that they are a maximum) whose methods reach the inference layer: standard errors, profile
intervals, the summary table, pictures and ArviZ data. Computed values are kept on the
result itself, in a private dictionary that is none of its fields (so it neither compares
nor pickles), set once; the fields stay frozen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd

from ppl_mle.api.pickling import rebuilt_objective, reduce_result
from ppl_mle.api.protocol import ResultProtocol
from ppl_mle.core.errors import ModelError
from ppl_mle.core.families import SoftmaxFamily
from ppl_mle.data.validation import check_alpha, prediction_design
from ppl_mle.fit.analytic import AnalyticCheck, check_analytic
from ppl_mle.fit.cache import computed
from ppl_mle.fit.record import FitRecord
from ppl_mle.inference.bootstrap import BootstrapResult, parametric_bootstrap
from ppl_mle.inference.derived import derived_quantities
from ppl_mle.inference.inference_data import mle_inference_data
from ppl_mle.inference.plots import plot_profiles
from ppl_mle.inference.profile import ProfileInterval, profile_interval
from ppl_mle.inference.summary import summarize
from ppl_mle.inference.uncertainty import Uncertainty, uncertainty

if TYPE_CHECKING:
    import arviz as az

__all__ = ["MLEResult"]


@dataclass(frozen=True, eq=False, repr=False)  # the repr of ResultProtocol
class MLEResult(ResultProtocol, FitRecord):
    """A maximum-likelihood estimate, with the evidence that it is one.

    Frozen all the way down: its mappings are read-only dictionaries and its arrays are
    read-only copies, so ``result.estimates["mu"] += 1`` raises instead of changing it. The
    attributes are those of :class:`~ppl_mle.fit.record.FitRecord`; the methods compute
    uncertainty, intervals, tables and pictures from them. It pickles (for
    ``multiprocessing``, joblib, Dask) without compiled functions: see
    :mod:`ppl_mle.api.pickling`.
    """

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle the numbers and the models; the objective is rebuilt on first use.

        See :mod:`ppl_mle.api.pickling`.
        """
        return reduce_result(self)

    if not TYPE_CHECKING:  # for mypy, attributes stay those declared

        def __getattr__(self, name: str) -> Any:
            # Reached only for a missing attribute: the objective of an unpickled result.
            if name == "objective":
                return rebuilt_objective(self)
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def check_analytic(self, **tolerances: float) -> AnalyticCheck:
        """Compare with the closed form; see :func:`ppl_mle.check_analytic`."""
        return check_analytic(self, **tolerances)

    # -- computed from the record by the inference layer ------------------------------------
    def uncertainty(self) -> Uncertainty:
        """Observed information, covariance and standard errors (computed once)."""
        cache = computed(self)
        if "uncertainty" not in cache:
            cache["uncertainty"] = uncertainty(self)
        return cast(Uncertainty, cache["uncertainty"])

    def covariance(self, space: str = "natural") -> pd.DataFrame:
        """Covariance matrix in ``"natural"`` (mu, sigma, theta) or ``"unconstrained"`` space."""
        return self.uncertainty().covariance(space)

    def correlation(self, space: str = "natural") -> pd.DataFrame:
        """Correlation matrix in ``"natural"`` or ``"unconstrained"`` space."""
        return self.uncertainty().correlation(space)

    def derived(self, *, alpha: float = 0.05) -> pd.DataFrame:
        """Each ``pm.Deterministic`` at the MLE, with delta-method SE and Wald interval.

        See :func:`ppl_mle.inference.derived.derived_quantities`. Columns ``estimate``,
        ``se``, ``wald_lower``, ``wald_upper`` at level ``1 − alpha``; one row per scalar
        element (computed once per level).
        """
        level = 1.0 - check_alpha(alpha)
        cache = computed(self)
        key = ("derived", level)
        if key not in cache:
            # The standard errors are computed only for a model with deterministics.
            unc = self.uncertainty() if self.model.deterministics else None
            cache[key] = derived_quantities(self, level, precomputed=unc)
        return cast(pd.DataFrame, cache[key]).copy()

    def profile_interval(self, parameter: str, *, alpha: float = 0.05) -> ProfileInterval:
        """Profile-likelihood interval of a parameter or a Deterministic's element.

        See :func:`ppl_mle.profile_interval`.
        """
        return profile_interval(self, parameter, 1.0 - check_alpha(alpha))

    def table(self, level: float, *, profile: bool | None) -> pd.DataFrame:
        """The table of :meth:`summary` at ``level`` (computed once per level)."""
        cache = computed(self)
        key = ("summary", float(level), profile)
        if key not in cache:
            cache[key] = summarize(self, level, profile=profile)
        table = cache[key].copy()
        table.attrs = dict(cache[key].attrs)
        return table

    @property
    def params(self) -> pd.Series:
        """The estimates by parameter label (the free parameters', then each Deterministic).

        Without Deterministics, read from the estimates alone: no standard error is
        computed for them.
        """
        if self.model.deterministics:
            return super().params
        return self.estimates_frame()["estimate"]

    def cov_params(self) -> pd.DataFrame:
        """Covariance of the natural parameters: ``covariance("natural")``."""
        return self.covariance("natural")

    def bootstrap(
        self,
        n: int = 999,
        *,
        random_seed: int | None = None,
        method: str = "percentile",
        alpha: float = 0.05,
        progressbar: bool | None = None,
    ) -> BootstrapResult:
        """Parametric bootstrap: ``n`` data sets drawn at the MLE, each refitted and verified.

        The data sets are drawn by PyMC's forward sampling of the observed variables with
        the free parameters at the MLE; each is refitted on a working model of the
        bootstrap's own (this result and the user's model are left as they are), and only
        refits verified as maxima enter the intervals. See
        :mod:`ppl_mle.inference.bootstrap`.

        Parameters
        ----------
        n : int
            Number of data sets, at least 2.
        random_seed : int, optional
            Seed of the draws: the same seed gives the same draws. By default a fresh one,
            kept in the result (``random_seed``).
        method : {"percentile", "bca"}
            The interval of the result's ``conf_int()``; ``"bca"`` also computes the
            acceleration (from the observations' empirical influence, without refits).
        alpha : float
            One minus the confidence level, in (0, 1).
        progressbar : bool, optional
            Show a progress bar; by default where someone watches (terminal, notebook).

        Returns
        -------
        BootstrapResult
            The draws of every parameter and Deterministic (labelled as :attr:`params`),
            the counts of refits by status, ``conf_int()``, ``se``, ``bias``,
            ``to_dataframe()``.

        Raises
        ------
        ModelError
            Bad arguments, a fit that is not verified or whose data were replaced, or a
            model that cannot be sampled forward (Potentials, a CustomDist without random).
        ConvergenceError
            More than half of the refits not verified.

        Warns
        -----
        ConvergenceWarning
            Some refits not verified: left out, and counted in ``excluded``.
        """
        return parametric_bootstrap(
            self,
            n,
            random_seed=random_seed,
            method=method,
            alpha=alpha,
            progressbar=progressbar,
        )

    def _headline(self) -> str:
        return (
            f"{self.estimate_kind} of the {self.model_name} model ({self.method}, "
            f"n = {self.n_obs}, log-likelihood = {self.loglik:.10g}): {self.status.value}"
        )

    def predict_proba(self, X: Any) -> pd.DataFrame:
        """Class probabilities of new rows, for a softmax regression.

        Parameters
        ----------
        X : array_like or pandas.DataFrame
            Features of new rows: a DataFrame's columns by the names fitted on (others
            ignored), an array's in the order fitted on; the intercept is added as the fit
            added it.

        Returns
        -------
        pandas.DataFrame
            One row per row of ``X`` (its index, for a DataFrame), one column per class.

        Raises
        ------
        ModelError
            The model is not a softmax regression.
        DataError
            Columns missing (named), or values not numeric or not finite.
        """
        family = self.family
        if not isinstance(family, SoftmaxFamily):
            raise ModelError(
                f"predict_proba is for a softmax regression; this is a {self.model_name} model."
            )
        design = prediction_design(X, family.features)
        proba = family.predict_proba(np.asarray(self.estimates["beta"]), design)
        index = X.index if isinstance(X, pd.DataFrame) else None
        return pd.DataFrame(proba, index=index, columns=list(family.classes))

    def predict(self, X: Any) -> pd.Series:
        """The most probable class of each new row; see :meth:`predict_proba`."""
        proba = self.predict_proba(X)
        return pd.Series(proba.columns[np.argmax(proba.to_numpy(), axis=1)], index=proba.index)

    def plot(self, path: str | None = None, *, alpha: float = 0.05) -> Any:
        """Profile-likelihood curves; see :func:`ppl_mle.inference.plots.plot_profiles`."""
        return plot_profiles(self, path, 1.0 - check_alpha(alpha))

    def to_inference_data(
        self, *, laplace: int | bool | None = True, random_seed: int | None = None
    ) -> az.InferenceData:
        """The MLE as ArviZ ``InferenceData``; layout in :mod:`ppl_mle.inference.inference_data`.

        ``az.summary``, ``az.plot_forest`` and ``az.plot_posterior`` take it as it is, with
        no warning: ``posterior`` holds draws from the Laplace approximation at the MLE,
        ``point_estimate`` the MLE, ``fit`` its unconstrained value and covariance (where
        pymc-extras puts them), ``standard_error`` the SEs.

        Parameters
        ----------
        laplace : int, bool or None
            Draws per chain (4 chains) from the Laplace approximation in ``posterior``. By
            default (``True``) 1000, where there is a covariance to draw from (else the
            MLE as a point mass, as with ``None``).
        random_seed : int, optional
            Seed of the Laplace draws.
        """
        return mle_inference_data(
            self, precomputed=self.uncertainty(), laplace=laplace, random_seed=random_seed
        )
