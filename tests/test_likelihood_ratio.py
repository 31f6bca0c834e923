"""Likelihood-ratio and chi-square tests, against scipy.

References: scipy.stats.power_divergence(lambda_="log-likelihood") is the G statistic
2 Σ c log(c / (n p)), which is the likelihood-ratio statistic of a categorical fit against
p; scipy.stats.chisquare is Pearson's statistic. Mendel's dihybrid cross (round-yellow,
round-green, wrinkled-yellow, wrinkled-green: 315, 108, 101, 32) against 9:3:3:1 is the
textbook example (chi-square about 0.47).
"""

import math

import numpy as np
import pytest
from conftest import LABELS
from scipy import stats

import ppl_mle
from ppl_mle import ModelError

MENDEL = {"round yellow": 315, "round green": 108, "wrinkled yellow": 101, "wrinkled green": 32}
MENDEL_P = np.array([9, 3, 3, 1]) / 16


@pytest.fixture(scope="module")
def mendel():
    labels = [label for label, count in MENDEL.items() for _ in range(count)]
    return ppl_mle.fit_mle(ppl_mle.categorical(labels, categories=list(MENDEL)))


def test_normal_sigma_fixed_against_free(normal_sample):
    x = normal_sample
    full = ppl_mle.fit_mle(ppl_mle.normal(x))
    for sigma0 in (0.8, 1.0, 1.3):
        restricted = ppl_mle.fit_mle(ppl_mle.normal(x, sigma=sigma0))
        test = ppl_mle.lr_test(restricted, full)
        ll_full = stats.norm.logpdf(x, x.mean(), x.std()).sum()
        ll_restricted = stats.norm.logpdf(x, x.mean(), sigma0).sum()
        statistic = 2 * (ll_full - ll_restricted)
        assert test.df == 1
        assert test.statistic == pytest.approx(statistic, rel=1e-9, abs=1e-10)
        assert test.pvalue == pytest.approx(stats.chi2.sf(statistic, 1), rel=1e-8)
        # Closed form: n (w − 1 − log w), w = sigma-hat² / sigma0².
        w = x.var() / sigma0**2
        assert test.statistic == pytest.approx(x.size * (w - 1 - math.log(w)), rel=1e-9)
        stat, p = test
        assert (stat, p) == (test.statistic, test.pvalue)


def test_categorical_against_equal_probabilities_matches_scipy():
    result = ppl_mle.fit_mle(ppl_mle.categorical(LABELS))
    counts = np.bincount(LABELS)[1:]
    g = stats.power_divergence(counts, lambda_="log-likelihood")
    test = ppl_mle.lr_test(result, p=np.full(4, 0.25))
    assert test.statistic == pytest.approx(g.statistic, rel=1e-10)
    assert test.pvalue == pytest.approx(g.pvalue, rel=1e-9)
    assert test.df == 3
    pearson = ppl_mle.pearson_test(result)
    reference = stats.chisquare(counts)
    assert pearson.statistic == pytest.approx(reference.statistic, rel=1e-12)
    assert pearson.pvalue == pytest.approx(reference.pvalue, rel=1e-12)


def test_mendel_9_3_3_1(mendel):
    counts = np.array(list(MENDEL.values()))
    expected = counts.sum() * MENDEL_P
    g = stats.power_divergence(counts, expected, lambda_="log-likelihood")
    test = ppl_mle.lr_test(mendel, p=MENDEL_P)
    assert test.statistic == pytest.approx(g.statistic, rel=1e-9)
    assert test.pvalue == pytest.approx(g.pvalue, rel=1e-8)
    pearson = ppl_mle.pearson_test(mendel, p=dict(zip(MENDEL, MENDEL_P, strict=True)))
    reference = stats.chisquare(counts, expected)
    assert pearson.statistic == pytest.approx(reference.statistic, rel=1e-12)
    assert pearson.statistic == pytest.approx(0.47, abs=0.005)
    # G and X² agree to first order near the null: here 0.4754 against 0.4700.
    assert test.statistic == pytest.approx(pearson.statistic, rel=0.02)


def test_impossible_null_gives_infinite_statistic():
    result = ppl_mle.fit_mle(ppl_mle.categorical(["a", "b", "b"]))
    test = ppl_mle.lr_test(result, p=[0.0, 1.0])
    assert test.statistic == math.inf and test.pvalue == 0.0


@pytest.mark.parametrize(
    ("p", "match"),
    [
        ([0.5, 0.5], r"one probability per category \(4"),
        ([0.5, 0.5, 0.5, -0.5], "finite and non-negative"),
        ([0.3, 0.3, 0.3, 0.3], r"must sum to 1; it sums to 1.2"),
        ([9, 3, 3, 1], r"np.array\(\[9, 3, 3, 1\]\) / 16"),
        ([0.25, 0.25, np.nan, 0.5], "finite and non-negative"),
        ({"round yellow": 1.0}, "missing"),
        ({"purple": 1.0, **dict(zip(MENDEL, MENDEL_P, strict=True))}, "unknown"),
        (["a", "b", "c", "d"], "must be numbers"),
    ],
)
def test_bad_null_probabilities(mendel, p, match):
    with pytest.raises(ModelError, match=match):
        ppl_mle.lr_test(mendel, p=p)


def test_models_not_nested_or_not_the_same_data(normal_sample, mendel):
    x = normal_sample
    free = ppl_mle.fit_mle(ppl_mle.normal(x))
    fixed = ppl_mle.fit_mle(ppl_mle.normal(x, sigma=1.0))
    with pytest.raises(ModelError, match="full model must estimate sigma"):
        ppl_mle.lr_test(free, fixed)
    with pytest.raises(ModelError, match="not nested"):
        ppl_mle.lr_test(free, free)
    with pytest.raises(ModelError, match="not nested: a normal model and a categorical"):
        ppl_mle.lr_test(free, mendel)
    other = ppl_mle.fit_mle(ppl_mle.normal(x + 1.0))
    with pytest.raises(ModelError, match="not of the same data"):
        ppl_mle.lr_test(fixed, other)
    with pytest.raises(ModelError, match=r"must be a fitted model .* Fit it first"):
        ppl_mle.lr_test(ppl_mle.normal(x, sigma=1.0), free)
    with pytest.raises(ModelError, match="needs a fit of the categorical model"):
        ppl_mle.lr_test(free, p=[0.5, 0.5])
    with pytest.raises(ModelError, match="not both"):
        ppl_mle.lr_test(fixed, free, p=[0.5, 0.5])
    with pytest.raises(ModelError, match="needs two fits"):
        ppl_mle.lr_test(free)
