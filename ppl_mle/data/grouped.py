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

Missing group labels (NaN, None, NaT, ``pd.NA``, empty CSV fields) are an error that counts
them, as are non-finite values.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from ppl_mle.core._threads import workers
from ppl_mle.core.errors import DataError, ModelError
from ppl_mle.core.grouped.stats import GroupStats, group_counts, group_stats, merge_group_stats
from ppl_mle.data.io import check_csv_header, raise_field_count
from ppl_mle.data.streaming import (
    DEFAULT_BATCH_ROWS,
    _check_finite,
    _checked_rows,
    _dask_compute,
    _files,
    _is_dask,
    _is_numeric,
    _progress,
)
from ppl_mle.data.validation import (
    _distinct,
    _positions,
    as_array,
    as_float_data,
    check_categories,
    missing_mask,
)

__all__ = [
    "group_codes",
    "grouped_normal_stats",
    "grouped_label_counts",
    "grouped_normal_stats_of",
    "grouped_label_counts_of",
]

_MAX_LISTED = 5

#: What to do with rows whose group label is missing.
_MISSING_HINT = "remove those rows, or give them a group of their own."
#: What to do with rows whose category is missing.
_MISSING_CATEGORY = "remove those rows, or give them a category of their own."


# -- labels to codes -------------------------------------------------------------------------
@dataclass(frozen=True)
class _Coded:
    """Labels encoded in order of first appearance, and the order they are reported in.

    ``raw`` holds one code per row in ``[0, n_raw)``; final group ``j`` is raw code
    ``take[j]`` (-1 for a name given without rows, where that is allowed).
    """

    raw: np.ndarray
    n_raw: int
    take: np.ndarray
    labels: tuple[Hashable, ...]

    @property
    def identity(self) -> bool:
        """Whether the final order is the raw one."""
        return self.take.size == self.n_raw and bool(
            np.array_equal(self.take, np.arange(self.n_raw))
        )


def _encode(values: Any, name: str) -> tuple[np.ndarray, Any, Callable[[Any], Any] | None]:
    """Codes of the rows (-1 where missing), the distinct labels, and their comparison key.

    Labels are compared as Python compares them (``1 == 1.0``), by a hash table; labels of
    mixed kinds (``1``, ``True`` and ``'1'`` in one object array) keep their type, as
    :func:`~ppl_mle.data.validation.as_labels` keeps it, and come with the key that does.
    """
    if isinstance(values, pd.Series | pd.Index | pd.api.extensions.ExtensionArray) and not (
        isinstance(values.dtype, np.dtype)
    ):
        # pandas extension arrays (strings, categoricals, nullable integers) hash as they are.
        if len(values) == 0:
            raise DataError(f"`{name}` is empty: at least one observation is needed.")
        codes, uniques = pd.factorize(values)
        if isinstance(uniques.dtype, pd.CategoricalDtype):
            uniques = np.asarray(uniques)  # reported and sorted by value, as as_labels does
        return np.asarray(codes, dtype=np.intp), uniques, None
    arr = as_array(values, name)
    try:
        codes, uniques = pd.factorize(arr)
    except TypeError:  # unhashable values: the typed path names the problem
        return _encode_mixed(arr, name)
    if arr.dtype.kind == "O" and _mixed(uniques, arr):
        return _encode_mixed(arr, name)
    return np.asarray(codes, dtype=np.intp), uniques, None


#: Kinds of labels (:func:`pandas.api.types.infer_dtype`) that keep their type, as
#: :func:`~ppl_mle.data.validation.as_labels` keeps it: ``1``, ``True`` and ``'1'`` differ.
_MIXED = ("mixed", "mixed-integer")


def _mixed(uniques: np.ndarray, arr: np.ndarray) -> bool:
    """Whether object labels mix kinds (numbers and text, booleans and numbers...).

    The distinct labels decide, except where hashing may have merged ``True`` with ``1``:
    numbers are then checked in the whole array.
    """
    kind = pd.api.types.infer_dtype(uniques, skipna=True)
    if kind in _MIXED:
        return True
    if kind in ("boolean", "integer", "floating", "mixed-integer-float"):
        return pd.api.types.infer_dtype(arr, skipna=True) in _MIXED
    return False


