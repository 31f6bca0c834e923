"""Maximum likelihood = minimum KL divergence, checked numerically.

Identities (exact): for the categorical model −ℓ(θ)/n = H(p̂) + KL(p̂‖θ), KL = 0 at the MLE
θ̂ = p̂; for the normal model −ℓ(μ, σ)/n = H(N(x̄, σ̂)) + KL(N(x̄, σ̂)‖N(μ, σ)). References:
scipy.stats.entropy (which also computes KL) and the closed-form KL between normals checked
against numerical integration.
"""

import math

import numpy as np
import pytest
from conftest import LABELS
from scipy import integrate, stats

import ppl_mle


@pytest.fixture(scope="module")
def categorical_fit():
    return ppl_mle.fit_mle(ppl_mle.categorical(LABELS))


def test_kl_is_zero_at_the_mle_and_cross_entropy_decomposes(categorical_fit):
    report = ppl_mle.teaching.divergence(categorical_fit)
    p_hat = np.bincount(LABELS)[1:] / len(LABELS)
    assert report.kl == pytest.approx(0.0, abs=1e-15)
    assert report.total_variation == pytest.approx(0.0, abs=1e-15)
    assert report.entropy == pytest.approx(stats.entropy(p_hat), rel=1e-15)
    assert report.cross_entropy == pytest.approx(-categorical_fit.loglik / len(LABELS), rel=1e-12)
    assert report.cross_entropy == pytest.approx(report.entropy + report.kl, rel=1e-12)


def test_moving_away_raises_kl_by_the_drop_in_mean_loglik(categorical_fit):
    family = categorical_fit.family
    n = family.n_obs
    theta_hat = categorical_fit.estimates["theta"]
    at_mle = ppl_mle.teaching.divergence(categorical_fit)
    rng = np.random.default_rng(5)
    for _ in range(5):
        theta = rng.dirichlet(np.ones(4))
        report = ppl_mle.teaching.divergence(categorical_fit, {"theta": theta})
        drop = (family.loglik({"theta": theta_hat}) - family.loglik({"theta": theta})) / n
        assert report.kl - at_mle.kl == pytest.approx(drop, rel=1e-12)
        assert report.kl == pytest.approx(stats.entropy(family.counts / n, theta), rel=1e-12)
        assert report.cross_entropy == pytest.approx(report.entropy + report.kl, rel=1e-12)
        assert report.kl > 0 and report.total_variation > 0


def test_total_variation_and_wasserstein_on_numeric_categories(categorical_fit):
    theta = np.array([0.1, 0.2, 0.3, 0.4])
    report = ppl_mle.teaching.divergence(categorical_fit, {"theta": theta})
    p_hat = np.array([8, 5, 4, 3]) / 20
    assert report.total_variation == pytest.approx(0.5 * np.abs(p_hat - theta).sum())
    # Categories 1..4 are numbers: W1 = Σ |F_p − F_θ| over unit steps.
    w1 = np.abs(np.cumsum(p_hat) - np.cumsum(theta))[:-1].sum()
    assert report.wasserstein == pytest.approx(w1, rel=1e-12)


def test_kl_normal_closed_form_matches_integration():
    mu1, s1, mu2, s2 = 0.3, 1.7, -0.4, 2.2

    def integrand(x):
        p, q = stats.norm.pdf(x, mu1, s1), stats.norm.pdf(x, mu2, s2)
        return p * math.log(p / q)

    numeric, _ = integrate.quad(integrand, -30, 30, epsabs=1e-13)
    assert ppl_mle.teaching.kl_normal(mu1, s1, mu2, s2) == pytest.approx(numeric, rel=1e-9)


def test_normal_likelihood_decomposes_into_entropy_plus_kl(normal_sample):
    x = normal_sample
    result = ppl_mle.fit_mle(ppl_mle.normal(x))
    at_mle = ppl_mle.teaching.divergence(result)
    assert at_mle.kl == pytest.approx(0.0, abs=1e-14)
    assert at_mle.cross_entropy == pytest.approx(-result.loglik / x.size, rel=1e-12)
    assert at_mle.entropy == pytest.approx(stats.norm(0, x.std()).entropy(), rel=1e-14)
    for mu, sigma in ((4.5, 1.2), (5.2, 0.8)):
        report = ppl_mle.teaching.divergence(result, {"mu": mu, "sigma": sigma})
        loglik = stats.norm.logpdf(x, mu, sigma).sum()
        assert report.cross_entropy == pytest.approx(-loglik / x.size, rel=1e-12)
        assert report.entropy + report.kl == pytest.approx(report.cross_entropy, rel=1e-12)
    assert at_mle.total_variation == 1.0
    # Wasserstein against the model's quantiles: near the W1 of two samples of the model.
    assert 0 < at_mle.wasserstein < 0.2


def test_divergence_of_an_unsupported_model():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 1))
    model = ppl_mle.softmax_regression(x, rng.choice(["a", "b"], 50))
    with pytest.raises(ppl_mle.ModelError, match="categorical and normal"):
        ppl_mle.teaching.divergence(model.family, {"beta": np.zeros((2, 1))})
