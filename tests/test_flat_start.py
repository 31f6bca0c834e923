"""The flat copy of a user's model starts where the user's model starts (initial values
carried over), so models with ``initval=`` and untransformed bounded priors are fitted."""

import numpy as np
import pymc as pm
import pytest

import ppl_mle

X = np.array([4.1, 5.3, 6.2, 4.8, 5.9, 5.1, 6.6])


def normal_with_initvals():
    with pm.Model() as model:
        mu = pm.Normal("mu", 0.0, 10.0, initval=3.0)
        sigma = pm.HalfNormal("sigma", 5.0, initval=2.0)
        pm.Normal("x", mu, sigma, observed=X)
    return model


def test_initvals_are_carried_to_the_flat_copy_and_kept_on_the_model():
    model = normal_with_initvals()
    flat = ppl_mle.flat_priors(model)
    start = flat.initial_point()
    assert start["mu"] == pytest.approx(3.0)
    assert start["sigma_log__"] == pytest.approx(np.log(2.0))
    # The user's model keeps its own initial values.
    held = {rv.name: value for rv, value in model.rvs_to_initial_values.items()}
    assert float(held["mu"]) == 3.0 and float(held["sigma"]) == 2.0


def test_model_with_initvals_gives_the_closed_form_mle():
    result = ppl_mle.fit_mle(normal_with_initvals())
    assert result.converged, result.message
    assert float(result.estimates["mu"]) == pytest.approx(X.mean(), rel=1e-12)
    assert float(result.estimates["sigma"]) == pytest.approx(X.std(), rel=1e-10)


def test_untransformed_uniform_prior_starts_inside_its_support():
    y = np.array([1, 0, 1, 1, 1, 0, 1, 1])
    with pm.Model() as model:
        p = pm.Uniform("p", 0.0, 1.0, default_transform=None)
        pm.Bernoulli("y", p=p, observed=y)
    result = ppl_mle.fit_mle(model)
    assert result.converged, result.message
    assert float(result.estimates["p"]) == pytest.approx(y.mean(), rel=1e-10)
