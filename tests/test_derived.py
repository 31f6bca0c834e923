"""Deterministics at the MLE with delta-method SEs, and pm.Data in ``constant_data``.

References (normal model, n observations, both parameters free): mu-hat = mean,
sigma-hat = sd with divisor n, Var(mu-hat) = sigma-hat²/n, Var(sigma-hat) = sigma-hat²/(2n),
independent at the MLE. For cv = sigma/mu the delta method gives
se(cv)² = cv²·(1/(2n) + sigma-hat²/(n·mu-hat²)).
"""

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt
import pytest

import ppl_mle
from ppl_mle.core.errors import BoundaryWarning
from ppl_mle.fit.held import HeldObjective
from ppl_mle.inference.derived import derived_quantities

Z95 = 1.959963984540054  # Φ⁻¹(0.975)
COLUMNS = ["estimate", "se", "wald_lower", "wald_upper"]

N = 50
Y = np.random.default_rng(20240611).normal(3.0, 2.0, N)
MU_HAT = float(Y.mean())
SIGMA_HAT = float(Y.std(ddof=0))


@pytest.fixture(scope="module")
def cv_fit():
    with pm.Model() as model:
        mu = pm.Normal("mu", 0.0, 10.0)
        sigma = pm.HalfNormal("sigma", 5.0)
        pm.Deterministic("cv", sigma / mu)
        pm.Deterministic("mu2", pt.stack([mu, 2.0 * mu]))
        pm.Normal("y", mu, sigma, observed=Y)
    result = ppl_mle.fit_mle(model)
    assert result.converged, result.message
    return result


def test_sum_deterministic_of_the_find_map_test_model():
    # PyMC's find_MAP test model; the MAP minimises (x² + y²)/2 + (x + y − 100)²/(2·1e-10).
    with pm.Model() as model:
        x = pm.Normal("x")
        y = pm.Normal("y")
        det = pm.Deterministic("det", x + y)
        pm.Normal("z", det, 1e-5, observed=100.0)
    result = ppl_mle.fit_mle(model, estimate="map")
    assert result.converged, result.message
    each = 100.0 / (2.0 + 1e-10)
    table = result.derived()
    assert list(table.columns) == COLUMNS
    assert list(table.index) == ["det"]
    assert table.loc["det", "estimate"] == pytest.approx(2.0 * each, rel=1e-12)
    # Var(x + y) = 1ᵀ H⁻¹ 1 with H = I + 1e10·11ᵀ: 2/(1 + 2e10).
    assert table.loc["det", "se"] == pytest.approx(np.sqrt(2.0 / (1.0 + 2e10)), rel=1e-6)


def test_ratio_estimate_and_delta_method_se(cv_fit):
    table = cv_fit.derived()
    cv = SIGMA_HAT / MU_HAT
    se = np.sqrt(cv**2 * (1.0 / (2 * N) + SIGMA_HAT**2 / (N * MU_HAT**2)))
    assert table.loc["cv", "estimate"] == pytest.approx(cv, rel=1e-9)
    assert table.loc["cv", "se"] == pytest.approx(se, rel=1e-6)
    assert table.loc["cv", "wald_lower"] == pytest.approx(cv - Z95 * se, rel=1e-6)
    assert table.loc["cv", "wald_upper"] == pytest.approx(cv + Z95 * se, rel=1e-6)
    narrow = cv_fit.derived(alpha=0.1)
    half = narrow.loc["cv", "wald_upper"] - narrow.loc["cv", "estimate"]
    assert half == pytest.approx(1.6448536269514722 * se, rel=1e-6)


def test_vector_deterministic_labels_and_scaled_se(cv_fit):
    table = cv_fit.derived()
    assert list(table.index) == ["cv", "mu2[0]", "mu2[1]"]
    se_mu = SIGMA_HAT / np.sqrt(N)
    assert table.loc["mu2[0]", "estimate"] == pytest.approx(MU_HAT, rel=1e-10)
    assert table.loc["mu2[1]", "estimate"] == pytest.approx(2.0 * MU_HAT, rel=1e-10)
    assert table.loc["mu2[0]", "se"] == pytest.approx(se_mu, rel=1e-6)
    assert table.loc["mu2[1]", "se"] == pytest.approx(2.0 * se_mu, rel=1e-6)
    assert table.loc["mu2[0]", "se"] == pytest.approx(cv_fit.bse["mu"], rel=1e-12)


def test_the_table_is_a_copy(cv_fit):
    table = cv_fit.derived()
    table.loc["cv", "estimate"] = 0.0
    assert cv_fit.derived().loc["cv", "estimate"] == pytest.approx(SIGMA_HAT / MU_HAT)


