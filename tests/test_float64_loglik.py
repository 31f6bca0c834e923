"""A user's model with known constants (``3.0``, ``2``): its log-likelihood in float64.

PyTensor keeps a round Python number as a float32 or int8 constant and would take its log
in float32, 2e-8 per observation off. Each log-likelihood is checked against
scipy.stats summed exactly (math.fsum) at the estimate, to 1e-12 relative, with the
estimate, the Hessian and the standard error against their closed forms.
"""

import math

import numpy as np
import pymc as pm
import pytensor
import pytensor.tensor as pt
import pytest
from scipy import stats

import ppl_mle
from ppl_mle import FitStatus
from ppl_mle.fit.cache import compilations
from ppl_mle.fit.objective import objective_for
from ppl_mle.model.float64 import in_float64

N = 20_000
Y = np.random.default_rng(20260212).normal(2.0, 1.5, N)
K = np.random.default_rng(20260213).poisson(3.0, 500)
E = np.random.default_rng(20260214).exponential(2.0, 500)


def _fit(model):
    result = ppl_mle.fit_mle(model)
    assert result.status is FitStatus.VERIFIED, result.message
    return result


@pytest.mark.parametrize("sigma", [1, 2.0, 3.0, 0.5])
def test_known_sigma(sigma):
    with pm.Model() as model:
        mu = pm.Normal("mu", 0, 10)
        pm.Normal("y", mu, sigma, observed=Y)
    result = _fit(model)
    mu_hat = float(result.params["mu"])
    assert mu_hat == pytest.approx(math.fsum(Y) / N, rel=1e-13)
    reference = math.fsum(stats.norm.logpdf(Y, mu_hat, float(sigma)))
    assert result.loglik == pytest.approx(reference, rel=1e-12, abs=0)
    assert result.aic == pytest.approx(2.0 - 2.0 * reference, rel=1e-12, abs=0)
    # d²ℓ/dμ² = −n/σ² exactly; SE σ/√n.
    assert result.hessian is not None
    assert float(result.hessian[0, 0]) == pytest.approx(-N / sigma**2, rel=1e-12)
    assert float(result.bse["mu"]) == pytest.approx(sigma / math.sqrt(N), rel=1e-10)
    # Away from the estimate, at μ = 0: the log-density and its gradient nȳ/σ².
    value, grad = result.objective.value_and_grad(np.array([0.0]))
    assert value == pytest.approx(math.fsum(stats.norm.logpdf(Y, 0.0, float(sigma))), rel=1e-12)
    assert float(grad[0]) == pytest.approx(math.fsum(Y) / sigma**2, rel=1e-12)


def test_known_offset_and_a_sigma_computed_from_an_int():
    # sqrt(2) of the int8 constant 2 is a float32 sqrt unless computed in float64.
    with pm.Model() as model:
        mu = pm.Normal("mu", 0, 10)
        pm.Normal("y", mu + 2, pt.sqrt(2), observed=Y)
    result = _fit(model)
    mu_hat = float(result.params["mu"])
    assert mu_hat == pytest.approx(math.fsum(Y) / N - 2.0, rel=1e-12)
    reference = math.fsum(stats.norm.logpdf(Y, mu_hat + 2.0, math.sqrt(2.0)))
    assert result.loglik == pytest.approx(reference, rel=1e-12, abs=0)
    assert float(result.hessian[0, 0]) == pytest.approx(-N / 2.0, rel=1e-12)


def test_known_poisson_and_exponential_rates_beside_a_free_mean():
    with pm.Model() as model:
        mu = pm.Normal("mu", 0, 10)
        pm.Normal("y", mu, 0.5, observed=Y)
        pm.Poisson("k", 3.0, observed=K)
        pm.Exponential("e", 0.5, observed=E)
    result = _fit(model)
    mu_hat = float(result.params["mu"])
    reference = math.fsum(
        [
            *stats.norm.logpdf(Y, mu_hat, 0.5),
            *stats.poisson.logpmf(K, 3.0),
            *stats.expon.logpdf(E, scale=2.0),
        ]
    )
    assert result.loglik == pytest.approx(reference, rel=1e-12, abs=0)
    assert mu_hat == pytest.approx(math.fsum(Y) / N, rel=1e-13)
    assert float(result.hessian[0, 0]) == pytest.approx(-N / 0.25, rel=1e-12)


