"""SymPy derivations against the closed forms; the pictures are drawn and are PNGs."""

import numpy as np
import pytest
import sympy as sp
from conftest import HEIGHTS, LABELS

import ppl_mle
from ppl_mle.inference.plots import plot_loglik_contour, plot_profiles

PNG = b"\x89PNG\r\n\x1a\n"


def test_normal_derivation_solves_the_score_equations():
    d = ppl_mle.teaching.normal_derivation()
    mu, sigma = d.symbols["mu"], d.symbols["sigma"]
    x, n, i = d.symbols["x"], d.symbols["n"], d.symbols["i"]
    assert d.solution[mu] == sp.Sum(x[i], (i, 1, n)) / n
    assert d.solution[sigma] == sp.sqrt(sp.Sum((x[i] - mu) ** 2, (i, 1, n))) / sp.sqrt(n)
    for data in (HEIGHTS, np.random.default_rng(0).normal(5, 1, 100)):
        values = d.evaluate(data)
        expected = ppl_mle.closed_form.normal_mle(np.asarray(data, dtype=float))
        assert values["mu"] == pytest.approx(expected["mu"], rel=1e-13)
        assert values["sigma"] == pytest.approx(expected["sigma"], rel=1e-13)


def test_categorical_lagrange_derivation():
    d = ppl_mle.teaching.categorical_derivation(4)
    c = d.symbols["c"]
    for theta, cj in zip(d.symbols["theta"], c, strict=True):
        assert sp.simplify(d.solution[theta] - cj / sum(c)) == 0
    counts = np.bincount(LABELS)[1:]
    values = np.array(list(d.evaluate(counts).values()))
    np.testing.assert_allclose(values, counts / counts.sum(), rtol=1e-15)
    with pytest.raises(ValueError, match="integer >= 2"):
        ppl_mle.teaching.categorical_derivation(1)


def test_constrained_scipy_optimisation_and_underflow():
    counts = np.array([8, 5, 4, 3, 0])
    np.testing.assert_allclose(
        ppl_mle.closed_form.categorical_mle_constrained(counts), counts / counts.sum(), atol=1e-8
    )
    x = np.random.default_rng(20240531).normal(5.0, 1.0, 5000)
    n0 = ppl_mle.teaching.product_underflow_n(x, 5.0, 1.0)
    from scipy import stats

    assert np.prod(stats.norm.pdf(x[: n0 - 1], 5.0, 1.0)) > 0
    assert np.prod(stats.norm.pdf(x[:n0], 5.0, 1.0)) == 0.0
    assert np.isfinite(stats.norm.logpdf(x, 5.0, 1.0).sum())
    assert ppl_mle.teaching.product_underflow_n(x[:10], 5.0, 1.0) is None


def test_profile_and_contour_pictures(tmp_path):
    result = ppl_mle.fit_mle(ppl_mle.normal(HEIGHTS))
    fig = result.plot(tmp_path / "profiles.png")
    assert (tmp_path / "profiles.png").read_bytes()[:8] == PNG
    assert sum(ax.get_visible() for ax in fig.axes) == 2
    fig = plot_loglik_contour(result, tmp_path / "contour.png")
    assert (tmp_path / "contour.png").read_bytes()[:8] == PNG
    cats = ppl_mle.fit_mle(ppl_mle.categorical(list("aabbbbccccccccc"), categories=list("abcd")))
    fig = plot_profiles(cats, tmp_path / "cats.png")
    assert sum(ax.get_visible() for ax in fig.axes) == 4
    with pytest.raises(ppl_mle.ModelError, match="mu and sigma unknown"):
        plot_loglik_contour(cats)