def _encode_mixed(arr: np.ndarray, name: str) -> tuple[np.ndarray, Any, Callable[[Any], Any]]:
    """Labels of mixed kinds, each kept with its type (Python speed: such data are small)."""
    missing = missing_mask(arr)
    codes = np.full(arr.size, -1, dtype=np.intp)
    distinct, inverse, key = _distinct(arr[~missing] if missing.any() else arr, name)
    codes[~missing] = inverse
    return codes, np.fromiter(distinct, dtype=object, count=len(distinct)), key


def _order(uniques: Any) -> np.ndarray:
    """The sorting permutation of the distinct labels; labels that do not sort keep theirs.

    Sorted as :func:`~ppl_mle.data.validation.default_categories` sorts: in order where the
    labels compare, in order of first appearance where they do not (mixed types).
    """
    try:
        if isinstance(uniques, np.ndarray):
            return np.argsort(uniques, kind="stable")
        return np.asarray(uniques.argsort(kind="stable"), dtype=np.intp)
    except TypeError:
        return np.arange(len(uniques))


def _labels_of(uniques: Any, take: np.ndarray) -> tuple[Hashable, ...]:
    """The labels ``uniques[take]`` as Python values (Timestamps for datetimes)."""
    picked = uniques[take]
    if isinstance(picked, np.ndarray) and picked.dtype.kind in "mM":
        picked = pd.array(picked)
    return tuple(picked.tolist())


def _check_names(names: Any, arg: str) -> tuple[Hashable, ...]:
    """Names given by the user (``group_names``, ``categories``): distinct, none missing."""
    try:
        return check_categories(names)
    except ModelError as exc:
        raise ModelError(str(exc).replace("`categories`", f"`{arg}`")) from None


def _lookup(
    names: tuple[Hashable, ...], uniques: Any, key: Callable[[Any], Any] | None, arg: str
) -> np.ndarray:
    """Position in ``names`` of each distinct label, -1 where it is not there."""
    if key is None:
        index = pd.Index(
            np.fromiter(names, dtype=object, count=len(names)), dtype=object, tupleize_cols=False
        )
        if not index.is_unique:
            same = index[index.duplicated(keep=False)].tolist()
            raise ModelError(
                f"`{arg}` names one label twice: {same[:_MAX_LISTED]!r} compare equal."
            )
        return np.asarray(index.get_indexer(uniques), dtype=np.intp)
    where = {key(v): i for i, v in enumerate(names)}
    return np.fromiter((where.get(key(u), -1) for u in uniques), dtype=np.intp, count=len(uniques))


def _coded(
    values: Any,
    n_rows: int | None,
    names: Sequence[Hashable] | None,
    *,
    name: str,
    names_arg: str,
    allow_empty: bool,
) -> _Coded:
    """Encode labels, check them, and fix the order they are reported in."""
    raw, uniques, key = _encode(values, name)
    if n_rows is not None and raw.size != n_rows:
        raise DataError(
            f"`{name}` has {raw.size} labels but the data have {n_rows} rows: give one "
            "label per row."
        )
    if raw.min() < 0:
        missing = raw < 0
        raise DataError(
            f"`{name}` has {int(missing.sum())} missing labels (NaN/None) at rows "
            f"{_positions(missing)} of {raw.size}: {_MISSING_HINT}"
        )
    n_raw = len(uniques)
    if names is None:
        take = _order(uniques)
        return _Coded(raw, n_raw, take, _labels_of(uniques, take))
    given = _check_names(names, names_arg)
    pos = _lookup(given, uniques, key, names_arg)
    unknown = np.flatnonzero(pos < 0)
    if unknown.size:
        rows = np.bincount(raw, minlength=n_raw)[unknown]
        shown = _labels_of(uniques, unknown[:_MAX_LISTED])
        listing = ", ".join(
            f"{v!r} ({_rows(r)})" for v, r in zip(shown, rows[:_MAX_LISTED].tolist(), strict=True)
        )
        more = f", … ({unknown.size} labels in all)" if unknown.size > _MAX_LISTED else ""
        raise DataError(
            f"`{name}` has {_rows(int(rows.sum()))} whose labels are not in `{names_arg}`: "
            f"{listing}{more}."
        )
    take = np.full(len(given), -1, dtype=np.intp)
    take[pos] = np.arange(n_raw)
    if not allow_empty and n_raw < len(given):
        empty = [given[j] for j in np.flatnonzero(take < 0)]
        others = (
            f" (nor do {empty[1:_MAX_LISTED]!r}; {len(empty)} names without rows in all)"
            if len(empty) > 1
            else ""
        )
        raise DataError(
            f"group {empty[0]!r} of `{names_arg}` has no rows{others}: drop it from "
            f"`{names_arg}`, or check the labels of `{name}`."
        )
    return _Coded(raw, n_raw, take, given)


