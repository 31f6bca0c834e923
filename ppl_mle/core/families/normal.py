"""The normal model: unknown mean, unknown or known standard deviation (numpy/scipy only)."""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
from scipy import stats as sps

from ppl_mle.core.affine import AffineMap
from ppl_mle.core.closed_form import NormalStats, normal_loglik, normal_stats, power_of_two
from ppl_mle.core.distributions import SqrtInvGamma
from ppl_mle.core.divergence import DivergenceReport, kl_normal
from ppl_mle.core.errors import ModelError

__all__ = ["NormalFamily"]

#: Above this many observations the start comes from the statistics, not the median (a sort).
_ROBUST_START_MAX = 1_000_000

# Consistency constant of the median absolute deviation for the normal distribution.
_MAD_TO_SD = 1.482602218505602


@dataclass(frozen=True, eq=False)
class NormalFamily:
    """Normal observations with unknown mean and unknown (or known) standard deviation.

    Attributes
    ----------
    data : numpy.ndarray or None
        Validated float64 observations, or None when only their statistics are known.
    sigma : float or None
        Known standard deviation, or None when it is estimated.
    given_stats : NormalStats or None
        The sufficient statistics when the family is declared from them.
    """

    data: np.ndarray | None = field(repr=False)
    sigma: float | None = None
    given_stats: NormalStats | None = None

    has_closed_form = True

    @property
    def name(self) -> str:
        """Short description, e.g. ``"normal"`` or ``"normal (sigma = 1 known)"``."""
        return "normal" if self.sigma is None else f"normal (sigma = {self.sigma:g} known)"

    @property
    def n_obs(self) -> int:
        """Number of observations."""
        return int(self.stats.n)

    @cached_property
    def stats(self) -> NormalStats:
        """Sufficient statistics (n, mean, SS)."""
        if self.given_stats is not None:
            return self.given_stats
        if self.data is None:
            raise RuntimeError("internal error: a normal family with neither data nor statistics")
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
        data such as 1e7 ± 0.1 where PyMC's default start (mu = 0, sigma = 1) fails. From
        statistics alone: half a standard deviation off the mean, and 1.5 times the sd.
        """
        if self.data is None or self.data.size > _ROBUST_START_MAX:
            sd = self.stats.sd_mle if self.stats.ss > 0 else (self.sigma or 1.0)
            start = {"mu": np.asarray(self.stats.mean + 0.5 * sd)}
            if self.sigma is None:
                start["sigma"] = np.asarray(1.5 * sd)
            return start
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

    def resolution_digits(self) -> float | None:
        """How many significant digits of its spread each value holds in float64.

        log10(σ̂ / spacing), with the spacing of float64 numbers at the largest magnitude
        of the data; None without a spread, or from statistics alone (they do not say how
        finely the values were held).
        """
        st = self.stats
        if not st.ss > 0 or self.data is None:
            return None
        # The largest magnitude: seen by the statistics pass over a large array, else
        # without a temporary array of |x| (two passes that allocate nothing).
        top = st.top
        if top is None:
            top = max(abs(float(np.max(self.data))), abs(float(np.min(self.data))))
        spacing = float(np.spacing(top)) if top > 0 else 0.0
        if not spacing > 0:
            return None
        return (st.log_sd_mle - math.log(spacing)) / math.log(10.0)

    def standardized(self) -> tuple[NormalFamily, AffineMap]:
        """The same model on working data (x − a)/b, and the map back to the user's units.

        ``a`` is the sample mean and ``b`` the power of two nearest the standard deviation
        of the model: the known sigma, or else the MLE of sigma. The working model then has
        mean ~0 and sigma ~1, so the curvature of its log-likelihood is ~n whatever the
        magnitude and offset of the data and of a known sigma (n/σ² itself under- or
        overflows for σ = 1e±300): the fit is affine-invariant in floating point too.
        Dividing by a power of two is exact, and the data are computed as
        (x/s − a/s)·(s/b), with s a power of two near their magnitude and the last factor
        applied to the exponent, so that nothing overflows on the way.
        """
        st = self.stats
        spread = self.sigma or (st.sd_mle if st.ss > 0 else abs(st.mean) or 1.0)
        b = power_of_two(spread)
        a = st.mean
        sigma = None if self.sigma is None else self.sigma / b
        affine = AffineMap.normal(a, b, st.n, sigma_free=self.sigma is None)
        if self.given_stats is not None or self.data is None:
            with np.errstate(all="ignore"):
                working = NormalStats(st.n, 0.0, st.rescaled(b).ss)
            return NormalFamily(None, sigma, working), affine
        top = st.top
        if top is None:
            top = max(abs(float(np.max(self.data))), abs(float(np.min(self.data))))
        s = power_of_two(top) if top > 0 else 1.0
        shift = math.frexp(s)[1] - math.frexp(b)[1]
        with np.errstate(all="ignore"):
            y = np.ldexp(self.data / s - a / s, shift)
        return NormalFamily(y, sigma), affine

    @property
    def param_names(self) -> tuple[str, ...]:
        """``("mu", "sigma")``, or ``("mu",)`` with sigma known."""
        return ("mu",) if self.sigma is not None else ("mu", "sigma")

    @property
    def known(self) -> dict[str, float]:
        """``{"sigma": σ}`` when sigma is known, else ``{}``."""
        return {} if self.sigma is None else {"sigma": self.sigma}

    @property
    def counts(self) -> None:
        """None: the normal model has no category counts."""
        return None

    @property
    def categories(self) -> tuple[Hashable, ...] | None:
        """None: the normal model has no categories."""
        return None

    def at_vertex(self) -> bool:
        """False: the normal MLE is always in the interior."""
        return False

    preferred_method = "L-BFGS-B"

    def simplex(self) -> None:
        """None: no simplex."""
        return None

    def diagnose(self, params: dict[str, np.ndarray]) -> None:
        """None: the normal MLE exists whenever the data were accepted."""
        return None

    def check_proper(self) -> None:
        """Raise if the flat-prior posterior is improper: sigma unknown and n < 3.

        Raises
        ------
        ModelError
            With sigma unknown and fewer than 3 observations.
        """
        if self.sigma is None and self.n_obs < 3:
            raise ModelError(
                f"with sigma unknown and only n = {self.n_obs} observations the flat-prior "
                "posterior (mu ~ Flat, sigma ~ HalfFlat) is improper: its density in sigma "
                "behaves like sigma^-(n-1) and does not integrate. Sampling it would return "
                "numbers that mean nothing; use n >= 3, a proper prior, or sigma known."
            )

    def exact_posterior(self) -> dict[str, Any]:
        """Exact marginals under ``mu ~ Flat``, ``sigma ~ HalfFlat``.

        With sigma known, μ | x ~ Normal(x̄, σ/√n). Otherwise μ | x is Student-t with n − 2
        degrees of freedom, location x̄ and scale sqrt(SS/(n(n − 2))), and σ² | x is
        inverse-gamma with shape (n − 2)/2 and scale SS/2 (:class:`SqrtInvGamma` for σ).

        Raises
        ------
        ModelError
            As :meth:`check_proper`.
        """
        self.check_proper()
        n, st = self.n_obs, self.stats
        if self.sigma is not None:
            return {"mu": sps.norm(loc=st.mean, scale=self.sigma / math.sqrt(n))}
        return {
            "mu": sps.t(df=n - 2, loc=st.mean, scale=math.sqrt(st.ss / (n * (n - 2)))),
            "sigma": SqrtInvGamma(a=(n - 2) / 2, scale=st.ss / 2),
        }

    def divergence(self, params: dict[str, Any]) -> DivergenceReport:
        """KL(N(x̄, σ̂)‖N(μ, σ)), the sample's normal in place of the sample, and W1.

        Total variation between a sample and a density is 1; the Wasserstein distance is
        taken against a fine grid of the model's quantiles (NaN from statistics alone).
        """
        mu = float(params["mu"])
        sigma = self.sigma if self.sigma is not None else float(params["sigma"])
        mean, sd = self.stats.mean, self.stats.sd_mle
        x = self.data
        # The model's quantiles on a fine grid stand in for the model in scipy's W1.
        m = int(min(max(20 * (x.size if x is not None else 0), 20_000), 2_000_000))
        grid = sps.norm.ppf((np.arange(m) + 0.5) / m, loc=mu, scale=sigma)
        wasserstein = math.nan if x is None else float(sps.wasserstein_distance(x, grid))
        at = {"mu": np.asarray(mu), "sigma": np.asarray(sigma)}
        if sd == 0.0:  # a constant sample (sigma known), a point mass: no normal stands in
            kl, entropy = math.inf, -math.inf
        else:
            kl = kl_normal(mean, sd, mu, sigma)
            entropy = 0.5 * math.log(2 * math.pi * math.e) + self.stats.log_sd_mle
        return DivergenceReport(
            kl=kl,
            total_variation=1.0,
            wasserstein=wasserstein,
            entropy=entropy,
            cross_entropy=-self.loglik(at) / self.n_obs,
            note=(
                "KL and entropy use N(mean, sd by n) in place of the sample; total variation "
                f"between a sample and a density is 1; Wasserstein against {m} model quantiles"
            ),
        )

    def report_fields(self, params: dict[str, Any]) -> dict[str, Any]:
        """``{}``: the estimates and the closed form say everything."""
        return {}
