"""Compiled objectives kept on disk, so that a new process does not rewrite them again.

A fresh process that fits one small model (the command line) spends most of its time, after
its imports, rewriting the graphs of the log-density and its derivatives: about a second.
The objectives of the models ppl_mle declares are a function of their *declaration key*
(:meth:`ppl_mle.MLEModel.declaration_key`: the family, the branch of its declaration, its
constants, the dtype and rank of its data), so what one process compiled for a key can
serve the next. :class:`DiskStore` pickles an objective's compiled state into one file per
key and loads it again where a later process declares a model with the same key.

Only functions compiled with PyTensor's Python linker are kept (those of
:func:`ppl_mle.fit.compiled.python_linker_for_small_data`): their pickle holds the rewritten
graph, so loading runs neither rewriting nor C compilation. A C-linked function would
reload its C modules through PyTensor's own cache, which is the cost avoided.

The key is exact. A file's name is the SHA-256 of its full key: the declaration key, the
PyTensor settings in force (:func:`ppl_mle.fit.compiled.compile_settings`), the versions of
Python, numpy, scipy, PyTensor and PyMC, and a hash of ppl_mle's own source files (a change
to how a model is declared or an objective compiled changes every key). The full key is
stored in the file too and compared on loading, so a file is used only for the key it was
written for. A file that cannot be read (written by another version of pickle, truncated)
is ignored and the objective compiled anew. Files live in ``$PPL_MLE_CACHE_DIR``, by
default ``$XDG_CACHE_HOME/ppl_mle`` (``~/.cache/ppl_mle``; ``ppl-mle --version`` shows it);
``PPL_MLE_CACHE_DIR=off`` (or ``ppl-mle fit --no-cache``) keeps nothing. Writing a file
removes those of other versions and source, and the oldest ones beyond
:data:`MAX_BYTES`. Like PyTensor's own cache, the files are pickles: they are read only
from this folder, which only its user writes.

A fit of 10 values from the command line, in a fresh process, took 5.3 s with the store
warm and 6.5 s with it empty (median of 3 each, on 2 busy cores): the store earns its place.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import sys
import tempfile
from collections.abc import Hashable, Iterator
from importlib.metadata import version
from pathlib import Path
from typing import Any

from ppl_mle.fit import objective as objective_module

__all__ = ["MAX_BYTES", "DiskStore", "cache_dir", "objectives_on_disk"]

#: The store's files are pruned, oldest first, to this many bytes (one small objective
#: takes some tens of kilobytes).
MAX_BYTES = 100 * 2**20

#: Only functions compiled with this PyTensor linker are kept on disk.
_KEPT_LINKER = "py"


def cache_dir() -> Path | None:
    """The folder of the on-disk objectives: ``$PPL_MLE_CACHE_DIR`` or ``~/.cache/ppl_mle``.

    None where ``PPL_MLE_CACHE_DIR`` is ``off``: no store.
    """
    given = os.environ.get("PPL_MLE_CACHE_DIR")
    if given and given.lower() == "off":
        return None
    if given:
        return Path(given)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ppl_mle"


def environment_key() -> tuple[str, ...]:
    """The versions and the source hash every on-disk key includes (read by each store)."""
    source = hashlib.sha256()
    package = Path(__file__).resolve().parents[1]
    for path in sorted(package.rglob("*.py")):
        source.update(str(path.relative_to(package)).encode())
        source.update(path.read_bytes())
    return (
        sys.version,
        version("numpy"),
        version("scipy"),
        version("pytensor"),
        version("pymc"),
        source.hexdigest(),
    )


class DiskStore:
    """Objectives by full key, one pickle file each, in ``folder``.

    Parameters
    ----------
    folder : path
        Where the files are (created when the first is written).
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self._lazy_loaded: dict[Hashable, frozenset[str]] = {}
        self.environment = environment_key()
        #: The prefix of this version's file names.
        self.prefix = hashlib.sha256(repr(self.environment).encode()).hexdigest()[:16]

    def _path(self, key: Hashable) -> tuple[Path, tuple[Any, ...]]:
        full = (key, self.environment)
        digest = hashlib.sha256(repr(full).encode()).hexdigest()
        return self.folder / f"{self.prefix}-{digest}.pkl", full

    @staticmethod
    def keeps(key: Hashable) -> bool:
        """Whether objectives under ``key`` are kept on disk (Python-linked ones only)."""
        settings = key[1] if isinstance(key, tuple) and len(key) == 2 else None
        return isinstance(settings, tuple) and len(settings) > 1 and settings[1] == _KEPT_LINKER

    def load(self, key: Hashable) -> Any | None:
        """The entry stored under ``key``, or None (none, unreadable, or another key's)."""
        if not self.keeps(key):
            return None
        path, full = self._path(key)
        try:
            with path.open("rb") as f:
                stored_key, entry = pickle.load(f)
        except Exception:  # no file, or one this process cannot read: compile anew
            return None
        if stored_key != full:
            return None
        self._lazy_loaded[key] = _lazy_names(entry)
        return entry

    def save(self, key: Hashable, entry: Any) -> None:
        """Write ``entry`` under ``key`` unless it is there already with nothing new.

        Written to a temporary file and renamed, so a reader never sees half a file. A
        failure to write (a read-only home, a full disk) leaves the cache as it was.
        """
        if not self.keeps(key) or self._lazy_loaded.get(key) == _lazy_names(entry):
            return
        path, full = self._path(key)
        written: str | None = None
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile("wb", dir=self.folder, delete=False) as f:
                written = f.name
                pickle.dump((full, entry), f, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(written, path)
        except Exception:  # the cache is a saving, never a reason to fail a fit
            if written is not None:
                with contextlib.suppress(OSError):
                    os.unlink(written)
            return
        self._lazy_loaded[key] = _lazy_names(entry)
        self._prune()

    def _prune(self) -> None:
        """Remove the files of other versions, then the oldest beyond :data:`MAX_BYTES`."""
        current = f"{self.prefix}-"
        kept = []
        for path in self.folder.glob("*.pkl"):
            with contextlib.suppress(OSError):
                if not path.name.startswith(current):
                    path.unlink()
                else:
                    kept.append((path.stat().st_mtime, path.stat().st_size, path))
        total = sum(size for _, size, _ in kept)
        for _, size, path in sorted(kept):
            if total <= MAX_BYTES:
                break
            with contextlib.suppress(OSError):
                path.unlink()
                total -= size


def _lazy_names(entry: Any) -> frozenset[str]:
    """The names of the functions compiled on demand (natural values...) in an entry."""
    state = entry[0]
    return frozenset(state["_compiled"].lazy)


@contextlib.contextmanager
def objectives_on_disk(folder: Path | None = None) -> Iterator[DiskStore | None]:
    """Load declared models' objectives from disk on first use; write new ones at the end.

    Parameters
    ----------
    folder : path, optional
        Default :func:`cache_dir`.

    Yields
    ------
    DiskStore or None
        The store; None where it is switched off (``PPL_MLE_CACHE_DIR=off``).
    """
    where = cache_dir() if folder is None else folder
    if where is None:
        yield None
        return
    store = DiskStore(where)
    with objective_module.declared_store(store):
        try:
            yield store
        finally:
            for key, entry in objective_module.declared_entries().items():
                store.save(key, entry)