def _rows(count: int) -> str:
    return f"{count} row" if count == 1 else f"{count} rows"


def group_codes(
    groups: Any,
    n_rows: int,
    group_names: Sequence[Hashable] | None = None,
    *,
    name: str = "groups",
) -> tuple[np.ndarray, tuple[Hashable, ...]]:
    """The group of each row as an integer code, and the labels of the groups.

    Parameters
    ----------
    groups : array_like
        One label per row: a list, numpy array, pandas Series or Categorical of hashable
        values (strings, integers, dates...).
    n_rows : int
        Number of rows of the data; ``groups`` must have as many labels.
    group_names : sequence, optional
        The groups, in the order they are reported. Every label must be one of them and
        every name must have rows. By default the distinct labels, sorted (in order of
        first appearance when they do not sort, e.g. mixed types).
    name : str
        Name of the argument, used in error messages.

    Returns
    -------
    codes : numpy.ndarray
        Group of each row (intp), in ``[0, G)``.
    labels : tuple
        The G group labels; ``labels[codes[i]]`` is the group of row ``i``.

    Raises
    ------
    DataError
        Not one-dimensional, empty, a length other than ``n_rows``, missing labels (with
        their count), labels not in ``group_names``, a name of ``group_names`` without rows.
    ModelError
        ``group_names`` with duplicates or missing values.
    """
    coded = _coded(
        groups, n_rows, group_names, name=name, names_arg="group_names", allow_empty=False
    )
    if coded.identity:
        return coded.raw, coded.labels
    final = np.empty(coded.n_raw, dtype=np.intp)
    final[coded.take] = np.arange(coded.take.size)
    return final[coded.raw], coded.labels


def grouped_normal_stats(
    data: Any, groups: Any, group_names: Sequence[Hashable] | None = None
) -> tuple[GroupStats, tuple[Hashable, ...]]:
    """(n, mean, SS) of the data of every group.

    Parameters
    ----------
    data : array_like
        Real observations (finite), one per row.
    groups : array_like
        The group label of each row (see :func:`group_codes`).
    group_names : sequence, optional
        The groups, in the order they are reported (see :func:`group_codes`).

    Returns
    -------
    stats : GroupStats
        The statistics of the G groups, in the order of ``labels``.
    labels : tuple
        The group labels.

    Raises
    ------
    DataError
        Empty or non-numeric data, NaN or infinite values, or bad group labels.
    """
    x = as_float_data(data, "data", sigma_known=True)
    coded = _coded(
        groups, x.size, group_names, name="groups", names_arg="group_names", allow_empty=False
    )
    stats = group_stats(x, coded.raw, coded.n_raw)
    return (stats if coded.identity else stats.take(coded.take)), coded.labels


def grouped_label_counts(
    labels: Any,
    groups: Any,
    categories: Sequence[Hashable] | None = None,
    group_names: Sequence[Hashable] | None = None,
) -> tuple[np.ndarray, tuple[Hashable, ...], tuple[Hashable, ...]]:
    """The counts of each category in each group.

    Parameters
    ----------
    labels : array_like
        The observed category of each row.
    groups : array_like
        The group label of each row (see :func:`group_codes`).
    categories : sequence, optional
        All categories, in order; categories never observed get counts 0. By default the
        distinct labels, sorted as :func:`~ppl_mle.data.validation.as_labels` sorts them.
    group_names : sequence, optional
        The groups, in the order they are reported (see :func:`group_codes`).

    Returns
    -------
    counts : numpy.ndarray
        (G, k) int64 table: rows are groups, columns categories.
    group_labels : tuple
        The G group labels.
    categories : tuple
        The k categories.

    Raises
    ------
    DataError
        Bad labels or group labels (missing, unknown, lengths that differ), fewer than two
        categories.
    """
    cats = _coded(labels, None, categories, name="labels", names_arg="categories", allow_empty=True)
    _two_categories(cats.labels)
    grp = _coded(
        groups, cats.raw.size, group_names, name="groups", names_arg="group_names",
        allow_empty=False,
    )  # fmt: skip
    raw = group_counts(grp.raw, cats.raw, grp.n_raw, cats.n_raw)
    counts = np.zeros((len(grp.labels), len(cats.labels)), dtype=np.int64)
    seen = cats.take >= 0
    counts[:, seen] = raw[np.ix_(grp.take, cats.take[seen])]
    return counts, grp.labels, cats.labels


