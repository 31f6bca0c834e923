"""The check that the MLE exists (the probe along the flattest direction) raises no false
alarm where the maximum is interior and only the bound of a support or a prior is near."""

import numpy as np
import pymc as pm
import pytest

import ppl_mle
from ppl_mle import FitStatus


def test_interior_mle_near_an_interval_bound_is_verified():
    # One observation at 10, the mean bounded in (9, 12): the MLE is 10, and at the bound 9
    # the log-likelihood is only 0.5 lower.
    with pm.Model() as model:
        mu = pm.Uniform("mu", 9.0, 12.0)
        pm.Normal("y", mu, 1.0, observed=[10.0])
    result = ppl_mle.fit_mle(model)
    assert result.status is FitStatus.VERIFIED, result.message
    assert float(result.estimates["mu"]) == pytest.approx(10.0, rel=1e-12)


def test_map_pinned_by_its_prior_alone_is_verified():
    # No likelihood information on g: the MAP is the mode of Gamma(2, 5), (2 - 1)/5.
    with pm.Model() as model:
        g = pm.Gamma("g", 2.0, 5.0)
        mu = pm.Normal("mu", 0.0, 10.0)
        pm.Normal("y", mu, 1.0, observed=np.array([0.5, 1.5]))
        pm.Potential("free", 0.0 * g)
    result = ppl_mle.fit_mle(model, estimate="map")
    assert result.status is FitStatus.VERIFIED, result.message
    # PyMC holds Gamma(2.0, 5.0) as float32 constants (pm.find_MAP's mode is
    # float32(1/5) = 0.2000000030); the copy it is fitted on reads them in float64, as the
    # flat copy of an MLE does: the mode is 1/5 to every digit.
    assert float(result.estimates["g"]) == pytest.approx(0.2, rel=1e-15)
    assert float(np.float32(1.0) / np.float32(5.0)) != pytest.approx(0.2, rel=1e-12)
    assert float(result.estimates["mu"]) == pytest.approx(1.0 / (1.0 + 1.0 / 200.0), rel=1e-8)
