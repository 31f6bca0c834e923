"""Sufficient statistics of data bigger than memory: files in chunks, Dask collections.

The normal model needs only (n, mean, SS) and the categorical model only the counts, and
both merge exactly across pieces (:func:`~ppl_mle.core.closed_form.merge_normal_stats`, sums of
counts). So a CSV or Parquet file, or a folder of Parquet shards, is read batch by batch
with pyarrow and never held whole; a Dask array or dataframe column is reduced by Dask
itself (each block to its statistics, on the local scheduler or on a ``dask.distributed``
cluster) and only the statistics travel. Peak memory is one batch.

NaN follows the core policy: it is an error, with the count and the shard named.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from ppl_mle.core._threads import workers
from ppl_mle.core.closed_form import NormalStats, normal_stats
from ppl_mle.core.errors import DataError
from ppl_mle.core.optional import require
from ppl_mle.core.progress import watched
from ppl_mle.data.io import check_csv_header, named_read_errors, raise_field_count
from ppl_mle.data.validation import (
    _text_hint,
    as_float_data,
    check_categories,
    default_categories,
    label_counts,
    missing_labels,
    missing_mask,
)

__all__ = ["DEFAULT_BATCH_ROWS", "label_counts_of", "normal_stats_of"]

#: Rows per batch when a file is streamed (8 MB of float64).
DEFAULT_BATCH_ROWS = 1_000_000


def normal_stats_of(
    source: Any,
    column: str | None = None,
    *,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    client: Any = None,
    progress: bool | None = None,
) -> NormalStats:
    """(n, mean, SS) of a column of a big source, in one pass and bounded memory.

    Parameters
    ----------
    source : str, Path, dask array, dask Series/DataFrame or array_like
        A ``.csv`` or ``.parquet`` file, a folder of ``.parquet`` shards, a Dask collection
        or an in-memory array.
    column : str, optional
        The column (files with several columns, Dask dataframes).
    batch_rows : int
        Rows per batch when reading files.
    client : distributed.Client or str, optional
        A Dask cluster (client or scheduler address) to reduce a Dask collection on.
    progress : bool, optional
        Show a progress bar while reading files; by default when stderr is a terminal.

    Returns
    -------
    NormalStats
    """
    if _is_dask(source):
        return _dask_normal_stats(_dask_column(source, column), client)
    if isinstance(source, str | Path):
        return _stream_normal_stats(Path(source), column, batch_rows, progress)
    # In memory: the reader policy of every other input (masked values, missing values).
    return normal_stats(as_float_data(source, "data", sigma_known=True))


def label_counts_of(
    source: Any,
    column: str | None = None,
    *,
    categories: Sequence[Hashable] | None = None,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    client: Any = None,
    progress: bool | None = None,
) -> tuple[np.ndarray, tuple[Hashable, ...]]:
    """Count the labels of a column of a big source, in one pass and bounded memory.

    Parameters are as for :func:`normal_stats_of`; ``categories`` fixes the order and
    allows categories never observed.

    Returns
    -------
    counts : numpy.ndarray
    categories : tuple
        The labels as read: a ``.csv`` file's are text (``'007'`` and ``'7'`` are two
        categories), a Parquet file's or a Dask column's keep their type.

    Raises
    ------
    DataError
        Missing labels (null, NaN, empty or blank text), labels not in ``categories``,
        fewer than two categories, an empty source.
    """
    if not _is_dask(source) and not isinstance(source, str | Path):
        return label_counts(source, categories)  # in memory: the reader policy
    if _is_dask(source):
        found = _dask_label_counts(_dask_column(source, column), client)
    else:
        found = _file_label_counts(Path(source), column, batch_rows, progress)
    if categories is None:
        cats = default_categories(found)
    else:
        cats = check_categories(categories)
        unknown = [k for k in found if k not in set(cats)]
        if unknown:
            raise DataError(
                f"labels {unknown[:5]!r} ({sum(found[k] for k in unknown)} values) are not in "
                f"`categories` {list(cats)!r}.{_text_hint(unknown, cats)}"
            )
    if len(cats) < 2:
        raise DataError(f"the categorical model needs at least two categories; got {list(cats)}.")
    return np.array([found.get(c, 0) for c in cats], dtype=np.int64), cats


def _file_label_counts(
    path: Path, column: str | None, batch_rows: int, progress: bool | None
) -> dict[Hashable, int]:
    """Counts of the labels of a file or folder of shards; missing labels raise."""
    found: dict[Hashable, int] = {}
    for name, values in _batches(path, column, batch_rows, progress, numeric=False):
        missing = missing_mask(values)
        if missing.any():
            raise DataError(
                f"{name} has {int(missing.sum())} missing labels (empty, null or NaN): "
                "remove them, or give them a category name of their own."
            )
        for key, count in _value_counts(values).items():
            found[key] = found.get(key, 0) + count
    if not found:
        raise DataError(f"{path} has no data.")
    _raise_blank_labels(found, path.name)
    return found


def _raise_blank_labels(found: dict[Hashable, int], where: str) -> None:
    """Refuse labels that are empty or blank text, counted (found among the distinct labels).

    Labels are kept as read: a CSV file's are text, and ``'007'`` is not ``'7'``.
    """
    blank = [k for k in found if isinstance(k, str) and not k.strip()]
    if blank:
        raise DataError(
            f"{where} has {sum(found[k] for k in blank)} missing labels (empty or blank "
            "text): remove them, or give them a category name of their own."
        )


def _value_counts(values: np.ndarray) -> dict[Hashable, int]:
    """Count each distinct value (numpy for typed arrays, Python for objects)."""
    if values.dtype.kind == "O":
        from collections import Counter

        return dict(Counter(values.tolist()))
    keys, counts = np.unique(values, return_counts=True)
    return dict(zip(keys.tolist(), counts.tolist(), strict=True))


# -- files ---------------------------------------------------------------------------------
def _files(path: Path) -> list[Path]:
    if not path.exists():
        raise DataError(f"file not found: {path}")
    if path.is_dir():
        shards = sorted(p for p in path.rglob("*.parquet") if p.is_file())
        if not shards:
            raise DataError(f"{path} has no .parquet files.")
        return shards
    if path.suffix.lower() not in (".csv", ".parquet"):
        raise DataError(f"cannot stream {path.name}: use a .csv or .parquet file or a folder.")
    return [path]


def _open(
    file: Path, column: str | None, batch_rows: int, numeric: bool = True
) -> tuple[str, Any, Any]:
    """The column's name and Arrow type in ``file``, and an iterator over its batches.

    A CSV column is read as float64 (numeric) or text (labels) from the first row on, so
    that a column of integers with floats (or text) further down is not refused half-way
    by the type pyarrow guessed from the first block.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    if file.suffix.lower() == ".parquet":
        reader = pq.ParquetFile(file)
        name = _pick(reader.schema_arrow.names, column, file)
        kind = reader.schema_arrow.field(name).type
        return name, kind, reader.iter_batches(batch_size=batch_rows, columns=[name])
    names = check_csv_header(file)
    options = pacsv.ReadOptions(block_size=max(batch_rows * 16, 1 << 20), use_threads=False)
    name = _pick(names, column, file)
    kind = pa.float64() if numeric else pa.string()
    convert = pacsv.ConvertOptions(
        column_types={name: kind},
        include_columns=[name],
        null_values=[""],
        strings_can_be_null=not numeric,
    )
    bad: list[Any] = []

    def keep_bad_row(row: Any) -> str:
        bad.append(row)
        return "error"

    parse = pacsv.ParseOptions(invalid_row_handler=keep_bad_row)
    try:  # open_csv reads the first block
        stream = pacsv.open_csv(
            file, read_options=options, parse_options=parse, convert_options=convert
        )
    except pa.ArrowInvalid:
        if bad:
            raise_field_count(file, bad[0])
        raise
    return name, kind, _checked_rows(file, stream, bad)


