"""The categorical model: k categories, probabilities on the simplex (numpy/scipy only)."""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, cast

import numpy as np
from scipy import special, stats

from ppl_mle.core.closed_form import categorical_counts, categorical_loglik, categorical_mle
from ppl_mle.core.divergence import DivergenceReport, kl_divergence, total_variation
from ppl_mle.core.tolerances import ROOT_RTOL

__all__ = ["STRUCTURED_MIN_K", "CategoricalFamily"]

#: From this many categories on, a categorical fit is verified, polished and given its
#: standard errors and profile intervals in O(k) (a k × k matrix at k = 1e4 is 800 MB).
STRUCTURED_MIN_K = 1_000


@dataclass(frozen=True, eq=False)
class CategoricalFamily:
    """Categorical observations: k categories, probabilities θ on the simplex.

    Attributes
    ----------
    codes : numpy.ndarray or None
        Integer code of each observation, an index into ``categories``; None when only
        the counts are known.
    categories : tuple
        The category labels, in order.
    given_counts : numpy.ndarray or None
        The counts when the family is declared from them.
    """

    codes: np.ndarray | None = field(repr=False)
    categories: tuple[Hashable, ...]
    given_counts: np.ndarray | None = field(default=None, repr=False)

    has_closed_form = True

    name = "categorical"

    @property
    def n_obs(self) -> int:
        """Number of observations."""
        return int(self.counts.sum())

    @property
    def k(self) -> int:
        """Number of categories."""
        return len(self.categories)

    @cached_property
    def counts(self) -> np.ndarray:
        """Count of each category."""
        if self.given_counts is not None:
            return np.asarray(self.given_counts, dtype=np.int64)
        if self.codes is None:
            raise RuntimeError("internal error: a categorical family with neither codes nor counts")
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
        categories = tuple(self.categories[i] for i in keep)
        if self.codes is None:
            return CategoricalFamily(None, categories, self.counts[keep])
        recode = np.full(self.k, -1, dtype=np.int64)
        recode[keep] = np.arange(keep.size)
        return CategoricalFamily(recode[self.codes], categories)

    def embed(self, params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Map interior probabilities back to all k categories, with exact zeros."""
        theta = np.zeros(self.k)
        theta[self.counts > 0] = np.asarray(params["theta"])
        return {"theta": theta}

    # -- structure: the information on the simplex is diagonal plus low rank -------------
    @property
    def structured(self) -> bool:
        """Whether fits use the O(k) algebra below instead of dense k × k matrices."""
        return self.k > STRUCTURED_MIN_K

    def hessian_z(self, z: np.ndarray) -> np.ndarray:
        """Hessian of ℓ in PyMC's simplex coordinates ``z`` (dense, O(k²) memory).

        With η = [z, −Σz] and θ = softmax(η), ℓ = cᵀη − n·logsumexp(η), so
        H = −n·Aᵀ(diag θ − θθᵀ)A with A = [I; −1ᵀ]: −n(diag θ' + θₖ11ᵀ − uuᵀ), where θ'
        are the first k − 1 probabilities and u = θ' − θₖ1. Used for small k; large k
        never forms it (:meth:`newton_step`, :meth:`standard_errors`).
        """
        theta = _simplex_theta(z)
        head, last = theta[:-1], theta[-1]
        u = head - last
        h = np.diag(head) + last - np.outer(u, u)
        return cast(np.ndarray, -self.n_obs * h)

    def newton_step(self, theta: np.ndarray) -> tuple[np.ndarray, float]:
        """One Newton step for ℓ on the simplex in O(k), and the Newton decrement before it.

        On the log-odds η the Newton system n(diag θ − θθᵀ)s = c − nθ is solved by
        s = c/(nθ) − 1 (its θθᵀ term vanishes, as Σ(c/n − θ) = 0), up to the constant
        direction that softmax ignores. The decrement λ² = sᵀ I s, I the information, bounds
        the step along every coordinate in standard errors: ``|sᵢ|/seᵢ ≤ λ``.
        """
        theta = np.asarray(theta, dtype=np.float64)
        n = self.n_obs
        s = self.counts / (n * theta) - 1.0
        weighted = theta * s
        decrement = float(n * (np.dot(weighted, s) - np.sum(weighted) ** 2))
        eta = np.log(theta) + s
        eta -= eta.max()
        new = np.exp(eta)
        return new / new.sum(), math.sqrt(max(decrement, 0.0))

    def standard_errors(self, theta: np.ndarray) -> np.ndarray:
        """sqrt(θ(1 − θ)/n): the diagonal of the inverse information (diag θ − θθᵀ)/n."""
        theta = np.asarray(theta, dtype=np.float64)
        return np.sqrt(theta * (1.0 - theta) / self.n_obs)

    def profile_interval(self, j: int, q: float) -> tuple[float, float]:
        """Profile-likelihood interval of θⱼ in O(1): the binomial likelihood-ratio interval.

        Fixing θⱼ = t, the others are best at cᵢ(1 − t)/(n − cⱼ), so the profile deviance is
        2[cⱼ log(θ̂ⱼ/t) + (n − cⱼ) log((1 − θ̂ⱼ)/(1 − t))]; the ends solve deviance = q
        (an end reaching 0 or 1 is that bound).
        """
        from scipy import optimize

        n, c = self.n_obs, float(self.counts[j])
        hat = c / n

        def excess(t: float) -> float:
            return (
                2.0
                * float(
                    special.xlogy(c, hat)
                    - special.xlogy(c, t)
                    + special.xlogy(n - c, 1 - hat)
                    - special.xlogy(n - c, 1 - t)
                )
                - q
            )

        ends = []
        for bound in (0.0, 1.0):
            if hat == bound or excess(bound) <= 0:
                ends.append(bound)
            else:
                ends.append(
                    float(
                        optimize.brentq(excess, *sorted((hat, bound)), xtol=1e-300, rtol=ROOT_RTOL)
                    )
                )
        return ends[0], ends[1]

    # -- the protocol's questions -------------------------------------------------------
    param_names = ("theta",)

    @property
    def known(self) -> dict[str, float]:
        """``{}``: nothing is fixed."""
        return {}

    def at_vertex(self) -> bool:
        """Whether all observations fall in one category (no interior parameter left)."""
        return int(np.count_nonzero(self.counts)) == 1

    def standardized(self) -> None:
        """None: probabilities need no rescaling."""
        return None

    #: The family's own Newton polish (O(k)) finishes L-BFGS-B's point; Newton's method in
    #: find_MAP would form the k × k Hessian.
    preferred_method = "L-BFGS-B"

    def simplex(self) -> CategoricalFamily:
        """The family itself: its parameters are probabilities on the simplex."""
        return self

    def diagnose(self, params: dict[str, np.ndarray]) -> None:
        """None: the categorical MLE always exists (on the boundary where counts are 0)."""
        return None

    def resolution_digits(self) -> None:
        """None: counts are exact."""
        return None

    def check_proper(self) -> None:
        """Nothing to check: the flat Dirichlet posterior is always proper."""

    def exact_posterior(self) -> dict[str, Any]:
        """θ | x ~ Dirichlet(1 + counts): marginals Beta(1 + cⱼ, n + k − 1 − cⱼ) by label."""
        counts, n, k = self.counts, self.n_obs, self.k
        return {
            f"theta[{c}]": stats.beta(1 + counts[j], n + k - 1 - counts[j])
            for j, c in enumerate(self.categories)
        }

    def divergence(self, params: dict[str, Any]) -> DivergenceReport:
        """KL(p̂‖θ), total variation and W1 between the empirical frequencies p̂ and θ.

        Wasserstein is taken on the category values when they are numbers, else on the
        positions 0..k−1.
        """
        theta = np.asarray(params["theta"], dtype=float)
        p_hat = self.counts / self.n_obs
        positions = _positions(self.categories)
        return DivergenceReport(
            kl=kl_divergence(p_hat, theta),
            total_variation=total_variation(p_hat, theta),
            wasserstein=float(
                stats.wasserstein_distance(positions, positions, u_weights=p_hat, v_weights=theta)
            ),
            entropy=float(stats.entropy(p_hat)),
            cross_entropy=-self.loglik({"theta": theta}) / self.n_obs,
            note=(
                "Wasserstein on the category values"
                if _numeric(self.categories)
                else "Wasserstein on the category positions 0..k-1 (labels are not numbers)"
            ),
        )

    def report_fields(self, params: dict[str, Any]) -> dict[str, Any]:
        """The category labels, as strings, in the order of ``theta``."""
        return {"categories": [str(c) for c in self.categories]}


def _simplex_theta(z: np.ndarray) -> np.ndarray:
    """θ = softmax([z, −Σz]): PyMC's simplex transform, backwards."""
    eta = np.append(np.asarray(z, dtype=np.float64), -np.sum(z))
    eta -= eta.max()
    theta = np.exp(eta)
    return cast(np.ndarray, theta / theta.sum())


def _numeric(categories: tuple[Any, ...]) -> bool:
    return all(
        isinstance(c, int | float | np.integer | np.floating) and not isinstance(c, bool)
        for c in categories
    )


def _positions(categories: tuple[Any, ...]) -> np.ndarray:
    if _numeric(categories):
        return np.asarray(categories, dtype=float)
    return np.arange(len(categories), dtype=float)
