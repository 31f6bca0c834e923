"""Log-likelihoods written in sufficient statistics, for ``pm.CustomDist``.

Each is the log-likelihood of the data the statistics summarise, all constants included,
so a model written in them has the log-likelihood of a model written in the rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytensor.tensor as pt

__all__ = ["counts_logp", "normal_stats_logp", "scaled_normal_stats_logp"]


def normal_stats_logp(value: Any, mu: Any, sigma: Any, template: Any) -> Any:
    """Normal log-likelihood from (n, mean, SS); ``template`` only fixes the length 3."""
    n, mean, ss = value[..., 0], value[..., 1], value[..., 2]
    return -0.5 * n * pt.log(2.0 * np.pi * sigma**2) - (ss + n * (mean - mu) ** 2) / (
        2.0 * sigma**2
    )


def scaled_normal_stats_logp(value: Any, mu: Any, sigma: Any, template: Any) -> Any:
    """Normal log-likelihood from (n, mean, SS/scale², scale), without overflow.

    −n/2·log(2πσ²) − (ss·(scale/σ)² + n((mean − μ)/σ)²)/2: SS itself may exceed float64
    (a spread near 1e200), its ratio to σ² does not.
    """
    n, mean, ss, scale = value[..., 0], value[..., 1], value[..., 2], value[..., 3]
    r = scale / sigma
    z = (mean - mu) / sigma
    return -0.5 * n * pt.log(2.0 * np.pi * sigma**2) - 0.5 * (ss * r * r + n * z * z)


def counts_logp(value: Any, theta: Any) -> Any:
    """Categorical log-likelihood Σ cⱼ log θⱼ from the counts (0·log 0 = 0, safe gradient)."""
    safe = pt.switch(pt.eq(value, 0), 1.0, theta)
    return pt.sum(value * pt.log(safe), axis=-1)
