"""Reading observations from files: ``.csv``, ``.txt``, ``.npy`` and ``.parquet``."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from ppl_mle.core.errors import DataError

__all__ = [
    "SUPPORTED_SUFFIXES",
    "check_csv_header",
    "named_read_errors",
    "read_column",
    "read_table",
    "read_csv",
]


@contextlib.contextmanager
def named_read_errors(file: Path) -> Iterator[None]:
    """Turn an error reading ``file`` (the system's, a parser's, pyarrow's) into a DataError.

    The message names the file; a DataError raised inside passes as it is.
    """
    import pyarrow as pa

    try:
        yield
    except DataError:
        raise
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise DataError(f"cannot read {file.name}: {exc}") from None


SUPPORTED_SUFFIXES = (".csv", ".txt", ".npy", ".parquet")


def read_column(path: str | Path, column: str | None = None, *, numeric: bool) -> np.ndarray:
    """Read one column of observations from a file.

    Parameters
    ----------
    path : str or pathlib.Path
        A ``.csv`` file with a header row, a ``.txt`` file with one value per line, a
        ``.npy`` array or a ``.parquet`` file.
    column : str, optional
        Column to use in a ``.csv`` or ``.parquet`` file; required when it has several.
    numeric : bool
        Read text as numbers (normal model) or keep labels as text (categorical model).

    Returns
    -------
    numpy.ndarray
        The values, one-dimensional (validation of their content is the model's job).

    Raises
    ------
    DataError
        Missing or unreadable file, unsupported suffix, unknown or ambiguous column.
    """
    path = _existing_file(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise DataError(
            f"cannot read {path.name}: unsupported file type {suffix or '(none)'}; "
            f"use one of {', '.join(SUPPORTED_SUFFIXES)}."
        )
    try:
        if suffix == ".npy":
            values = np.load(path, allow_pickle=False)
            if column is not None:
                raise DataError("--column applies to .csv and .parquet files, not .npy.")
            return np.asarray(values)
        if suffix == ".txt":
            if column is not None:
                raise DataError("--column applies to .csv and .parquet files, not .txt.")
            lines = [ln.strip() for ln in path.read_text().splitlines()]
            lines = [ln for ln in lines if ln]
            return _parse_numbers(lines, path) if numeric else np.asarray(lines, dtype=object)
        frame = read_csv(path, text=not numeric) if suffix == ".csv" else pd.read_parquet(path)
    except DataError:
        raise
    except (OSError, ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise DataError(f"cannot read {path}: {exc}") from None
    return _pick_column(frame, column, path)


def _parse_numbers(lines: list[str], path: Path) -> np.ndarray:
    values = np.empty(len(lines))
    for i, text in enumerate(lines):
        try:
            values[i] = float(text)
        except ValueError:
            raise DataError(
                f"{path.name} line {i + 1}: {text!r} is not a number (the normal model "
                "needs numeric data)."
            ) from None
    return values


def _pick_column(frame: pd.DataFrame, column: str | None, path: Path) -> np.ndarray:
    if frame.shape[1] == 0 or frame.shape[0] == 0:
        raise DataError(f"{path.name} has no data.")
    if column is None:
        if frame.shape[1] > 1:
            raise DataError(
                f"{path.name} has {frame.shape[1]} columns {list(frame.columns)}: "
                "choose one with --column."
            )
        column = frame.columns[0]
    elif column not in frame.columns:
        raise DataError(
            f"column {column!r} is not in {path.name}; its columns are {list(frame.columns)}."
        )
    return cast(np.ndarray, frame[column].to_numpy())


def read_table(path: str | Path, columns: list[str], *, text: Sequence[str] = ()) -> pd.DataFrame:
    """Read the named columns of a ``.csv`` (with header) or ``.parquet`` file.

    Parameters
    ----------
    path : str or Path
        The file.
    columns : list of str
        Columns to return, in this order.
    text : sequence of str
        Columns of labels: read from a ``.csv`` file as text (``'007'`` stays ``'007'``,
        an empty field is ``''``). A ``.parquet`` file keeps the types it stores.

    Raises
    ------
    DataError
        Missing or unreadable file, another file type, or columns that are not in it.
    """
    path = _existing_file(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise DataError(
            f"cannot read {path.name}: a table with named columns must be .csv or .parquet."
        )
    try:
        frame = read_csv(path, text=text) if suffix == ".csv" else pd.read_parquet(path)
    except DataError:
        raise
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read {path}: {exc}") from None
    if frame.shape[0] == 0:
        raise DataError(f"{path.name} has no data.")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(
            f"columns {missing} are not in {path.name}; its columns are {list(frame.columns)}."
        )
    return frame[columns]


def read_csv(path: str | Path, *, text: bool | Sequence[str] = False) -> pd.DataFrame:
    """Read a whole ``.csv`` file with a header row, strictly.

    Every row must have as many fields as the header: a row with more (a decimal comma,
    ``1,5``) would otherwise make pandas take its first field as the row index and fit
    the wrong numbers; a row with fewer would be padded with missing values. A first line
    of numbers is refused, as it is data and not a header.

    Parameters
    ----------
    path : str or Path
        The file.
    text : bool or sequence of str
        True: read every column as text (labels), with only empty fields missing. A
        sequence of column names: read those columns as text (an empty field is ``''``),
        the others as by default. By default each column takes the type of all its values
        (numbers where they all are).

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    DataError
        No header, a row whose field count differs from the header's (with its line
        number), or a file pyarrow cannot parse.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    path = Path(path)
    names = check_csv_header(path)
    bad: list[Any] = []

    def keep_bad_row(row: Any) -> str:
        bad.append(row)
        return "error"

    parse = pacsv.ParseOptions(invalid_row_handler=keep_bad_row)
    if text is True:
        convert = pacsv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()),
            null_values=[""],
            strings_can_be_null=True,
        )
    else:
        texts = () if text is False else text
        convert = pacsv.ConvertOptions(column_types={c: pa.string() for c in texts if c in names})
    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(use_threads=False),
            parse_options=parse,
            convert_options=convert,
        )
    except pa.ArrowInvalid as exc:
        if bad:
            raise_field_count(path, bad[0])
        raise DataError(f"cannot read {path.name}: {exc}") from None
    return table.to_pandas()


