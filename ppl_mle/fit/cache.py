"""The process state of ppl_mle: what it compiled, and how often it compiled.

Compiled PyTensor functions are the only state the package keeps between fits. They are
immutable once compiled and take a model's data as explicit inputs
(:func:`ppl_mle.fit.compiled.abstract_data`), so models of one structure share them
without sharing anything of a user's.

A compiled ``pytensor.compile.function.types.Function`` is not safe to call from two
threads at once: ``__call__`` writes its arguments into the function's input containers,
runs, and reads its output containers. :class:`SerialFunction` holds a lock of its own for
the duration of a call only. A per-function lock costs ~0.1 µs uncontended; a copy per
thread (``Function.copy``) would cost a new linker and its storage for every thread, and
the GIL serialises the Python steps of a call either way.
"""

from __future__ import annotations

import collections
import threading
import weakref
from collections.abc import Hashable
from typing import Any, Generic, TypeVar

__all__ = [
    "DECLARED",
    "LRU",
    "SerialFunction",
    "compilations",
    "computed",
    "count_compilation",
    "keep_model_entry",
    "model_entry",
]

V = TypeVar("V")

_COUNT = [0]
_COUNT_LOCK = threading.Lock()
_COMPUTED_LOCK = threading.Lock()


def computed(owner: Any) -> dict[Any, Any]:
    """What was computed from ``owner`` (a frozen result), kept on ``owner`` itself.

    A private dictionary in the object's ``__dict__`` (``_computed``), set once: not one
    of a dataclass's fields, so it neither compares nor pickles, and it goes with the
    object.
    """
    with _COMPUTED_LOCK:
        kept: dict[Any, Any] = vars(owner).setdefault("_computed", {})
    return kept


def compilations() -> int:
    """The number of PyTensor functions ppl_mle has compiled in this process.

    A refit of a model whose data were replaced, or a new normal model of a structure met
    before, compiles nothing: the count stays the same.
    """
    return _COUNT[0]


def count_compilation() -> None:
    """Count one compilation (called where ppl_mle compiles, and nowhere else)."""
    with _COUNT_LOCK:
        _COUNT[0] += 1


class LRU(Generic[V]):
    """At most ``size`` entries; the least recently used one goes first. Thread-safe.

    Parameters
    ----------
    size : int
        The most entries kept.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: collections.OrderedDict[Hashable, V] = collections.OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> V | None:
        """The entry of ``key`` (now the most recently used), or None."""
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
            return found

    def setdefault(self, key: Hashable, value: V) -> V:
        """The entry of ``key``, set to ``value`` if there is none."""
        with self._lock:
            found = self._entries.setdefault(key, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
            return found

    def snapshot(self) -> dict[Hashable, V]:
        """The entries now, as a plain dict."""
        with self._lock:
            return dict(self._entries)


class SerialFunction:
    """A compiled function, called by one thread at a time.

    Parameters
    ----------
    function : callable
        A compiled PyTensor function.
    """

    def __init__(self, function: Any) -> None:
        self.function = function
        self._lock = threading.Lock()

    def __call__(self, *args: Any) -> Any:
        """Call the function, holding its lock for the call alone."""
        with self._lock:
            return self.function(*args)

    def __getstate__(self) -> dict[str, Any]:
        """The function without its lock (a lock does not pickle)."""
        return {"function": self.function}

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Restore the function with a new lock."""
        self.function = state["function"]
        self._lock = threading.Lock()


#: What was compiled for the models ppl_mle declares, by ``(kind, declaration key)``: an
#: objective (:mod:`ppl_mle.fit.objective`) or starting-point transforms
#: (:mod:`ppl_mle.fit.start`), with the names of the data containers they read. A new model
#: with a key met before (another normal model: other data, other n) builds no graph. The
#: 256 most recently used keys are kept (a known sigma is part of a key).
DECLARED: LRU[Any] = LRU(256)

#: What was built for each model, by kind ("objective", "start", "data bounds"), kept while
#: the model lives: beside the user's model, never written into it. An entry never refers
#: to its model, which it would keep alive for ever.
_PER_MODEL: weakref.WeakKeyDictionary[Any, dict[str, Any]] = weakref.WeakKeyDictionary()
_PER_MODEL_LOCK = threading.Lock()


def model_entry(model: Any, kind: str) -> Any | None:
    """What was kept for ``model`` under ``kind``, or None."""
    with _PER_MODEL_LOCK:
        return _PER_MODEL.get(model, {}).get(kind)


def keep_model_entry(model: Any, kind: str, entry: Any) -> None:
    """Keep ``entry`` for ``model`` under ``kind`` while the model lives."""
    with _PER_MODEL_LOCK:
        _PER_MODEL.setdefault(model, {})[kind] = entry
