"""Reading observations from files: ``.csv``, ``.txt``, ``.npy`` and ``.parquet``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ppl_mle.errors import DataError

__all__ = ["SUPPORTED_SUFFIXES", "read_column", "read_table"]

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
        if suffix == ".csv":
            frame = (
                pd.read_csv(path)
                if numeric
                else pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
            )
        else:
            frame = pd.read_parquet(path)
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


def _pick_column(frame: pd.DataFrame, column: str | None, path: Path) -> Any:
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
    return frame[column].to_numpy()


def read_table(path: str | Path, columns: list[str]) -> pd.DataFrame:
    """Read the named columns of a ``.csv`` (with header) or ``.parquet`` file.

    Parameters
    ----------
    path : str or Path
        The file.
    columns : list of str
        Columns to return, in this order.

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
        frame = pd.read_csv(path) if suffix == ".csv" else pd.read_parquet(path)
    except (OSError, ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise DataError(f"cannot read {path}: {exc}") from None
    if frame.shape[0] == 0:
        raise DataError(f"{path.name} has no data.")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(
            f"columns {missing} are not in {path.name}; its columns are {list(frame.columns)}."
        )
    return frame[columns]


def _existing_file(path: str | Path) -> Path:
    path = Path(path)
    if not path.exists():
        raise DataError(f"file not found: {path}")
    if not path.is_file():
        raise DataError(f"not a file: {path}")
    return path