def _checked_rows(file: Path, stream: Any, bad: list[Any]) -> Iterator[Any]:
    """The batches of a CSV stream; a row with the wrong field count raises, by line."""
    import pyarrow as pa

    try:
        yield from stream
    except pa.ArrowInvalid:
        if bad:
            raise_field_count(file, bad[0])
        raise


def _file_values(
    file: Path, column: str | None, batch_rows: int, numeric: bool, expected: Any
) -> Iterator[np.ndarray]:
    """The values of one column of one file, batch by batch, with its checks."""
    import pyarrow as pa

    with named_read_errors(file):
        name, kind, batches = _open(file, column, batch_rows, numeric)
        if (
            expected is not None
            and kind != expected
            and not (
                (pa.types.is_floating(kind) and pa.types.is_integer(expected))
                or (pa.types.is_integer(kind) and pa.types.is_floating(expected))
            )
        ):
            raise DataError(
                f"{file.name}: column {name!r} has type {kind}, but the earlier shards "
                f"have {expected}: every shard must hold the same kind of values."
            )
        if numeric and not (pa.types.is_floating(kind) or pa.types.is_integer(kind)):
            raise DataError(f"{file.name}: column {name!r} is {kind}, not numeric.")
        rows = 0
        for batch in batches:
            array = batch.column(batch.schema.get_field_index(name))
            rows += len(array)
            if array.null_count and not numeric:  # numeric nulls become NaN, counted later
                raise DataError(
                    f"{file.name}: column {name!r} has {array.null_count} missing values "
                    "(empty or null): remove them first."
                )
            values = array.to_numpy(zero_copy_only=False)
            yield values.astype(np.float64, copy=False) if numeric else values
        if rows == 0:
            raise DataError(f"{file.name} is empty: no rows in column {name!r}.")


