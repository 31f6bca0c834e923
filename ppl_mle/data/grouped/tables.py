"""Tables of per-group statistics that grow piece by piece.

Each batch, shard or partition is reduced to the statistics of its own groups; these are
aligned by label into one growing table and merged exactly (around a pivot per group, by
Chan's formula; counts are summed).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ppl_mle.core.errors import DataError
from ppl_mle.core.grouped.stats import GroupStats, group_stats, merge_group_stats
from ppl_mle.data.grouped.labels import (
    _MAX_LISTED,
    _check_names,
    _labels_of,
    _lookup,
    _order,
    _two_categories,
)
from ppl_mle.data.validation import _text_hint


# -- tables that grow piece by piece -------------------------------------------------------
class _LabelIndex:
    """Distinct labels in order of arrival, looked up by a hash table (pandas Index)."""

    def __init__(self) -> None:
        self._index: Any = None

    def __len__(self) -> int:
        return 0 if self._index is None else len(self._index)

    def positions(self, labels: np.ndarray) -> np.ndarray:
        """The position of each label (distinct labels), new labels appended."""
        if self._index is None:
            self._index = pd.Index(labels, tupleize_cols=False)
            return np.arange(len(labels))
        pos = np.asarray(self._index.get_indexer(labels), dtype=np.intp)
        new = pos < 0
        if new.any():
            start = len(self._index)
            self._index = self._index.append(pd.Index(labels[new], tupleize_cols=False))
            pos[new] = np.arange(start, len(self._index))
        return pos

    def values(self) -> np.ndarray:
        """The labels, in order of arrival."""
        if self._index is None:
            return np.empty(0, dtype=object)
        return np.asarray(self._index)


#: Pivots are values of their group no larger than this, so that a value minus the pivot of
#: its group cannot overflow (|x − p| <= max + 2^960 rounds to at most the largest float64).
_PIVOT_MAX = 2.0**960


@dataclass(frozen=True)
class _Piece:
    """Statistics of groups about a pivot per group: of ``x − pivot`` for the rows ``x``.

    Means of one group taken about a value of that group are of the order of its spread,
    so merging them (whose difference δ enters Chan's formula squared) keeps the digits
    that means near a large offset (1e9 ± 1) would have rounded away.
    """

    stats: GroupStats
    pivot: np.ndarray

    def take(self, index: Any) -> _Piece:
        return _Piece(self.stats.take(index), self.pivot[index])

    def uncentred(self) -> GroupStats:
        """The statistics of the values themselves: the pivot added back to the mean."""
        s = self.stats
        return GroupStats(s.n, self.pivot + s.mean, s.ss, s.scale)


def _pivoted(x: np.ndarray, codes: np.ndarray, k: int) -> _Piece:
    """The statistics of the ``k`` groups of one batch, each about one of its values."""
    pivot = np.zeros(k)
    pivot[codes] = x  # some value of each group
    pivot[np.abs(pivot) > _PIVOT_MAX] = 0.0
    return _Piece(group_stats(x - pivot[codes], codes, k), pivot)


#: Where |δ| / scale is beyond this (or below its inverse), δ² in Chan's formula would over-
#: or underflow: the two sides are first put in units nearer their spread.
_RATIO = 2.0**400


def _exponent(v: np.ndarray) -> np.ndarray:
    """The e with v < 2**e for v > 0 (-2000 for 0): frexp's exponent."""
    return np.where(v > 0, np.frexp(v)[1], -2000)


def _merge(a: GroupStats, b: GroupStats) -> GroupStats:
    """:func:`merge_group_stats` of two non-empty sides, safe at the edges of float64.

    ``merge_group_stats`` adds δ² n_a n_b / n with δ in units of the larger scale of the two
    sides; two shards of a group of values near 1e200 (or 1e-200) with one row each have
    scale 1, and δ² over- (under-)flows. Such groups are first expressed in units of a power
    of two near the largest of |δ| and the two spreads (exact), which the SS allows.
    """
    with np.errstate(all="ignore"):
        half = 0.5 * b.mean - 0.5 * a.mean
        ratio = np.abs(half) / np.maximum(a.scale, b.scale)
    odd = (half != 0) & ((ratio > _RATIO) | (ratio < 1 / _RATIO))
    if not odd.any():
        return merge_group_stats(a, b)
    with np.errstate(all="ignore"):
        top = np.maximum.reduce(
            [
                _exponent(np.sqrt(a.ss)) + _exponent(a.scale),
                _exponent(np.sqrt(b.ss)) + _exponent(b.scale),
                _exponent(np.abs(half)) + 1,
            ]
        )
    power = np.clip(top - 2, -1000, 1023)

    def in_units(side: GroupStats) -> GroupStats:
        shift = 2 * (np.frexp(side.scale)[1] - 1 - power)
        return GroupStats(
            side.n,
            side.mean,
            np.where(odd, np.ldexp(side.ss, shift), side.ss),
            np.where(odd, np.ldexp(1.0, power), side.scale),
        )

    return merge_group_stats(in_units(a), in_units(b))


class _StatsTable:
    """Pivoted statistics of groups added over time, merged exactly (Chan's formula)."""

    #: What a group without rows holds: mean, SS, scale and pivot.
    _EMPTY = np.array([np.nan, 0.0, 1.0, 0.0])

    def __init__(self, size: int = 0) -> None:
        self.size = size
        self._n = np.zeros(size, dtype=np.int64)
        self._values = np.repeat(self._EMPTY[:, np.newaxis], size, axis=1)

    def _reserve(self, size: int) -> None:
        if size > self._n.size:
            extra = max(size, 2 * self._n.size) - self._n.size
            self._n = np.concatenate([self._n, np.zeros(extra, dtype=np.int64)])
            empty = np.repeat(self._EMPTY[:, np.newaxis], extra, axis=1)
            self._values = np.concatenate([self._values, empty], axis=1)
        self.size = max(self.size, size)

    def _get(self, pos: Any) -> _Piece:
        mean, ss, scale, pivot = self._values[:, pos]
        return _Piece(GroupStats(self._n[pos], mean, ss, scale), pivot)

    def _put(self, pos: np.ndarray, piece: _Piece) -> None:
        s = piece.stats
        self._n[pos] = s.n
        self._values[:, pos] = (s.mean, s.ss, s.scale, piece.pivot)

    def merge_at(self, pos: np.ndarray, piece: _Piece) -> None:
        """Merge the groups of ``piece`` into the groups ``pos`` (distinct positions)."""
        if pos.size == 0:
            return
        self._reserve(int(pos.max()) + 1)
        seen = self._n[pos] > 0
        # A group new to the table takes the piece's statistics and pivot as they are.
        self._put(pos[~seen], piece.take(~seen))
        if seen.any():
            old, new = self._get(pos[seen]), piece.take(seen)
            s = new.stats
            # The new means about the table's pivots: the pivots are values of one group,
            # so their difference and the shifted mean are of the order of its spread.
            moved = GroupStats(s.n, (new.pivot - old.pivot) + s.mean, s.ss, s.scale)
            self._put(pos[seen], _Piece(_merge(old.stats, moved), old.pivot))

    def piece(self) -> _Piece:
        """The pivoted statistics of the table's groups."""
        return self._get(slice(0, self.size))


class _NormalParts:
    """The normal statistics of every group seen so far, keyed by label."""

    def __init__(self) -> None:
        self.labels = _LabelIndex()
        self.table = _StatsTable()
        self.missing = 0
        self.non_finite = 0

    def add(self, labels: np.ndarray, piece: _Piece) -> None:
        """Merge the statistics of the groups ``labels`` (distinct) of one piece."""
        present = piece.stats.n > 0  # a dictionary or categorical may list unused labels
        if not present.all():
            labels, piece = labels[present], piece.take(present)
        self.table.merge_at(self.labels.positions(labels), piece)

    def absorb(self, other: _NormalParts) -> _NormalParts:
        """Merge the statistics of another source (a later shard) into these."""
        self.missing += other.missing
        self.non_finite += other.non_finite
        self.add(other.labels.values(), other.table.piece())
        return self

    def result(self) -> tuple[GroupStats, tuple[Hashable, ...]]:
        """The statistics in the order of their sorted labels."""
        piece = self.table.piece()
        order, labels = _sorted_labels(self.labels.values())
        return piece.take(order).uncentred(), labels


class _CountParts:
    """The counts of every (group, category) seen so far, keyed by the two labels."""

    def __init__(self) -> None:
        self.groups = _LabelIndex()
        self.categories = _LabelIndex()
        self.counts = np.zeros((0, 0), dtype=np.int64)
        self.missing = 0
        self.missing_categories = 0

    def add(self, groups: np.ndarray, categories: np.ndarray, counts: np.ndarray) -> None:
        """Add the counts of one piece: rows ``groups``, columns ``categories`` (distinct)."""
        rows, cols = counts.sum(axis=1) > 0, counts.sum(axis=0) > 0
        if not (rows.all() and cols.all()):  # unused dictionary or categorical entries
            groups, categories, counts = groups[rows], categories[cols], counts[rows][:, cols]
        pg, pc = self.groups.positions(groups), self.categories.positions(categories)
        shape = (len(self.groups), len(self.categories))
        if shape[0] > self.counts.shape[0] or shape[1] > self.counts.shape[1]:
            grown = np.zeros(
                (max(shape[0], 2 * self.counts.shape[0]), max(shape[1], self.counts.shape[1])),
                dtype=np.int64,
            )
            grown[: self.counts.shape[0], : self.counts.shape[1]] = self.counts
            self.counts = grown
        self.counts[np.ix_(pg, pc)] += counts

    def absorb(self, other: _CountParts) -> _CountParts:
        """Add the counts of another source (a later shard) to these."""
        self.missing += other.missing
        self.missing_categories += other.missing_categories
        self.add(other.groups.values(), other.categories.values(), other.table())
        return self

    def table(self) -> np.ndarray:
        """The counts, rows and columns in order of arrival."""
        return self.counts[: len(self.groups), : len(self.categories)]

    def result(
        self, where: str, column: str, categories: Any
    ) -> tuple[np.ndarray, tuple[Hashable, ...], tuple[Hashable, ...]]:
        """The counts with groups and categories in their final order."""
        table = self.table()
        order, group_labels = _sorted_labels(self.groups.values())
        if categories is None:
            taken, cats = _sorted_labels(self.categories.values())
            _two_categories(cats)
            return table[np.ix_(order, taken)], group_labels, cats
        tc, cats = _named_labels(
            self.categories.values(), table.sum(axis=0), categories, where, column
        )
        _two_categories(cats)
        counts = np.zeros((len(group_labels), len(cats)), dtype=np.int64)
        np.add.at(counts, (np.arange(order.size)[:, np.newaxis], tc[np.newaxis, :]), table[order])
        return counts, group_labels, cats


def _sorted_labels(values: np.ndarray) -> tuple[np.ndarray, tuple[Hashable, ...]]:
    """The order that sorts the distinct labels of a table, and the sorted labels.

    The labels are kept as read (a CSV file's as text: ``'007'`` and ``'7'`` are two
    labels); they are sorted as :func:`~ppl_mle.data.validation.default_categories` sorts.
    """
    order = _order(values)
    return order, _labels_of(values, order)


def _named_labels(
    values: np.ndarray, rows: np.ndarray, names: Sequence[Hashable], where: str, column: str
) -> tuple[np.ndarray, tuple[Hashable, ...]]:
    """The position in ``names`` (the categories) of each distinct label of a table.

    ``rows`` counts the rows of each label; ``where`` and ``column`` name the source.
    """
    labels = _check_names(names, "categories")
    position = _lookup(labels, values, None, "categories")
    unknown = np.flatnonzero(position < 0)
    if unknown.size:
        shown = _labels_of(values, unknown[:_MAX_LISTED])
        raise DataError(
            f"{where}: column {column!r} has {int(rows[unknown].sum())} labels not in "
            f"`categories` {list(labels)!r}: {list(shown)!r}.{_text_hint(shown, labels)}"
        )
    return position, labels
