"""The grouped normal and categorical families: one model per group, numpy/scipy only.

A grouped family holds the sufficient statistics of every group (never the rows) and
answers what a per-group fit needs: the closed-form MLE of every group, the log-likelihood
per group at any parameters, which groups have no interior MLE (a normal group of one row or
of equal values: σ̂ = 0 and the likelihood unbounded; a categorical group with a category it
never shows: θ̂ = 0 on the boundary), the working units a fit uses, and the profile
likelihood intervals, which for these models are closed forms.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from scipy import special

from ppl_mle.core.closed_form import power_of_two
from ppl_mle.core.errors import ModelError
from ppl_mle.core.grouped.stats import GroupStats, powers_of_two

__all__ = ["GroupedCategoricalFamily", "GroupedNormalFamily", "WorkingGroups"]

_LOG_2PI = math.log(2.0 * math.pi)


@dataclass(frozen=True, eq=False)
class WorkingGroups:
    """The regular groups of a grouped normal family in working units, and the way back.

    Group g's data are taken as (x − a_g)/b_g, with b_g a power of two near its spread
    (one b for all groups when σ is shared or known), so every working group has mean 0 and
    spread near 1: the MLE maps back exactly, μ = a + b·μ_w and σ = b·σ_w, and the
    log-likelihood by ℓ = ℓ_w − Σ n_g log b_g.

    Attributes
    ----------
    index : numpy.ndarray
        Positions of the regular groups among all groups.
    stats : GroupStats
        Their statistics in working units (mean 0, scale 1).
    offset, scale : numpy.ndarray
        a_g and b_g per regular group.
    sigma : float or None
        The known σ in working units (σ/b), or None.
    """

    index: np.ndarray
    stats: GroupStats
    offset: np.ndarray
    scale: np.ndarray
    sigma: float | None

    @property
    def loglik_offset(self) -> float:
        """ℓ − ℓ_w = −Σ n_g log b_g."""
        return -float(np.sum(self.stats.n * np.log(self.scale)))


@dataclass(frozen=True, eq=False)
class GroupedNormalFamily:
    """Normal observations in G groups: μ_g per group, σ_g per group, shared or known.

    Attributes
    ----------
    groups : tuple
        The group labels, in the order of the statistics.
    stats : GroupStats
        (n, mean, SS) per group.
    sigma : float or None
        A known σ (the same for every group), or None.
    common_sigma : bool
        One σ shared by all groups (ignored when σ is known).
    """

    groups: tuple[Hashable, ...]
    stats: GroupStats
    sigma: float | None = None
    common_sigma: bool = False

    has_closed_form = True

    @property
    def name(self) -> str:
        """Short description, e.g. ``"normal per group (common sigma)"``."""
        if self.sigma is not None:
            return f"normal per group (sigma = {self.sigma:g} known)"
        return "normal per group (common sigma)" if self.common_sigma else "normal per group"

    @property
    def n_groups(self) -> int:
        """Number of groups."""
        return self.stats.n_groups

    @property
    def n(self) -> np.ndarray:
        """Observations per group."""
        return self.stats.n

    @property
    def n_obs(self) -> int:
        """Number of observations in all groups."""
        return int(np.sum(self.stats.n))

    @property
    def per_group_sigma(self) -> bool:
        """Whether each group has its own free σ."""
        return self.sigma is None and not self.common_sigma

    @property
    def param_names(self) -> tuple[str, ...]:
        """``("mu", "sigma")``, or ``("mu",)`` with σ known."""
        return ("mu",) if self.sigma is not None else ("mu", "sigma")

    @cached_property
    def degenerate(self) -> np.ndarray:
        """Groups without an interior MLE: one row or equal values, with σ_g free.

        Their σ̂_g is 0, on the boundary, and their likelihood unbounded as σ_g → 0. With one
        σ shared, every group is, when none has any spread.
        """
        if self.sigma is not None:
            return np.zeros(self.n_groups, dtype=bool)
        if self.common_sigma:  # one σ: unbounded only if no group has any spread
            return np.full(self.n_groups, not np.any(self.stats.ss > 0))
        return np.asarray(self.stats.ss == 0)

    def degenerate_reason(self) -> np.ndarray:
        """Why each degenerate group has no interior MLE ('' for the others)."""
        reason = np.full(self.n_groups, "", dtype=object)
        if self.common_sigma and self.sigma is None:
            reason[self.degenerate] = (
                "no group has any spread: the shared sigma = 0 on the boundary, likelihood "
                "unbounded"
            )
            return reason
        one = self.degenerate & (self.stats.n == 1)
        reason[one] = "one observation: sigma = 0 on the boundary, likelihood unbounded"
        reason[self.degenerate & ~one] = (
            "all values equal: sigma = 0 on the boundary, likelihood unbounded"
        )
        return reason

    @cached_property
    def pooled_sd(self) -> float:
        """The MLE of a σ shared by all groups, sqrt(Σ SS_g / N)."""
        st = self.stats
        top = float(np.max(st.scale))
        within = float(np.sum(st.ss * (st.scale / top) ** 2))
        return top * math.sqrt(within / self.n_obs)

    def closed_form(self) -> dict[str, np.ndarray]:
        """μ̂_g = x̄_g and σ̂_g = sqrt(SS_g/n_g) (or the pooled sqrt(Σ SS/N))."""
        est = {"mu": np.array(self.stats.mean)}
        if self.sigma is None:
            est["sigma"] = np.asarray(self.pooled_sd) if self.common_sigma else self.stats.sd_mle
        return est

    def sigma_of(self, params: dict[str, np.ndarray]) -> np.ndarray:
        """σ per group at ``params`` (the known σ, the shared one broadcast, or σ_g)."""
        sigma = self.sigma if self.sigma is not None else params["sigma"]
        return np.broadcast_to(np.asarray(sigma, dtype=np.float64), (self.n_groups,))

    def loglik_groups(self, params: dict[str, np.ndarray]) -> np.ndarray:
        """Log-likelihood of each group at ``params``, all constants included.

        −n/2·log(2πσ²) − (SS + n(x̄ − μ)²)/(2σ²), with SS/σ² formed as (scale/σ)²·ss so
        that neither overflows.
        """
        st = self.stats
        mu = np.asarray(params["mu"], dtype=np.float64)
        sigma = self.sigma_of(params)
        with np.errstate(all="ignore"):
            r = st.scale / sigma
            z = (st.mean - mu) / sigma
            quad = st.ss * r * r + st.n * z * z
            return np.asarray(-0.5 * st.n * (_LOG_2PI + 2.0 * np.log(sigma)) - 0.5 * quad)

    def loglik(self, params: dict[str, np.ndarray]) -> float:
        """The total log-likelihood at ``params``."""
        return float(np.sum(self.loglik_groups(params)))

    def working(self) -> WorkingGroups:
        """The regular groups in working units (see :class:`WorkingGroups`)."""
        st = self.stats
        index = np.flatnonzero(~self.degenerate)
        regular = st.take(index)
        if self.sigma is not None:
            b = np.full(index.size, power_of_two(self.sigma))
            sigma_w: float | None = self.sigma / float(b[0]) if index.size else None
        elif self.common_sigma:
            b = np.full(index.size, power_of_two(self.pooled_sd))
            sigma_w = None
        else:
            b = powers_of_two(regular.sd_mle)
            sigma_w = None
        r = regular.scale / b
        working = GroupStats(
            regular.n, np.zeros(index.size), regular.ss * r * r, np.ones(index.size)
        )
        return WorkingGroups(index, working, regular.mean, b, sigma_w)

    def check_proper(self) -> None:
        """Raise if the flat-prior posterior is improper in some group.

        With σ_g free, a group needs n ≥ 3 and values that are not all equal (its density
        in σ_g behaves like σ^-(n−1)); with σ shared, N − G ≥ 2 and some spread.

        Raises
        ------
        ModelError
            Naming the groups (up to five) and how many there are.
        """
        st = self.stats
        if self.sigma is not None:
            return
        if self.common_sigma:
            if self.n_obs - self.n_groups < 2 or not np.any(st.ss > 0):
                raise ModelError(
                    f"with one sigma shared by {self.n_groups} groups and N = {self.n_obs}, "
                    "the flat-prior posterior is improper: it needs N − G >= 2 and some "
                    "spread within groups."
                )
            return
        bad = (st.n < 3) | (st.ss == 0)
        if np.any(bad):
            shown = ", ".join(repr(self.groups[i]) for i in np.flatnonzero(bad)[:5])
            raise ModelError(
                f"{int(bad.sum())} group(s) have fewer than 3 values or values all equal "
                f"({shown}{', …' if bad.sum() > 5 else ''}): with sigma free per group their "
                "flat-prior posterior is improper. Use common_sigma=True, a known sigma, or "
                "leave those groups out."
            )

    def exact_posterior_moments(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Mean and sd of every exact flat-prior marginal (``mu ~ Flat``, ``sigma ~ HalfFlat``).

        σ_g free: μ_g | x is Student-t (n − 2 df, location x̄, scale sqrt(SS/(n(n − 2))))
        and σ²_g | x inverse-gamma ((n − 2)/2, SS/2). σ shared: the same with N − G − 1 df
        and the within-group SS. σ known: μ_g | x ~ Normal(x̄, σ/√n).

        Raises
        ------
        ModelError
            As :meth:`check_proper`.
        """
        self.check_proper()
        st = self.stats
        n = st.n.astype(np.float64)
        if self.sigma is not None:
            return {"mu": (np.array(st.mean), self.sigma / np.sqrt(n))}
        if self.common_sigma:
            df = np.asarray(float(self.n_obs - self.n_groups - 1))
            ss = np.asarray(self.pooled_sd**2 * self.n_obs)
            mu_scale = np.sqrt(ss / (n * df))
        else:
            df = n - 2.0
            ss = st.ss * st.scale**2
            mu_scale = st.scale * np.sqrt(st.ss / (n * df))
        with np.errstate(all="ignore"):
            mu_sd = np.where(df > 2, mu_scale * np.sqrt(df / (df - 2)), np.inf)
            a, b = df / 2.0, ss / 2.0
            sigma_mean = np.sqrt(b) * np.exp(special.gammaln(a - 0.5) - special.gammaln(a))
            second = np.where(a > 1, b / (a - 1), np.inf)
            sigma_sd = np.sqrt(np.maximum(second - sigma_mean**2, 0.0))
        return {
            "mu": (np.array(st.mean), np.broadcast_to(mu_sd, st.mean.shape)),
            "sigma": (sigma_mean, sigma_sd),
        }

    def profile_intervals(self, level: float) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Profile-likelihood intervals of every μ_g and σ (closed forms).

        With σ_g free: μ_g ∈ x̄_g ± σ̂_g·sqrt(exp(q/n_g) − 1), and σ_g from the Lambert W
        roots of n(r − 1 − log r) = q, r = σ̂²/σ². With σ shared, the profile of μ_g
        maximises over σ too: x̄_g ± σ̂·sqrt(N/n_g·(exp(q/N) − 1)). With σ known, the
        profile interval of μ_g is the Wald one, x̄_g ± sqrt(q)·σ/sqrt(n_g). q is the χ²₁
        quantile at ``level``. Degenerate groups get NaN.
        """
        from scipy import stats as sps

        q = float(sps.chi2.ppf(level, 1))
        st, n = self.stats, self.stats.n.astype(np.float64)
        out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        if self.sigma is not None:
            half = math.sqrt(q) * self.sigma / np.sqrt(n)
        elif self.common_sigma:
            big_n = float(self.n_obs)
            half = self.pooled_sd * np.sqrt(big_n / n * math.expm1(q / big_n))
        else:
            with np.errstate(all="ignore"):
                half = st.sd_mle * np.sqrt(np.expm1(q / n))
        half = np.where(self.degenerate, np.nan, half)
        out["mu"] = (st.mean - half, st.mean + half)
        if self.sigma is None:
            if self.common_sigma:
                lo, hi = _sigma_profile(
                    np.asarray(self.pooled_sd), np.asarray(self.n_obs, float), q
                )
            else:
                lo, hi = _sigma_profile(st.sd_mle, n, q)
                lo = np.where(self.degenerate, np.nan, lo)
                hi = np.where(self.degenerate, np.nan, hi)
            out["sigma"] = (lo, hi)
        return out


def _sigma_profile(sd: np.ndarray, n: np.ndarray, q: float) -> tuple[np.ndarray, np.ndarray]:
    """Roots σ of n(r − 1 − log r) = q with r = σ̂²/σ²: Lambert W, branches −1 and 0."""
    arg = -np.exp(-(1.0 + q / n))
    with np.errstate(all="ignore"):
        r_low = -np.real(special.lambertw(arg, -1))  # r > 1: σ below σ̂
        r_high = -np.real(special.lambertw(arg, 0))  # r < 1: σ above σ̂
        return sd / np.sqrt(r_low), sd / np.sqrt(r_high)


@dataclass(frozen=True, eq=False)
class GroupedCategoricalFamily:
    """Categorical labels in G groups: θ_g on the simplex of k categories per group.

    Attributes
    ----------
    groups : tuple
        The group labels.
    categories : tuple
        The k categories, in the order of the columns of ``counts``.
    counts : numpy.ndarray
        (G, k) int64 table of counts.
    """

    groups: tuple[Hashable, ...]
    categories: tuple[Hashable, ...]
    counts: np.ndarray

    has_closed_form = True
    name = "categorical per group"
    param_names = ("theta",)

    @property
    def n_groups(self) -> int:
        """Number of groups."""
        return int(self.counts.shape[0])

    @property
    def k(self) -> int:
        """Number of categories."""
        return int(self.counts.shape[1])

    @property
    def n(self) -> np.ndarray:
        """Labels per group."""
        return np.asarray(self.counts.sum(axis=1))

    @property
    def n_obs(self) -> int:
        """Number of labels in all groups."""
        return int(self.counts.sum())

    @cached_property
    def degenerate(self) -> np.ndarray:
        """Groups with a category they never show: that θ̂_gk = 0, on the boundary."""
        return np.asarray(np.any(self.counts == 0, axis=1))

    def degenerate_reason(self) -> np.ndarray:
        """Which categories put each boundary group's θ̂ on the boundary ('' for others)."""
        reason = np.full(self.n_groups, "", dtype=object)
        for g in np.flatnonzero(self.degenerate):
            never = [self.categories[j] for j in np.flatnonzero(self.counts[g] == 0)]
            reason[g] = f"theta = 0 on the boundary for {never!r} (never observed)"
        return reason

    def closed_form(self) -> dict[str, np.ndarray]:
        """θ̂_gk = c_gk / n_g."""
        return {"theta": self.counts / self.n[:, None]}

    def boundary_standard_errors(self, theta: np.ndarray) -> np.ndarray:
        """SEs of θ̂ in the groups on the boundary: sqrt(θ(1 − θ)/n) where 0 < θ < 1.

        A category never seen holds θ = 0 on the boundary (NaN); the others are interior,
        and the observed information of the multinomial on the categories seen gives them
        the SE of any multinomial proportion. A group that shows one category only has
        no interior θ left (all NaN).
        """
        theta = np.asarray(theta, dtype=np.float64)
        n = self.n[:, None].astype(np.float64)
        interior = (theta > 0) & (theta < 1)
        with np.errstate(invalid="ignore"):
            return np.where(interior, np.sqrt(theta * (1.0 - theta) / n), np.nan)

    def loglik_groups(self, params: dict[str, np.ndarray]) -> np.ndarray:
        """Σ_k c_gk log θ_gk per group (0·log 0 = 0)."""
        theta = np.asarray(params["theta"], dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(self.counts > 0, self.counts * np.log(theta), 0.0)
        return np.asarray(terms.sum(axis=1))

    def loglik(self, params: dict[str, np.ndarray]) -> float:
        """The total log-likelihood at ``params``."""
        return float(np.sum(self.loglik_groups(params)))

    def kkt_holds(self, theta: np.ndarray) -> np.ndarray:
        """Whether θ satisfies the KKT conditions of each group's maximum on the simplex.

        ∂ℓ/∂θ_k = c_k/θ_k equals the multiplier n_g on every positive θ_k, and is at most
        n_g (0 ≤ n_g) on every θ_k = 0, where no mass may be moved in without loss.
        """
        n = self.n[:, None].astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            score = np.where(theta > 0, self.counts / theta, 0.0)
        interior_ok = np.where(theta > 0, np.abs(score - n) <= 1e-9 * n, True)
        boundary_ok = np.where(theta == 0, self.counts == 0, True)
        simplex_ok = np.abs(theta.sum(axis=1) - 1.0) <= 1e-12
        return np.asarray(interior_ok.all(axis=1) & boundary_ok.all(axis=1) & simplex_ok)

    def check_proper(self) -> None:
        """Nothing to check: the flat Dirichlet posterior is proper for any counts."""

    def exact_posterior_moments(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Mean and sd of θ_gk | x ~ Beta(c + 1, n + k − c − 1), from Dirichlet(c + 1)."""
        alpha = self.counts + 1.0
        total = (self.n + self.k)[:, None].astype(np.float64)
        mean = alpha / total
        sd = np.sqrt(alpha * (total - alpha) / (total**2 * (total + 1.0)))
        return {"theta": (mean, sd)}

    def profile_intervals(self, level: float) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Profile-likelihood intervals of every θ_gk: the binomial LR interval of c_gk of n_g.

        The profile over the other categories is the binomial likelihood of θ_gk; its
        interval solves c log(θ/θ̂) + (n − c) log((1 − θ)/(1 − θ̂)) = −q/2 on each side of
        θ̂ (vectorised bisection to the last bit). A bound at θ̂ = 0 or 1 is that value:
        one-sided, as for a single categorical model.
        """
        from scipy import stats as sps

        q = float(sps.chi2.ppf(level, 1))
        c = self.counts.astype(np.float64)
        n = np.broadcast_to(self.n[:, None].astype(np.float64), c.shape)
        theta = c / n
        lo = _binomial_root(c, n, theta, q, lower=True)
        hi = _binomial_root(c, n, theta, q, lower=False)
        return {"theta": (lo, hi)}


def _binomial_deviance(c: np.ndarray, n: np.ndarray, t: np.ndarray, hat: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(c > 0, c * np.log(t / hat), 0.0)
        b = np.where(n - c > 0, (n - c) * np.log((1.0 - t) / (1.0 - hat)), 0.0)
    return np.asarray(-2.0 * (a + b))


def _binomial_root(
    c: np.ndarray, n: np.ndarray, hat: np.ndarray, q: float, *, lower: bool
) -> np.ndarray:
    """The θ on one side of θ̂ where the binomial deviance is q (θ̂ itself at 0 or 1)."""
    a = np.zeros_like(hat) if lower else hat.copy()
    b = hat.copy() if lower else np.ones_like(hat)
    edge = (hat == 0.0) if lower else (hat == 1.0)
    # At the far end (0 or 1) the deviance is infinite unless c (or n − c) is 0: the root
    # is inside. Bisection keeps the end where the deviance exceeds q.
    for _ in range(1100):
        mid = 0.5 * (a + b)
        done = (mid == a) | (mid == b)
        if np.all(done | edge):
            break
        over = _binomial_deviance(c, n, mid, hat) > q
        if lower:
            a = np.where(over & ~done, mid, a)
            b = np.where(~over & ~done, mid, b)
        else:
            b = np.where(over & ~done, mid, b)
            a = np.where(~over & ~done, mid, a)
    root = b if lower else a
    return np.asarray(np.where(edge, hat, root))