def _first_type(file: Path, column: str | None, batch_rows: int, numeric: bool = True) -> Any:
    try:
        return _open(file, column, batch_rows, numeric)[1]
    except DataError:
        raise
    except Exception as exc:  # pyarrow's errors are not all OSError/ValueError
        raise DataError(f"cannot read {file.name}: {exc}") from None


def _batches(
    path: Path, column: str | None, batch_rows: int, progress: bool | None, numeric: bool
) -> Iterator[tuple[str, np.ndarray]]:
    """(shard name, values) for each batch of one column, over every file, in order."""
    files = _files(path)
    expected = _first_type(files[0], column, batch_rows, numeric)
    bar = _progress(files, progress)
    for file in files:
        for values in _file_values(file, column, batch_rows, numeric, expected):
            yield file.name, values
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()


def _stream_normal_stats(
    path: Path, column: str | None, batch_rows: int, progress: bool | None
) -> NormalStats:
    """Normal statistics of every shard, shards read in parallel threads, merged in order.

    Batches are centred on one pivot (from the first batch), so that batch means and their
    differences keep full relative precision when merged. pyarrow and numpy release the
    GIL, so threads read and reduce shards at the same time.
    """
    files = _files(path)
    expected = _first_type(files[0], column, batch_rows)
    first = next(_file_values(files[0], column, batch_rows, True, expected), None)
    if first is None or first.size == 0:
        raise DataError(f"{files[0].name} is empty.")
    _check_finite(first, files[0].name)
    pivot = float(first[: 1 << 16].mean())

    def one(file: Path) -> NormalStats:
        total = NormalStats(0, 0.0, 0.0)
        for values in _file_values(file, column, batch_rows, True, expected):
            _check_finite(values, file.name)
            if values.size:
                total = total.merge(normal_stats(values - pivot))
        return total

    bar = _progress(files, progress)
    total = NormalStats(0, 0.0, 0.0)
    with ThreadPoolExecutor(max_workers=min(len(files), workers())) as pool:
        for part in pool.map(one, files):
            total = total.merge(part)
            if bar is not None:
                bar.update(1)
    if bar is not None:
        bar.close()
    return NormalStats(total.n, total.mean + pivot, total.ss)


def _pick(names: list[str], column: str | None, file: Path) -> str:
    if column is None:
        if len(names) != 1:
            raise DataError(f"{file.name} has columns {names}: choose one with --column.")
        return names[0]
    if column not in names:
        raise DataError(f"column {column!r} is not in {file.name}; its columns are {names}.")
    return column