def test_deterministic_with_coords_is_labelled_by_them():
    with pm.Model(coords={"stat": ["mean", "double"]}) as model:
        mu = pm.Normal("mu", 0.0, 10.0)
        sigma = pm.HalfNormal("sigma", 5.0)
        pm.Deterministic("m", pt.stack([mu, 2.0 * mu]), dims="stat")
        pm.Normal("y", mu, sigma, observed=Y)
    table = ppl_mle.fit_mle(model).derived()
    assert list(table.index) == ["m[mean]", "m[double]"]


def test_no_deterministic_gives_an_empty_table():
    with pm.Model() as model:
        mu = pm.Normal("mu", 0.0, 10.0)
        sigma = pm.HalfNormal("sigma", 5.0)
        pm.Normal("y", mu, sigma, observed=Y)
    table = ppl_mle.fit_mle(model).derived()
    assert isinstance(table, pd.DataFrame)
    assert table.empty and list(table.columns) == COLUMNS
    normal = ppl_mle.fit_mle(ppl_mle.normal(Y)).derived()
    assert normal.empty and list(normal.columns) == COLUMNS


def test_estimate_held_on_a_bound():
    # mean of the data < 0 with mu ≥ 0: mu-hat = 0 held, sigma-hat² = mean(y²).
    y = np.random.default_rng(7).normal(-1.0, 2.0, 40)
    with pm.Model() as model:
        mu = pm.HalfNormal("mu", 5.0)
        sigma = pm.HalfNormal("sigma", 5.0)
        pm.Deterministic("s", 3.0 * sigma + mu)
        pm.Normal("y", mu, sigma, observed=y)
    with pytest.warns(BoundaryWarning):
        result = ppl_mle.fit_mle(model)
    assert isinstance(result.objective, HeldObjective)
    sigma_hat = np.sqrt(np.mean(y**2))
    table = result.derived()
    assert table.loc["s", "estimate"] == pytest.approx(3.0 * sigma_hat, rel=1e-9)
    # mu is fixed on its bound: only sigma-hat varies, se = 3·sigma-hat/sqrt(2n).
    assert table.loc["s", "se"] == pytest.approx(3.0 * sigma_hat / np.sqrt(2 * 40), rel=1e-6)


def test_module_function_equals_the_method(cv_fit):
    pd.testing.assert_frame_equal(derived_quantities(cv_fit), cv_fit.derived())


def test_pm_data_in_constant_data():
    x = np.linspace(0.0, 1.0, N)
    with pm.Model(coords={"obs": np.arange(N)}) as model:
        xd = pm.Data("x", x, dims="obs")
        scale = pm.Data("scale", 2.0)
        a = pm.Normal("a", 0.0, 10.0)
        b = pm.Normal("b", 0.0, 10.0)
        sigma = pm.HalfNormal("sigma", 5.0)
        pm.Normal("y", a + b * xd * scale, sigma, observed=Y, dims="obs")
    result = ppl_mle.fit_mle(model)
    idata = result.to_inference_data()
    assert "constant_data" in idata.groups()
    np.testing.assert_array_equal(idata.constant_data["x"].values, x)
    assert idata.constant_data["x"].dims == ("obs",)
    assert float(idata.constant_data["scale"]) == 2.0
    np.testing.assert_array_equal(idata.observed_data["y"].values, Y)


def test_observed_pm_data_is_not_constant_data():
    with pm.Model() as model:
        yd = pm.Data("y_obs", Y)
        mu = pm.Normal("mu", 0.0, 10.0)
        sigma = pm.HalfNormal("sigma", 5.0)
        pm.Normal("y", mu, sigma, observed=yd)
    idata = ppl_mle.fit_mle(model).to_inference_data()
    assert "constant_data" not in idata.groups()


def test_no_standard_errors_gives_nan_se():
    # The MLE sees only x + y: the information is singular, det = 100 but no SE.
    with pm.Model() as model:
        x = pm.Normal("x")
        y = pm.Normal("y")
        pm.Deterministic("det", x + y)
        pm.Normal("z", x + y, 1e-5, observed=100.0)
    with pytest.warns(ppl_mle.IdentifiabilityWarning):
        result = ppl_mle.fit_mle(model)
    with pytest.warns(ppl_mle.IdentifiabilityWarning):
        table = result.derived()
    assert table.loc["det", "estimate"] == pytest.approx(100.0, rel=1e-10)
    assert table[["se", "wald_lower", "wald_upper"]].isna().all(axis=None)
