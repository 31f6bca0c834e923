"""Exact posteriors of the flat-prior models (numpy/scipy only).

With ``mu ~ Flat`` and ``sigma ~ HalfFlat`` (flat in sigma itself) and n normal observations
with mean x̄ and SS = Σ(x − x̄)², the joint posterior is ∝ σ⁻ⁿ exp(−(SS + n(μ − x̄)²)/(2σ²)):

- the marginal of μ is Student-t with n − 2 degrees of freedom, location x̄ and scale
  sqrt(SS / (n(n − 2)));
- the marginal of σ² is inverse-gamma with shape (n − 2)/2 and scale SS/2 (equivalently
  SS/σ² ~ χ²ₙ₋₂), so E[σ] = sqrt(SS/2)·Γ((n − 3)/2)/Γ((n − 2)/2) > σ̂;
- the joint mode is (x̄, sqrt(SS/n)), the MLE; the marginal mode of σ is sqrt(SS/(n − 1)).

The posterior is proper only for n ≥ 3. With σ known, μ | x ~ Normal(x̄, σ/√n). For the
categorical model with a flat Dirichlet prior, θ | x ~ Dirichlet(1 + counts), whose marginals
are Beta(1 + cⱼ, n + k − 1 − cⱼ) and whose mode is counts/n, the MLE.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special, stats

from ppl_mle.core.errors import ModelError
from ppl_mle.core.families import CategoricalFamily, Family, NormalFamily

__all__ = ["SqrtInvGamma", "analytic_posterior", "check_proper"]


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
        return np.sqrt(self._squared.ppf(q))

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
        return np.sqrt(self._squared.rvs(size=size, random_state=random_state))


def check_proper(family: Family) -> None:
    """Raise if the flat-prior posterior of ``family`` is improper.

    Raises
    ------
    ModelError
        The normal model with sigma unknown and fewer than 3 observations.
    """
    if isinstance(family, NormalFamily) and family.sigma is None and family.n_obs < 3:
        raise ModelError(
            f"with sigma unknown and only n = {family.n_obs} observations the flat-prior "
            "posterior (mu ~ Flat, sigma ~ HalfFlat) is improper: its density in sigma "
            "behaves like sigma^-(n-1) and does not integrate. Sampling it would return "
            "numbers that mean nothing; use n >= 3, a proper prior, or sigma known."
        )


def analytic_posterior(family: Family) -> dict[str, object]:
    """Exact marginal posterior of each scalar parameter under the flat priors.

    Parameters
    ----------
    family : NormalFamily or CategoricalFamily

    Returns
    -------
    dict
        Label → frozen distribution with ``cdf``, ``ppf``, ``mean`` (scipy's, or
        :class:`SqrtInvGamma` for σ). Labels as in :meth:`MLEResult.to_dataframe`.
    """
    check_proper(family)
    if isinstance(family, NormalFamily):
        n, stats_ = family.n_obs, family.stats
        if family.sigma is not None:
            return {"mu": stats.norm(loc=stats_.mean, scale=family.sigma / math.sqrt(n))}
        ss = stats_.ss
        return {
            "mu": stats.t(df=n - 2, loc=stats_.mean, scale=math.sqrt(ss / (n * (n - 2)))),
            "sigma": SqrtInvGamma(a=(n - 2) / 2, scale=ss / 2),
        }
    if isinstance(family, CategoricalFamily):
        counts, n, k = family.counts, family.n_obs, family.k
        return {
            f"theta[{c}]": stats.beta(1 + counts[j], n + k - 1 - counts[j])
            for j, c in enumerate(family.categories)
        }
    raise TypeError(f"unknown family {family!r}")
