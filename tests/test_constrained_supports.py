"""Flat priors on multivariate supports: ordered vectors and Cholesky factors.

A normal mixture with ordered means is checked against an EM implementation written
here; an MvNormal with an ``LKJCholeskyCov`` against its closed form (the sample mean and
the covariance divided by n) and scipy's log-density.
"""

import math

import numpy as np
import pymc as pm
import pytest
from pymc.distributions.transforms import CholeskyCovPacked, Ordered
from scipy import stats
from scipy.special import logsumexp

import ppl_mle
from ppl_mle import FitStatus, ModelError

RNG = np.random.default_rng(20260301)
MIXTURE = np.concatenate([RNG.normal(-2.0, 1.0, 300), RNG.normal(3.0, 0.8, 200)])


def _mixture_loglik(x, w, mu, sigma):
    """Σᵢ log Σₖ wₖ N(xᵢ; μₖ, σₖ), summed exactly."""
    terms = np.log(w) + stats.norm.logpdf(x[:, None], mu, sigma)
    return math.fsum(logsumexp(terms, axis=1))


def _em(x, w, mu, sigma, iterations=20_000):
    """Maximum likelihood for a normal mixture by EM, to its fixed point."""
    for _ in range(iterations):
        terms = np.log(w) + stats.norm.logpdf(x[:, None], mu, sigma)
        r = np.exp(terms - logsumexp(terms, axis=1, keepdims=True))
        nk = r.sum(axis=0)
        new_mu = (r * x[:, None]).sum(axis=0) / nk
        new_sigma = np.sqrt((r * (x[:, None] - new_mu) ** 2).sum(axis=0) / nk)
        new_w = nk / len(x)
        change = max(
            np.max(np.abs(new_mu - mu)),
            np.max(np.abs(new_sigma - sigma)),
            np.max(np.abs(new_w - w)),
        )
        w, mu, sigma = new_w, new_mu, new_sigma
        if change < 1e-15:
            break
    return w, mu, sigma


@pytest.fixture(scope="module")
def em_mixture():
    return _em(MIXTURE, np.array([0.5, 0.5]), np.array([-1.0, 1.0]), np.array([1.0, 1.0]))


@pytest.mark.parametrize("ascending", [True, False])
def test_normal_mixture_with_ordered_means_matches_em(em_mixture, ascending):
    # No initial value: the prior's start (tied means [0, 0]) is on the boundary of the
    # ordered cone, and the fit starts inside it.
    with pm.Model() as model:
        w = pm.Dirichlet("w", np.ones(2))
        mu = pm.Normal("mu", 0, 10, shape=2, transform=Ordered(ascending=ascending))
        sigma = pm.HalfNormal("sigma", 5, shape=2)
        pm.NormalMixture("y", w=w, mu=mu, sigma=sigma, observed=MIXTURE)
    result = ppl_mle.fit_mle(model)
    assert result.status is FitStatus.VERIFIED, result.message
    w_em, mu_em, sigma_em = em_mixture
    order = slice(None) if ascending else slice(None, None, -1)
    np.testing.assert_allclose(result.estimates["mu"], mu_em[order], rtol=0, atol=1e-6)
    np.testing.assert_allclose(result.estimates["sigma"], sigma_em[order], rtol=0, atol=1e-6)
    np.testing.assert_allclose(result.estimates["w"], w_em[order], rtol=0, atol=1e-6)
    assert result.loglik == pytest.approx(_mixture_loglik(MIXTURE, *em_mixture), abs=1e-9)
    own = _mixture_loglik(
        MIXTURE, result.estimates["w"], result.estimates["mu"], result.estimates["sigma"]
    )
    assert result.loglik == pytest.approx(own, rel=1e-12)
    assert isinstance(model.rvs_to_transforms[model["mu"]], Ordered)


