"""fit_mle against the realised sample's closed form, for every model and method."""

import numpy as np
import pymc as pm
import pytest
from conftest import HEIGHTS, LABELS
from scipy import stats

import ppl_mle
from ppl_mle.api.fit_mle import DERIVATIVE_FREE_METHODS, GRADIENT_METHODS, NEWTON_METHODS

ALL_METHODS = GRADIENT_METHODS + NEWTON_METHODS + DERIVATIVE_FREE_METHODS
RTOL = 1e-10
LL_ATOL = 1e-10


def assert_matches_closed_form(result):
    check = result.check_analytic(rtol=RTOL, loglik_atol=LL_ATOL)
    assert result.converged, result.message
    assert check.passed, str(check)
    assert check.max_rel_diff <= RTOL
    assert abs(check.loglik_diff) <= LL_ATOL


@pytest.mark.parametrize("method", ALL_METHODS)
def test_normal_both_unknown(method, normal_sample):
    result = ppl_mle.fit_mle(ppl_mle.normal(normal_sample), method=method)
    assert_matches_closed_form(result)
    # The log-likelihood is the full one, constants included: compare with scipy.
    expected = stats.norm.logpdf(normal_sample, normal_sample.mean(), normal_sample.std()).sum()
    assert result.loglik == pytest.approx(expected, abs=1e-10)
    assert result.n_obs == 100 and result.n_params == 2
    assert result.method == method


@pytest.mark.parametrize("method", ALL_METHODS)
def test_normal_sigma_known(method, normal_sample):
    result = ppl_mle.fit_mle(ppl_mle.normal(normal_sample, sigma=1.0), method=method)
    assert_matches_closed_form(result)
    assert set(result.estimates) == {"mu"}
    assert result.n_params == 1
    expected = stats.norm.logpdf(normal_sample, normal_sample.mean(), 1.0).sum()
    assert result.loglik == pytest.approx(expected, abs=1e-10)


@pytest.mark.parametrize("sigma", [2.0, 0.3, 7.5])
def test_known_sigma_loglik_is_float64_exact(sigma, normal_sample):
    """A known sigma that fits in float32 must not make PyTensor fold log(sigma) in float32."""
    result = ppl_mle.fit_mle(ppl_mle.normal(normal_sample, sigma=sigma))
    expected = stats.norm.logpdf(normal_sample, normal_sample.mean(), sigma).sum()
    assert result.loglik == pytest.approx(expected, abs=1e-11)
    assert_matches_closed_form(result)


@pytest.mark.parametrize("method", ALL_METHODS)
def test_categorical(method):
    result = ppl_mle.fit_mle(ppl_mle.categorical(LABELS), method=method)
    assert_matches_closed_form(result)
    np.testing.assert_allclose(result.estimates["theta"], [8 / 20, 5 / 20, 4 / 20, 3 / 20])
    assert result.n_obs == 20 and result.n_params == 3


@pytest.mark.parametrize("method", ["L-BFGS-B", "Nelder-Mead"])
def test_heights(method):
    result = ppl_mle.fit_mle(ppl_mle.normal(HEIGHTS), method=method)
    assert_matches_closed_form(result)
    assert float(result.estimates["mu"]) == pytest.approx(171.0, rel=1e-14)
    assert float(result.estimates["sigma"]) == pytest.approx(np.sqrt(51.0), rel=1e-14)


def test_result_reports_sigma_and_log_sigma():
    result = ppl_mle.fit_mle(ppl_mle.normal(HEIGHTS))
    sigma = float(result.estimates["sigma"])
    log_sigma = float(result.unconstrained["sigma_log__"])
    assert log_sigma == pytest.approx(np.log(sigma), rel=1e-15)
    frame = result.to_dataframe()
    assert list(frame.index) == ["mu", "sigma"]
    assert result.to_dict()["unconstrained"]["sigma_log__"] == pytest.approx(log_sigma)


