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
``scipy.stats.wasserstein_distance``. Each family computes its own report
(``Family.divergence``, with the helpers and :class:`DivergenceReport` of this module);
:func:`divergence` asks it, and says so where a family defines none.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special

from ppl_mle.core.errors import ModelError

__all__ = ["DivergenceReport", "divergence", "kl_divergence", "kl_normal", "total_variation"]


def kl_divergence(p: Any, q: Any) -> float:
    """KL(p‖q) = Σ p log(p/q) in nats, by ``scipy.special.rel_entr`` (0·log 0 = 0)."""
    return float(np.sum(special.rel_entr(np.asarray(p, float), np.asarray(q, float))))


def total_variation(p: Any, q: Any) -> float:
    """Total-variation distance ½ Σ ``|p − q|`` between two probability vectors."""
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
    model_or_result : MLEResult or Family
        A fit (its family and, by default, its estimates) or a family.
    params : dict, optional
        Parameter values (``{"theta": ...}`` or ``{"mu": ..., "sigma": ...}``); the MLE
        of the fit, or the family's closed form, by default.

    Returns
    -------
    DivergenceReport

    Raises
    ------
    ModelError
        The family defines no divergence from the data (softmax regression: there is no
        empirical distribution of the labels given the features).
    """
    # A fit holds its family; the families (which import this module) answer the rest.
    family = getattr(model_or_result, "family", model_or_result)
    if params is None:
        params = getattr(model_or_result, "estimates", None)
    if params is None and family is not None and family.has_closed_form:
        params = family.closed_form()
    report: DivergenceReport | None = (
        None if family is None or params is None else family.divergence(params)
    )
    if report is None:
        raise ModelError(
            f"divergence() knows the categorical and normal models; got {type(family).__name__}."
        )
    return report
