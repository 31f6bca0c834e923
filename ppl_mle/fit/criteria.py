"""AIC and BIC of a fit, from its log-likelihood and its counts (one definition for all)."""

from __future__ import annotations

import math

__all__ = ["aic", "bic"]


def aic(loglik: float, n_params: int) -> float:
    """Akaike's information criterion, 2k − 2ℓ̂."""
    return 2.0 * n_params - 2.0 * loglik


def bic(loglik: float, n_params: int, n_obs: int) -> float:
    """Schwarz's Bayesian information criterion, k log n − 2ℓ̂.

    NaN where the number of observations is unknown (a likelihood given only as
    Potentials).
    """
    if n_obs <= 0:
        return math.nan
    return n_params * math.log(n_obs) - 2.0 * loglik
