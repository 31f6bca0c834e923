"""A known sigma at any magnitude: the fit works, and verifies, on the problem's own scale.

With sigma known the MLE of mu is the mean of the data, exactly, whatever sigma is; its
standard error is sigma/sqrt(n). The curvature n/sigma² itself under- or overflows float64
for sigma = 1e±300, so the verification must judge it in units where the problem is of
size 1 (the data centred on their mean and divided by a power of two near sigma). The
reference is exact rational arithmetic on the values as given.
"""

import json
import math
import os
import warnings
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st

import ppl_mle
from ppl_mle import FitStatus
from ppl_mle.cli import main

SETTINGS = settings(
    max_examples=int(os.environ.get("HYPOTHESIS_EXAMPLES", "25")),
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # a failure is reported unshrunk
    deadline=None,
    derandomize="HYPOTHESIS_EXAMPLES" not in os.environ,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

EPS = float(np.finfo(np.float64).eps)


def exact_mean_and_spread(x: np.ndarray) -> tuple[Fraction, float]:
    """The mean of the float64 values (exact), and their largest distance from it."""
    values = [Fraction(float(v)) for v in x]
    mean = sum(values, Fraction(0)) / len(values)
    return mean, float(max(abs(v - mean) for v in values))


def assert_mean_to_the_last_digit(result: ppl_mle.MLEResult, x: np.ndarray) -> None:
    """mu is the exact mean to an ulp of itself, or of the data's spread about it.

    No floating-point sum resolves a mean nearer 0 than ~eps times the spread of the data
    (a mean of 1e-20 beside values of ±1): there the last digit is that of the spread.
    """
    mean, spread = exact_mean_and_spread(x)
    exact = float(mean)
    error = abs(Fraction(float(result.estimates["mu"])) - mean)
    tolerance = 2 * max(float(np.spacing(abs(exact))), EPS * spread)
    assert float(error) <= tolerance, (float(result.estimates["mu"]), exact, float(error))


def fit_known_sigma(x: np.ndarray, sigma: float, **kwargs) -> ppl_mle.MLEResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ppl_mle.PrecisionWarning)  # ties far from 0
        return ppl_mle.fit_mle(ppl_mle.normal(x, sigma=sigma, **kwargs), on_failure="raise")


@SETTINGS
@given(
    sigma_exponent=st.floats(-300.0, 300.0),
    offset=st.sampled_from([0.0, 1.0, -3.7, 1e12, -1e300, 1e300, 1e-300])
    | st.floats(-300.0, 300.0).map(lambda e: 10.0**e),
    spread_exponent=st.floats(-320.0, 3.0),
    z=st.lists(st.floats(-3.0, 3.0), min_size=1, max_size=40),
    sufficient=st.booleans(),
)
def test_known_sigma_of_any_magnitude_gives_the_exact_mean(
    sigma_exponent, offset, spread_exponent, z, sufficient
):
    # data = offset + spread·z, with spread from far below sigma to 1000 sigma.
    sigma = 10.0**sigma_exponent
    with np.errstate(over="ignore", under="ignore"):
        x = offset + sigma * 10.0**spread_exponent * np.asarray(z)
    assume(np.all(np.isfinite(x)))
    # Subnormal data are another matter (their statistics lose the scale).
    assume(not np.any((x != 0) & (np.abs(x) < np.finfo(np.float64).tiny)))
    _, spread = exact_mean_and_spread(x)
    # Data rounded to float64 sit within a million sigmas of their mean (an offset of 1
    # holds its values to 2e-16: not for sigma = 1e-30).
    assume(spread <= 1e6 * sigma)
    result = fit_known_sigma(x, sigma, sufficient=sufficient)
    assert result.status is FitStatus.VERIFIED, result.message
    assert_mean_to_the_last_digit(result, x)
    se = result.bse["mu"]
    assert se == pytest.approx(sigma / math.sqrt(x.size), rel=1e-15)


@pytest.mark.parametrize("sigma", [1e300, 1e-300, 1.7976931348623157e308, 5e-324 * 2**60])
def test_extreme_sigma_beside_ordinary_data(sigma):
    x = np.array([1.0, 2.0, 4.0]) * min(1.0, sigma)
    result = fit_known_sigma(x, sigma)
    assert result.status is FitStatus.VERIFIED, result.message
    assert_mean_to_the_last_digit(result, x)
    assert result.bse["mu"] == pytest.approx(sigma / math.sqrt(3), rel=1e-15)
    # The log-likelihood with all constants: −n/2·log(2πσ²) − SS/(2σ²), SS/σ² exactly.
    mean = sum(Fraction(v) for v in x) / 3
    ss_over_var = sum((Fraction(v) - mean) ** 2 for v in x) / Fraction(sigma) ** 2
    expected = -1.5 * math.log(2 * math.pi) - 3 * math.log(sigma) - float(ss_over_var) / 2
    assert result.loglik == pytest.approx(expected, rel=1e-14)


def test_command_line_known_sigma_of_1e300(tmp_path, capsys):
    path = tmp_path / "x.txt"
    x = [1.0, 2.0, 4.0, 7.5]
    path.write_text("\n".join(map(repr, x)) + "\n")
    code = main(["fit", "normal", str(path), "--sigma", "1e300", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    payload = json.loads(out)
    assert payload["converged"]
    assert payload["estimates"]["mu"] == 3.625


@pytest.mark.parametrize(
    ("sigma", "spread", "n"), [(1.18e249, 3.77e261, 8), (8.25e-38, 2.4e66, 10), (1e174, 9e183, 2)]
)
def test_a_known_sigma_far_below_the_spread_never_denies_the_mle(sigma, spread, n):
    # The log-likelihood is ~-1e20 or below: 30 standard errors from the maximum it falls by
    # 450, far inside its rounding noise. The probe for a rising direction looks far enough
    # to see it fall instead of declaring that the MLE does not exist.
    x = spread * np.random.default_rng(3).standard_normal(n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ppl_mle.ConvergenceWarning)
        result = ppl_mle.fit_mle(ppl_mle.normal(x, sigma=sigma))
    assert not result.status.no_mle, result.message
    if result.converged:
        assert_mean_to_the_last_digit(result, x)
