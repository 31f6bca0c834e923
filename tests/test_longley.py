"""NIST StRD Longley: a regression whose design matrix has a condition number of ~1e8.

The 16 rows of Longley's employment data (NIST StRD, "Longley.dat") and NIST's certified
coefficients and residual standard deviation, fitted as a PyMC model with Normal priors on
the coefficients and a HalfNormal on sigma (replaced by flat ones: the MLE). L-BFGS-B stalls
far from the maximum, where the verification refuses it; the second look, a Newton-type
method with the exact Hessian from L-BFGS-B's end point, reaches the certified values.
The MLE of sigma divides by n: sd_mle = sd·sqrt((n − p)/n).
"""

import math

import numpy as np
import pymc as pm
import pytest

import ppl_mle
from ppl_mle import FitStatus

# y (total employment), then x1..x6: GNP deflator, GNP, unemployed, armed forces,
# population over 14, year.
LONGLEY = np.array(
    [
        [60323, 83.0, 234289, 2356, 1590, 107608, 1947],
        [61122, 88.5, 259426, 2325, 1456, 108632, 1948],
        [60171, 88.2, 258054, 3682, 1616, 109773, 1949],
        [61187, 89.5, 284599, 3351, 1650, 110929, 1950],
        [63221, 96.2, 328975, 2099, 3099, 112075, 1951],
        [63639, 98.1, 346999, 1932, 3594, 113270, 1952],
        [64989, 99.0, 365385, 1870, 3547, 115094, 1953],
        [63761, 100.0, 363112, 3578, 3350, 116219, 1954],
        [66019, 101.2, 397469, 2904, 3048, 117388, 1955],
        [67857, 104.6, 419180, 2822, 2857, 118734, 1956],
        [68169, 108.4, 442769, 2936, 2798, 120445, 1957],
        [66513, 110.8, 444546, 4681, 2637, 121950, 1958],
        [68655, 112.6, 482704, 3813, 2552, 123366, 1959],
        [69564, 114.2, 502601, 3931, 2514, 125368, 1960],
        [69331, 115.7, 518173, 4806, 2572, 127852, 1961],
        [70551, 116.9, 554894, 4007, 2827, 130081, 1962],
    ]
)
Y, X = LONGLEY[:, 0], LONGLEY[:, 1:]
N, P = X.shape[0], X.shape[1] + 1

# NIST's certified values: intercept b0, then b1..b6; the residual standard deviation.
CERTIFIED_INTERCEPT = -3482258.63459582
CERTIFIED_SLOPES = np.array(
    [
        15.0618722713733,
        -0.358191792925910e-01,
        -2.02022980381683,
        -1.03322686717359,
        -0.511041056535807e-01,
        1829.15146461355,
    ]
)
CERTIFIED_RESIDUAL_SD = 304.854073561965
SIGMA_MLE = CERTIFIED_RESIDUAL_SD * math.sqrt((N - P) / N)


@pytest.fixture(scope="module")
def longley_model():
    with pm.Model() as model:
        b0 = pm.Normal("b0", 0.0, 1e7)
        b = pm.Normal("b", 0.0, 1e4, shape=X.shape[1])
        sigma = pm.HalfNormal("sigma", 1e3)
        pm.Normal("y", b0 + pm.math.dot(X, b), sigma, observed=Y)
    return model


def assert_certified(result, rtol):
    assert result.converged and result.status is FitStatus.VERIFIED, result.message
    assert float(result.estimates["b0"]) == pytest.approx(CERTIFIED_INTERCEPT, rel=rtol)
    np.testing.assert_allclose(result.estimates["b"], CERTIFIED_SLOPES, rtol=rtol, atol=0)
    assert float(result.estimates["sigma"]) == pytest.approx(SIGMA_MLE, rel=rtol)


def test_default_method_reaches_the_certified_values(longley_model):
    result = ppl_mle.fit_mle(longley_model)
    assert_certified(result, 1e-8)
    assert result.method == "L-BFGS-B"
    assert "could not be vouched for" in result.message
    assert "The second look, find_MAP from L-BFGS-B's end point" in result.message
    assert "Newton-type method (trust-exact" in result.message
    # The log-likelihood at the MLE: −n/2·(log(2π·sd_mle²) + 1).
    expected = -N / 2 * (math.log(2 * math.pi * SIGMA_MLE**2) + 1)
    assert result.loglik == pytest.approx(expected, rel=1e-12)


def test_trust_exact_from_the_start_reaches_them_too(longley_model):
    result = ppl_mle.fit_mle(longley_model, method="trust-exact")
    assert_certified(result, 1e-8)
    assert "second look" not in result.message


def test_without_polish_there_is_no_second_look(longley_model):
    # polish=False returns find_MAP's point as it found it: L-BFGS-B's, refused.
    with pytest.warns(ppl_mle.ConvergenceWarning, match="Cannot vouch"):
        result = ppl_mle.fit_mle(longley_model, polish=False)
    assert not result.converged
    assert "second look" not in result.message
    assert abs(float(result.estimates["b0"]) / CERTIFIED_INTERCEPT - 1) > 0.5
