"""Softmax (multinomial logistic) regression against statsmodels' MNLogit.

Reference: statsmodels MNLogit (Newton, tol 1e-12) on the ANES 1996 data shipped with
statsmodels (statsmodels.datasets.anes96): party identification PID (7 classes) on
logpopul, selfLR, age, educ, income, with a constant; reference class the first (PID 0),
as MNLogit uses. Measured agreement: coefficients ~1e-13 relative, SEs ~1e-13, log-likelihood
higher than statsmodels' by ~5e-13.
"""

import math
import warnings

import numpy as np
import pandas as pd
import pymc as pm
import pytest
import statsmodels.api as sm

import ppl_mle
import ppl_mle.core.families.softmax as families
from ppl_mle import ConvergenceWarning, DataError
from ppl_mle.fit.objective import Objective

FEATURES = ["logpopul", "selfLR", "age", "educ", "income"]


@pytest.fixture(scope="module")
def anes():
    data = sm.datasets.anes96.load_pandas().data
    return data[FEATURES], data["PID"].astype(int)


@pytest.fixture(scope="module")
def reference(anes):
    x, y = anes
    return sm.MNLogit(y, sm.add_constant(x)).fit(method="newton", maxiter=100, tol=1e-12, disp=0)


@pytest.fixture(scope="module")
def ours(anes):
    x, y = anes
    return ppl_mle.fit_mle(ppl_mle.softmax_regression(x, y), method="trust-exact")


def test_matches_statsmodels_mnlogit(ours, reference):
    assert ours.converged
    beta = ours.estimates["beta"]
    assert beta.shape == reference.params.shape == (6, 6)
    np.testing.assert_allclose(beta, reference.params.to_numpy(), rtol=1e-6)
    se = ours.bse.to_numpy().reshape(beta.shape)
    np.testing.assert_allclose(se, reference.bse.to_numpy(), rtol=1e-5)
    assert ours.loglik == pytest.approx(reference.llf, abs=1e-6)
    assert ours.loglik >= reference.llf - 1e-9  # never below theirs (beyond rounding)
    # Far tighter in fact: the exact Hessian and Newton polishing.
    np.testing.assert_allclose(beta, reference.params.to_numpy(), rtol=1e-10)


@pytest.mark.parametrize("method", ["L-BFGS-B", "Newton-CG", "BFGS"])
def test_other_methods_agree(anes, reference, method):
    x, y = anes
    result = ppl_mle.fit_mle(ppl_mle.softmax_regression(x, y), method=method)
    np.testing.assert_allclose(result.estimates["beta"], reference.params.to_numpy(), rtol=1e-9)


def test_labels_are_feature_and_class_coordinates(ours):
    labels = list(ours.to_dataframe().index)
    assert labels[0] == "beta[intercept, 1]" and labels[-1] == "beta[income, 6]"
    assert ours.model.coords["feature"] == ("intercept", *FEATURES)


def test_mle_minimises_cross_entropy(ours, anes):
    family = ours.family
    beta = ours.estimates["beta"]
    assert family.cross_entropy(beta) == pytest.approx(-ours.loglik / ours.n_obs, rel=1e-13)
    # Any other coefficients give a larger mean cross-entropy.
    rng = np.random.default_rng(0)
    for _ in range(5):
        other = beta + rng.normal(0, 0.01, beta.shape)
        assert family.cross_entropy(other) > family.cross_entropy(beta)


def test_predicted_probabilities(ours, reference, anes):
    x, _ = anes
    new = x.iloc[:7] + 0.5
    ours_p = ours.family.predict_proba(
        ours.estimates["beta"], np.column_stack([np.ones(7), new.to_numpy()])
    )
    np.testing.assert_allclose(
        ours_p, reference.predict(sm.add_constant(new, has_constant="add")), rtol=1e-9
    )
    np.testing.assert_allclose(ours_p.sum(axis=1), 1.0, rtol=1e-14)


