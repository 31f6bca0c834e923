"""Distributions scipy does not name (numpy/scipy only).

:class:`SqrtInvGamma` is the law of σ when σ² is inverse-gamma: the exact flat-prior
posterior of the normal model's standard deviation (:mod:`ppl_mle.core.analytic_posterior`).
"""

from __future__ import annotations

import math
from typing import cast

import numpy as np
from scipy import special, stats

__all__ = ["SqrtInvGamma"]


class SqrtInvGamma:
    """The distribution of σ when σ² ~ InvGamma(a, scale): cdf, ppf, mean, mode, rvs.

    Parameters
    ----------
    a : float
        Shape of the inverse-gamma distribution of σ².
    scale : float
        Its scale.
    """

    def __init__(self, a: float, scale: float) -> None:
        self.a, self.scale = float(a), float(scale)
        self._squared = stats.invgamma(a=self.a, scale=self.scale)

    def cdf(self, x: np.ndarray) -> np.ndarray:
        """P(σ ≤ x)."""
        x = np.asarray(x, dtype=float)
        return np.where(x > 0, self._squared.cdf(np.square(np.maximum(x, 0))), 0.0)

    def ppf(self, q: np.ndarray) -> np.ndarray:
        """Quantiles of σ."""
        return cast(np.ndarray, np.sqrt(self._squared.ppf(q)))

    def pdf(self, x: np.ndarray) -> np.ndarray:
        """Density of σ: 2x·f(x²)."""
        x = np.asarray(x, dtype=float)
        return np.where(x > 0, 2 * x * self._squared.pdf(np.square(np.maximum(x, 0))), 0.0)

    def mean(self) -> float:
        """E[σ] = sqrt(scale)·Γ(a − 1/2)/Γ(a), finite for a > 1/2."""
        if self.a <= 0.5:
            return math.inf
        return math.sqrt(self.scale) * math.exp(
            special.gammaln(self.a - 0.5) - special.gammaln(self.a)
        )

    def std(self) -> float:
        """Standard deviation of σ (finite for a > 1)."""
        if self.a <= 1:
            return math.inf
        second = self.scale / (self.a - 1)
        return math.sqrt(max(second - self.mean() ** 2, 0.0))

    def mode(self) -> float:
        """Mode of the density of σ: sqrt(2·scale/(2a + 1))."""
        return math.sqrt(2 * self.scale / (2 * self.a + 1))

    def rvs(self, size: int, random_state: np.random.Generator | None = None) -> np.ndarray:
        """Random draws of σ."""
        return cast(np.ndarray, np.sqrt(self._squared.rvs(size=size, random_state=random_state)))