def _check_finite(values: np.ndarray, name: str) -> None:
    if not math.isfinite(float(np.sum(values))):
        nan = int(np.isnan(values).sum())
        inf = int(np.isinf(values).sum())
        raise DataError(
            f"{name} has {nan + inf} non-finite values ({nan} NaN, {inf} infinite): remove or "
            "impute them first; PyMC would silently treat each NaN as a parameter."
        )


class _Bar:
    """A rich progress bar over shards, on stderr."""

    def __init__(self, total: int) -> None:
        from rich.console import Console
        from rich.progress import Progress

        self._progress = Progress(console=Console(stderr=True), transient=True)
        self._task = self._progress.add_task("reading shards", total=total)
        self._progress.start()

    def update(self, n: int) -> None:
        self._progress.advance(self._task, n)

    def close(self) -> None:
        self._progress.stop()


def _progress(files: list[Path], progress: bool | None) -> _Bar | None:
    show = watched() if progress is None else progress
    if not show or len(files) < 2:
        return None
    return _Bar(len(files))


# -- Dask ----------------------------------------------------------------------------------
def _is_dask(obj: Any) -> bool:
    return type(obj).__module__.startswith("dask")


def _dask_column(obj: Any, column: str | None) -> Any:
    if hasattr(obj, "columns"):  # a dask DataFrame
        if column is None:
            if len(obj.columns) != 1:
                raise DataError(f"the dataframe has columns {list(obj.columns)}: choose one.")
            column = obj.columns[0]
        if column not in obj.columns:
            raise DataError(f"column {column!r} is not in the dataframe {list(obj.columns)}.")
        obj = obj[column]
    if obj.ndim != 1:
        raise DataError(f"a Dask source must be one column; got {obj.ndim} dimensions.")
    return obj


def _block_stats(block: np.ndarray) -> np.ndarray:
    """(n, mean, SS, non-finite count) of one block, as a small array."""
    raw = np.asarray(block).ravel()
    if raw.dtype.kind == "O":  # nullable columns hold pd.NA
        missing = int(missing_mask(raw).sum())
        if missing:
            return np.array([[raw.size, 0.0, 0.0, missing]])
    x = raw.astype(np.float64, copy=False)
    bad = int(np.count_nonzero(~np.isfinite(x))) if not math.isfinite(float(x.sum())) else 0
    if bad or x.size == 0:
        return np.array([[x.size, 0.0, 0.0, bad]])
    s = normal_stats(x)
    return np.array([[s.n, s.mean, s.ss, 0]])


def _block_counts(block: np.ndarray) -> tuple[dict[Any, int], int]:
    """The counts of each label of one block, and how many labels are missing."""
    values = np.asarray(block).ravel()
    missing = missing_labels(values)
    if missing.any():
        return {}, int(missing.sum())
    return _value_counts(values), 0


def _dask_compute(tasks: list[Any], client: Any) -> list[Any]:
    import dask

    if client is None:
        return list(dask.compute(*tasks))
    if not isinstance(client, str):
        return list(client.compute(tasks, sync=True))
    with _client(client) as own:  # a client made from an address is closed after use
        return list(own.compute(tasks, sync=True))


#: Seconds to wait for a Dask scheduler's greeting, and for the client to connect.
_PROBE_SECONDS = 3.0


def _client(client: Any) -> Any:
    if not isinstance(client, str):
        return client
    distributed = require("distributed", "scale", "a Dask scheduler address")
    _probe_scheduler(client)
    try:
        return distributed.Client(client, timeout="5s")
    except (OSError, TimeoutError) as exc:
        raise DataError(
            f"cannot reach the Dask scheduler at {client!r} within 5 s: {exc}"
        ) from None


