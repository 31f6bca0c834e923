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
from ppl_mle.fit.grouped import GroupedFit
from ppl_mle.inference.grouped import grouped_inference_data, grouped_table
from ppl_mle.inference.likelihood_ratio import HypothesisTestResult, lr_test

if TYPE_CHECKING:
    import arviz as az

__all__ = ["GroupedResult"]


@dataclass(frozen=True, eq=False)
class GroupedResult(GroupedFit):
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

    def to_dataframe(self, level: float = 0.95, *, profile: bool = True) -> pd.DataFrame:
        """One row per group: n, estimates, SEs, Wald and profile intervals, verdict.

        See :func:`ppl_mle.inference.grouped.grouped_table`.
        """
        return grouped_table(self, level, profile=profile)

    def lr_test(self, share: str) -> HypothesisTestResult:
        """Likelihood-ratio test that all groups share ``share``.

        ``share`` is ``"mu"``, ``"sigma"``, ``"mu and sigma"`` or ``"theta"``; see
        :func:`ppl_mle.lr_test`.
        """
        return lr_test(self, share=share)

    def to_inference_data(self) -> az.InferenceData:
        """The estimates as ``arviz.InferenceData`` with the ``group`` dim."""
        return grouped_inference_data(self)

    def __str__(self) -> str:
        family = self.family
        head = (
            f"MLE of the {family.name} model ({family.n_groups} groups, "
            f"n = {family.n_obs}): {self.status.value}"
        )
        with pd.option_context("display.max_rows", 10, "display.width", 120):
            table = self.to_dataframe(profile=False)
            shown = [c for c in table.columns if not c.endswith(("_lower", "_upper"))]
            return f"{head}\n{table[shown].drop(columns='note')}\n{self.message}"
