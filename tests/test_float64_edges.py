"""Fits at the edges of float64: every digit, or a clear error, never a false verdict.

The reference is exact rational arithmetic on the values as given (tests/exact.py). The
property: the fit is verified *and* agrees with the exact MLE to 12 or more significant
digits (μ on the scale of max(|μ|, σ), since no floating-point sum resolves a mean
1e-20 σ from 0 better than ~1e-16 σ), or a DataError names the problem.
"""

import math
import os
import warnings

import numpy as np
import pytest
from exact import digits, exact_normal_mle
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

import ppl_mle

SETTINGS = settings(
    max_examples=int(os.environ.get("HYPOTHESIS_EXAMPLES", "10")),
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # a failure is reported unshrunk
    deadline=None,
    derandomize="HYPOTHESIS_EXAMPLES" not in os.environ,
    suppress_health_check=[HealthCheck.too_slow],
)

DIGITS = 12.0


def _assert_exact(result, x):
    mu, sigma = exact_normal_mle(x)
    assert result.converged, result.message
    assert digits(float(result.estimates["sigma"]), sigma) >= DIGITS
    scale = max(abs(mu), sigma)
    assert abs(float(result.estimates["mu"]) - mu) <= 10**-DIGITS * scale
    # The verdict and the oracle agree.
    assert result.check_analytic().passed


def _fit_or_error(x, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ppl_mle.PrecisionWarning)
        try:
            model = ppl_mle.normal(x, **kwargs)
        except ppl_mle.DataError as exc:
            return None, str(exc)
        return ppl_mle.fit_mle(model, on_failure="raise"), ""


@SETTINGS
@given(
    base=st.lists(st.floats(-1, 1, allow_nan=False), min_size=2, max_size=60).filter(
        lambda v: np.ptp(v) > 1e-6
    ),
    exponent=st.integers(-300, 306),
    offset=st.sampled_from([0.0, 1.0, 1e3, 1e6, 1e9, 1e12]),
    sufficient=st.booleans(),
)
def test_normal_any_magnitude_and_offset(base, exponent, offset, sufficient):
    # scale 10^exponent, offset up to 1e12 spreads: every digit the float64 values carry.
    scale = 10.0**exponent
    with np.errstate(over="ignore"):
        x = (offset + np.asarray(base)) * scale
    if not np.all(np.isfinite(x)):
        return  # beyond float64: nothing to fit
    result, error = _fit_or_error(x, sufficient=sufficient)
    if result is None:
        assert "constant" in error or "0" in error, error
        return
    _assert_exact(result, x)


@SETTINGS
@given(
    dtype=st.sampled_from(["int8", "int16", "int32", "int64", "uint8", "uint64", "float32"]),
    values=st.lists(st.integers(0, 100), min_size=2, max_size=40).filter(lambda v: len(set(v)) > 1),
)
def test_normal_every_dtype(dtype, values):
    x = np.asarray(values).astype(dtype)
    result, _ = _fit_or_error(x)
    _assert_exact(result, x)


@SETTINGS
@given(
    offset=st.integers(2**53, 2**70) | st.integers(-(2**70), -(2**53)),
    deltas=st.lists(st.integers(-1000, 1000), min_size=2, max_size=30).filter(
        lambda v: len(set(v)) > 1
    ),
)
def test_integers_beyond_2_53_are_reduced_exactly(offset, deltas):
    values = [offset + d for d in deltas]
    result, _ = _fit_or_error(values)
    _assert_exact(result, values)


def test_examples_from_the_issue():
    result, _ = _fit_or_error([2**53 + 1, 2**53 + 3, 2**53 + 7])
    assert float(result.estimates["sigma"]) == pytest.approx(2.494438257849294, rel=1e-15)
    result, _ = _fit_or_error(np.array([2**64 + 1, 2**64 + 2, 2**64 + 9], dtype=object))
    _assert_exact(result, [2**64 + 1, 2**64 + 2, 2**64 + 9])
    with pytest.raises(ppl_mle.DataError, match="beyond the largest float64"):
        ppl_mle.normal([10**400, 1])
    rng = np.random.default_rng(3)
    x = 1e9 + 0.01 * rng.standard_normal(2000)
    result, _ = _fit_or_error(x)
    _assert_exact(result, x)


def test_coarse_data_say_how_many_digits_they_hold():
    x = np.array([1e16, 1e16 + 2, 1e16 + 4, 1e16 + 8])
    with pytest.warns(ppl_mle.PrecisionWarning, match="significant digits of the spread"):
        result = ppl_mle.fit_mle(ppl_mle.normal(x))
    _assert_exact(result, x)


@pytest.mark.parametrize("scale", [1e-300, 1e300, 1e307])
def test_uncertainty_and_profile_scale_exactly(scale):
    base = np.random.default_rng(1).standard_normal(40)
    x = base * scale
    result = ppl_mle.fit_mle(ppl_mle.normal(x))
    n, sigma = 40, float(result.estimates["sigma"])
    mu = float(result.estimates["mu"])
    table = result.summary(profile=True)
    assert table.loc["mu", "se"] == pytest.approx(sigma / math.sqrt(n), rel=1e-10)
    assert table.loc["sigma", "se"] == pytest.approx(sigma / math.sqrt(2 * n), rel=1e-10)
    # Profile interval of mu in closed form: x̄ ± σ̂·sqrt(exp(q/n) − 1).
    half = sigma * math.sqrt(math.expm1(3.841458820694124 / n))
    assert table.loc["mu", "profile_lower"] == pytest.approx(mu - half, rel=1e-8)
    assert table.loc["mu", "profile_upper"] == pytest.approx(mu + half, rel=1e-8)
    assert math.isfinite(result.aic)