def _two_categories(cats: tuple[Hashable, ...]) -> None:
    if len(cats) < 2:
        raise DataError(
            f"the categorical model needs at least two categories; got {list(cats)!r}. "
            "Pass `categories=` to name categories that were not observed."
        )


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

    def result(self, text: bool, where: str, by: str) -> tuple[GroupStats, tuple[Hashable, ...]]:
        """The statistics in the order of their sorted labels (CSV labels typed first)."""
        piece = self.table.piece()
        target, labels = _final_labels(self.labels.values(), piece.stats.n, text, where, by)
        return _combine(piece, target, len(labels)).uncentred(), labels


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
        self, text: bool, where: str, by: str, column: str, categories: Any
    ) -> tuple[np.ndarray, tuple[Hashable, ...], tuple[Hashable, ...]]:
        """The counts with groups and categories in their final order."""
        table = self.table()
        tg, group_labels = _final_labels(self.groups.values(), table.sum(axis=1), text, where, by)
        tc, cats = _final_labels(
            self.categories.values(), table.sum(axis=0), text, where, column, categories
        )
        _two_categories(cats)
        counts = np.zeros((len(group_labels), len(cats)), dtype=np.int64)
        np.add.at(counts, (tg[:, np.newaxis], tc[np.newaxis, :]), table)
        return counts, group_labels, cats


def _final_labels(
    values: np.ndarray,
    rows: np.ndarray,
    text: bool,
    where: str,
    column: str,
    names: Sequence[Hashable] | None = None,
) -> tuple[np.ndarray, tuple[Hashable, ...]]:
    """The final position of each label of a table, and the final labels.

    CSV labels (``text``) are read as text and typed here, once all are known, as pandas
    types a whole column: integers, else numbers, else text. Labels that become equal
    (``'1'`` and ``'01'``) share a position. ``rows`` counts the rows of each label.
    """
    if text:
        values = _typed(values)
    if values.dtype.kind == "f" and np.isnan(values).any():
        raise DataError(
            f"{where} has {int(rows[np.isnan(values)].sum())} missing labels (NaN) in column "
            f"{column!r}: {_MISSING_HINT}"
        )
    codes, uniques = pd.factorize(values)
    position = np.empty(len(uniques), dtype=np.intp)  # final position of each distinct label
    if names is None:
        order = _order(uniques)
        position[order] = np.arange(order.size)
        return position[codes], _labels_of(uniques, order)
    labels = _check_names(names, "categories")
    position = _lookup(labels, uniques, None, "categories")
    unknown = np.flatnonzero(position < 0)
    if unknown.size:
        found = np.bincount(codes, weights=rows, minlength=len(uniques))[unknown]
        raise DataError(
            f"{where}: column {column!r} has {int(found.sum())} labels not in "
            f"`categories` {list(labels)!r}: "
            f"{list(_labels_of(uniques, unknown[:_MAX_LISTED]))!r}."
        )
    return position[codes], labels


def _typed(values: np.ndarray) -> np.ndarray:
    """Text labels as integers or numbers where every one of them reads as such."""
    texts = values.tolist()
    for convert in (int, float):
        try:
            typed = [convert(v) for v in texts]
        except (TypeError, ValueError):
            continue
        return np.asarray(typed) if typed else values
    return values


def _combine(piece: _Piece, target: np.ndarray, size: int) -> _Piece:
    """The statistics of ``size`` groups, group ``i`` of ``piece`` going to ``target[i]``.

    Several groups with one target (labels equal once typed) are merged, one layer of
    distinct targets at a time.
    """
    if target.size == size:  # every label kept its own group: a permutation
        out = np.empty(size, dtype=np.intp)
        out[target] = np.arange(size)
        return piece.take(out)
    order = np.argsort(target, kind="stable")
    ranked = target[order]
    starts = np.r_[True, ranked[1:] != ranked[:-1]]
    rank = np.empty(target.size, dtype=np.intp)
    index = np.arange(target.size)
    rank[order] = index - np.maximum.accumulate(np.where(starts, index, 0))
    table = _StatsTable(size)
    for layer in range(int(rank.max()) + 1):
        chosen = rank == layer
        table.merge_at(target[chosen], piece.take(chosen))
    return table.piece()