# eta=2.0 is a float32 constant inside PyMC's symbolic random variable, whose input types
# are fixed: the fit computes in float64 around it.
@pytest.mark.parametrize(("n", "eta"), [(2, 2), (3, 2), (2, 2.0)])
def test_mvnormal_with_lkj_cholesky_covariance_is_the_sample_covariance(n, eta):
    cov = np.array([[2.0, 0.5, -0.3], [0.5, 1.0, 0.2], [-0.3, 0.2, 0.7]])[:n, :n]
    x = np.random.default_rng(20260302 + n).multivariate_normal(np.arange(1.0, n + 1), cov, 300)
    with pm.Model() as model:
        chol, _, _ = pm.LKJCholeskyCov(
            "chol", n=n, eta=eta, sd_dist=pm.Exponential.dist(1.0), compute_corr=True
        )
        m = pm.Normal("m", 0, 10, shape=n)
        pm.MvNormal("x", m, chol=chol, observed=x)
    transform = model.rvs_to_transforms[model["chol"]]
    result = ppl_mle.fit_mle(model)
    assert result.status is FitStatus.VERIFIED, result.message
    mean = x.mean(axis=0)
    sample_cov = np.cov(x.T, bias=True)
    np.testing.assert_allclose(result.estimates["m"], mean, rtol=0, atol=1e-8)
    factor = np.zeros((n, n))
    factor[np.tril_indices(n)] = result.estimates["chol"]
    assert np.all(np.diag(factor) > 0)
    np.testing.assert_allclose(factor @ factor.T, sample_cov, rtol=0, atol=1e-8)
    # The deterministics the declaration adds: the standard deviations and correlations.
    derived = result.derived()["estimate"]
    sds = np.sqrt(np.diag(sample_cov))
    stds = [derived[f"chol_stds[{i}]"] for i in range(n)]
    np.testing.assert_allclose(stds, sds, rtol=0, atol=1e-8)
    corr = np.array([[derived[f"chol_corr[{i}, {j}]"] for j in range(n)] for i in range(n)])
    np.testing.assert_allclose(corr, sample_cov / np.outer(sds, sds), rtol=0, atol=1e-8)
    reference = math.fsum(stats.multivariate_normal.logpdf(x, mean, sample_cov))
    assert result.loglik == pytest.approx(reference, rel=1e-12)
    # The user's model keeps its own transform.
    assert model.rvs_to_transforms[model["chol"]] is transform
    assert type(transform) is CholeskyCovPacked


def test_an_ordered_transform_chained_to_a_positive_prior():
    # transform=ordered on a HalfNormal: PyMC chains it after the prior's log transform.
    rng = np.random.default_rng(20260303)
    a, b = rng.poisson(2.0, 80), rng.poisson(5.0, 60)
    with pm.Model() as model:
        lam = pm.HalfNormal("lam", 10, shape=2, transform=Ordered())
        pm.Poisson("a", lam[0], observed=a)
        pm.Poisson("b", lam[1], observed=b)
    assert "ChainedTransform" in type(model.rvs_to_transforms[lam]).__name__
    result = ppl_mle.fit_mle(model)
    assert result.status is FitStatus.VERIFIED, result.message
    np.testing.assert_allclose(result.estimates["lam"], [a.mean(), b.mean()], rtol=1e-10)
    reference = math.fsum([*stats.poisson.logpmf(a, a.mean()), *stats.poisson.logpmf(b, b.mean())])
    assert result.loglik == pytest.approx(reference, rel=1e-12)


def test_a_transform_with_no_flat_prior_is_refused_by_name():
    # Chained after the simplex transform, SumTo1 maps onto the hyperplane Σθ = 1, not
    # onto the simplex.
    with pm.Model() as model:
        theta = pm.Dirichlet("theta", np.ones(3), transform=pm.distributions.transforms.sum_to_1)
        pm.Categorical("y", theta, observed=np.array([0, 1, 1, 2]))
    with pytest.raises(
        ModelError,
        match=r"'theta' has support transform ChainedTransform\(SimplexTransform, SumTo1\)",
    ):
        ppl_mle.fit_mle(model)
