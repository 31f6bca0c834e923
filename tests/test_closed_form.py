"""The numpy-only layer against exact arithmetic and scipy."""

from fractions import Fraction

import numpy as np
import pytest
from conftest import HEIGHTS, exact_mean_sd
from scipy import stats

from ppl_mle.closed_form import (
    categorical_loglik,
    categorical_mle,
    normal_loglik,
    normal_mle,
    normal_stats,
)


def test_heights_closed_form_by_hand():
    x = np.array(HEIGHTS, dtype=float)
    est = normal_mle(x)
    # Σx = 1710, mean 171; SS = 510, MLE sd = sqrt(510 / 10) (divide by n, not n − 1).
    assert est["mu"] == 171.0
    assert est["sigma"] == pytest.approx(np.sqrt(51.0), rel=1e-15)
    assert est["sigma"] / np.std(x, ddof=1) == pytest.approx(np.sqrt(9 / 10), rel=1e-15)


def test_normal_loglik_matches_scipy(normal_sample):
    s = normal_stats(normal_sample)
    for mu, sigma in [(5.0, 1.0), (4.2, 0.7), (s.mean, s.sd_mle), (-3.0, 12.0)]:
        expected = stats.norm.logpdf(normal_sample, mu, sigma).sum()
        assert normal_loglik(s, mu, sigma) == pytest.approx(expected, rel=1e-13)


@pytest.mark.parametrize("offset", [0.0, 1e6, 1e7, 1e9])
def test_stats_accurate_far_from_zero(offset):
    x = offset + np.r_[0.2, np.tile([0.1, 0.3], 500)]
    s = normal_stats(x)
    mean, sd = exact_mean_sd(x)
    assert abs(Fraction(s.mean) - mean) / mean < 1e-15
    assert s.sd_mle == pytest.approx(sd, rel=1e-13)


def test_naive_formula_would_fail_where_ours_holds():
    # Why Σx² − n·x̄² is not used: it loses every digit at 1e7 ± 0.1.
    x = 1e7 + np.r_[0.2, np.tile([0.1, 0.3], 500)]
    naive = np.sqrt(max((x**2).sum() / x.size - x.mean() ** 2, 0.0))
    _, sd = exact_mean_sd(x)
    assert abs(naive - sd) / sd > 1e-2
    assert normal_stats(x).sd_mle == pytest.approx(sd, rel=1e-13)


def test_categorical_mle_and_loglik():
    counts = np.array([8, 5, 4, 3, 0])
    theta = categorical_mle(counts)
    np.testing.assert_array_equal(theta, counts / 20)
    assert theta[-1] == 0.0
    expected = stats.multinomial.logpmf(counts, 20, theta) - stats.multinomial.logpmf(
        counts, 20, np.full(5, 0.2)
    )
    ours = categorical_loglik(counts, theta) - categorical_loglik(counts, np.full(5, 0.2))
    assert ours == pytest.approx(expected, rel=1e-13)
