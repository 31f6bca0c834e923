"""Errors and warnings raised by ppl_mle.

Every error is a subclass of :class:`PplMleError`, and of ``ValueError`` where the problem
is a bad value, so callers may catch either. Every warning is issued with
``stacklevel=find_stack_level()``, so that it points at the user's line that called into
ppl_mle, whichever public function raised it and however deep inside.
"""

from __future__ import annotations

import inspect
import os

__all__ = [
    "find_stack_level",
    "BoundaryWarning",
    "ConvergenceError",
    "ConvergenceWarning",
    "DataError",
    "IdentifiabilityWarning",
    "MissingExtraError",
    "ModelError",
    "PplMleError",
    "PplMleWarning",
    "PrecisionWarning",
    "SamplingWarning",
]

#: The directory of the ppl_mle package, with a trailing separator.
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def find_stack_level() -> int:
    """The ``stacklevel`` of a warning that points at the first frame outside ppl_mle.

    Walks up from the caller while the frame's file is inside the ppl_mle package
    directory, as numpyro's ``numpyro.util.find_stack_level`` does. Pass it as
    ``warnings.warn(message, category, stacklevel=find_stack_level())``: the warning then
    names the user's file and line, not ours.

    Returns
    -------
    int
        Number of frames inside ppl_mle above and including this function's own: 1 is this
        function, 2 the line calling ``warnings.warn``, and so on; the next frame is the
        user's.
    """
    frame = inspect.currentframe()
    level = 0
    try:
        while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
            level += 1
            frame = frame.f_back
    finally:
        del frame  # no reference cycle through the frames
    return level


class PplMleError(Exception):
    """Base class of every error raised by ppl_mle."""


class DataError(PplMleError, ValueError):
    """The data cannot be fitted: empty, non-finite, non-numeric, constant, unknown labels..."""


class ModelError(PplMleError, ValueError):
    """The model or an argument describing it is not one ppl_mle can fit."""


class MissingExtraError(PplMleError, ImportError):
    """An optional dependency is needed and not installed; the message names the extra."""


class ConvergenceError(PplMleError, RuntimeError):
    """The optimizer's answer could not be verified as a maximum of the likelihood."""


class PplMleWarning(UserWarning):
    """Base class of every warning issued by ppl_mle."""


class ConvergenceWarning(PplMleWarning):
    """The fit returned a point that ppl_mle could not vouch for as the MLE."""


class BoundaryWarning(PplMleWarning):
    """An estimate lies on the boundary of the parameter space."""


class IdentifiabilityWarning(ConvergenceWarning):
    """The information matrix is singular: some direction of the parameters is not identified.

    A kind of :class:`ConvergenceWarning`: a fit that is not identified is not vouched for.
    """


class SamplingWarning(PplMleWarning):
    """A NUTS diagnostic failed (r_hat, effective sample size, divergences)."""


class PrecisionWarning(PplMleWarning):
    """The data, as float64 holds them, support fewer digits than the fit reports.

    Values such as 1e16 + 1, 1e16 + 3 are stored to the nearest multiple of 2: their spread
    is a few units in the last place, and the exact MLE of the stored values says little
    about the values the user meant.
    """
