"""Input validation: one place per kind of input, messages that name the problem.

This module depends on numpy only. Each function returns a clean array or raises
:class:`~ppl_mle.errors.DataError` / :class:`~ppl_mle.errors.ModelError` with a message that
says what was wrong and what to do.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np

from ppl_mle.closed_form import NormalStats
from ppl_mle.errors import DataError, ModelError

__all__ = [
    "as_design",
    "raise_non_finite",
    "check_counts",
    "check_normal_stats",
    "label_counts",
    "as_float_data",
    "as_labels",
    "check_level",
    "check_sigma",
]

_MAX_LISTED = 5


def _positions(mask: np.ndarray) -> str:
    """Describe the positions where ``mask`` is true, listing at most a few."""
    idx = np.flatnonzero(mask)
    shown = ", ".join(str(i) for i in idx[:_MAX_LISTED])
    more = f", … ({idx.size - _MAX_LISTED} more)" if idx.size > _MAX_LISTED else ""
    return f"[{shown}{more}]"


def _one_dimensional(values: Any, name: str) -> np.ndarray:
    """Convert to a 1-D numpy array (object dtype allowed), rejecting other shapes."""
    if isinstance(values, str | bytes):
        raise DataError(f"`{name}` must be a sequence of values, not a single string.")
    if np.isscalar(values):
        raise DataError(f"`{name}` must be a sequence of values, got the scalar {values!r}.")
    arr = np.asarray(values.to_numpy() if hasattr(values, "to_numpy") else values)
    if arr.ndim != 1:
        raise DataError(f"`{name}` must be one-dimensional; got an array of shape {arr.shape}.")
    if arr.size == 0:
        raise DataError(f"`{name}` is empty: at least one observation is needed.")
    return arr


def as_float_data(
    values: Any, name: str = "data", *, sigma_known: bool = False, check_finite: bool = True
) -> np.ndarray:
    """Return ``values`` as a 1-D float64 array fit for the normal model.

    Parameters
    ----------
    values : array_like
        Observations: a list, numpy array or pandas Series of real numbers.
    name : str
        Name of the argument, used in error messages.
    sigma_known : bool
        With the standard deviation known, a single observation or a constant sample is
        fine; with it unknown, the MLE of sigma would be 0 and an error is raised.

    Returns
    -------
    numpy.ndarray
        The data as float64, one-dimensional, all finite.

    Raises
    ------
    DataError
        Empty, not one-dimensional, non-numeric, NaN or infinite values, or (sigma unknown)
        a single observation or a constant sample.
    """
    arr = _one_dimensional(values, name)
    if arr.dtype.kind == "b":
        raise DataError(f"`{name}` must be numeric; got booleans.")
    if arr.dtype.kind not in "iuf":
        # Scan the values as given: numpy would have turned [1.0, "x"] into strings.
        given = list(values) if isinstance(values, list | tuple) else arr.tolist()
        for i, v in enumerate(given):
            if isinstance(v, bool) or not isinstance(v, int | float):
                raise DataError(
                    f"`{name}` must be numeric; found {v!r} (type {type(v).__name__}) "
                    f"at position {i}."
                )
    arr = np.ascontiguousarray(arr, dtype=np.float64)
    # A finite sum proves every value finite (NaN and ±inf propagate): one cheap pass; the
    # full scan, which names the positions, runs only when the sum is not finite.
    if check_finite and not math.isfinite(float(arr.sum())):
        raise_non_finite(arr, name)
    if not sigma_known:
        if arr.size == 1:
            raise DataError(
                f"`{name}` has a single observation: the MLE of sigma would be 0, on the "
                "boundary of the parameter space where the normal likelihood is unbounded. "
                "Give more data or fix sigma (normal(data, sigma=...))."
            )
        # The first values decide almost every sample without a full pass.
        if np.all(arr[:1000] == arr[0]) and np.all(arr == arr[0]):
            raise DataError(
                f"`{name}` is constant (all {arr.size} values equal {float(arr[0])!r}): the MLE of "
                "sigma would be 0, on the boundary of the parameter space where the normal "
                "likelihood is unbounded. Fix sigma (normal(data, sigma=...)) or check the data."
            )
    return arr


def _is_missing(v: Any) -> bool:
    return v is None or (isinstance(v, float | np.floating) and math.isnan(v))


def as_labels(
    labels: Any, categories: Sequence[Hashable] | None = None, name: str = "labels"
) -> tuple[np.ndarray, tuple[Hashable, ...]]:
    """Encode categorical labels as integer codes.

    Parameters
    ----------
    labels : array_like
        Observed labels: any hashable values (strings, integers, ...).
    categories : sequence, optional
        All categories, in the order the probabilities are reported. Categories that never
        occur are allowed (their MLE is exactly 0). By default the distinct labels, sorted
        when they can be sorted and in order of first appearance otherwise.
    name : str
        Name of the argument, used in error messages.

    Returns
    -------
    codes : numpy.ndarray
        Integer code of each label, an index into ``categories``.
    categories : tuple
        The categories, in order.

    Raises
    ------
    DataError
        Empty labels, missing values, labels absent from ``categories``, or fewer than two
        categories.
    """
    arr = _one_dimensional(labels, name)
    distinct, inverse = _distinct(arr, name)
    if categories is None:
        try:
            cats = tuple(sorted(distinct))
        except TypeError:
            cats = tuple(distinct)
    else:
        if isinstance(categories, str | bytes):
            raise ModelError("`categories` must be a sequence of categories, not one string.")
        cats = tuple(categories)
        if len(set(cats)) != len(cats):
            dup = sorted({repr(c) for c in cats if cats.count(c) > 1})
            raise ModelError(f"`categories` has duplicates: {', '.join(dup)}.")
    if len(cats) < 2:
        raise DataError(
            f"the categorical model needs at least two categories; got {list(cats)!r}. "
            "Pass `categories=` to name categories that were not observed."
        )
    index = {c: i for i, c in enumerate(cats)}
    codes = np.array([index.get(v, -1) for v in distinct], dtype=np.int64)[inverse]
    unknown = codes < 0
    if unknown.any():
        names = [v for v in distinct if v not in index]
        raise DataError(
            f"`{name}` has {int(unknown.sum())} values not in `categories` "
            f"{list(cats)!r}: {names[:_MAX_LISTED]!r} at positions {_positions(unknown)}."
        )
    return codes, cats


def _distinct(arr: np.ndarray, name: str) -> tuple[list[Hashable], np.ndarray]:
    """The distinct labels and each label's index among them; missing labels raise.

    Numbers and strings are sorted by numpy (``np.unique``); other values (mixed types,
    tuples...) keep the order of first appearance, one Python pass over the labels.
    """
    if arr.dtype.kind in "biufU":
        missing = np.isnan(arr) if arr.dtype.kind == "f" else np.zeros(arr.shape, dtype=bool)
        if not missing.any():
            distinct, inverse = np.unique(arr, return_inverse=True)
            return distinct.tolist(), inverse.reshape(-1)
    else:
        missing = np.array([_is_missing(v) for v in arr.tolist()])
    if missing.any():
        raise DataError(
            f"`{name}` has {int(missing.sum())} missing values (None or NaN) at positions "
            f"{_positions(missing)}: remove them or make them a category of their own."
        )
    values = arr.tolist()
    try:
        first = dict.fromkeys(values)
    except TypeError as exc:
        raise DataError(f"`{name}` must hold hashable values: {exc}.") from None
    position = {v: i for i, v in enumerate(first)}
    inverse = np.fromiter((position[v] for v in values), dtype=np.int64, count=len(values))
    return list(first), inverse


def check_sigma(sigma: Any) -> float:
    """Return a known standard deviation as a float, or raise if it is not positive and finite."""
    try:
        value = float(sigma)
    except (TypeError, ValueError):
        raise ModelError(f"`sigma` must be a positive number; got {sigma!r}.") from None
    if not (math.isfinite(value) and value > 0):
        raise ModelError(f"`sigma` must be a positive finite number; got {sigma!r}.")
    return value


def check_level(level: Any) -> float:
    """Return a confidence level in (0, 1), or raise."""
    try:
        value = float(level)
    except (TypeError, ValueError):
        raise ModelError(f"`level` must be a number in (0, 1); got {level!r}.") from None
    if not 0.0 < value < 1.0:
        raise ModelError(f"`level` must lie strictly between 0 and 1; got {level!r}.")
    return value


def as_design(
    features: Any, n_rows: int | None = None, *, intercept: bool = True, name: str = "X"
) -> tuple[np.ndarray, tuple[str, ...]]:
    """Return a design matrix (float64, n × p) and its column names.

    Parameters
    ----------
    features : array_like or pandas.DataFrame
        Features, one row per observation; a 1-D array is one feature. DataFrame column
        names become the feature names; otherwise ``x0, x1, …``.
    n_rows : int, optional
        Required number of rows (the length of the labels).
    intercept : bool
        Prepend a column of ones named ``intercept``.
    name : str
        Name of the argument, used in error messages.

    Raises
    ------
    DataError
        Non-numeric or non-finite values (named by column and count), a length that does not
        match the labels, a constant column, or columns that are linearly dependent (named).
    """
    if hasattr(features, "columns"):
        names = [str(c) for c in features.columns]
        try:
            arr = features.to_numpy(dtype=np.float64, copy=False)
        except (TypeError, ValueError):
            bad = [str(c) for c in features.columns if features[c].dtype.kind not in "biuf"]
            raise DataError(f"`{name}` columns {bad} are not numeric.") from None
    else:
        arr = np.asarray(features)
        if arr.ndim == 1:
            arr = arr[:, np.newaxis]
        if arr.ndim != 2:
            raise DataError(f"`{name}` must be 2-dimensional (rows × features); got {arr.shape}.")
        if arr.dtype.kind not in "biuf":
            raise DataError(f"`{name}` must be numeric; got values of type {arr.dtype}.")
        names = [f"x{j}" for j in range(arr.shape[1])]
    if arr.shape[0] == 0:
        raise DataError(f"`{name}` is empty: at least one observation is needed.")
    if n_rows is not None and arr.shape[0] != n_rows:
        raise DataError(
            f"`{name}` has {arr.shape[0]} rows but there are {n_rows} labels: one row per label."
        )
    finite = np.isfinite(arr)
    if not finite.all():
        counts = (~finite).sum(axis=0)
        bad = ", ".join(f"{names[j]!r} ({counts[j]})" for j in np.flatnonzero(counts))
        raise DataError(
            f"`{name}` has non-finite values (NaN or inf) in columns {bad}: remove or impute "
            "those rows first."
        )
    if intercept and "intercept" in names:
        raise DataError(f"`{name}` already has a column named 'intercept'; pass intercept=False.")
    constant = np.flatnonzero(arr.max(axis=0) == arr.min(axis=0))
    if constant.size and intercept:
        raise DataError(
            f"`{name}` columns {[names[j] for j in constant]} are constant: they duplicate "
            "the intercept. Drop them (or pass intercept=False)."
        )
    # One float64 copy, the intercept column in front (the caller's array is never kept).
    design = np.empty((arr.shape[0], arr.shape[1] + intercept))
    design[:, int(intercept) :] = arr
    if intercept:
        design[:, 0] = 1.0
        names = ["intercept", *names]
    dependent = _dependent_columns(design)
    if dependent:
        raise DataError(
            f"`{name}` is rank-deficient: columns {[names[j] for j in dependent]} are linear "
            "combinations of the others; their coefficients would not be identified. Drop them."
        )
    return design, tuple(names)


def _dependent_columns(arr: np.ndarray) -> list[int]:
    """Columns that QR with column pivoting finds linearly dependent on the others."""
    from scipy import linalg

    if arr.shape[0] > 20_000:  # the rank is decided by the Gram matrix for tall data
        gram = arr.T @ arr
        scale = np.sqrt(np.diag(gram))
        inverse = 1.0 / np.where(scale > 0, scale, 1.0)
        gram = gram * np.outer(inverse, inverse)  # the Gram matrix of unit-length columns
        _, r, perm = linalg.qr(gram, pivoting=True)
        tol = np.abs(r[0, 0]) * 1e-12 * gram.shape[0]
    else:
        scale = np.sqrt(np.sum(arr**2, axis=0))
        scaled = arr / np.where(scale > 0, scale, 1.0)
        _, r, perm = linalg.qr(scaled, mode="economic", pivoting=True)
        tol = np.abs(r[0, 0]) * 1e-10 * max(arr.shape)
    rank = int(np.sum(np.abs(np.diag(r)) > tol))
    if rank == arr.shape[1]:
        return []
    return sorted(int(j) for j in perm[rank:])


def check_normal_stats(n: Any, mean: Any, ss: Any, *, sigma_known: bool = False) -> NormalStats:
    """Validate sufficient statistics (n, mean, SS) of a normal sample.

    Raises
    ------
    DataError
        n not a positive integer, non-finite mean or SS, negative SS, or (sigma unknown)
        n < 2 or SS = 0.
    """
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise DataError(f"`n` must be a positive integer (the number of observations); got {n!r}.")
    try:
        mean_f, ss_f = float(mean), float(ss)
    except (TypeError, ValueError):
        raise DataError(f"`mean` and `ss` must be numbers; got {mean!r}, {ss!r}.") from None
    if not math.isfinite(mean_f):
        raise DataError(f"`mean` must be finite; got {mean!r}.")
    if not math.isfinite(ss_f) or ss_f < 0:
        raise DataError(
            f"`ss` (the sum of squared deviations) must be finite and >= 0; got {ss!r}."
        )
    if not sigma_known and (n < 2 or ss_f == 0):
        raise DataError(
            f"with n = {int(n)} and ss = {ss_f!r} the MLE of sigma would be 0, on the boundary "
            "where the normal likelihood is unbounded: give more data or fix sigma."
        )
    return NormalStats(int(n), mean_f, ss_f)


def check_counts(
    counts: Any, categories: Sequence[Hashable] | None = None
) -> tuple[np.ndarray, tuple[Hashable, ...]]:
    """Validate category counts: non-negative integers, at least two categories, n > 0."""
    if isinstance(counts, Mapping):
        if categories is not None:
            raise ModelError("give the categories as the mapping's keys or as `categories`.")
        categories, counts = list(counts.keys()), list(counts.values())
    arr = np.asarray(counts)
    if arr.ndim != 1 or arr.size < 2:
        raise DataError(f"`counts` must list at least two categories; got shape {arr.shape}.")
    if arr.dtype.kind not in "iuf" or not np.all(np.isfinite(arr)):
        raise DataError(f"`counts` must be finite numbers; got {arr.tolist()[:10]}.")
    if np.any(arr < 0) or np.any(arr != np.round(arr)):
        raise DataError(f"`counts` must be non-negative integers; got {arr.tolist()[:10]}.")
    if arr.sum() == 0:
        raise DataError("`counts` are all zero: at least one observation is needed.")
    cats = tuple(range(arr.size)) if categories is None else tuple(categories)
    if len(cats) != arr.size:
        raise DataError(f"{arr.size} counts but {len(cats)} categories.")
    return arr.astype(np.int64), cats


def label_counts(
    labels: Any, categories: Sequence[Hashable] | None = None, name: str = "labels"
) -> tuple[np.ndarray, tuple[Hashable, ...]]:
    """Count labels without encoding each one: ``bincount`` for integer arrays.

    Same rules and messages as :func:`as_labels`, for data too large to encode.

    Returns
    -------
    counts : numpy.ndarray
    categories : tuple
    """
    arr = labels.to_numpy() if hasattr(labels, "to_numpy") else labels
    if isinstance(arr, np.ndarray) and arr.ndim == 1 and arr.dtype.kind in "iu" and arr.size:
        low, high = int(arr.min()), int(arr.max())
        if high - low < 10_000_000:
            raw = np.bincount(arr - low if low else arr, minlength=high - low + 1)
            nonzero = np.flatnonzero(raw)
            present = dict(zip((nonzero + low).tolist(), raw[nonzero].tolist(), strict=True))
            if categories is None:
                cats = tuple(sorted(present))
            else:
                cats = tuple(categories)
                unknown = sorted(set(present) - set(cats))
                if unknown:
                    total = sum(present[u] for u in unknown)
                    raise DataError(
                        f"`{name}` has {total} values not in `categories` {list(cats)!r}: "
                        f"{unknown[:_MAX_LISTED]!r}."
                    )
            if len(cats) < 2:
                raise DataError(
                    f"the categorical model needs at least two categories; got {list(cats)!r}. "
                    "Pass `categories=` to name categories that were not observed."
                )
            counts = np.array([present.get(c, 0) for c in cats], dtype=np.int64)
            return counts, cats
    codes, cats = as_labels(labels, categories, name)
    return np.bincount(codes, minlength=len(cats)).astype(np.int64), cats


def raise_non_finite(arr: np.ndarray, name: str = "data") -> None:
    """Raise the error that counts and locates the NaN and infinite values of ``arr``."""
    bad = ~np.isfinite(arr)
    if not bad.any():
        return
    nan = np.isnan(arr)
    inf = bad & ~nan
    parts = []
    if nan.any():
        parts.append(f"{int(nan.sum())} NaN at positions {_positions(nan)}")
    if inf.any():
        parts.append(f"{int(inf.sum())} infinite at positions {_positions(inf)}")
    raise DataError(
        f"`{name}` has {int(bad.sum())} non-finite values of {arr.size} "
        f"({'; '.join(parts)}). Remove or impute them before fitting: PyMC would "
        "silently treat each NaN as a parameter to estimate."
    )
