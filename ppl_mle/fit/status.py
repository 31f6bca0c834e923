"""The outcome of a fit, as a type: what was verified, or why it could not be.

Code decides on :class:`FitStatus`, never on the text of a message: the message of a fit
(:attr:`ppl_mle.MLEResult.message`) is rendered from its status and the numbers behind it,
and may be reworded without changing any behaviour.
"""

from __future__ import annotations

import enum

__all__ = ["FitStatus"]


class FitStatus(enum.Enum):
    """How a fit ended.

    Attributes
    ----------
    VERIFIED
        A maximum: the Hessian is negative definite and the Newton step left is below
        :data:`~ppl_mle.core.tolerances.VERIFY_TOL_SE` standard errors (and, polished, it agrees
        with the family's closed form where there is one).
    BOUNDARY
        Verified, with some estimates exactly on the boundary of the parameter space (a
        category never observed has probability 0; every observation in one category puts
        the MLE on a vertex of the simplex).
    DATA_BOUND
        Verified, with some estimates on a bound set by the data: the support of the
        likelihood depends on them (θ of ``x ~ Uniform(0, θ)`` is at least every
        observation, and its MLE is max(x)); the likelihood is 0 beyond the bound and falls
        into the interior from it.
    NOT_CONVERGED
        The Hessian is negative definite but the maximum is still more than the tolerance
        away (find_MAP stopped early and the polish did not finish it, or was off).
    NOT_A_MAXIMUM
        The Hessian is not negative definite: the log-likelihood curves upward along some
        direction (a saddle or a minimum).
    NOT_IDENTIFIED
        The information matrix is singular: the log-likelihood is flat along a direction
        (redundant parameters).
    NOT_FINITE
        The objective, its gradient or Hessian is not finite at the point, or a fitted
        probability is 0.
    SEPARATED
        The classes are (quasi-)separated by the features: the MLE does not exist.
    UNBOUNDED
        The log-likelihood keeps rising along a direction: the MLE does not exist.
    CONTRADICTS_CLOSED_FORM
        Verified numerically, but the estimate disagrees with the family's closed-form MLE
        (data that float64 cannot resolve finely enough).
    """

    VERIFIED = "verified"
    BOUNDARY = "boundary"
    DATA_BOUND = "data_bound"
    NOT_CONVERGED = "not_converged"
    NOT_A_MAXIMUM = "not_a_maximum"
    NOT_IDENTIFIED = "not_identified"
    NOT_FINITE = "not_finite"
    SEPARATED = "separated"
    UNBOUNDED = "unbounded"
    CONTRADICTS_CLOSED_FORM = "contradicts_closed_form"

    @property
    def converged(self) -> bool:
        """Whether the estimate is a verified maximum (``VERIFIED`` or on a bound)."""
        return self in (FitStatus.VERIFIED, FitStatus.BOUNDARY, FitStatus.DATA_BOUND)

    @property
    def no_mle(self) -> bool:
        """Whether the fit showed that the MLE does not exist (``SEPARATED``, ``UNBOUNDED``)."""
        return self in (FitStatus.SEPARATED, FitStatus.UNBOUNDED)
