"""Maximum likelihood as minimum Kullback-Leibler divergence (numpy/scipy only).

For a discrete model with empirical distribution p̂ (counts/n) the mean log-likelihood is
ℓ(θ)/n = Σ p̂ⱼ log θⱼ = −H(p̂) − KL(p̂‖θ): maximising the likelihood over θ is minimising
KL(p̂‖θ), which is 0 exactly at the MLE θ̂ = p̂, and moving θ away raises KL by exactly the
drop in mean log-likelihood.

For the normal model the empirical distribution has no density, so KL(empirical‖model) is
not defined; the same identity holds with the normal of the sample moments N(x̄, σ̂) in its
place: −ℓ(μ, σ)/n = H(N(x̄, σ̂)) + KL(N(x̄, σ̂)‖N(μ, σ)), with the closed-form KL between
normals. Total variation between a sample and a continuous model is always 1 (they are
mutually singular); the Wasserstein distance is finite and reported.

scipy does the arithmetic: ``scipy.special.rel_entr`` (KL), ``scipy.stats.entropy``,
``scipy.stats.wasserstein_distance``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special, stats

from ppl_mle.core.errors import ModelError
from ppl_mle.core.families import CategoricalFamily, NormalFamily

__all__ = ["DivergenceReport", "divergence", "kl_divergence", "kl_normal", "total_variation"]


def kl_divergence(p: Any, q: Any) -> float:
    """KL(p‖q) = Σ p log(p/q) in nats, by ``scipy.special.rel_entr`` (0·log 0 = 0)."""
    return float(np.sum(special.rel_entr(np.asarray(p, float), np.asarray(q, float))))


def total_variation(p: Any, q: Any) -> float:
    """Total-variation distance ½ Σ |p − q| between two probability vectors."""
    return 0.5 * float(np.sum(np.abs(np.asarray(p, float) - np.asarray(q, float))))


def kl_normal(mu1: float, sigma1: float, mu2: float, sigma2: float) -> float:
    """KL(N(mu1, sigma1²)‖N(mu2, sigma2²)) = log(σ₂/σ₁) + (σ₁² + (μ₁ − μ₂)²)/(2σ₂²) − ½.

    Written in the ratios r = σ₁/σ₂ and d = (μ₁ − μ₂)/σ₂, as (r² − 1 − 2·log r + d²)/2 with
    log r = log σ₁ − log σ₂: no square of a standard deviation is formed, so it is finite
    for parameters from 1e-300 to 1e300, and r² − 1 − log r² is computed without
    cancellation near r = 1 (expm1, log1p).
    """
    log_r = math.log(sigma1) - math.log(sigma2)
    dev = mu1 - mu2
    d = dev / sigma2 if math.isfinite(dev) else mu1 / sigma2 - mu2 / sigma2
    two_log_r = 2.0 * log_r
    # r² − 1 − log r² = expm1(2 log r) − 2 log r, accurate near r = 1.
    excess = math.expm1(two_log_r) - two_log_r if two_log_r < 700 else math.inf
    return 0.5 * (excess + d * d)


@dataclass(frozen=True)
class DivergenceReport:
    """How far a fitted distribution is from the data.

    Attributes
    ----------
    kl : float
        KL(empirical‖model) for a discrete model; for the normal model
        KL(N(x̄, σ̂)‖model), the normal of the sample moments in place of the sample.
    total_variation : float
        ½ Σ|p̂ − θ| (discrete); 1 for a continuous model (a sample and a density are
        mutually singular).
    wasserstein : float
        Wasserstein-1 distance between the empirical distribution and the model.
    entropy : float
        H(p̂) (discrete) or H(N(x̄, σ̂)) (normal), in nats.
    cross_entropy : float
        −ℓ/n: the mean negative log-likelihood, = entropy + kl.
    note : str
        How the figures were computed where that matters.
    """

    kl: float
    total_variation: float
    wasserstein: float
    entropy: float
    cross_entropy: float
    note: str = ""


def divergence(model_or_result: Any, params: dict[str, Any] | None = None) -> DivergenceReport:
    """Divergences between the empirical distribution and the model at ``params``.

    Parameters
    ----------
    model_or_result : MLEResult or a family (NormalFamily, CategoricalFamily)
        A fit (its family and, by default, its estimates) or a family.
    params : dict, optional
        Parameter values (``{"theta": ...}`` or ``{"mu": ..., "sigma": ...}``); the MLE
        of the fit by default.

    Returns
    -------
    DivergenceReport
    """
    family = getattr(model_or_result, "family", model_or_result)
    if params is None:
        params = getattr(model_or_result, "estimates", None)
        if params is None:
            params = family.closed_form()
    if isinstance(family, CategoricalFamily):
        return _categorical(family, params)
    if isinstance(family, NormalFamily):
        return _normal(family, params)
    raise ModelError(
        f"divergence() knows the categorical and normal models; got {type(family).__name__}."
    )


def _categorical(family: CategoricalFamily, params: dict[str, Any]) -> DivergenceReport:
    theta = np.asarray(params["theta"], dtype=float)
    p_hat = family.counts / family.n_obs
    positions = _positions(family.categories)
    return DivergenceReport(
        kl=kl_divergence(p_hat, theta),
        total_variation=total_variation(p_hat, theta),
        wasserstein=float(
            stats.wasserstein_distance(positions, positions, u_weights=p_hat, v_weights=theta)
        ),
        entropy=float(stats.entropy(p_hat)),
        cross_entropy=-family.loglik({"theta": theta}) / family.n_obs,
        note=(
            "Wasserstein on the category values"
            if _numeric(family.categories)
            else "Wasserstein on the category positions 0..k-1 (labels are not numbers)"
        ),
    )


def _normal(family: NormalFamily, params: dict[str, Any]) -> DivergenceReport:
    mu = float(params["mu"])
    sigma = family.sigma if family.sigma is not None else float(params["sigma"])
    mean, sd = family.stats.mean, family.stats.sd_mle
    log_sd = family.stats.log_sd_mle
    x = family.data
    # The model's quantiles on a fine grid stand in for the model in scipy's W1.
    m = int(min(max(20 * (x.size if x is not None else 0), 20_000), 2_000_000))
    grid = stats.norm.ppf((np.arange(m) + 0.5) / m, loc=mu, scale=sigma)
    wasserstein = math.nan if x is None else float(stats.wasserstein_distance(x, grid))
    return DivergenceReport(
        kl=kl_normal(mean, sd, mu, sigma),
        total_variation=1.0,
        wasserstein=wasserstein,
        entropy=0.5 * math.log(2 * math.pi * math.e) + log_sd,
        cross_entropy=-family.loglik({"mu": mu, "sigma": sigma}) / family.n_obs,
        note=(
            "KL and entropy use N(mean, sd by n) in place of the sample; total variation "
            f"between a sample and a density is 1; Wasserstein against {m} model quantiles"
        ),
    )


def _numeric(categories: tuple[Any, ...]) -> bool:
    return all(
        isinstance(c, int | float | np.integer | np.floating) and not isinstance(c, bool)
        for c in categories
    )


def _positions(categories: tuple[Any, ...]) -> np.ndarray:
    if _numeric(categories):
        return np.asarray(categories, dtype=float)
    return np.arange(len(categories), dtype=float)
