"""Quiet, deliberate configuration of the PyMC stack.

Importing pymc imports arviz, and ArviZ 0.23 announces its coming refactor with a
FutureWarning a user can do nothing about; PyTensor installed from pip warns once that it
found no BLAS, although the normal and categorical graphs have no BLAS operations; ArviZ's
plot_posterior uses a matplotlib API in a deprecated form. These are silenced here,
narrowly (by message) and only around our own imports, compilations and plots, so a user's
other code sees the stack as it is.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
import warnings
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

__all__ = [
    "PYTENSOR_LOCK",
    "no_creation_traces",
    "quiet_pymc_log",
    "quiet_vendor_warnings",
    "serialised",
]

#: Held while ppl_mle declares a model or builds and compiles a graph, and only then:
#: first compilations from several threads into an empty cache raised PyTensor
#: AssertionErrors. Compiled functions are called without it (each holds a lock of its own
#: for a call: :class:`ppl_mle.fit.cache.SerialFunction`), so fits run side by side.
PYTENSOR_LOCK = threading.RLock()

F = TypeVar("F", bound=Callable[..., Any])


def serialised(function: F) -> F:
    """Run ``function`` holding :data:`PYTENSOR_LOCK` (for declarations of models)."""

    @functools.wraps(function)
    def locked(*args: Any, **kwargs: Any) -> Any:
        with PYTENSOR_LOCK:
            return function(*args, **kwargs)

    return locked  # type: ignore[return-value]


_VENDOR_MESSAGES = (
    (r"\s*ArviZ is undergoing a major refactor", FutureWarning),
    (r"PyTensor could not link to a BLAS", UserWarning),
    # find_MAP always passes jac= to scipy; derivative-free methods then say they ignore it.
    (r"Method (Nelder-Mead|Powell) does not use gradient information", RuntimeWarning),
    # ArviZ 0.23's plot_posterior calls a matplotlib 3.11 API in its deprecated form.
    (r"Passing a dict or None as alias_mapping to normalize_kwargs", DeprecationWarning),
    # ArviZ 0.23's compare sorts its table in place, which pandas 3.1 deprecates.
    (r"The inplace keyword in DataFrame\.sort_values is deprecated", DeprecationWarning),
)


@contextlib.contextmanager
def quiet_vendor_warnings() -> Iterator[None]:
    """Silence the vendor warnings listed above, and only those, inside the block."""
    with warnings.catch_warnings():
        for message, category in _VENDOR_MESSAGES:
            warnings.filterwarnings("ignore", message=message, category=category)
        yield


@contextlib.contextmanager
def no_creation_traces() -> Iterator[None]:
    """Build graphs without recording each node's creation stack (``traceback__limit=0``).

    PyTensor stores a stack trace on every node it creates, for its own error messages;
    ours never show them (errors are turned into messages about the model), and recording
    them is about 7% of the cost of a small fit.
    """
    import pytensor

    with pytensor.config.change_flags(traceback__limit=0):
        yield


class _ThreadLevel(logging.Filter):
    """Drop the "pymc" logger's records below the level the current thread asked for.

    A filter installed once: a logger's level is the whole process's, and threads setting
    and restoring it around their fits would leave it as another thread found it.
    """

    def __init__(self) -> None:
        super().__init__()
        self.local = threading.local()

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= getattr(self.local, "level", logging.NOTSET)


_PYMC_LEVEL = _ThreadLevel()
logging.getLogger("pymc").addFilter(_PYMC_LEVEL)


@contextlib.contextmanager
def quiet_pymc_log(level: int = logging.ERROR) -> Iterator[None]:
    """Drop the "pymc" logger's records below ``level`` in this thread, inside the block.

    find_MAP logs an empty line when ``maxeval`` stops it (we report that ourselves) and
    ``pm.sample`` logs its set-up at INFO, which only belongs beside a progress bar.
    """
    previous = getattr(_PYMC_LEVEL.local, "level", logging.NOTSET)
    _PYMC_LEVEL.local.level = level
    try:
        yield
    finally:
        _PYMC_LEVEL.local.level = previous


class _NoBlasNotice(logging.Filter):
    """Drop older PyTensor's logged notice that it uses NumPy's C API for BLAS.

    Newer releases give the same notice as the UserWarning silenced above.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "Using NumPy C-API based implementation for BLAS" not in record.getMessage()


logging.getLogger("pytensor.tensor.blas").addFilter(_NoBlasNotice())

with quiet_vendor_warnings():
    import arviz  # noqa: F401  (imported here so its import-time warning is silenced once)
    import pymc  # noqa: F401

# A logger's filters see only the records logged on it; those of "pymc.sampling.mcmc" and
# the other child loggers reach the handler PyMC gives "pymc", which filters them too.
for _handler in logging.getLogger("pymc").handlers:
    _handler.addFilter(_PYMC_LEVEL)
