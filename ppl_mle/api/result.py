"""The public result of :func:`ppl_mle.fit_mle`: a fit record with everything computed from it.

:class:`MLEResult` is a :class:`~ppl_mle.fit.record.FitRecord` (the estimates and the evidence
that they are a maximum) whose methods reach the inference layer: standard errors, profile
intervals, the summary table, pictures and ArviZ data. Computed values are kept on the
result itself, in a private dictionary that is none of its fields (so it neither compares
nor pickles), set once; the fields stay frozen.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import pandas as pd

from ppl_mle.api.pickling import rebuilt_objective, reduce_result
from ppl_mle.core.errors import ModelError
from ppl_mle.fit.analytic import AnalyticCheck, check_analytic
from ppl_mle.fit.cache import computed
from ppl_mle.fit.record import FitRecord
from ppl_mle.inference.derived import derived_quantities
from ppl_mle.inference.inference_data import mle_inference_data
from ppl_mle.inference.plots import plot_profiles
from ppl_mle.inference.profile import ProfileInterval, profile_interval
from ppl_mle.inference.summary import summarize
from ppl_mle.inference.uncertainty import Uncertainty, uncertainty

if TYPE_CHECKING:
    import arviz as az

__all__ = ["MLEResult"]


@dataclass(frozen=True, eq=False)
class MLEResult(FitRecord):
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

    def standard_errors(self) -> pd.Series:
        """Standard error of each scalar natural parameter (NaN on the boundary)."""
        unc = self.uncertainty()
        return pd.Series(unc.se, index=list(unc.labels), name="se")

    def covariance(self, space: str = "natural") -> pd.DataFrame:
        """Covariance matrix in ``"natural"`` (mu, sigma, theta) or ``"unconstrained"`` space."""
        return self.uncertainty().covariance(space)

    def correlation(self, space: str = "natural") -> pd.DataFrame:
        """Correlation matrix in ``"natural"`` or ``"unconstrained"`` space."""
        return self.uncertainty().correlation(space)

    def derived(self, level: float = 0.95) -> pd.DataFrame:
        """Each ``pm.Deterministic`` at the MLE, with delta-method SE and Wald interval.

        See :func:`ppl_mle.inference.derived.derived_quantities`. Columns ``estimate``,
        ``se``, ``wald_lower``, ``wald_upper``; one row per scalar element (computed once
        per level).
        """
        cache = computed(self)
        key = ("derived", float(level) if isinstance(level, int | float) else level)
        if key not in cache:
            # The standard errors are computed only for a model with deterministics.
            unc = self.uncertainty() if self.model.deterministics else None
            cache[key] = derived_quantities(self, level, precomputed=unc)
        return cast(pd.DataFrame, cache[key]).copy()

    def profile_interval(self, parameter: str, level: float = 0.95) -> ProfileInterval:
        """Profile-likelihood interval of one parameter; see :func:`ppl_mle.profile_interval`."""
        return profile_interval(self, parameter, level)

    def confint(self, level: float = 0.95, method: str = "profile") -> pd.DataFrame:
        """Confidence intervals of every parameter, ``"profile"`` or ``"wald"``.

        Returns
        -------
        pandas.DataFrame
            Columns ``lower`` and ``upper``, one row per parameter.
        """
        if method not in ("profile", "wald"):
            raise ModelError(f"`method` must be 'profile' or 'wald'; got {method!r}.")
        if method == "wald":  # from the standard errors alone: no profile to compute
            from ppl_mle.inference.uncertainty import wald_intervals

            unc = self.uncertainty()
            lower, upper = wald_intervals(unc, level)
            index = pd.Index(list(unc.labels), name="parameter")
            return pd.DataFrame({"lower": lower, "upper": upper}, index=index)
        # Asked for by name: computed whatever the number of parameters.
        table = self.summary(level, profile=True)
        return table[["profile_lower", "profile_upper"]].set_axis(["lower", "upper"], axis=1)

    def summary(self, level: float = 0.95, *, profile: bool | None = None) -> pd.DataFrame:
        """Estimates, SEs, z, p, Wald and profile intervals; see :func:`ppl_mle.summarize`."""
        cache = computed(self)
        key = ("summary", float(level) if isinstance(level, int | float) else level, profile)
        if key not in cache:
            cache[key] = summarize(self, level, profile=profile)
        table = cache[key].copy()
        table.attrs = dict(cache[key].attrs)
        return table

    # -- statsmodels-style names: thin aliases of the attributes and methods above ----------
    @property
    def params(self) -> pd.Series:
        """The estimates by parameter label (``to_dataframe()["estimate"]``), as statsmodels."""
        return self.to_dataframe()["estimate"]

    @property
    def bse(self) -> pd.Series:
        """Standard errors by parameter label, as statsmodels: :meth:`standard_errors`.

        A property that computes: the observed information on first use (then memoised).
        """
        return self.standard_errors()

    @property
    def llf(self) -> float:
        """Log-likelihood at the estimate, as statsmodels: :attr:`loglik`."""
        return self.loglik

    @property
    def nobs(self) -> int:
        """Number of observations, as statsmodels: :attr:`n_obs`."""
        return self.n_obs

    def conf_int(self, alpha: float = 0.05) -> pd.DataFrame:
        """Wald intervals at level ``1 − alpha``, as statsmodels' ``conf_int``.

        The same intervals as ``confint(1 - alpha, method="wald")``, with statsmodels'
        column names.

        Parameters
        ----------
        alpha : float
            One minus the confidence level, in (0, 1).

        Returns
        -------
        pandas.DataFrame
            Columns ``0`` (lower) and ``1`` (upper), one row per parameter; NaN for an
            estimate on the boundary.

        Raises
        ------
        ModelError
            ``alpha`` is not a number strictly between 0 and 1.
        """
        try:
            value = float(alpha)
        except (TypeError, ValueError):
            value = math.nan
        if isinstance(alpha, bool) or not 0.0 < value < 1.0:
            raise ModelError(f"`alpha` must be a number strictly between 0 and 1; got {alpha!r}.")
        return self.confint(1.0 - value, method="wald").set_axis([0, 1], axis=1)

    def cov_params(self) -> pd.DataFrame:
        """Covariance of the natural parameters, as statsmodels: ``covariance("natural")``.

        Labelled by parameter on both axes.
        """
        return self.covariance("natural")

    def plot(self, path: str | None = None, level: float = 0.95) -> Any:
        """Profile-likelihood curves; see :func:`ppl_mle.inference.plots.plot_profiles`."""
        return plot_profiles(self, path, level)

    def to_inference_data(
        self, *, laplace: int | None = None, random_seed: int | None = None
    ) -> az.InferenceData:
        """The MLE as ArviZ ``InferenceData``; layout in :mod:`ppl_mle.inference.inference_data`.

        Parameters
        ----------
        laplace : int, optional
            Draws per chain (4 chains) from the Laplace approximation at the MLE to hold in
            ``posterior`` (the MLE itself then in ``point_estimate``), so that
            ``az.summary`` and ``az.plot_forest`` show the MLE with its uncertainty. By
            default ``posterior`` is the MLE as a point mass.
        random_seed : int, optional
            Seed of the Laplace draws.
        """
        return mle_inference_data(
            self, precomputed=self.uncertainty(), laplace=laplace, random_seed=random_seed
        )
