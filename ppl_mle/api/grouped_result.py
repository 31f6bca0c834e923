"""The public result of a per-group fit: :class:`GroupedResult`.

A :class:`~ppl_mle.fit.grouped.GroupedFit` (every group's estimate and the evidence for it)
whose methods reach the inference layer: the table per group, the tests that the groups
share a parameter, and ArviZ data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from ppl_mle.api.pickling import reduce_result
from ppl_mle.api.protocol import ResultProtocol
from ppl_mle.data.validation import check_alpha
from ppl_mle.fit.cache import computed
from ppl_mle.fit.grouped import GroupedFit
from ppl_mle.inference.grouped import (
    grouped_covariance,
    grouped_inference_data,
    grouped_parameters,
    grouped_table,
)
from ppl_mle.inference.likelihood_ratio import HypothesisTestResult, lr_test

if TYPE_CHECKING:
    import arviz as az

__all__ = ["GroupedResult"]


@dataclass(frozen=True, eq=False, repr=False)  # the repr of ResultProtocol
class GroupedResult(ResultProtocol, GroupedFit):
    """The verified MLE of every group of a per-group model.

    The attributes are those of :class:`~ppl_mle.fit.grouped.GroupedFit`: ``estimates``,
    ``standard_errors``, ``group_status`` (one :class:`~ppl_mle.FitStatus` per group),
    ``status``, ``loglik``, ``message``… It pickles without compiled functions (see
    :mod:`ppl_mle.api.pickling`).
    """

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle the numbers and the model, without compiled functions.

        See :mod:`ppl_mle.api.pickling`.
        """
        return reduce_result(self)

    def table(self, level: float, *, profile: bool | None) -> pd.DataFrame:
        """One row per scalar parameter of every group; see :func:`grouped_parameters`.

        Profile intervals are closed forms per group: computed unless ``profile=False``.
        """
        cache = computed(self)
        key = ("table", float(level), profile is not False)
        if key not in cache:
            cache[key] = grouped_parameters(self, level, profile=profile is not False)
        table = cache[key].copy()
        table.attrs = dict(cache[key].attrs)
        return table

    def cov_params(self) -> pd.DataFrame:
        """Covariance of the estimates; see :func:`grouped_covariance`."""
        return grouped_covariance(self)

    def by_group(self, *, alpha: float = 0.05, profile: bool = True) -> pd.DataFrame:
        """One row per group: n, estimates, SEs, Wald and profile intervals, verdict.

        See :func:`ppl_mle.inference.grouped.grouped_table`.
        """
        return grouped_table(self, 1.0 - check_alpha(alpha), profile=profile)

    def derived(self, *, alpha: float = 0.05) -> pd.DataFrame:
        """A per-group model has no ``pm.Deterministic``: the empty table of its kind.

        The columns of :meth:`ppl_mle.MLEResult.derived` (``estimate``, ``se``,
        ``wald_lower``, ``wald_upper``), no rows.
        """
        check_alpha(alpha)
        columns = ["estimate", "se", "wald_lower", "wald_upper"]
        return pd.DataFrame(columns=columns, index=pd.Index([], name="parameter"), dtype=float)

    def _headline(self) -> str:
        family = self.family
        return (
            f"{self.estimate_kind} of the {family.name} model ({family.n_groups} groups, "
            f"n = {family.n_obs}): {self.status.value}"
        )

    def lr_test(self, share: str) -> HypothesisTestResult:
        """Likelihood-ratio test that all groups share ``share``.

        ``share`` is ``"mu"``, ``"sigma"``, ``"mu and sigma"`` or ``"theta"``; see
        :func:`ppl_mle.lr_test`.
        """
        return lr_test(self, share=share)

    def to_inference_data(
        self, *, laplace: int | bool | None = True, random_seed: int | None = None
    ) -> az.InferenceData:
        """The estimates as ``arviz.InferenceData`` with the ``group`` dim.

        ``posterior`` holds Laplace draws at every group's estimate (ArviZ's summaries and
        plots take it with no warning); layout in :func:`grouped_inference_data`.

        Parameters
        ----------
        laplace : int, bool or None
            Draws per chain (4 chains); by default (``True``) 1000 where every estimate has
            an SE, else, as with ``None``, the estimates as a point mass.
        random_seed : int, optional
            Seed of the draws.
        """
        return grouped_inference_data(self, laplace=laplace, random_seed=random_seed)

    def __str__(self) -> str:
        with pd.option_context("display.max_rows", 10, "display.width", 120):
            table = self.by_group(profile=False)
            shown = [c for c in table.columns if not c.endswith(("_lower", "_upper"))]
            return f"{self._headline()}\n{table[shown].drop(columns='note')}\n{self.message}"
