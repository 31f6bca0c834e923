"""Per-group sufficient statistics: group labels to codes, and the statistics of every group.

A per-group fit needs, for each group, the normal statistics (n, mean, SS) or the counts of
each category. Labels are encoded by hashing (:func:`pandas.factorize`, O(n)); only the G
distinct labels are sorted, and the statistics of the groups are permuted afterwards, so no
pass over the rows sorts anything. The statistics themselves are those of
:mod:`ppl_mle.core.grouped.stats` (corrected two-pass sums, exact at the edges of float64).

Sources bigger than memory (a ``.csv`` or ``.parquet`` file, a folder of ``.parquet``
shards, a Dask DataFrame) are reduced piece by piece: each batch or partition to the
statistics of its own groups, which are then aligned by label into one growing table and
merged exactly (Chan's formula, :func:`~ppl_mle.core.grouped.stats.merge_group_stats`;
counts are summed). Only the two columns needed are read.

Missing group labels (NaN, None, NaT, ``pd.NA``, empty or blank text, empty CSV fields) are
an error that counts them, as are non-finite values. Labels are identifiers, kept as read:
a ``.csv`` file's are text (``'007'`` and ``'7'`` are two groups), a Parquet file's or a
dataframe's keep the column's type.
"""

from __future__ import annotations

from ppl_mle.data.grouped.labels import group_codes, grouped_label_counts, grouped_normal_stats
from ppl_mle.data.grouped.sources import grouped_label_counts_of, grouped_normal_stats_of

__all__ = [
    "group_codes",
    "grouped_label_counts",
    "grouped_label_counts_of",
    "grouped_normal_stats",
    "grouped_normal_stats_of",
]