def test_reference_class_changes_parametrisation_not_fit(ours, anes):
    x, y = anes
    other = ppl_mle.fit_mle(ppl_mle.softmax_regression(x, y, reference=3), method="trust-exact")
    assert other.loglik == pytest.approx(ours.loglik, abs=1e-9)
    full = np.column_stack([np.zeros(6), ours.estimates["beta"]])  # class 0 at zero
    shifted = np.delete(full - full[:, [3]], 3, axis=1)
    np.testing.assert_allclose(other.estimates["beta"], shifted, rtol=1e-9, atol=1e-12)


def test_all_classes_free_is_reported_not_identified():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(200, 2))
    y = rng.choice(["a", "b", "c"], size=200)
    model = ppl_mle.softmax_regression(x, y, reference=None)
    with pytest.warns(ConvergenceWarning, match=r"not identified\) along .*beta"):
        result = ppl_mle.fit_mle(model)
    assert not result.converged
    with pytest.warns(ppl_mle.IdentifiabilityWarning, match="singular"):
        table = result.summary()
    assert table["se"].isna().all()


def test_separated_classes_are_detected():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 2))
    y = np.where(x[:, 0] > 1.0, "a", np.where(rng.random(60) > 0.5, "b", "c"))
    with pytest.warns(ConvergenceWarning, match=r"\(quasi-\)separated .* MLE does not exist"):
        result = ppl_mle.fit_mle(ppl_mle.softmax_regression(x, y))
    assert not result.converged
    with pytest.warns(ConvergenceWarning, match="No standard errors"):
        table = result.summary()
    assert table["se"].isna().all()  # no huge numbers reported as an answer


@pytest.mark.parametrize(
    ("x", "y", "kwargs", "match"),
    [
        ([[1.0], [2.0], [3.0]], ["a", "b"], {}, r"`X` has 3 rows but there are 2 labels"),
        (
            pd.DataFrame({"u": [1.0, np.nan, 3.0, 4.0], "v": [1.0, 2.0, np.inf, 0.0]}),
            ["a", "b", "a", "b"],
            {},
            r"non-finite values .* columns 'u' \(1\), 'v' \(1\)",
        ),
        (
            pd.DataFrame({"u": [1.0, 2, 3, 4], "k": [5.0, 5, 5, 5]}),
            ["a", "b", "a", "b"],
            {},
            r"columns \['k'\] are constant",
        ),
        (
            pd.DataFrame({"u": [1.0, 2, 3, 4, 5], "v": [2.0, 4, 6, 8, 10], "w": [1.0, 0, 1, 0, 1]}),
            ["a", "b", "a", "b", "a"],
            {},
            r"rank-deficient: columns \['(u|v)'\]",
        ),
        ([[1.0], [2.0], [3.0]], ["a", "b", "a"], {"reference": "z"}, "`reference` 'z' is not"),
        ([[1.0], [2.0], [3.0]], ["a", "b", "q"], {"classes": ["a", "b"]}, "not in `categories`"),
        ([[1.0], [2.0], [3.0]], ["a", "b", "a"], {"classes": ["a", "b", "c"]}, "never occur"),
        ([["x"], ["y"], ["z"]], ["a", "b", "a"], {}, "must be numeric"),
    ],
)
def test_bad_input(x, y, kwargs, match):
    with pytest.raises(DataError, match=match):
        ppl_mle.softmax_regression(x, y, **kwargs)


def test_numpy_features_are_named_and_summary_has_intervals():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(300, 2))
    logits = np.column_stack([np.zeros(300), 0.5 + x @ [1.0, -1.0], -0.5 + x @ [0.3, 0.8]])
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    y = np.array([rng.choice(3, p=row) for row in p])
    result = ppl_mle.fit_mle(ppl_mle.softmax_regression(x, y), method="trust-exact")
    table = result.summary()
    assert list(table.index[:2]) == ["beta[intercept, 1]", "beta[intercept, 2]"]
    assert "beta[x0, 1]" in table.index
    assert table["profile_lower"].notna().all()  # 6 parameters: profiles by default
    assert (table["profile_lower"] < table["estimate"]).all()
    assert (table["estimate"] < table["profile_upper"]).all()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ref = sm.MNLogit(y, sm.add_constant(x)).fit(disp=0, method="newton", tol=1e-12)
    np.testing.assert_allclose(result.estimates["beta"], ref.params, rtol=1e-8)
    assert math.isfinite(result.aic)


