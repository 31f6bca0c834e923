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
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import cast

import numpy as np
from scipy.special import xlogy

from ppl_mle.core._threads import map_row_blocks, single_threaded_blas

__all__ = [
    "NormalStats",
    "categorical_counts",
    "categorical_loglik",
    "categorical_mle",
    "categorical_mle_constrained",
    "integer_normal_stats",
    "merge_normal_stats",
    "normal_loglik",
    "normal_mle",
    "normal_stats",
    "power_of_two",
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
        Sum of squared deviations from the mean, Σ(xᵢ − x̄)², in units of ``scale²``.
    scale : float
        A power of two; Σ(xᵢ − x̄)² = ``ss · scale²``. It is 1 unless the data are so
        large or so tightly spread that Σ(xᵢ − x̄)² itself over- or underflows float64
        (data near 1e300, or a spread of 1e-200): their statistics are then still exact to
        the last digits.
    top : float or None
        The largest magnitude max|xᵢ| where the pass that computed the statistics saw it
        (a large array's, read chunk by chunk), else None. Not compared.
    """

    n: int
    mean: float
    ss: float
    scale: float = 1.0
    top: float | None = field(default=None, compare=False)

    @property
    def sd_mle(self) -> float:
        """MLE of the standard deviation, sqrt(SS/n)."""
        return math.sqrt(self.ss / self.n) * self.scale

    @property
    def log_sd_mle(self) -> float:
        """Log of :attr:`sd_mle`, without forming SS (finite wherever SS > 0)."""
        return 0.5 * math.log(self.ss / self.n) + math.log(self.scale)

    def merge(self, other: NormalStats) -> NormalStats:
        """Statistics of the two samples together; see :func:`merge_normal_stats`."""
        return merge_normal_stats(self, other)

    def vector(self) -> np.ndarray:
        """(n, mean, SS) as the float64 vector a statistics model observes.

        SS itself overflows float64 for data near 1e154 and beyond (it is then inf); fits
        never read it there, they work on scaled statistics.
        """
        return np.array([self.n, self.mean, self.ss * self.scale * self.scale])

    def rescaled(self, scale: float) -> NormalStats:
        """The same statistics with ``ss`` expressed in units of ``scale²`` (a power of two)."""
        if scale == self.scale:
            return self
        ratio = self.scale / scale
        return NormalStats(self.n, self.mean, self.ss * ratio * ratio, scale, self.top)


def merge_normal_stats(a: NormalStats, b: NormalStats) -> NormalStats:
    """Combine the statistics of two samples (Chan, Golub and LeVeque's parallel update).

    n = nₐ + n_b, δ = x̄_b − x̄ₐ, x̄ = x̄ₐ + δ·n_b/n, SS = SSₐ + SS_b + δ²·nₐn_b/n: exact in
    exact arithmetic and stable in floating point, unlike Σx² − n·x̄².
    """
    if a.n == 0:
        return b
    if b.n == 0:
        return a
    scale = max(a.scale, b.scale)
    a, b = a.rescaled(scale), b.rescaled(scale)
    n = a.n + b.n
    delta = b.mean - a.mean
    mean = a.mean + delta * (b.n / n)
    step = delta / scale
    ss = a.ss + b.ss + step * step * (a.n * b.n / n)
    top = None if a.top is None or b.top is None else max(a.top, b.top)
    return NormalStats(n=n, mean=mean, ss=ss, scale=scale, top=top)


#: Observations per chunk when statistics are accumulated chunk by chunk (fits in cache).
CHUNK = 1 << 16

#: Fewer chunks than this (2**22 values) per core are summed in one thread.
_CHUNKS_PER_THREAD = 64


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

        def chunks(first: int, stop: int) -> list[tuple[NormalStats, float]]:
            runs = []
            for i in range(first, stop):
                chunk = x[i * CHUNK : (i + 1) * CHUNK]
                # The largest magnitude too, while the chunk is in cache (for
                # NormalFamily.resolution_digits: no second pass over the data).
                top = max(abs(float(chunk.max())), abs(float(chunk.min())))
                runs.append((_centred(chunk - pivot), top))
            return runs

        # Runs of chunks on every core; merged in chunk order, so the result is the same
        # to the last bit whatever the number of cores.
        n_chunks = -(-x.size // CHUNK)
        total = NormalStats(0, 0.0, 0.0)
        top = 0.0
        with single_threaded_blas():
            runs = map_row_blocks(chunks, n_chunks, min_rows=_CHUNKS_PER_THREAD)
        for run in runs:
            for part, chunk_top in run:
                total = total.merge(part)
                top = max(top, chunk_top)
        stats = NormalStats(total.n, total.mean + pivot, total.ss, top=top)
        if _SS_LOW < stats.ss < _SS_HIGH and math.isfinite(stats.mean):
            return stats
        return _scaled_two_pass(x)
    return _two_pass(x)


def _centred(y: np.ndarray) -> NormalStats:
    """Statistics of a chunk already centred near its mean: Σy and Σy² in two passes.

    SS = Σy² − (Σy)²/n loses about log10(1 + ȳ²/var) digits to cancellation, so it is
    used only while the chunk mean is within 10 standard deviations of the pivot (at most
    two digits lost, beyond the 16 kept); otherwise the chunk gets the two-pass formula.
    """
    n = y.size
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        s1 = float(y.sum())
        s2 = float(np.dot(y, y))
    mean = s1 / n
    ss = s2 - s1 * mean
    if ss > 0 and mean * mean <= 100.0 * ss / n:
        return NormalStats(n=n, mean=mean, ss=ss)
    return _two_pass(y)


def _two_pass(x: np.ndarray) -> NormalStats:
    n = x.size
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        mean = float(x.sum()) / n
        d = x - mean
        s1 = float(d.sum())
        ss = float(np.dot(d, d)) - s1 * s1 / n
    if not (_SS_LOW < ss < _SS_HIGH and math.isfinite(mean)):
        return _scaled_two_pass(x)
    mean += s1 / n
    return NormalStats(n=n, mean=mean, ss=max(ss, 0.0))


#: Outside this range Σd² has lost digits to underflow or overflowed: scale first.
_SS_LOW, _SS_HIGH = 2.0**-900, 2.0**900


def power_of_two(value: float) -> float:
    """The power of two nearest ``value`` (> 0) in the exponent: scaling by it is exact."""
    return math.ldexp(1.0, math.frexp(value)[1] - 1)


def _scaled_two_pass(x: np.ndarray) -> NormalStats:
    """Two-pass statistics of data at the edges of float64, through exact power-of-two scaling.

    The data are divided by a power of two near their magnitude (so neither their sum nor
    their deviations overflow), the deviations by one near their spread (so their squares
    neither over- nor underflow); both divisions are exact. ``ss`` is then kept in units of
    the spread (:attr:`NormalStats.scale`).
    """
    n = x.size
    top = float(np.max(np.abs(x)))
    if top == 0.0:
        return NormalStats(n=n, mean=0.0, ss=0.0)
    s = power_of_two(top)
    y = x / s
    mean = float(y.sum()) / n
    d = y - mean
    mean += float(d.sum()) / n
    d = y - mean
    spread = float(np.max(np.abs(d)))
    if spread == 0.0:
        return NormalStats(n=n, mean=mean * s, ss=0.0)
    t = power_of_two(spread)
    d /= t
    s1 = float(d.sum())
    ss = float(np.dot(d, d)) - s1 * s1 / n
    return NormalStats(n=n, mean=(mean + s1 * t / n) * s, ss=max(ss, 0.0), scale=s * t)


def integer_normal_stats(values: Sequence[int]) -> NormalStats:
    """Statistics of integers computed exactly, rounded once at the end.

    Integers beyond 2**53 have no exact float64 value (2**53 + 1 becomes 2**53): summing
    them as floats loses the data before any formula can help. Python's integers are exact
    at any size, so Σx and Σ(n·x − Σx)² are exact, and the mean and SS are each rounded
    once (SS in units of a power of two when it would overflow float64).
    """
    n = len(values)
    total = sum(values)
    centred = sum((n * v - total) ** 2 for v in values)  # n²·SS, exactly
    mean = float(Fraction(total, n))
    ss_exact = Fraction(centred, n * n)  # SS
    if ss_exact == 0:
        return NormalStats(n=n, mean=mean, ss=0.0)
    # A power of two near sqrt(SS/n) keeps ss within float64's range.
    exponent = (ss_exact.numerator.bit_length() - ss_exact.denominator.bit_length()) // 2
    scale = Fraction(2) ** exponent
    ss = float(ss_exact / (scale * scale))
    return NormalStats(n=n, mean=mean, ss=ss, scale=math.ldexp(1.0, exponent))


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
    if not sigma > 0:
        return -math.inf
    n = stats.n
    # Ratios to sigma before squaring, log(sigma) not log(sigma²): finite wherever the
    # answer is, from data near 1e-300 to 1e300.
    spread = math.sqrt(stats.ss) * (stats.scale / sigma)
    dev = stats.mean - mu
    ratio = dev / sigma if math.isfinite(dev) else stats.mean / sigma - mu / sigma
    quad = spread * spread + n * ratio * ratio
    return -n * (math.log(sigma) + 0.5 * _LOG_2PI) - 0.5 * quad


_LOG_2PI = math.log(2.0 * math.pi)


def categorical_counts(codes: np.ndarray, k: int) -> np.ndarray:
    """Count integer-coded labels ``0 … k−1``."""
    return np.bincount(codes, minlength=k).astype(np.int64)


def categorical_mle(counts: np.ndarray) -> np.ndarray:
    """Closed-form MLE of the categorical model: counts / n (exact zeros for empty categories)."""
    counts = np.asarray(counts)
    return cast(np.ndarray, counts / counts.sum())


def categorical_loglik(counts: np.ndarray, theta: np.ndarray) -> float:
    """Categorical log-likelihood Σ cⱼ log θⱼ, with 0·log 0 = 0 (summed exactly, by fsum)."""
    return math.fsum(xlogy(counts, theta))


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
