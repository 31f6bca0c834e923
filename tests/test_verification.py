"""fit_mle checks its own answer: no silent wrong result."""

import warnings

import numpy as np
import pytest
from conftest import HEIGHTS

import ppl_mle


def test_verified_fit_reports_its_evidence(normal_sample):
    result = ppl_mle.fit_mle(ppl_mle.normal(normal_sample))
    assert result.converged
    assert result.newton_step_se < 1e-8
    assert result.grad_norm < 1e-8
    assert result.optimizer_success
    assert "Verified maximum" in result.message


def test_maxeval_exhausted_without_polish_warns():
    with pytest.warns(ppl_mle.ConvergenceWarning, match="Cannot vouch"):
        result = ppl_mle.fit_mle(ppl_mle.normal(HEIGHTS), maxeval=2, polish=False)
    assert not result.converged
    assert not result.optimizer_success
    assert "maxeval=2" in result.message
    assert result.n_iterations is None


def test_maxeval_exhausted_raises_when_asked():
    with pytest.raises(ppl_mle.ConvergenceError, match="maxeval=2"):
        ppl_mle.fit_mle(ppl_mle.normal(HEIGHTS), maxeval=2, polish=False, on_failure="raise")


def test_maxeval_exhausted_then_rescued_by_newton_says_so():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = ppl_mle.fit_mle(ppl_mle.normal(HEIGHTS), maxeval=2)
    assert result.converged
    assert not result.optimizer_success
    assert "did not succeed" in result.message and "maxeval=2" in result.message
    assert result.polish_steps > 0
    assert result.check_analytic().passed


def test_unpolished_derivative_free_fit_is_still_verified(normal_sample):
    result = ppl_mle.fit_mle(ppl_mle.normal(normal_sample), method="Nelder-Mead", polish=False)
    assert result.converged
    assert result.polish_steps == 0
    # Nelder-Mead alone is limited by the resolution of the objective, not of the gradient.
    check = result.check_analytic(rtol=1e-6, loglik_atol=1e-9)
    assert check.passed, str(check)


def test_bad_start_far_away_is_recovered_or_flagged():
    x = 1e7 + np.r_[0.2, np.tile([0.1, 0.3], 500)]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = ppl_mle.fit_mle(ppl_mle.normal(x), start={"mu": 0.0, "sigma": 1.0})
    closed = ppl_mle.closed_form.normal_mle(x)
    if result.converged:
        assert float(result.estimates["mu"]) == pytest.approx(closed["mu"], rel=1e-12)
        assert float(result.estimates["sigma"]) == pytest.approx(closed["sigma"], rel=1e-10)
    else:
        assert any(issubclass(w.category, ppl_mle.ConvergenceWarning) for w in caught)


def test_user_start_in_either_space(normal_sample):
    a = ppl_mle.fit_mle(ppl_mle.normal(normal_sample), start={"sigma": 3.0})
    b = ppl_mle.fit_mle(ppl_mle.normal(normal_sample), start={"sigma_log__": np.log(3.0)})
    assert a.converged and b.converged
    assert float(a.estimates["sigma"]) == pytest.approx(float(b.estimates["sigma"]), rel=1e-13)


def test_unbounded_likelihood_is_not_reported_as_converged():
    """A likelihood with no maximum (a mean per observation and a common sd) is flagged."""
    import pymc as pm

    with pm.Model() as model:
        mu = pm.Flat("mu", shape=3)
        sigma = pm.HalfFlat("sigma")
        pm.Normal("x", mu=mu, sigma=sigma, observed=np.array([1.0, 2.0, 4.0]))
    with pytest.warns(ppl_mle.ConvergenceWarning, match="Cannot vouch"):
        result = ppl_mle.fit_mle(model)
    assert not result.converged