def _probe_scheduler(address: str) -> None:
    """Check that a TCP address answers like a Dask scheduler, within a few seconds.

    A scheduler greets every new connection with a framed message (an 8-byte
    little-endian length, then msgpack). Another service (an HTTP server waits for a
    request; others send text) would make ``distributed`` wait without end, or read its
    text as a frame length and allocate gigabytes. Addresses of other protocols (tls,
    inproc, ucx) are left to ``distributed``.
    """
    import socket

    scheme, _, rest = address.rpartition("://")
    if scheme not in ("", "tcp"):
        return
    host, _, port = rest.rpartition(":")
    if not host or not port.isdigit():
        raise DataError(f"the Dask scheduler address {address!r} is not host:port.")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), _PROBE_SECONDS) as sock:
            sock.settimeout(_PROBE_SECONDS)
            head = _read_exactly(sock, 8)
    except (OSError, TimeoutError) as exc:
        raise DataError(
            f"cannot reach the Dask scheduler at {address!r} within {_PROBE_SECONDS:g} s: {exc}"
        ) from None
    length = int.from_bytes(head, "little") if len(head) == 8 else -1
    if not 0 < length < 1 << 20:
        seen = f"it sent {head!r}" if head else "it sent nothing"
        raise DataError(
            f"{address!r} does not answer like a Dask scheduler ({seen} within "
            f"{_PROBE_SECONDS:g} s): is it another kind of service? Give the scheduler's "
            "address (tcp://host:8786 by default)."
        )


def _read_exactly(sock: Any, size: int) -> bytes:
    """Up to ``size`` bytes from a socket: fewer if it closes or falls silent."""
    data = b""
    try:
        while len(data) < size:
            chunk = sock.recv(size - len(data))
            if not chunk:
                break
            data += chunk
    except TimeoutError:
        pass
    return data


def _dask_normal_stats(array: Any, client: Any) -> NormalStats:
    import dask

    if not _is_numeric(getattr(array, "dtype", None)):
        raise DataError(
            f"the Dask data are of type {array.dtype}, not numbers: the normal model needs "
            "numeric data."
        )
    if hasattr(array, "to_dask_array"):  # a numeric dask Series
        array = array.to_dask_array(lengths=True)
    tasks = [dask.delayed(_block_stats)(block) for block in array.to_delayed().ravel()]
    total = NormalStats(0, 0.0, 0.0)
    bad = 0
    for row in _dask_compute(tasks, client):
        n, mean, ss, nonfinite = row[0]
        bad += int(nonfinite)
        if not nonfinite and n:
            total = total.merge(NormalStats(int(n), float(mean), float(ss)))
    if bad:
        raise DataError(f"the Dask data have {bad} non-finite values (NaN or inf): remove them.")
    if total.n == 0:
        raise DataError("the Dask data are empty.")
    return total


def _is_numeric(dtype: Any) -> bool:
    """Whether a numpy or pandas dtype holds real numbers (booleans excluded)."""
    try:
        return np.dtype(dtype).kind in "iuf"
    except TypeError:  # a pandas extension dtype: string, category, nullable Int64...
        return getattr(dtype, "kind", "O") in "iuf"


def _dask_label_counts(array: Any, client: Any) -> dict[Hashable, int]:
    import dask

    if hasattr(array, "value_counts"):  # a dask Series: Dask's own reduction
        (counts,) = _dask_compute([array.value_counts(dropna=False)], client)
        absent = missing_labels(np.asarray(counts.index, dtype=object))
        if absent.any():
            raise DataError(
                f"the Dask data have {int(counts[absent].sum())} missing labels (None, NaN, "
                "NA, NaT or empty text): remove them, or give them a category name of their own."
            )
        return {k: int(v) for k, v in counts.items()}
    tasks = [dask.delayed(_block_counts)(block) for block in array.to_delayed().ravel()]
    found: dict[Hashable, int] = {}
    missing = 0
    for part, absent in _dask_compute(tasks, client):
        missing += absent
        for key, count in part.items():
            found[key] = found.get(key, 0) + count
    if missing:
        raise DataError(
            f"the Dask data have {missing} missing labels (None, NaN, NA, NaT or empty "
            "text): remove them, or give them a category name of their own."
        )
    if not found:
        raise DataError("the Dask data are empty.")
    return found