def raise_field_count(path: Path, row: Any) -> None:
    """Raise the error for a CSV row whose field count differs from the header's."""
    where = f"line {row.number}" if row.number is not None else "a line"
    hint = (
        " A decimal comma (1,5 for 1.5)? Use a decimal point, or another delimiter."
        if row.actual_columns > row.expected_columns
        else ""
    )
    raise DataError(
        f"{path.name} {where} has {row.actual_columns} fields but the header has "
        f"{row.expected_columns}: {row.text!r}.{hint}"
    )


def check_csv_header(path: Path) -> list[str]:
    """Return the column names of a ``.csv`` file's header; refuse a first line of numbers.

    Raises
    ------
    DataError
        An empty file, or a first line whose every field is a number: it is data, and
        reading it as a header would lose its values.
    """
    import csv

    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            header = next(csv.reader(handle), None)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"cannot read {path.name}: {exc}") from None
    if not header or not any(field.strip() for field in header):
        raise DataError(f"{path.name} has no header line: its first line is empty.")
    if all(_is_number(field) for field in header):
        raise DataError(
            f"{path.name} has no header: its first line {','.join(header)!r} is numbers, "
            "which would be read as column names and lost. Add a header line naming the "
            "columns (e.g. 'x'), or use a .txt file with one value a line."
        )
    return header


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _existing_file(path: str | Path) -> Path:
    path = Path(path)
    if not path.exists():
        raise DataError(f"file not found: {path}")
    if not path.is_file():
        raise DataError(f"not a file: {path}")
    return path