# -- files ---------------------------------------------------------------------------------
def _value_column(names: list[Any], column: str | None, by: str, where: str) -> Any:
    """The column of values: ``column``, or the one column besides ``by``."""
    if by not in names:
        raise DataError(
            f"the group column {by!r} (`by`) is not in {where}; its columns are {names}."
        )
    if column is None:
        others = [c for c in names if c != by]
        if len(others) != 1:
            raise DataError(
                f"{where} has columns {names}: name the column of values (`column`), one "
                f"of {others}."
            )
        return others[0]
    if column == by:
        raise DataError(
            f"`column` and `by` are both {by!r}: the values and the group labels must be "
            "two different columns."
        )
    if column not in names:
        raise DataError(f"column {column!r} is not in {where}; its columns are {names}.")
    return column


def _kind(arrow_type: Any) -> str:
    """The kind of values of an Arrow type: numbers, text, or the type itself."""
    import pyarrow as pa

    if pa.types.is_dictionary(arrow_type):
        arrow_type = arrow_type.value_type
    if pa.types.is_integer(arrow_type) or pa.types.is_floating(arrow_type):
        return "numbers"
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return "text"
    return str(arrow_type)


def _parquet_columns(file: Path, column: str | None, by: str) -> tuple[Any, dict[str, str]]:
    """The value column of a Parquet file and the kinds of its two columns."""
    import pyarrow.parquet as pq

    schema = pq.read_schema(file)
    value = _value_column(list(schema.names), column, by, file.name)
    return value, {by: _kind(schema.field(by).type), value: _kind(schema.field(value).type)}


def _pairs(
    file: Path,
    column: str | None,
    by: str,
    batch_rows: int,
    numeric: bool,
    expected: dict[str, str] | None,
) -> Iterator[tuple[Any, Any]]:
    """(labels, values) of each batch of a file, as Arrow arrays; pyarrow errors named."""
    import pyarrow as pa

    try:
        if file.suffix.lower() == ".parquet":
            batches = _parquet_batches(file, column, by, batch_rows, numeric, expected)
        else:
            batches = _csv_batches(file, column, by, batch_rows, numeric)
        rows = 0
        for labels, values in batches:
            rows += len(labels)
            yield labels, values
        if rows == 0:
            raise DataError(f"{file.name} is empty: it has no rows.")
    except DataError:
        raise
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise DataError(f"cannot read {file.name}: {exc}") from None


def _parquet_batches(
    file: Path,
    column: str | None,
    by: str,
    batch_rows: int,
    numeric: bool,
    expected: dict[str, str] | None,
) -> Iterator[tuple[Any, Any]]:
    import pyarrow.parquet as pq

    value, kinds = _parquet_columns(file, column, by)
    for name, kind in kinds.items():
        if expected is not None and expected.get(name, kind) != kind:
            raise DataError(
                f"{file.name}: column {name!r} holds {kind}, but the first shard's holds "
                f"{expected[name]}: every shard must hold the same kind of values."
            )
    if numeric and kinds[value] != "numbers":
        raise DataError(f"{file.name}: column {value!r} holds {kinds[value]}, not numbers.")
    reader = pq.ParquetFile(file)
    for batch in reader.iter_batches(batch_size=batch_rows, columns=[by, value]):
        yield batch.column(by), batch.column(value)


