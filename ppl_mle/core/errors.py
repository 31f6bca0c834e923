"""Errors and warnings raised by ppl_mle.

Every error is a subclass of :class:`PplMleError`, and of ``ValueError`` where the problem
is a bad value, so callers may catch either.
"""

from __future__ import annotations

__all__ = [
    "BoundaryWarning",
    "ConvergenceError",
    "ConvergenceWarning",
    "DataError",
    "IdentifiabilityWarning",
    "ModelError",
    "PplMleError",
    "PplMleWarning",
    "SamplingWarning",
]


class PplMleError(Exception):
    """Base class of every error raised by ppl_mle."""


class DataError(PplMleError, ValueError):
    """The data cannot be fitted: empty, non-finite, non-numeric, constant, unknown labels..."""


class ModelError(PplMleError, ValueError):
    """The model or an argument describing it is not one ppl_mle can fit."""


class ConvergenceError(PplMleError, RuntimeError):
    """The optimizer's answer could not be verified as a maximum of the likelihood."""


class PplMleWarning(UserWarning):
    """Base class of every warning issued by ppl_mle."""


class ConvergenceWarning(PplMleWarning):
    """The fit returned a point that ppl_mle could not vouch for as the MLE."""


class BoundaryWarning(PplMleWarning):
    """An estimate lies on the boundary of the parameter space."""


class IdentifiabilityWarning(PplMleWarning):
    """The information matrix is singular: some direction of the parameters is not identified."""


class SamplingWarning(PplMleWarning):
    """A NUTS diagnostic failed (r_hat, effective sample size, divergences)."""


class PrecisionWarning(PplMleWarning):
    """The data, as float64 holds them, support fewer digits than the fit reports.

    Values such as 1e16 + 1, 1e16 + 3 are stored to the nearest multiple of 2: their spread
    is a few units in the last place, and the exact MLE of the stored values says little
    about the values the user meant.
    """
