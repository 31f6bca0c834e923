"""Input validation: one place per kind of input, messages that name the problem.

This module depends on numpy only. Each function returns a clean array or raises
:class:`~ppl_mle.core.errors.DataError` or :class:`~ppl_mle.core.errors.ModelError` with a
message that says what was wrong and what to do.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any, cast

import numpy as np

from ppl_mle.core.closed_form import NormalStats
from ppl_mle.core.errors import DataError, ModelError

__all__ = [
    "as_array",
    "check_alpha",
    "as_design",
    "check_categories",
    "check_start_shapes",
    "missing_labels",
    "missing_mask",
    "raise_missing_labels",
    "raise_non_finite",
    "check_counts",
    "check_normal_stats",
    "label_counts",
    "as_float_data",
    "as_labels",
    "default_categories",
    "check_level",
    "check_sigma",
]

_MAX_LISTED = 5
_TINY = float(np.finfo(np.float64).tiny)
_INT64_MAX = int(np.iinfo(np.int64).max)


def _positions(mask: np.ndarray) -> str:
    """Describe the positions where ``mask`` is true, listing at most a few."""
    idx = np.flatnonzero(mask)
    shown = ", ".join(str(i) for i in idx[:_MAX_LISTED])
    more = f", … ({idx.size - _MAX_LISTED} more)" if idx.size > _MAX_LISTED else ""
    return f"[{shown}{more}]"


def _one_dimensional(values: Any, name: str) -> np.ndarray:
    """Convert to a 1-D numpy array (object dtype allowed), rejecting other shapes."""
    return as_array(values, name)


def as_array(values: Any, name: str = "data") -> np.ndarray:
    """The reader policy: any 1-D input as a numpy array whose values are the ones given.

    Every input path (lists, numpy and masked arrays, pandas objects, file columns, shards,
    Dask blocks) goes through here, so the same rules hold everywhere:

    - masked entries of a ``numpy.ma`` array are missing values, an error that counts them
      (the values under the mask are never used);
    - a list mixing strings and numbers keeps each value's type (``1`` and ``'1'`` stay
      distinct), where numpy would have turned every value into a string; a list mixing
      booleans and numbers keeps them apart too (``True`` and ``1`` stay distinct), where
      numpy would have turned every boolean into a number: a list reads as the object
      array of the same values;
    - a one-column pandas DataFrame (``df[["height"]]``) is that column; a DataFrame of
      several columns is refused with their names;
    - the result is one-dimensional and not empty.

    Missing values (NaN, None, ``pd.NA``, NaT) are left for the caller to reject, with
    :func:`missing_mask`, so that the message can say what the values are for.

    Parameters
    ----------
    values : array_like
        The input.
    name : str
        Name of the argument, used in error messages.

    Returns
    -------
    numpy.ndarray

    Raises
    ------
    DataError
        A single string or scalar, masked values, more than one dimension (a DataFrame of
        several columns), or no values.
    """
    if isinstance(values, str | bytes):
        raise DataError(f"`{name}` must be a sequence of values, not a single string.")
    if np.isscalar(values):
        raise DataError(f"`{name}` must be a sequence of values, got the scalar {values!r}.")
    if hasattr(values, "columns") and hasattr(values, "iloc"):  # a pandas DataFrame
        values = _single_column(values, name)
    if isinstance(values, np.ma.MaskedArray):
        values = _unmasked(values, name)
    elif hasattr(values, "to_numpy"):
        values = values.to_numpy()
    try:
        arr = np.asarray(values)
    except ValueError as exc:  # ragged nested lists
        raise DataError(f"`{name}` must be one-dimensional: {exc}") from None
    if arr.ndim != 1:
        raise DataError(f"`{name}` must be one-dimensional; got an array of shape {arr.shape}.")
    if arr.size == 0:
        raise DataError(f"`{name}` is empty: at least one observation is needed.")
    if isinstance(values, list | tuple) and (
        arr.dtype.kind in "USO" or (arr.dtype.kind in "iufc" and _has_booleans(values))
    ):
        # numpy turns [1, "1", nan] into strings and [True, 1] into integers: keep each
        # value as given.
        arr = np.fromiter(values, dtype=object, count=len(values))
    return arr


def _has_booleans(values: Sequence[Any]) -> bool:
    """Whether a sequence holds booleans (Python's or numpy's) among its values."""
    return not {bool, np.bool_}.isdisjoint(map(type, values))


def _single_column(frame: Any, name: str) -> Any:
    """The one column of a DataFrame (a Series); a DataFrame of several columns is an error."""
    columns = [str(c) for c in frame.columns]
    if len(columns) == 1:
        return frame.iloc[:, 0]
    if not columns:
        raise DataError(f"`{name}` is a DataFrame without columns: give the column of values.")
    raise DataError(
        f"`{name}` is a DataFrame of {len(columns)} columns {columns}: pick the one column of "
        f"values, e.g. {name}[{columns[0]!r}]."
    )


def _unmasked(values: np.ma.MaskedArray, name: str) -> np.ndarray:
    """The data of a masked array without masked entries; masked entries are an error."""
    mask = np.ma.getmaskarray(values)
    if mask.any():
        raise DataError(
            f"`{name}` has {int(mask.sum())} masked (missing) values of {mask.size} at "
            f"positions {_positions(mask.ravel())}: remove them first (e.g. "
            "values.compressed()); the values under a mask are never used."
        )
    return np.ma.getdata(values)


def _is_missing(v: Any) -> bool:
    """Whether one value is a missing-value marker: None, NaN, NaT, ``pd.NA``."""
    if v is None:
        return True
    if isinstance(v, float | np.floating):
        return math.isnan(v)
    if isinstance(v, np.datetime64 | np.timedelta64):
        return bool(np.isnat(v))
    return type(v).__name__ in ("NAType", "NaTType")


def missing_mask(arr: np.ndarray) -> np.ndarray:
    """Boolean mask of the missing values of a 1-D array: NaN, NaT, None, ``pd.NA``."""
    kind = arr.dtype.kind
    if kind in "fc":
        return cast(np.ndarray, np.isnan(arr))
    if kind in "mM":
        return cast(np.ndarray, np.isnat(arr))
    if kind == "O":
        return np.fromiter((_is_missing(v) for v in arr.tolist()), dtype=bool, count=arr.size)
    return np.zeros(arr.shape, dtype=bool)


def _is_blank(v: Any) -> bool:
    """Whether one value is empty or blank text (``''``, ``'  '``)."""
    return isinstance(v, str) and not v.strip()


def _blank_text(arr: np.ndarray) -> np.ndarray:
    """Boolean mask of the empty or blank strings of a 1-D array."""
    kind = arr.dtype.kind
    if kind == "U":
        return cast(np.ndarray, np.char.str_len(np.char.strip(arr)) == 0)
    if kind == "O":
        return np.fromiter(map(_is_blank, arr.tolist()), dtype=bool, count=arr.size)
    return np.zeros(arr.shape, dtype=bool)


def missing_labels(arr: np.ndarray) -> np.ndarray:
    """Boolean mask of the missing labels of a 1-D array.

    A label is missing where :func:`missing_mask` finds a missing value (NaN, NaT, None,
    ``pd.NA``) and where it is empty or blank text (``''``, ``'  '``: an empty field of a
    file, a cell left blank). No category, class or group is named by nothing.
    """
    return cast(np.ndarray, missing_mask(arr) | _blank_text(arr))


#: What to do with labels that are missing.
_MISSING_LABELS_HINT = "remove them, or give them a category name of their own."


def raise_missing_labels(values: Any, name: str, what: str = _MISSING_LABELS_HINT) -> None:
    """Raise the error that counts and locates missing labels (:func:`missing_labels`).

    Categorical labels (:func:`as_labels`) and the classes of softmax regression, from
    Python and from the command line, are refused by it.

    Parameters
    ----------
    values : array_like
        The labels.
    name : str
        Name of the argument or column, used in the message.
    what : str
        What to do about them, ending the message.

    Raises
    ------
    DataError
        With the count of the missing labels and their positions (rows, from 0).
    """
    arr = as_array(values, name)
    blank = _blank_text(arr)
    kinds = "None, NaN or empty text" if blank.any() else "None or NaN"
    _raise_missing(missing_mask(arr) | blank, name, what, kinds)


def _raise_missing(missing: np.ndarray, name: str, what: str, kinds: str = "None or NaN") -> None:
    """Raise the error that counts and locates missing values, if there are any."""
    if missing.any():
        raise DataError(
            f"`{name}` has {int(missing.sum())} missing values ({kinds}) at positions "
            f"{_positions(missing)} of {missing.size}: {what}"
        )


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
        if arr.dtype.kind == "O":
            _raise_missing(missing_mask(arr), name, "remove or impute them before fitting.")
        # Scan the values as given (as_array kept mixed lists as objects).
        for i, v in enumerate(arr.tolist()):
            if isinstance(v, bool) or not isinstance(v, int | float):
                raise DataError(
                    f"`{name}` must be numeric; found {v!r} (type {type(v).__name__}) "
                    f"at position {i}."
                )
    arr = np.ascontiguousarray(arr, dtype=np.float64)
    # A finite sum proves every value finite (NaN and ±inf propagate): one cheap pass; the
    # full scan, which names the positions, runs only when the sum is not finite.
    # (A sum of finite values near 1e308 may overflow: the scan then finds nothing.)
    if check_finite:
        with np.errstate(over="ignore", invalid="ignore"):
            total = float(arr.sum())
        if not math.isfinite(total):
            raise_non_finite(arr, name)
    if not sigma_known:
        if arr.size == 1:
            raise DataError(
                f"`{name}` has a single observation: the MLE of sigma would be 0, on the "
                "boundary of the parameter space where the normal likelihood is unbounded. "
                "Give more data or fix sigma (`sigma=` in Python, `--sigma` on the command line)."
            )
        # The first values decide almost every sample without a full pass.
        if np.all(arr[:1000] == arr[0]) and np.all(arr == arr[0]):
            raise DataError(
                f"`{name}` is constant (all {arr.size} values equal {float(arr[0])!r}): the MLE of "
                "sigma would be 0, on the boundary of the parameter space where the normal "
                "likelihood is unbounded. Fix sigma (`sigma=` in Python, `--sigma` on the command "
                "line) or check the data."
            )
    return arr


def default_categories(found: Iterable[Hashable]) -> tuple[Hashable, ...]:
    """The categories of labels given no order: sorted, or as found where they do not sort.

    Labels of mixed types (``1`` and ``"a"``) cannot be sorted; they keep the order in which
    they were found.
    """
    values = list(found)
    try:
        return tuple(sorted(cast("list[Any]", values)))
    except TypeError:
        return tuple(values)


def as_labels(
    labels: Any, categories: Sequence[Hashable] | None = None, name: str = "labels"
) -> tuple[np.ndarray, tuple[Hashable, ...]]:
    """Encode categorical labels as integer codes.

    Labels of different kinds are different categories: ``'1'``, ``1`` and ``True`` are
    three labels, whether given in a list, an object array or a pandas Series (a list reads
    as the object array of its values; Python's ``True == 1`` merges nothing). Numbers
    compare as numbers (``1 == 1.0``). Missing labels (None, NaN, empty text) are an error.

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
        Empty labels, missing labels (None, NaN, empty text: counted, with their
        positions), labels absent from ``categories``, or fewer than two categories.
    """
    arr = as_array(labels, name)
    distinct, inverse, key = _distinct(arr, name)
    cats = default_categories(distinct) if categories is None else check_categories(categories)
    if len(cats) < 2:
        raise DataError(
            f"the categorical model needs at least two categories; got {list(cats)!r}. "
            "Pass `categories=` to name categories that were not observed."
        )
    index = {key(c): i for i, c in enumerate(cats)}
    codes = np.array([index.get(key(v), -1) for v in distinct], dtype=np.int64)[inverse]
    unknown = codes < 0
    if unknown.any():
        names = [v for v in distinct if key(v) not in index]
        raise DataError(
            f"`{name}` has {int(unknown.sum())} values not in `categories` "
            f"{list(cats)!r}: {names[:_MAX_LISTED]!r} at positions {_positions(unknown)}."
        )
    return codes, cats


def _text_hint(found: Iterable[Hashable], names: Iterable[Hashable]) -> str:
    """A hint where labels read as text (a CSV file's) were named as other values (``7``)."""
    spelled = {str(n) for n in names if not isinstance(n, str)}
    if any(isinstance(v, str) and v in spelled for v in found):
        return " Labels read from a .csv file are text: name the categories as text."
    return ""


def check_categories(categories: Any) -> tuple[Hashable, ...]:
    """Return the categories as a tuple: hashable, distinct, none of them missing.

    Raises
    ------
    ModelError
        One string instead of a sequence, an unhashable or missing category, duplicates.
    """
    if isinstance(categories, str | bytes):
        raise ModelError("`categories` must be a sequence of categories, not one string.")
    try:
        cats = tuple(categories)
    except TypeError:
        raise ModelError(f"`categories` must be a sequence; got {categories!r}.") from None
    for c in cats:
        try:
            hash(c)
        except TypeError:
            raise ModelError(
                f"`categories` must be hashable values (strings, numbers, tuples); {c!r} "
                f"is a {type(c).__name__}."
            ) from None
        if _is_missing(c):
            raise ModelError(f"`categories` has a missing value {c!r}: name every category.")
    keys = [_typed_key(c) for c in cats]
    if len(set(keys)) != len(keys):
        dup = sorted({repr(c) for c, k in zip(cats, keys, strict=True) if keys.count(k) > 1})
        raise ModelError(f"`categories` has duplicates: {', '.join(dup)}.")
    return cats


def _kind(v: Any) -> str:
    """The kind of a label: values of different kinds are different labels."""
    if isinstance(v, str):
        return "str"
    if isinstance(v, bool | np.bool_):
        return "bool"
    if isinstance(v, int | np.integer):
        return "int"
    if isinstance(v, float | np.floating):
        return "float"
    return type(v).__qualname__


def _typed_key(v: Any) -> tuple[str, Any]:
    """A label with its kind: ``1`` and ``'1'`` differ, as do ``1`` and ``1.0``."""
    return (_kind(v), v)


def _plain_key(v: Any) -> Any:
    return v


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float | np.integer | np.floating) and not isinstance(
        v, bool | np.bool_
    )


def _distinct(arr: np.ndarray, name: str) -> tuple[list[Hashable], np.ndarray, Any]:
    """The distinct labels, each label's index among them, and the key that compares them.

    Missing labels (:func:`missing_labels`: None, NaN, empty text) raise. Numbers and
    strings are sorted by numpy (``np.unique``), where labels of one numeric column compare
    as numbers (``1 == 1.0``). Other values (mixed types, tuples...) keep their type
    (``1 != '1'``, ``True != 1``) and the order of first appearance.
    """
    if missing_mask(arr).any():
        raise_missing_labels(arr, name)
    if arr.dtype.kind in "biufU":
        unique, inverse = np.unique(arr, return_inverse=True)
        if unique.dtype.kind == "U" and _blank_text(unique).any():
            raise_missing_labels(arr, name)
        return unique.tolist(), inverse.reshape(-1), _plain_key
    values = arr.tolist()
    key = _plain_key if all(_is_number(v) for v in values) else _typed_key
    try:
        keys = [key(v) for v in values]
        first = dict.fromkeys(keys)
    except TypeError as exc:
        raise DataError(f"`{name}` must hold hashable values: {exc}.") from None
    distinct = [k if key is _plain_key else k[1] for k in first]
    if any(map(_is_blank, distinct)):
        raise_missing_labels(arr, name)
    position = {k: i for i, k in enumerate(first)}
    inverse = np.fromiter((position[k] for k in keys), dtype=np.int64, count=len(keys))
    return distinct, inverse, key


def check_sigma(sigma: Any, argument: str = "`sigma`") -> float:
    """Return a known standard deviation as a float, or raise if it is not positive and finite.

    ``argument`` is how the caller spells it in the message (``"--sigma"`` on the command
    line).
    """
    try:
        value = float(sigma)
    except (TypeError, ValueError):
        raise ModelError(f"{argument} must be a positive number; got {sigma!r}.") from None
    if not (math.isfinite(value) and value > 0):
        raise ModelError(f"{argument} must be a positive finite number; got {sigma!r}.")
    if value < _TINY:
        raise ModelError(
            f"{argument} must be a positive number of at least {_TINY:.4g} (the smallest "
            f"normal float64); got {sigma!r}, a subnormal number whose square underflows to 0."
        )
    return value


def check_level(level: Any, argument: str = "`level`") -> float:
    """Return a confidence level in (0, 1), or raise (``argument`` as in :func:`check_sigma`)."""
    try:
        value = float(level)
    except (TypeError, ValueError):
        raise ModelError(f"{argument} must be a number in (0, 1); got {level!r}.") from None
    if not 0.0 < value < 1.0:
        raise ModelError(f"{argument} must lie strictly between 0 and 1; got {level!r}.")
    return value


def check_alpha(alpha: Any) -> float:
    """``alpha`` (one minus a confidence level) as a float strictly between 0 and 1.

    Raises
    ------
    ModelError
        Not a number (a bool is not one), or not strictly between 0 and 1.
    """
    try:
        value = float(alpha)
    except (TypeError, ValueError):
        value = math.nan
    if isinstance(alpha, bool) or not 0.0 < value < 1.0:
        raise ModelError(f"`alpha` must be a number strictly between 0 and 1; got {alpha!r}.")
    return value


def as_design(
    features: Any,
    n_rows: int | None = None,
    *,
    intercept: bool = True,
    name: str = "X",
    check_rank: bool = True,
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
    check_rank : bool
        Refuse constant and linearly dependent columns (a design to fit on; not new rows
        to predict).

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
        listing = ", ".join(f"{names[j]!r} ({counts[j]})" for j in np.flatnonzero(counts))
        raise DataError(
            f"`{name}` has non-finite values (NaN or inf) in columns {listing}: remove or impute "
            "those rows first."
        )
    if intercept and "intercept" in names:
        raise DataError(f"`{name}` already has a column named 'intercept'; pass intercept=False.")
    constant = np.flatnonzero(arr.max(axis=0) == arr.min(axis=0))
    if constant.size and intercept and check_rank:
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
    dependent = _dependent_columns(design) if check_rank else []
    if dependent:
        raise DataError(
            f"`{name}` is rank-deficient: columns {[names[j] for j in dependent]} are linear "
            "combinations of the others; their coefficients would not be identified. Drop them."
        )
    return design, tuple(names)


def prediction_design(features: Any, names: Sequence[str]) -> np.ndarray:
    """The design matrix of new rows, in the columns of a fitted design named ``names``.

    A DataFrame's columns are taken by name (in any order, other columns ignored); an
    array's in order. An ``intercept`` first among ``names`` that the new rows lack is
    added, as :func:`as_design` added it.

    Raises
    ------
    DataError
        Columns missing (named), a wrong number of columns, non-numeric or non-finite
        values.
    """
    names = list(names)
    add_intercept = bool(names) and names[0] == "intercept"
    if hasattr(features, "columns"):
        present = [str(c) for c in features.columns]
        wanted = names[1:] if add_intercept and "intercept" not in present else names
        missing = [c for c in wanted if c not in present]
        if missing:
            raise DataError(f"`X` lacks the columns {missing} the model was fitted on.")
        columns = {str(c): c for c in features.columns}
        frame = features[[columns[c] for c in wanted]]
        arr = as_design(frame, intercept=False, name="X", check_rank=False)[0]
    else:
        arr = as_design(features, intercept=False, name="X", check_rank=False)[0]
        wanted = names[1:] if add_intercept and arr.shape[1] == len(names) - 1 else names
        if arr.shape[1] != len(wanted):
            raise DataError(
                f"`X` has {arr.shape[1]} columns; the model was fitted on {len(names)} "
                f"({', '.join(names)})."
            )
    if len(wanted) < len(names):
        arr = np.column_stack([np.ones(arr.shape[0]), arr])
    return arr


def _dependent_columns(arr: np.ndarray) -> list[int]:
    """Columns that QR with column pivoting finds linearly dependent on the others."""
    from scipy import linalg

    # The rank does not depend on the units of the columns: columns of magnitude 1e-200 or
    # 1e160 are brought near 1 first by exact powers of two (their squares would under- or
    # overflow).
    top = np.max(np.abs(arr), axis=0)
    if np.any((top > 0) & ((top < 2.0**-200) | (top > 2.0**200))):
        arr = arr / column_powers_of_two(arr)
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


def column_powers_of_two(arr: np.ndarray) -> np.ndarray:
    """Per column of ``arr``, the power of two nearest its largest magnitude (1 for zeros)."""
    top = np.max(np.abs(arr), axis=0)
    _, exponent = np.frexp(np.where(top > 0, top, 1.0))
    return cast(np.ndarray, np.ldexp(1.0, exponent - 1))


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
    """Validate category counts: non-negative integers, at least two categories, n > 0.

    Raises
    ------
    DataError
        Counts that are not non-negative integers, missing, all zero, or too large for
        int64 (numpy would wrap them to negative numbers).
    ModelError
        Categories given twice (as mapping keys and as ``categories``), or bad categories.
    """
    if isinstance(counts, Mapping):
        if categories is not None:
            raise ModelError("give the categories as the mapping's keys or as `categories`.")
        categories, counts = list(counts.keys()), list(counts.values())
    if isinstance(counts, list | tuple) and any(
        isinstance(c, int) and not isinstance(c, bool) and c > _INT64_MAX for c in counts
    ):
        raise DataError(
            f"`counts` must be at most {_INT64_MAX} (int64); got "
            f"{max(c for c in counts if isinstance(c, int))}."
        )
    arr = as_array(counts, "counts") if np.ndim(counts) == 1 else np.asarray(counts)
    if arr.ndim != 1 or arr.size < 2:
        raise DataError(f"`counts` must list at least two categories; got shape {arr.shape}.")
    _raise_missing(missing_mask(arr), "counts", "every category needs a count.")
    if arr.dtype.kind not in "iuf" or not np.all(np.isfinite(arr)):
        raise DataError(f"`counts` must be finite numbers; got {arr.tolist()[:10]}.")
    if np.any(arr < 0) or np.any(arr != np.round(arr)):
        raise DataError(f"`counts` must be non-negative integers; got {arr.tolist()[:10]}.")
    total = sum(int(c) for c in arr.tolist())
    if total > _INT64_MAX:
        raise DataError(
            f"`counts` sum to {total}, more than int64 holds ({_INT64_MAX}): the counts "
            "would wrap to negative numbers."
        )
    if total == 0:
        raise DataError("`counts` are all zero: at least one observation is needed.")
    cats = tuple(range(arr.size)) if categories is None else check_categories(categories)
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
    arr = as_array(labels, name)
    if arr.dtype.kind in "iu":
        low, high = int(arr.min()), int(arr.max())
        if high - low < 10_000_000:
            return _integer_counts(arr, low, high, categories, name)
    codes, cats = as_labels(arr, categories, name)
    return np.bincount(codes, minlength=len(cats)).astype(np.int64), cats


def _integer_counts(
    arr: np.ndarray, low: int, high: int, categories: Any, name: str
) -> tuple[np.ndarray, tuple[Hashable, ...]]:
    """Counts of integer labels in ``[low, high]`` by ``bincount``."""
    # Shift in int64: int8 labels from -100 to 100 would overflow int8.
    shifted = arr.astype(np.int64, copy=False) - low if low else arr
    raw = np.bincount(shifted, minlength=high - low + 1)
    nonzero = np.flatnonzero(raw)
    # int keys, looked up below by any hashable category the user names
    present: dict[Any, int] = dict(
        zip((nonzero + low).tolist(), raw[nonzero].tolist(), strict=True)
    )
    cats: tuple[Hashable, ...]
    if categories is None:
        cats = tuple(sorted(present))
    else:
        cats = check_categories(categories)
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


def check_start_shapes(model: Any, start: Any) -> None:
    """Check that each value of a fit's ``start`` has the shape of its variable.

    Parameters
    ----------
    model : pymc.Model
        The model (anything with ``eval_rv_shapes()``, names to shapes).
    start : mapping or None
        Starting values by variable name (natural or transformed, e.g. ``sigma_log__``).

    Raises
    ------
    ModelError
        ``start`` is not a mapping, or a value whose shape is neither the variable's nor a
        scalar (which is broadcast); names that are not variables are left to the caller.
    """
    if start is None:
        return
    if not isinstance(start, Mapping):
        raise ModelError(f"`start` must be a dict of values by name; got {start!r}.")
    shapes = model.eval_rv_shapes()
    for key, value in start.items():
        if key not in shapes:
            continue
        expected = tuple(int(d) for d in shapes[key])
        try:
            given = np.shape(value)
        except (TypeError, ValueError):  # ragged lists
            given = None
        if given != expected and given != ():
            raise ModelError(
                f"`start[{key!r}]` has shape {given}, but {key!r} has shape {expected}"
                f"{' (a scalar)' if expected == () else ''}: give one value per entry."
            )


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