def _csv_batches(
    file: Path, column: str | None, by: str, batch_rows: int, numeric: bool
) -> Iterator[tuple[Any, Any]]:
    """Batches of the two columns of a CSV file: labels as text, values as float64 or text.

    The types are fixed from the first row on, so that a column of integers with a float
    further down is not refused half-way by the type pyarrow guessed from its first block.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    value = _value_column(check_csv_header(file), column, by, file.name)
    rejected: list[Any] = []

    def reject(row: Any) -> str:
        rejected.append(row)
        return "error"

    try:
        stream = pacsv.open_csv(
            file,
            read_options=pacsv.ReadOptions(
                block_size=max(batch_rows * 32, 1 << 20), use_threads=False
            ),
            parse_options=pacsv.ParseOptions(invalid_row_handler=reject),
            convert_options=pacsv.ConvertOptions(
                column_types={by: pa.string(), value: pa.float64() if numeric else pa.string()},
                include_columns=[by, value],
                null_values=[""],
                strings_can_be_null=True,
            ),
        )
    except pa.ArrowInvalid:
        if rejected:
            raise_field_count(file, rejected[0])
        raise
    for batch in _checked_rows(file, stream, rejected):
        yield batch.column(by), batch.column(value)


def _arrow_codes(labels: Any) -> tuple[np.ndarray, np.ndarray, int]:
    """Codes and distinct values of an Arrow array of labels, and how many are missing.

    The codes are only computed when nothing is missing (the batch is then an error).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if labels.null_count:
        return np.empty(0, dtype=np.intp), np.empty(0), int(labels.null_count)
    encoded = labels if pa.types.is_dictionary(labels.type) else pc.dictionary_encode(labels)
    codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.intp, copy=False)
    uniques = encoded.dictionary.to_numpy(zero_copy_only=False)
    if uniques.dtype.kind == "f":
        nan = np.flatnonzero(np.isnan(uniques))
        if nan.size:
            return codes, uniques, int(np.isin(codes, nan).sum())
    return codes, uniques, 0


def _file_normal(
    file: Path, column: str | None, by: str, batch_rows: int, expected: dict[str, str] | None
) -> _NormalParts:
    parts = _NormalParts()
    for labels, values in _pairs(file, column, by, batch_rows, True, expected):
        codes, uniques, missing = _arrow_codes(labels)
        parts.missing += missing
        if parts.missing:
            continue  # count the rest, then raise
        x = values.to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
        _check_finite(x, file.name)
        parts.add(uniques, _pivoted(x, codes, uniques.size))
    _raise_missing_labels(file.name, parts.missing, by)
    return parts


def _file_counts(
    file: Path, column: str | None, by: str, batch_rows: int, expected: dict[str, str] | None
) -> _CountParts:
    parts = _CountParts()
    for labels, values in _pairs(file, column, by, batch_rows, False, expected):
        g_codes, g_uniques, missing = _arrow_codes(labels)
        c_codes, c_uniques, missing_categories = _arrow_codes(values)
        parts.missing += missing
        parts.missing_categories += missing_categories
        if parts.missing or parts.missing_categories:
            continue
        table = group_counts(g_codes, c_codes, g_uniques.size, c_uniques.size)
        parts.add(g_uniques, c_uniques, table)
    _raise_missing_labels(file.name, parts.missing, by)
    _raise_missing_labels(
        file.name, parts.missing_categories, column or "of labels", _MISSING_CATEGORY
    )
    return parts


def _raise_missing_labels(where: str, missing: int, column: Any, hint: str = _MISSING_HINT) -> None:
    if missing:
        raise DataError(
            f"{where} has {missing} missing labels (empty, null, NaN) in column {column!r}: {hint}"
        )


#: The statistics a file is reduced to: normal statistics or counts, by label.
_Parts = TypeVar("_Parts", _NormalParts, _CountParts)


def _reduce_file(
    reduce: Callable[[Path, str | None, str, int, dict[str, str] | None], _Parts],
    column: str | None,
    by: str,
    batch_rows: int,
    expected: dict[str, str] | None,
    file: Path,
) -> _Parts:
    """One shard's reduction."""
    return reduce(file, column, by, batch_rows, expected)


def _stream(
    path: Path,
    column: str | None,
    by: str,
    batch_rows: int,
    progress: bool | None,
    reduce: Callable[[Path, str | None, str, int, dict[str, str] | None], _Parts],
) -> tuple[_Parts, Any]:
    """Reduce every file of ``path`` (shards in parallel threads), merged in file order.

    Returns the merged parts and the name of the value column.
    """
    if batch_rows < 1:
        raise DataError(f"`batch_rows` must be a positive number of rows; got {batch_rows}.")
    files = _files(path)
    value: Any = None
    expected = None
    if files[0].suffix.lower() == ".parquet":
        value, expected = _parquet_columns(files[0], column, by)

    one = functools.partial(_reduce_file, reduce, column, by, batch_rows, expected)
    bar = _progress(files, progress)
    total: _Parts | None = None
    # Shards are read a few at a time, so at most that many shard tables wait in memory.
    width = max(1, min(len(files), workers()))
    with ThreadPoolExecutor(max_workers=width) as pool:
        for start in range(0, len(files), width):
            for part in pool.map(one, files[start : start + width]):
                total = part if total is None else total.absorb(part)
                if bar is not None:
                    bar.update(1)
    if bar is not None:
        bar.close()
    assert total is not None  # _files returns at least one file
    return total, value


