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
    "categorical_mle_constrained",
    "merge_normal_stats",
    "normal_loglik",
    "normal_mle",
    "normal_stats",
    "product_underflow_n",
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

    def merge(self, other: NormalStats) -> NormalStats:
        """Statistics of the two samples together; see :func:`merge_normal_stats`."""
        return merge_normal_stats(self, other)


def merge_normal_stats(a: NormalStats, b: NormalStats) -> NormalStats:
    """Combine the statistics of two samples (Chan, Golub and LeVeque's parallel update).

    n = nₐ + n_b, δ = x̄_b − x̄ₐ, x̄ = x̄ₐ + δ·n_b/n, SS = SSₐ + SS_b + δ²·nₐn_b/n: exact in
    exact arithmetic and stable in floating point, unlike Σx² − n·x̄².
    """
    if a.n == 0:
        return b
    if b.n == 0:
        return a
    n = a.n + b.n
    delta = b.mean - a.mean
    mean = a.mean + delta * (b.n / n)
    ss = a.ss + b.ss + delta * delta * (a.n * b.n / n)
    return NormalStats(n=n, mean=mean, ss=ss)


#: Observations per chunk when statistics are accumulated chunk by chunk (fits in cache).
CHUNK = 1 << 16


def normal_stats(x: np.ndarray) -> NormalStats:
    """Compute (n, mean, SS) accurately, also for data far from 0.

    The mean is refined by one correction pass, x̄ + mean(x − x̄), and SS uses the corrected
    two-pass formula Σd² − (Σd)²/n with d = x − x̄, never Σx² − n·x̄² (which loses every
    digit on data far from 0). Large arrays are processed in cache-sized chunks whose
    statistics are merged (:func:`merge_normal_stats`), so the data are read from memory
    once.

    Parameters
    ----------
    x : numpy.ndarray
        One-dimensional float64 observations, all finite.

    Returns
    -------
    NormalStats
    """
    if x.size > 4 * CHUNK:
        # One read of the data: each cache-sized chunk by the two-pass formula, merged.
        # Chunks are centred on a pivot near the data first, so that chunk means and their
        # differences keep full relative precision (x − pivot is exact for x near pivot).
        pivot = float(x[:CHUNK].mean())
        total = NormalStats(0, 0.0, 0.0)
        for start in range(0, x.size, CHUNK):
            total = total.merge(_centred(x[start : start + CHUNK] - pivot))
        return NormalStats(total.n, total.mean + pivot, total.ss)
    return _two_pass(x)


def _centred(y: np.ndarray) -> NormalStats:
    """Statistics of a chunk already centred near its mean: Σy and Σy² in two passes.

    SS = Σy² − (Σy)²/n loses about log10(1 + ȳ²/var) digits to cancellation, so it is
    used only while the chunk mean is within 10 standard deviations of the pivot (at most
    two digits lost, beyond the 16 kept); otherwise the chunk gets the two-pass formula.
    """
    n = y.size
    s1 = float(y.sum())
    s2 = float(np.dot(y, y))
    mean = s1 / n
    ss = s2 - s1 * mean
    if ss > 0 and mean * mean <= 100.0 * ss / n:
        return NormalStats(n=n, mean=mean, ss=ss)
    return _two_pass(y)


def _two_pass(x: np.ndarray) -> NormalStats:
    n = x.size
    mean = float(x.sum()) / n
    d = x - mean
    s1 = float(d.sum())
    mean += s1 / n
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


def categorical_mle_constrained(counts: np.ndarray) -> np.ndarray:
    """The categorical MLE found numerically: max Σ cⱼ log θⱼ subject to Σ θⱼ = 1.

    ``scipy.optimize.minimize`` (SLSQP) with the equality constraint and bounds [0, 1],
    gradient supplied: the constrained optimisation the Lagrange-multiplier derivation
    solves by hand, for comparison with counts/n and with find_MAP. SLSQP is accurate to
    about 1e-9, not to the last digit.
    """
    from scipy import optimize

    c = np.asarray(counts, dtype=float)
    k = c.size
    n = c.sum()

    def negative(theta: np.ndarray) -> tuple[float, np.ndarray]:
        safe = np.maximum(theta, 1e-300)
        return -float(np.sum(xlogy(c, safe))) / n, -np.where(c > 0, c / safe, 0.0) / n

    result = optimize.minimize(
        negative,
        np.full(k, 1.0 / k),
        jac=True,
        method="SLSQP",
        bounds=[(0.0, 1.0)] * k,
        constraints=[{"type": "eq", "fun": lambda t: np.sum(t) - 1.0, "jac": lambda t: np.ones(k)}],
        options={"ftol": 1e-15, "maxiter": 1000},
    )
    return np.asarray(result.x)


def product_underflow_n(x: np.ndarray, mu: float, sigma: float) -> int | None:
    """The first n at which Π f(xᵢ) over the first n observations underflows to 0.0.

    The product of n densities shrinks geometrically and reaches 0 in float64 after a few
    hundred to a few thousand observations; the sum of log-densities never does. Returns
    None when the product stays positive over all of ``x``.
    """
    from scipy import stats

    product = np.cumprod(stats.norm.pdf(np.asarray(x, dtype=float), mu, sigma))
    zero = np.flatnonzero(product == 0.0)
    return int(zero[0]) + 1 if zero.size else None
