"""Row blocks summed in parallel threads, each with a single-threaded BLAS.

numpy's ufuncs and BLAS calls release the GIL, so a sum over row blocks of a large array
runs on every core from plain threads. BLAS is limited to one thread per worker meanwhile:
two workers each running a two-threaded BLAS on small matrices are slower than one.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from typing import TypeVar, cast

from threadpoolctl import ThreadpoolController

__all__ = ["map_row_blocks", "single_threaded_blas", "workers"]

T = TypeVar("T")


def workers() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def single_threaded_blas() -> AbstractContextManager[object]:
    """BLAS limited to one thread inside the block.

    A dot product of one cache-sized chunk is too small to share: a multithreaded BLAS
    wakes its threads at every call, and on a busy machine waits for them far longer than
    the product takes (a pass over 1e7 values: 1.2 s instead of 0.02 s). The libraries are
    looked up at each call (0.3 ms: this serves passes over large data only).
    """
    limit = ThreadpoolController().limit(limits=1, user_api="blas")
    return cast(AbstractContextManager[object], limit)


def map_row_blocks(fn: Callable[[int, int], T], n_rows: int, min_rows: int) -> Sequence[T]:
    """``fn(start, stop)`` on contiguous blocks of ``range(n_rows)``, one block per core.

    Parameters
    ----------
    fn : callable
        Computes the contribution of rows ``start:stop``.
    n_rows : int
        Number of rows.
    min_rows : int
        Below this many rows per block, a single call ``fn(0, n_rows)`` (threads would
        cost more than they save).

    Returns
    -------
    list
        The blocks' results, in row order.
    """
    count = min(workers(), n_rows // max(min_rows, 1))
    if count <= 1:
        return [fn(0, n_rows)]
    edges = [n_rows * i // count for i in range(count + 1)]
    with single_threaded_blas(), ThreadPoolExecutor(count) as pool:
        futures = [pool.submit(fn, lo, hi) for lo, hi in itertools.pairwise(edges)]
        return [f.result() for f in futures]
