"""Per-group models: one normal or categorical model per group (numpy/scipy only).

- :mod:`~ppl_mle.core.grouped.stats`: the sufficient statistics of every group in one pass
  (n, mean and sum of squared deviations, exact at the edges of float64), and their merge
  across shards;
- :mod:`~ppl_mle.core.grouped.families`: the grouped normal and categorical families, with
  their closed forms, log-likelihoods and profile intervals per group;
- :mod:`~ppl_mle.core.grouped.blocks`: block-diagonal Hessians (one small block per group,
  plus shared coordinates) and Newton steps through them in O(groups);
- :mod:`~ppl_mle.core.grouped.homogeneity`: likelihood-ratio tests that the groups share a
  parameter.
"""

from __future__ import annotations

from ppl_mle.core.grouped.blocks import BlockLayout, BlockMatrix
from ppl_mle.core.grouped.families import GroupedCategoricalFamily, GroupedNormalFamily
from ppl_mle.core.grouped.homogeneity import homogeneity_statistic
from ppl_mle.core.grouped.stats import GroupStats, group_counts, group_stats, merge_group_stats

__all__ = [
    "BlockLayout",
    "BlockMatrix",
    "GroupStats",
    "GroupedCategoricalFamily",
    "GroupedNormalFamily",
    "group_counts",
    "group_stats",
    "homogeneity_statistic",
    "merge_group_stats",
]