# -- Dask ------------------------------------------------------------------------------------
def _dask_frame(source: Any, column: str | None, by: str) -> tuple[Any, Any]:
    """The two columns of a Dask DataFrame, and the name of the value column."""
    if not hasattr(source, "columns"):
        raise DataError(
            "a Dask source of grouped data must be a DataFrame holding the values and the "
            f"group labels (`by`); got a {type(source).__name__}."
        )
    value = _value_column(list(source.columns), column, by, "the Dask dataframe")
    return source[[by, value]], value


def _float_values(column: Any) -> np.ndarray:
    """A pandas column of numbers as float64, missing values as NaN."""
    return np.asarray(column.to_numpy(dtype=np.float64, na_value=np.nan))


def _partition_normal(
    frame: pd.DataFrame, value: Any, by: Any
) -> tuple[np.ndarray, _Piece | None, int, int]:
    """Distinct labels and statistics of one partition, or its counts of bad values."""
    if len(frame) == 0:
        return np.empty(0), None, 0, 0
    codes, uniques, _ = _encode(frame[by], str(by))
    missing = int(np.count_nonzero(codes < 0))
    x = _float_values(frame[value])
    bad = 0 if np.isfinite(x.sum()) else int(np.count_nonzero(~np.isfinite(x)))
    if missing or bad:
        return np.empty(0), None, missing, bad
    return np.asarray(uniques), _pivoted(x, codes, len(uniques)), 0, 0


def _partition_counts(
    frame: pd.DataFrame, value: Any, by: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, int, int]:
    """Distinct group labels and categories of one partition and their counts."""
    if len(frame) == 0:
        return np.empty(0), np.empty(0), None, 0, 0
    g_codes, g_uniques, _ = _encode(frame[by], str(by))
    c_codes, c_uniques, _ = _encode(frame[value], str(value))
    missing = int(np.count_nonzero(g_codes < 0))
    missing_categories = int(np.count_nonzero(c_codes < 0))
    if missing or missing_categories:
        return np.empty(0), np.empty(0), None, missing, missing_categories
    table = group_counts(g_codes, c_codes, len(g_uniques), len(c_uniques))
    return np.asarray(g_uniques), np.asarray(c_uniques), table, 0, 0


def _dask_results(source: Any, column: str | None, by: str, client: Any, numeric: bool) -> Any:
    """Compute the reduction of every partition (on ``client`` if given), in order."""
    import dask

    frame, value = _dask_frame(source, column, by)
    if numeric and not _is_numeric(frame[value].dtype):
        raise DataError(
            f"column {value!r} of the Dask dataframe is of type {frame[value].dtype}, not "
            "numbers: the normal model needs numeric data."
        )
    reduce = _partition_normal if numeric else _partition_counts
    tasks = [dask.delayed(reduce)(part, value, by) for part in frame.to_delayed()]
    return value, _dask_compute(tasks, client)


def _dask_normal(
    source: Any, column: str | None, by: str, client: Any
) -> tuple[GroupStats, tuple[Hashable, ...]]:
    value, results = _dask_results(source, column, by, client, numeric=True)
    parts = _NormalParts()
    for labels, piece, missing, bad in results:
        parts.missing += missing
        parts.non_finite += bad
        if piece is not None:
            parts.add(labels, piece)
    _raise_missing_labels("the Dask dataframe", parts.missing, by)
    if parts.non_finite:
        raise DataError(
            f"the Dask dataframe has {parts.non_finite} non-finite values (NaN or inf) in "
            f"column {value!r}: remove or impute them first."
        )
    if len(parts.labels) == 0:
        raise DataError("the Dask dataframe is empty: it has no rows.")
    return parts.result(False, "the Dask dataframe", by)


