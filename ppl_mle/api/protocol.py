"""The result protocol every fit answers in: statsmodels' names over one table.

A single fit (:class:`~ppl_mle.MLEResult`, softmax regression included) and a per-group fit
(:class:`~ppl_mle.GroupedResult`) each provide :meth:`ResultProtocol.table` (one row per
scalar parameter, the columns of :data:`~ppl_mle.inference.summary.SUMMARY_COLUMNS`:
estimate, se, z, p_value, Wald and profile bounds, verdict, note) and
:meth:`ResultProtocol.cov_params`; everything else a statsmodels or R user reaches for is
computed from those here, in one place, so the two kinds cannot drift apart:

========================  =============================================================
``params``, ``bse``       estimates and standard errors, by parameter label
``tvalues``, ``pvalues``  Wald z = estimate / SE and its two-sided p-value
``conf_int(alpha)``       columns ``lower``, ``upper``: profile where it exists, or Wald
``cov_params()``          covariance of the estimates
``llf``, ``nobs``         log-likelihood, number of observations
``df_model``, ``aic``,    number of estimated scalars, AIC and BIC
``bic``
``summary(alpha=)``       the whole table, the fit's figures in its ``attrs``
``to_dataframe()``        the same table at the default level
========================  =============================================================
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

import pandas as pd

from ppl_mle.core.errors import ModelError, PplMleError
from ppl_mle.data.validation import check_alpha
from ppl_mle.fit import criteria

if TYPE_CHECKING:
    from ppl_mle.inference.bootstrap import BootstrapResult

__all__ = ["ResultProtocol"]

_METHODS = ("profile", "wald")


class ResultProtocol:
    """statsmodels' names over a result's :meth:`table` and :meth:`cov_params`."""

    loglik: float
    n_obs: int
    n_params: int

    def table(self, level: float, *, profile: bool | None) -> pd.DataFrame:
        """One row per scalar parameter, the columns of ``SUMMARY_COLUMNS``."""
        raise NotImplementedError

    def cov_params(self) -> pd.DataFrame:
        """Covariance of the estimates, labelled by parameter on both axes."""
        raise NotImplementedError

    def summary(self, *, alpha: float = 0.05, profile: bool | None = None) -> pd.DataFrame:
        """Estimates, SEs, z, p, Wald and profile intervals at level ``1 − alpha``, verdict.

        Parameters
        ----------
        alpha : float
            One minus the confidence level of the intervals.
        profile : bool, optional
            Compute the profile-likelihood intervals. By default where they are cheap
            enough (a per-group fit: closed forms; a single fit of up to 12 parameters).

        Returns
        -------
        pandas.DataFrame
            Indexed by parameter, the columns of
            :data:`~ppl_mle.inference.summary.SUMMARY_COLUMNS`; ``attrs`` holds the fit's
            ``loglik``, ``aic``, ``bic``, ``n_obs``, ``n_params``, ``level``.
        """
        return self.table(1.0 - check_alpha(alpha), profile=profile)

    def to_dataframe(self, *, alpha: float = 0.05, profile: bool | None = None) -> pd.DataFrame:
        """The table of :meth:`summary`: the same columns for every kind of fit."""
        return self.summary(alpha=alpha, profile=profile)

    @property
    def params(self) -> pd.Series:
        """The estimates by parameter label."""
        return self.table(0.95, profile=False)["estimate"]

    @property
    def bse(self) -> pd.Series:
        """Standard errors by parameter label (NaN on the boundary)."""
        return self.table(0.95, profile=False)["se"]

    @property
    def tvalues(self) -> pd.Series:
        """Wald statistics z = estimate / SE by parameter label, as statsmodels."""
        return self.table(0.95, profile=False)["z"]

    @property
    def pvalues(self) -> pd.Series:
        """Two-sided p-values of the Wald tests that each parameter is 0."""
        return self.table(0.95, profile=False)["p_value"]

    def conf_int(self, alpha: float = 0.05, method: str = "profile") -> pd.DataFrame:
        """Confidence intervals at level ``1 − alpha``.

        Parameters
        ----------
        alpha : float
            One minus the confidence level, in (0, 1).
        method : {"profile", "wald"}
            Profile-likelihood intervals (invariant under reparametrisation, within the
            support), or Wald intervals estimate ± z·SE.

        Returns
        -------
        pandas.DataFrame
            Columns ``lower`` and ``upper``, one row per parameter and per element of each
            ``pm.Deterministic`` (NaN where an interval does not exist, e.g. a Wald interval
            on the boundary; ±inf where the profile never reaches the cutoff, as for
            cv = sigma/mu when mu's interval holds 0).

        Raises
        ------
        ModelError
            ``alpha`` not strictly between 0 and 1, or an unknown ``method``.
        """
        if method not in _METHODS:
            raise ModelError(f"`method` must be 'profile' or 'wald'; got {method!r}.")
        table = self.table(1.0 - check_alpha(alpha), profile=method == "profile")
        columns = [f"{method}_lower", f"{method}_upper"]
        return table[columns].set_axis(["lower", "upper"], axis=1)

    @property
    def llf(self) -> float:
        """Log-likelihood at the estimate."""
        return self.loglik

    @property
    def nobs(self) -> int:
        """Number of observations."""
        return self.n_obs

    @property
    def df_model(self) -> int:
        """Number of estimated scalar parameters."""
        return self.n_params

    @property
    def aic(self) -> float:
        """Akaike's information criterion, 2k − 2ℓ̂."""
        return criteria.aic(self.loglik, self.n_params)

    @property
    def bic(self) -> float:
        """Schwarz's criterion, k log n − 2ℓ̂ (NaN where n is unknown: Potentials only)."""
        return criteria.bic(self.loglik, self.n_params, self.n_obs)

    def bootstrap(
        self,
        n: int = 999,
        *,
        random_seed: int | None = None,
        method: str = "percentile",
        alpha: float = 0.05,
        progressbar: bool | None = None,
    ) -> BootstrapResult:
        """Parametric bootstrap; see :meth:`ppl_mle.MLEResult.bootstrap`.

        Raises
        ------
        NotImplementedError
            For a result that has no bootstrap (a per-group fit).
        """
        raise NotImplementedError(
            f"{type(self).__name__} has no bootstrap: bootstrap one group's fit instead, "
            "ppl_mle.fit_mle(ppl_mle.normal(x_of_the_group)).bootstrap(n), or the groups "
            "as one pm.Model fitted by ppl_mle.fit_mle."
        )

    def _headline(self) -> str:
        """The one-line verdict shown above the table."""
        raise NotImplementedError

    def __repr__(self) -> str:
        """The verdict and the estimates with SEs and Wald intervals, for a terminal.

        Where the table cannot be computed (the model's data were replaced since the fit),
        the verdict and why: a repr never raises.
        """
        try:
            table = self.table(0.95, profile=False)
        except PplMleError as err:
            return f"{self._headline()}\n{err}"
        shown = table[["estimate", "se", "wald_lower", "wald_upper", "verdict"]]
        text = shown.to_string(max_rows=20, float_format=lambda v: f"{v:.6g}", na_rep="—")
        return f"{self._headline()}\n{text}"

    def _repr_html_(self) -> str:
        """The verdict and the table (estimates, SEs, z, p, intervals) for a notebook."""
        head = f"<p><b>{html.escape(self._headline())}</b></p>"
        try:
            table = self.table(0.95, profile=None)
        except PplMleError as err:
            return f"{head}<p>{html.escape(str(err))}</p>"
        with pd.option_context("display.max_rows", 40):
            body: str = table.to_html(float_format=lambda v: f"{v:.6g}", na_rep="")
        return head + body
