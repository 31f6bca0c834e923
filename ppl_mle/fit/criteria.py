"""AIC, AICc and BIC of a fit, from its log-likelihood and its counts (one definition for all)."""

from __future__ import annotations

import math

__all__ = ["aic", "aicc", "bic"]


def aic(loglik: float, n_params: int) -> float:
    """Akaike's information criterion, 2k − 2ℓ̂."""
    return 2.0 * n_params - 2.0 * loglik


def aicc(loglik: float, n_params: int, n_obs: int) -> float:
    """Akaike's criterion corrected for small samples, AIC + 2k(k + 1)/(n − k − 1).

    NaN where it is undefined: n − k − 1 ≤ 0 (no more observations than parameters plus
    one), or the number of observations unknown (a likelihood given only as Potentials).
    """
    room = n_obs - n_params - 1
    if n_obs <= 0 or room <= 0:
        return math.nan
    return aic(loglik, n_params) + 2.0 * n_params * (n_params + 1) / room


def bic(loglik: float, n_params: int, n_obs: int) -> float:
    """Schwarz's Bayesian information criterion, k log n − 2ℓ̂.

    NaN where the number of observations is unknown (a likelihood given only as
    Potentials).
    """
    if n_obs <= 0:
        return math.nan
    return n_params * math.log(n_obs) - 2.0 * loglik
