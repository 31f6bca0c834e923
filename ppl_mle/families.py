"""Statistical families: what a model is, independent of PyMC (numpy only).

A family holds the validated data and knows the closed-form MLE, the log-likelihood at any
parameter value, sensible starting values, and where the MLE sits on the boundary of the
parameter space. The PyMC declarations in :mod:`ppl_mle.models` carry their family, so a
fit can be checked against the closed form.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from ppl_mle.closed_form import (
    NormalStats,
    categorical_counts,
    categorical_loglik,
    categorical_mle,
    normal_loglik,
    normal_stats,
)

__all__ = ["CategoricalFamily", "Family", "NormalFamily"]

# Consistency constant of the median absolute deviation for the normal distribution.
_MAD_TO_SD = 1.482602218505602


@dataclass(frozen=True, eq=False)
class NormalFamily:
    """Normal observations with unknown mean and unknown (or known) standard deviation.

    Attributes
    ----------
    data : numpy.ndarray
        Validated float64 observations.
    sigma : float or None
        Known standard deviation, or None when it is estimated.
    """

    data: np.ndarray = field(repr=False)
    sigma: float | None = None

    @property
    def name(self) -> str:
        """Short description, e.g. ``"normal"`` or ``"normal (sigma = 1 known)"``."""
        return "normal" if self.sigma is None else f"normal (sigma = {self.sigma:g} known)"

    @property
    def n_obs(self) -> int:
        """Number of observations."""
        return int(self.data.size)

    @cached_property
    def stats(self) -> NormalStats:
        """Sufficient statistics (n, mean, SS)."""
        return normal_stats(self.data)

    def closed_form(self) -> dict[str, np.ndarray]:
        """Closed-form MLE: μ̂ = x̄ and, when unknown, σ̂ = sqrt(SS/n)."""
        est = {"mu": np.asarray(self.stats.mean)}
        if self.sigma is None:
            est["sigma"] = np.asarray(self.stats.sd_mle)
        return est

    def loglik(self, params: dict[str, np.ndarray]) -> float:
        """Log-likelihood with all constants at ``params`` (``mu`` and, if free, ``sigma``)."""
        sigma = self.sigma if self.sigma is not None else float(params["sigma"])
        return normal_loglik(self.stats, float(params["mu"]), sigma)

    def start(self) -> dict[str, np.ndarray]:
        """Robust starting values: the median, and the scaled MAD (or IQR) as spread.

        These are deliberately not the closed form, so the optimizer has real work to do,
        but they are on the scale of the data, which is what lets the optimizer succeed on
        data such as 1e7 ± 0.1 where PyMC's default start (mu = 0, sigma = 1) fails.
        """
        x = self.data
        centre = float(np.median(x))
        start = {"mu": np.asarray(centre)}
        if self.sigma is None:
            # A spread absurdly small against the data (ties at the median and a few far
            # values: MAD 1e-165 beside a value of 840) would overflow the log-likelihood;
            # then fall back to the IQR, then to the half-range.
            far = float(np.max(np.abs(x - centre)))
            floor = 1e-8 * far
            spread = _MAD_TO_SD * float(np.median(np.abs(x - centre)))
            if not spread > floor:
                q75, q25 = np.percentile(x, [75, 25])
                spread = float(q75 - q25) / 1.349
            if not spread > floor:
                spread = far / 2
            start["sigma"] = np.asarray(spread)
        return start

    def boundary(self) -> dict[str, np.ndarray]:
        """Parameters whose MLE is on the boundary: none for the normal model."""
        return {}


@dataclass(frozen=True, eq=False)
class CategoricalFamily:
    """Categorical observations: k categories, probabilities θ on the simplex.

    Attributes
    ----------
    codes : numpy.ndarray
        Integer code of each observation, an index into ``categories``.
    categories : tuple
        The category labels, in order.
    """

    codes: np.ndarray = field(repr=False)
    categories: tuple[Hashable, ...]

    name = "categorical"

    @property
    def n_obs(self) -> int:
        """Number of observations."""
        return int(self.codes.size)

    @property
    def k(self) -> int:
        """Number of categories."""
        return len(self.categories)

    @cached_property
    def counts(self) -> np.ndarray:
        """Count of each category."""
        return categorical_counts(self.codes, self.k)

    def closed_form(self) -> dict[str, np.ndarray]:
        """Closed-form MLE: θ̂ = counts / n."""
        return {"theta": categorical_mle(self.counts)}

    def loglik(self, params: dict[str, np.ndarray]) -> float:
        """Log-likelihood Σ cⱼ log θⱼ at ``params["theta"]``."""
        return categorical_loglik(self.counts, np.asarray(params["theta"]))

    def start(self) -> dict[str, np.ndarray]:
        """Starting values: equal probabilities (the centre of the simplex)."""
        return {"theta": np.full(self.k, 1.0 / self.k)}

    def boundary(self) -> dict[str, np.ndarray]:
        """Categories never observed: their MLE is exactly 0, on the simplex's boundary.

        With cⱼ = 0 the likelihood does not involve θⱼ, so moving its mass to the observed
        categories strictly raises the likelihood: the maximum is at θⱼ = 0.
        """
        zero = self.counts == 0
        return {"theta": zero} if zero.any() else {}

    def interior(self) -> CategoricalFamily:
        """The same data restricted to the observed categories."""
        keep = np.flatnonzero(self.counts > 0)
        recode = np.full(self.k, -1, dtype=np.int64)
        recode[keep] = np.arange(keep.size)
        return CategoricalFamily(recode[self.codes], tuple(self.categories[i] for i in keep))

    def embed(self, params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Map interior probabilities back to all k categories, with exact zeros."""
        theta = np.zeros(self.k)
        theta[self.counts > 0] = np.asarray(params["theta"])
        return {"theta": theta}


Family = NormalFamily | CategoricalFamily
