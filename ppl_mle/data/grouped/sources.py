"""Per-group statistics of sources bigger than memory: files, shard folders, Dask.

A ``.csv`` or ``.parquet`` file or a folder of ``.parquet`` shards is read in batches with
pyarrow (only the two columns needed; shards in parallel threads), a Dask DataFrame
partition by partition; each piece goes into a growing table
(:mod:`ppl_mle.data.grouped.tables`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from ppl_mle.core._threads import workers
from ppl_mle.core.errors import DataError
from ppl_mle.core.grouped.stats import GroupStats, group_counts
from ppl_mle.data.grouped.labels import (
    _MISSING_CATEGORY,
    _MISSING_HINT,
    _encode,
    grouped_label_counts,
    grouped_normal_stats,
)
from ppl_mle.data.grouped.tables import _CountParts, _NormalParts, _Piece, _pivoted
from ppl_mle.data.io import check_csv_header, named_read_errors, raise_field_count
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
from ppl_mle.data.validation import missing_labels

__all__ = ["grouped_label_counts_of", "grouped_normal_stats_of"]


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
    with named_read_errors(file):
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

    Labels stay text: a group or category is an identifier, and ``'007'`` is not ``'7'``.

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

    Missing are nulls, NaN and empty or blank text. The codes are only computed when no
    label is null (the batch is then an error).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if labels.null_count:
        return np.empty(0, dtype=np.intp), np.empty(0), int(labels.null_count)
    encoded = labels if pa.types.is_dictionary(labels.type) else pc.dictionary_encode(labels)
    codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.intp, copy=False)
    dictionary = encoded.dictionary
    uniques = dictionary.to_numpy(zero_copy_only=False)
    if pa.types.is_string(dictionary.type) or pa.types.is_large_string(dictionary.type):
        # Blank text, found among the G labels in C: the characters str.strip() removes.
        trimmed = pc.utf8_trim(dictionary, characters=WHITESPACE)
        bad = np.flatnonzero(pc.equal(pc.utf8_length(trimmed), 0).to_numpy(zero_copy_only=False))
    else:
        bad = np.flatnonzero(missing_labels(uniques))  # NaN
    if bad.size:
        return codes, uniques, int(np.isin(codes, bad).sum())
    return codes, uniques, 0


#: Every character that Python's ``str.strip()`` removes (``str.isspace``), so that a
#: label of blanks is missing in a file as in memory.
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


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
    return parts.result()


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
    return parts.result("the Dask dataframe", value, categories)


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
        The group labels, sorted. Labels are kept as read: those of a ``.csv`` file are
        text (``'007'`` and ``'7'`` are two groups, ``'7'`` is not the number 7), those of
        a Parquet file or a dataframe keep the column's type (an integer column gives
        integers). To type CSV labels otherwise, read the file into a dataframe first.

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
        return parts.result()
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
        return parts.result(path.name, value, categories)
    values, groups = _in_memory(source, column, by)
    return grouped_label_counts(values, groups, categories)