@pytest.mark.parametrize("b", [1e-300, 1e-150, 1.0, 1e150, 1e300])
def test_kl_normal_is_scale_invariant_and_finite(b):
    reference = ppl_mle.teaching.kl_normal(0.3, 1.2, -0.4, 2.5)
    scaled = ppl_mle.teaching.kl_normal(7 * b + 0.3 * b, 1.2 * b, 7 * b - 0.4 * b, 2.5 * b)
    assert scaled == pytest.approx(reference, rel=1e-12)
    exact = math.log(2.5 / 1.2) + (1.2**2 + 0.7**2) / (2 * 2.5**2) - 0.5
    assert reference == pytest.approx(exact, rel=1e-14)


@SETTINGS
@given(
    counts=st.lists(st.integers(1, 10**6), min_size=2, max_size=30),
    factor=st.sampled_from([1, 1000, 10**9]),
)
# n = 7e14: one ulp of θ moves the log-likelihood (1.4e13) by 0.08, beyond 16 of its ulps.
@example(counts=[721382, 2071], factor=10**9)
def test_categorical_counts_any_size(counts, factor):
    c = np.asarray(counts, dtype=np.int64) * factor
    result = ppl_mle.fit_mle(ppl_mle.categorical_from_counts(c), on_failure="raise")
    theta = np.asarray(result.estimates["theta"])
    exact = np.array([float(v) / float(c.sum()) for v in c])
    assert np.all(np.abs(theta - exact) <= 1e-12 * exact)
    assert result.check_analytic().passed


def test_ten_thousand_categories_in_linear_algebra():
    rng = np.random.default_rng(0)
    k = 10_000
    labels = rng.integers(0, k, 2 * k)
    model = ppl_mle.categorical(labels, categories=list(range(k + 3)))
    result = ppl_mle.fit_mle(model, on_failure="raise")
    counts = model.family.counts
    theta = counts / counts.sum()
    assert np.max(np.abs(result.estimates["theta"] - theta)) <= 1e-15
    table = result.summary(profile=False)
    observed = counts > 0
    se = np.sqrt(theta * (1 - theta) / counts.sum())
    np.testing.assert_allclose(table["se"].to_numpy()[observed], se[observed], rtol=1e-12)
    assert np.all(np.isnan(table["se"].to_numpy()[~observed]))
    # Binomial likelihood-ratio interval of one category, against an independent brentq.
    from scipy import optimize, stats

    j = int(np.argmax(counts))
    c, n = counts[j], counts.sum()
    q = stats.chi2.ppf(0.95, 1)

    def dev(t):
        return 2 * (c * math.log(theta[j] / t) + (n - c) * math.log((1 - theta[j]) / (1 - t))) - q

    lo = optimize.brentq(dev, 1e-12, theta[j], xtol=1e-16)
    interval = result.profile_interval(f"theta[{j}]")
    assert interval.lower == pytest.approx(lo, rel=1e-9)
    with pytest.raises(ppl_mle.ModelError, match="not formed"):
        result.covariance()


@pytest.mark.parametrize("scale", [1e-200, 1e-170, 1e160, 1e300])
def test_softmax_scale_never_decides_identifiability(scale, softmax_scaled_data):
    X, y, reference = softmax_scaled_data
    result = ppl_mle.fit_mle(ppl_mle.softmax_regression(X * scale, y), on_failure="raise")
    beta = np.asarray(result.estimates["beta"])
    units = np.r_[1.0, scale, scale][:, None]
    np.testing.assert_allclose(beta * units, reference, rtol=1e-10)
    se = result.summary(profile=False)["se"].to_numpy().reshape(beta.shape)
    ref_se = ppl_mle.fit_mle(ppl_mle.softmax_regression(X, y)).summary(profile=False)["se"]
    np.testing.assert_allclose(se * units, ref_se.to_numpy().reshape(beta.shape), rtol=1e-8)


@pytest.fixture(scope="module")
def softmax_scaled_data():
    import statsmodels.api as sm

    rng = np.random.default_rng(0)
    n = 300
    X = rng.standard_normal((n, 2))
    eta = np.c_[np.zeros(n), X @ np.array([[0.5, -1.0], [1.0, 0.3]])]
    p = np.exp(eta)
    p /= p.sum(axis=1, keepdims=True)
    y = np.array([rng.choice(3, p=row) for row in p])
    fit = sm.MNLogit(y, sm.add_constant(X)).fit(disp=0, method="newton", tol=1e-12)
    return X, y, np.asarray(fit.params)


def test_summary_of_an_estimate_many_standard_errors_from_zero():
    # mu = 1e300 with SE 1e-48 / sqrt(3): z overflows to inf, and p is 0, without a warning.
    result = ppl_mle.fit_mle(ppl_mle.normal([1e300, 1e300, 1e300], sigma=1e-48))
    row = result.summary().loc["mu"]
    assert row["estimate"] == 1e300
    assert row["se"] == pytest.approx(1e-48 / math.sqrt(3), rel=1e-15)
    assert row["z"] == math.inf and row["p_value"] == 0.0
