"""Group labels to codes, and the statistics of every group of data in memory.

Labels are encoded by hashing (:func:`pandas.factorize`, O(n)); only the G distinct labels
are sorted, and the statistics of the groups are permuted afterwards. Missing labels (NaN,
None, NaT, ``pd.NA``, empty text) are an error that counts them.

A group label is an identifier, kept as given: ``'007'`` and ``'7'`` are two groups, and so
are ``True`` and ``1`` (in a list as in an object array); numbers compare as numbers
(``1 == 1.0``).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ppl_mle.core.errors import DataError, ModelError
from ppl_mle.core.grouped.stats import GroupStats, group_counts, group_stats
from ppl_mle.data.validation import (
    _blank_text,
    _distinct,
    _positions,
    as_array,
    as_float_data,
    check_categories,
    missing_labels,
)

__all__ = ["group_codes", "grouped_label_counts", "grouped_normal_stats"]

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
    Missing labels (:func:`~ppl_mle.data.validation.missing_labels`) get the code -1.
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
        return _blank_missing(codes, uniques), uniques, None
    arr = as_array(values, name)
    try:
        codes, uniques = pd.factorize(arr)
    except TypeError:  # unhashable values: the typed path names the problem
        return _encode_mixed(arr, name)
    if arr.dtype.kind == "O" and _mixed(uniques, arr):
        return _encode_mixed(arr, name)
    return _blank_missing(codes, uniques), uniques, None


def _blank_missing(codes: np.ndarray, uniques: Any) -> np.ndarray:
    """The codes as intp, -1 for the rows whose label is empty or blank text."""
    codes = np.asarray(codes, dtype=np.intp)
    kind = getattr(uniques.dtype, "kind", "O")
    if kind in "OUS":  # text can be blank: the distinct labels decide, in O(G)
        blank = np.flatnonzero(_blank_text(np.asarray(uniques, dtype=object)))
        if blank.size:
            codes = np.where(np.isin(codes, blank), -1, codes)
    return codes


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
    missing = missing_labels(arr)
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
        kinds = "NaN/None/empty" if _blank_text(as_array(values, name)).any() else "NaN/None"
        raise DataError(
            f"`{name}` has {int(missing.sum())} missing labels ({kinds}) at rows "
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