def _dask_counts(
    source: Any, column: str | None, by: str, categories: Any, client: Any
) -> tuple[np.ndarray, tuple[Hashable, ...], tuple[Hashable, ...]]:
    value, results = _dask_results(source, column, by, client, numeric=False)
    parts = _CountParts()
    for groups, cats, table, missing, missing_categories in results:
        parts.missing += missing
        parts.missing_categories += missing_categories
        if table is not None:
            parts.add(groups, cats, table)
    _raise_missing_labels("the Dask dataframe", parts.missing, by)
    _raise_missing_labels("the Dask dataframe", parts.missing_categories, value, _MISSING_CATEGORY)
    if len(parts.groups) == 0:
        raise DataError("the Dask dataframe is empty: it has no rows.")
    return parts.result(False, "the Dask dataframe", by, value, categories)


# -- public: sources ---------------------------------------------------------------------------
def _in_memory(source: Any, column: str | None, by: str) -> tuple[Any, Any]:
    """The value and group columns of a pandas DataFrame."""
    if not isinstance(source, pd.DataFrame):
        raise DataError(
            "the source of grouped data must be a .csv or .parquet file, a folder of "
            f".parquet shards, a Dask DataFrame or a pandas DataFrame; got a "
            f"{type(source).__name__}."
        )
    value = _value_column(list(source.columns), column, by, "the dataframe")
    return source[value], source[by]


def grouped_normal_stats_of(
    source: Any,
    column: str | None,
    by: str,
    *,
    client: Any = None,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    progress: bool | None = None,
) -> tuple[GroupStats, tuple[Hashable, ...]]:
    """(n, mean, SS) of every group of a big source, in one pass and bounded memory.

    Parameters
    ----------
    source : str, Path, dask DataFrame or pandas DataFrame
        A ``.csv`` or ``.parquet`` file, a folder of ``.parquet`` shards, or a dataframe.
    column : str or None
        The column of values; None when the source has one column besides ``by``.
    by : str
        The column of group labels.
    client : distributed.Client or str, optional
        A Dask cluster (client or scheduler address) to reduce a Dask DataFrame on.
    batch_rows : int
        Rows per batch when reading files.
    progress : bool, optional
        Show a progress bar over shards; by default when stderr is a terminal.

    Returns
    -------
    stats : GroupStats
        The statistics of the groups, in the order of ``labels``.
    labels : tuple
        The group labels, sorted (CSV labels typed as pandas types a column).

    Raises
    ------
    DataError
        A missing file or column, a value column that is not numeric, missing group labels,
        non-finite values, an empty source.
    """
    if _is_dask(source):
        return _dask_normal(source, column, by, client)
    if isinstance(source, str | Path):
        path = Path(source)
        parts, _ = _stream(path, column, by, batch_rows, progress, _file_normal)
        return parts.result(_is_csv(path), path.name, by)
    values, groups = _in_memory(source, column, by)
    return grouped_normal_stats(values, groups)


def grouped_label_counts_of(
    source: Any,
    column: str | None,
    by: str,
    categories: Sequence[Hashable] | None = None,
    *,
    client: Any = None,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    progress: bool | None = None,
) -> tuple[np.ndarray, tuple[Hashable, ...], tuple[Hashable, ...]]:
    """The counts of each category (labels of ``column``) in each group (labels of ``by``).

    Parameters are as for :func:`grouped_normal_stats_of`; ``categories`` fixes the order of
    the categories and allows categories never observed.

    Returns
    -------
    counts : numpy.ndarray
        (G, k) int64 table: rows are groups, columns categories.
    group_labels : tuple
        The G group labels, sorted.
    categories : tuple
        The k categories.

    Raises
    ------
    DataError
        A missing file or column, missing labels, labels not in ``categories``, fewer than
        two categories, an empty source.
    """
    if _is_dask(source):
        return _dask_counts(source, column, by, categories, client)
    if isinstance(source, str | Path):
        path = Path(source)
        parts, value = _stream(path, column, by, batch_rows, progress, _file_counts)
        if value is None:  # a CSV file: the value column is known once its header is read
            value = _value_column(check_csv_header(path), column, by, path.name)
        return parts.result(_is_csv(path), path.name, by, value, categories)
    values, groups = _in_memory(source, column, by)
    return grouped_label_counts(values, groups, categories)


def _is_csv(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() == ".csv"