@pytest.mark.parametrize("method", ["L-BFGS-B", "Powell"])
def test_invariance_fit_on_log_scale(method, normal_sample):
    """MLE is invariant under reparametrisation: exp(MLE of log sigma) = MLE of sigma."""
    with pm.Model() as log_model:
        mu = pm.Flat("mu")
        log_sigma = pm.Flat("log_sigma")
        pm.Normal("x", mu=mu, sigma=pm.math.exp(log_sigma), observed=normal_sample)
    on_log = ppl_mle.fit_mle(log_model, method=method)
    direct = ppl_mle.fit_mle(ppl_mle.normal(normal_sample), method=method)
    closed = ppl_mle.closed_form.normal_mle(normal_sample)
    assert on_log.converged
    assert np.exp(float(on_log.estimates["log_sigma"])) == pytest.approx(closed["sigma"], rel=1e-12)
    assert float(on_log.estimates["mu"]) == pytest.approx(closed["mu"], rel=1e-12)
    assert on_log.loglik == pytest.approx(direct.loglik, abs=1e-10)


def test_string_labels_and_zero_count_category():
    labels = ["b", "a", "b", "c", "b"]
    result = ppl_mle.fit_mle(ppl_mle.categorical(labels, categories=["c", "b", "a", "z"]))
    theta = result.estimates["theta"]
    np.testing.assert_allclose(theta, [1 / 5, 3 / 5, 1 / 5, 0.0], rtol=1e-12)
    assert theta[3] == 0.0  # exactly 0, not 1e-9
    np.testing.assert_array_equal(result.on_boundary["theta"], [False, False, False, True])
    assert "never observed" in result.message and "'z'" in result.message
    assert result.check_analytic().passed
    assert list(result.to_dataframe().index) == ["theta[c]", "theta[b]", "theta[a]", "theta[z]"]


def test_categories_follow_sorted_order_by_default():
    model = ppl_mle.categorical(["dog", "cat", "dog", "emu"])
    assert model.family.categories == ("cat", "dog", "emu")
    result = ppl_mle.fit_mle(model, method="BFGS")
    np.testing.assert_allclose(result.estimates["theta"], [0.25, 0.5, 0.25], rtol=1e-12)


def test_models_are_ordinary_pymc_models_and_sample(normal_sample):
    model = ppl_mle.normal(normal_sample)
    assert isinstance(model, pm.Model)
    with model:
        idata = pm.sample(
            draws=200,
            tune=200,
            chains=1,
            random_seed=1,
            progressbar=False,
            compute_convergence_checks=False,
        )
    # Flat priors: the posterior mean of mu is near x̄ (within a few MC errors of the SE 0.1).
    assert abs(float(idata.posterior["mu"].mean()) - normal_sample.mean()) < 0.1
    cat = ppl_mle.categorical(LABELS)
    with cat:
        idata = pm.sample(
            draws=200,
            tune=200,
            chains=1,
            random_seed=1,
            progressbar=False,
            compute_convergence_checks=False,
        )
    assert idata.posterior["theta"].shape[-1] == 4


def test_single_observed_category_is_the_vertex():
    result = ppl_mle.fit_mle(ppl_mle.categorical(["a", "a", "a"], categories=["b", "a", "c"]))
    np.testing.assert_array_equal(result.estimates["theta"], [0.0, 1.0, 0.0])
    assert result.converged and result.loglik == 0.0
    assert "vertex" in result.message
    assert result.check_analytic().passed


def test_refit_of_a_plain_pymc_model_after_set_data():
    # The objective keeps its last points' values: new data must not be served stale ones.
    rng = np.random.default_rng(11)
    first, second = rng.normal(3.0, 2.0, 40), rng.normal(-1.0, 0.5, 60)
    with pm.Model() as model:
        data = pm.Data("data", first)
        pm.Normal("x", pm.Flat("mu"), pm.HalfFlat("sigma"), observed=data)
    before = ppl_mle.fit_mle(model, start={"mu": 0.0, "sigma": 1.0})
    pm.set_data({"data": second}, model=model)
    after = ppl_mle.fit_mle(model, start={"mu": 0.0, "sigma": 1.0})
    for result, sample in [(before, first), (after, second)]:
        assert result.estimates["mu"] == pytest.approx(sample.mean(), rel=1e-12)
        assert result.estimates["sigma"] == pytest.approx(sample.std(), rel=1e-12)


def test_start_check_shared_with_find_map_still_names_the_problem(normal_sample):
    from pymc.exceptions import SamplingError

    model = ppl_mle.normal(normal_sample)
    ppl_mle.fit_mle(model)  # find_MAP's log-density and start check come from the fit's
    with pytest.raises(SamplingError, match="Initial evaluation of model at starting point"):
        model.check_start_vals({"mu": np.array(0.0), "sigma_log__": np.array(np.inf)})
