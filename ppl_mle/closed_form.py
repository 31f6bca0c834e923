"""Closed-form maximum-likelihood estimates and log-likelihoods (numpy only).

This is the bottom layer: no PyMC, no PyTensor. Everything the fitted models are checked
against lives here.

Normal model, observations x₁…xₙ:

* μ̂ = x̄ and σ̂ = sqrt(SS/n) with SS = Σ(xᵢ − x̄)² — the MLE divides by n, not n − 1;
* ℓ(μ, σ) = −n/2·log(2πσ²) − (SS + n(x̄ − μ)²) / (2σ²).

Categorical model with counts c₁…c_k summing to n:

* θ̂ⱼ = cⱼ / n (exactly 0 for a category never observed);
* ℓ(θ) = Σ cⱼ log θⱼ, with 0·log 0 = 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import xlogy

__all__ = [
    "NormalStats",
    "categorical_counts",
    "categorical_loglik",
    "categorical_mle",
    "normal_loglik",
    "normal_mle",
    "normal_stats",
]


@dataclass(frozen=True)
class NormalStats:
    """Sufficient statistics of a normal sample.

    Attributes
    ----------
    n : int
        Number of observations.
    mean : float
        Sample mean.
    ss : float
        Sum of squared deviations from the mean, Σ(xᵢ − x̄)².
    """

    n: int
    mean: float
    ss: float

    @property
    def sd_mle(self) -> float:
        """MLE of the standard deviation, sqrt(SS/n)."""
        return math.sqrt(self.ss / self.n)


def normal_stats(x: np.ndarray) -> NormalStats:
    """Compute (n, mean, SS) accurately, also for data far from 0.

    The mean is refined by one correction pass, x̄ + mean(x − x̄), and SS uses the corrected
    two-pass formula Σd² − (Σd)²/n with d = x − x̄, never Σx² − n·x̄² (which loses every
    digit on data far from 0).

    Parameters
    ----------
    x : numpy.ndarray
        One-dimensional float64 observations, all finite.

    Returns
    -------
    NormalStats
    """
    n = x.size
    mean = float(x.mean())
    mean += float((x - mean).mean())
    d = x - mean
    s1 = float(d.sum())
    ss = float(np.dot(d, d)) - s1 * s1 / n
    return NormalStats(n=n, mean=mean, ss=max(ss, 0.0))


def normal_mle(x: np.ndarray, sigma: float | None = None) -> dict[str, float]:
    """Closed-form MLE of the normal model.

    Parameters
    ----------
    x : numpy.ndarray
        Observations.
    sigma : float, optional
        Known standard deviation. When given, only ``mu`` is estimated.

    Returns
    -------
    dict
        ``{"mu": x̄, "sigma": sqrt(SS/n)}``, or ``{"mu": x̄}`` when sigma is known.
    """
    stats = normal_stats(x)
    if sigma is not None:
        return {"mu": stats.mean}
    return {"mu": stats.mean, "sigma": stats.sd_mle}


def normal_loglik(stats: NormalStats, mu: float, sigma: float) -> float:
    """Normal log-likelihood with all constants, from the sufficient statistics.

    Parameters
    ----------
    stats : NormalStats
        Sufficient statistics of the sample.
    mu, sigma : float
        Parameter values.

    Returns
    -------
    float
        ℓ(μ, σ) = −n/2·log(2πσ²) − (SS + n(x̄ − μ)²) / (2σ²).
    """
    n = stats.n
    dev = stats.mean - mu
    return -0.5 * n * math.log(2.0 * math.pi * sigma * sigma) - (stats.ss + n * dev * dev) / (
        2.0 * sigma * sigma
    )


def categorical_counts(codes: np.ndarray, k: int) -> np.ndarray:
    """Count integer-coded labels ``0 … k−1``."""
    return np.bincount(codes, minlength=k).astype(np.int64)


def categorical_mle(counts: np.ndarray) -> np.ndarray:
    """Closed-form MLE of the categorical model: counts / n (exact zeros for empty categories)."""
    counts = np.asarray(counts)
    return counts / counts.sum()


def categorical_loglik(counts: np.ndarray, theta: np.ndarray) -> float:
    """Categorical log-likelihood Σ cⱼ log θⱼ, with 0·log 0 = 0."""
    return float(np.sum(xlogy(counts, theta)))