@pytest.mark.parametrize(("reference", "intercept"), [(0, True), (3, True), (None, False)])
def test_closed_form_hessian_equals_autodiff_and_statsmodels(anes, reference, intercept):
    x, y = anes
    model = ppl_mle.softmax_regression(x, y, reference=reference, intercept=intercept)
    shape = (len(model.family.features), len(model.family.free_classes))
    beta = np.random.default_rng(7).normal(0, 0.05, shape)
    closed = model.family.hessian(beta)
    autodiff = Objective(model).evaluate(beta.ravel())[2]  # PyTensor's second derivatives
    scale = np.max(np.abs(autodiff))
    np.testing.assert_allclose(closed, autodiff, rtol=0, atol=1e-12 * scale)
    if reference == 0 and intercept:
        # statsmodels orders the Hessian class by class (params flattened in F order).
        p, k = beta.shape
        theirs = sm.MNLogit(y, sm.add_constant(x)).hessian(beta.ravel(order="F"))
        theirs = theirs.reshape(k, p, k, p).transpose(1, 0, 3, 2).reshape(p * k, p * k)
        np.testing.assert_allclose(closed, theirs, rtol=0, atol=1e-12 * scale)


def test_hessian_is_the_same_in_threads_and_chunks(monkeypatch):
    rng = np.random.default_rng(8)
    x = rng.normal(size=(50_003, 3))
    y = rng.integers(0, 4, size=50_003)
    family = ppl_mle.softmax_regression(x, y).family
    beta = rng.normal(0, 0.3, (4, 3))
    threaded = family.hessian(beta)  # two row blocks on this machine, ragged last chunk
    monkeypatch.setattr(families, "_PARALLEL_ROWS", 10**9)
    monkeypatch.setattr(families, "_HESSIAN_CHUNK", 64)
    serial = family.hessian(beta)
    np.testing.assert_allclose(threaded, serial, rtol=1e-12)


def test_default_method_is_newton_with_the_closed_form_hessian(anes, reference):
    x, y = anes
    model = ppl_mle.softmax_regression(x, y)
    assert model.loglik_hessian() is not None
    result = ppl_mle.fit_mle(model)
    assert result.method == "Newton" and result.converged
    assert result.n_iterations <= 10  # statsmodels' Newton takes 7 here
    np.testing.assert_allclose(result.estimates["beta"], reference.params.to_numpy(), rtol=1e-10)
    # A variable added after the declaration: the closed form no longer describes the model.
    with model:
        pm.Normal("extra", 0.0, 1.0)
    assert model.loglik_hessian() is None


def simulate(n, rng, rare=0):
    x = rng.normal(size=(n, 3))
    beta = np.array([[0.0, 0.3, -0.2], [0.0, 1.0, -0.5], [0.0, -0.7, 0.4], [0.0, 0.2, 0.9]])
    logits = beta[0] + x @ beta[1:]
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    y = (rng.random((n, 1)) > np.cumsum(p, axis=1)).sum(axis=1)
    y[:rare] = 4  # a fifth class with only `rare` members
    return x, y


@pytest.mark.parametrize("rare", [0, 2])
def test_large_data_start_from_a_subsample(rare):
    # From 80,000 rows the start is a subsample's MLE, within a few standard errors. A
    # class with 2 members may be missing from the subsample or separated in it; either
    # way the fit is statsmodels'.
    x, y = simulate(90_000, np.random.default_rng(12), rare)
    model = ppl_mle.softmax_regression(x, y)
    result = ppl_mle.fit_mle(model)
    assert result.converged
    start = model.family.start()["beta"]
    assert np.all(np.isfinite(start))
    if not rare:
        se = result.bse.to_numpy().reshape(start.shape)
        assert 0 < np.max(np.abs(start - result.estimates["beta"]) / se) < 10
    ref = sm.MNLogit(y, sm.add_constant(x)).fit(disp=0, method="newton", tol=1e-12)
    np.testing.assert_allclose(result.estimates["beta"], ref.params, rtol=1e-9)
    assert result.loglik >= ref.llf - 1e-9