def test_a_model_with_flat_priors_fitted_as_it_is():
    # Flat priors already: fitted on a copy with the same priors, in float64 throughout.
    with pm.Model() as model:
        mu = pm.Flat("mu")
        pm.Normal("y", mu, 3.0, observed=Y)
    result = _fit(model)
    assert result.source_model is model
    mu_hat = float(result.params["mu"])
    reference = math.fsum(stats.norm.logpdf(Y, mu_hat, 3.0))
    assert result.loglik == pytest.approx(reference, rel=1e-12, abs=0)
    assert float(result.hessian[0, 0]) == pytest.approx(-N / 9.0, rel=1e-12)


def test_likelihood_ratio_of_a_known_sigma():
    with pm.Model() as restricted:
        mu = pm.Normal("mu", 0, 10)
        pm.Normal("y", mu, 3.0, observed=Y)
    with pm.Model() as full:
        mu = pm.Normal("mu", 0, 10)
        sigma = pm.HalfNormal("sigma", 5)
        pm.Normal("y", mu, sigma, observed=Y)
    test = ppl_mle.lr_test(_fit(restricted), _fit(full))
    mean = math.fsum(Y) / N
    sd = math.sqrt(math.fsum((Y - mean) ** 2) / N)
    statistic = 2.0 * (
        math.fsum(stats.norm.logpdf(Y, mean, sd)) - math.fsum(stats.norm.logpdf(Y, mean, 3.0))
    )
    assert test.statistic == pytest.approx(statistic, rel=1e-9)


def test_the_user_model_is_untouched_and_its_flat_copy_computes_in_float64():
    with pm.Model() as model:
        mu = pm.Normal("mu", 0, 10)
        pm.Normal("y", mu, 3.0, observed=Y[:50])
    user_logp = model.compile_logp()
    point = {"mu": np.array(1.25)}
    before = user_logp(point)
    free, observed = list(model.free_RVs), list(model.observed_RVs)
    result = _fit(model)
    assert result.model is not model
    assert list(model.free_RVs) == free and list(model.observed_RVs) == observed
    assert observed[0].owner.inputs[-1].dtype == "float32"  # the user's constant 3.0
    assert model.compile_logp()(point) == before
    assert result.model.observed_RVs[0].owner.inputs[-1].dtype == "float64"
    # Upcast once, when the objective was built: a refit reuses its compiled function.
    compiled = compilations()
    objective_for(result.model)
    assert ppl_mle.fit_mle(model).converged
    assert compilations() == compiled


def test_in_float64_computes_what_was_short_in_float64():
    three = pt.as_tensor_variable(3.0)
    two = pt.as_tensor_variable(2)
    x = pt.vector("x", dtype="float64")
    outputs = [pt.log(three), pt.sqrt(two), pt.cast(x, "float32").sum() * three, x * three]
    assert [o.dtype for o in outputs] == ["float32", "float32", "float32", "float64"]
    rebuilt = in_float64(outputs)
    assert [o.dtype for o in rebuilt] == ["float64"] * 4
    values = pytensor.function([x], rebuilt)(np.array([0.1, 0.2]))
    assert values[0] == math.log(3.0)
    assert values[1] == math.sqrt(2.0)
    assert values[2] == (0.1 + 0.2) * 3.0
    np.testing.assert_array_equal(values[3], [0.1 * 3.0, 0.2 * 3.0])
    # The original graph is left as it was; a float64 graph is returned as it is.
    assert outputs[0].dtype == "float32"
    already = [x * pt.constant(2.5, dtype="float64"), pt.log(x)]
    assert all(a is b for a, b in zip(in_float64(already), already, strict=True))


def test_deterministics_are_evaluated_in_float64():
    y = np.random.default_rng(3).normal(5.0, 2.0, size=500)
    with pm.Model() as model:
        # Flat priors: the model is fitted as it is, not through a flat copy.
        mu = pm.Flat("mu")
        sigma = pm.HalfFlat("sigma")
        pm.Deterministic("d", pm.math.log(3.0) * mu + pm.math.log(0.7))
        pm.Normal("y", mu, sigma, observed=y)
    result = _fit(model)
    mu_hat = float(result.estimates["mu"])
    assert mu_hat == pytest.approx(math.fsum(y) / y.size, rel=1e-14)
    exact = math.log(3.0) * mu_hat + math.log(0.7)
    # float32 logs of 3.0 and 0.7 would be off by ~1e-8 relative
    assert float(result.derived().loc["d", "estimate"]) == pytest.approx(exact, rel=1e-14)
