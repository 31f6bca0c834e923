"""Profile-likelihood intervals of ``pm.Deterministic`` values, against independent ones.

The profile of g(θ) at c is max ℓ(θ) subject to g(θ) = c; the interval is where
2(ℓ̂ − ℓₚ(c)) ≤ q = χ²₁(0.95). References: a closed form (the difference of two normal
means with a common sigma), and otherwise SciPy's SLSQP maximising the log-likelihood,
written out by hand with its gradient, subject to g(θ) = c at ftol 1e-14, with Brent's
method on c for a deviance of q.
"""

import math

import numpy as np
import pymc as pm
import pytest
from scipy import optimize, stats
from scipy.special import expit, logit

import ppl_mle
from ppl_mle.fit.cache import compilations

Q95 = float(stats.chi2.ppf(0.95, 1))
RTOL = 1e-9  # against SLSQP (the bounds agree to 1e-12 or better)

# Two groups, one sigma.
Y1 = np.random.default_rng(11).normal(5.0, 2.0, 15)
Y2 = np.random.default_rng(12).normal(3.5, 2.0, 20)
# A 2×2 table: successes of two binomials.
K1, N1, K2, N2 = 12, 40, 5, 45
# One normal sample with its mean clearly away from 0, one with it near 0.
Y = np.random.default_rng(13).normal(3.0, 2.0, 30)
Y_NEAR_0 = np.random.default_rng(1).normal(0.3, 2.0, 40)[-20:]
# A logistic regression, and a new x far to the left: p there is near 0.
X = np.linspace(-2.0, 2.0, 60)
B = np.random.default_rng(14).binomial(1, expit(-1.0 + 1.5 * X))
X_NEW = np.array([-4.0, 0.0, -4.0])  # p[2] is p_new


def slsqp_bound(nll, jac, con, con_jac, x_hat, c_inside, c_outside):
    """The c between c_inside and c_outside where SLSQP's profile deviance is q."""
    nll_hat = nll(x_hat)

    def excess(c):
        res = optimize.minimize(
            nll,
            x_hat,
            jac=jac,
            method="SLSQP",
            constraints=[
                {"type": "eq", "fun": lambda x: con(x, c), "jac": lambda x: con_jac(x, c)}
            ],
            options={"ftol": 1e-14, "maxiter": 1000},
        )
        assert res.success, res.message
        return 2.0 * (res.fun - nll_hat) - Q95

    return optimize.brentq(excess, c_inside, c_outside, xtol=1e-14, rtol=1e-13)


def check_against_slsqp(interval, nll, jac, con, con_jac, x_hat, factor=1.5):
    """Both bounds of ``interval`` against SLSQP, bracketed by ``factor`` times as far."""
    est = interval.estimate
    for bound in (interval.lower, interval.upper):
        outside = est + factor * (bound - est)
        reference = slsqp_bound(nll, jac, con, con_jac, x_hat, est, outside)
        assert bound == pytest.approx(reference, rel=RTOL)


# -- the difference of two means --------------------------------------------------------------


@pytest.fixture(scope="module")
def two_groups():
    with pm.Model() as model:
        mu1 = pm.Normal("mu1", 0.0, 100.0)
        mu2 = pm.Normal("mu2", 0.0, 100.0)
        sigma = pm.HalfNormal("sigma", 10.0)
        pm.Deterministic("diff", mu1 - mu2)
        pm.Deterministic("same_mu1", 1.0 * mu1)
        pm.Normal("y1", mu1, sigma, observed=Y1)
        pm.Normal("y2", mu2, sigma, observed=Y2)
    return ppl_mle.fit_mle(model, on_failure="raise")


def test_difference_of_means_has_the_closed_form(two_groups):
    # At diff = c: RSS(c) = RSS + k(d̂ − c)², k = n1·n2/(n1 + n2), and the deviance is
    # n·log(RSS(c)/RSS): the bounds are d̂ ± sqrt(RSS·(exp(q/n) − 1)/k).
    n1, n2 = Y1.size, Y2.size
    n, k = n1 + n2, n1 * n2 / (n1 + n2)
    d_hat = Y1.mean() - Y2.mean()
    rss = ((Y1 - Y1.mean()) ** 2).sum() + ((Y2 - Y2.mean()) ** 2).sum()
    half = math.sqrt(rss * math.expm1(Q95 / n) / k)
    interval = two_groups.profile_interval("diff")
    assert interval.estimate == pytest.approx(d_hat, rel=1e-12)
    assert interval.lower == pytest.approx(d_hat - half, rel=1e-9)
    assert interval.upper == pytest.approx(d_hat + half, rel=1e-9)
    assert interval.note == ""
    # The table and conf_int carry the same bounds (by default: method="profile").
    row = two_groups.summary().loc["diff"]
    assert (row["profile_lower"], row["profile_upper"]) == (interval.lower, interval.upper)
    assert "pm.Deterministic" in row["note"]
    confint = two_groups.conf_int().loc["diff"]
    assert (confint["lower"], confint["upper"]) == (interval.lower, interval.upper)
    # And the closed form is SLSQP's answer, on (mu1, mu2, log sigma).
    y = np.concatenate([Y1, Y2])
    group = np.repeat([1.0, 0.0], [n1, n2])

    def nll(x):
        r = y - np.where(group == 1.0, x[0], x[1])
        return n * x[2] + 0.5 * np.exp(-2 * x[2]) * (r @ r)

    def jac(x):
        r = y - np.where(group == 1.0, x[0], x[1])
        w = np.exp(-2 * x[2])
        return np.array([-w * r[:n1].sum(), -w * r[n1:].sum(), n - w * (r @ r)])

    x_hat = np.array([Y1.mean(), Y2.mean(), 0.5 * math.log(rss / n)])
    check_against_slsqp(
        interval, nll, jac, lambda x, c: x[0] - x[1] - c, lambda x, c: [1.0, -1.0, 0.0], x_hat
    )


def test_a_deterministic_equal_to_a_free_parameter_has_its_interval(two_groups):
    # The same constrained maxima whether mu1 is profiled as a parameter or as g(θ) = mu1;
    # the free parameters' intervals are those of the profiler they always had.
    free = two_groups.profile_interval("mu1")
    derived = two_groups.profile_interval("same_mu1")
    assert derived.lower == pytest.approx(free.lower, rel=1e-10)
    assert derived.upper == pytest.approx(free.upper, rel=1e-10)
    # Its closed form: RSS(c) = RSS + n1(ȳ1 − c)², the deviance n·log(RSS(c)/RSS).
    n = Y1.size + Y2.size
    rss = ((Y1 - Y1.mean()) ** 2).sum() + ((Y2 - Y2.mean()) ** 2).sum()
    half = math.sqrt(rss * math.expm1(Q95 / n) / Y1.size)
    assert free.lower == pytest.approx(Y1.mean() - half, rel=1e-9)


# -- the log odds ratio of a 2×2 table --------------------------------------------------------


@pytest.fixture(scope="module")
def two_by_two():
    with pm.Model() as model:
        p1 = pm.Uniform("p1", 0.0, 1.0)
        p2 = pm.Uniform("p2", 0.0, 1.0)
        pm.Deterministic("log_or", pm.math.logit(p1) - pm.math.logit(p2))
        pm.Binomial("k1", n=N1, p=p1, observed=K1)
        pm.Binomial("k2", n=N2, p=p2, observed=K2)
    return ppl_mle.fit_mle(model, on_failure="raise")


def test_log_odds_ratio_against_slsqp(two_by_two):
    interval = two_by_two.profile_interval("log_or")
    log_or = math.log(K1 * (N2 - K2) / (K2 * (N1 - K1)))
    assert interval.estimate == pytest.approx(log_or, rel=1e-12)

    def nll(a):  # on the logits (a1, a2)
        return -(K1 * a[0] - N1 * np.logaddexp(0, a[0]) + K2 * a[1] - N2 * np.logaddexp(0, a[1]))

    def jac(a):
        return -np.array([K1 - N1 * expit(a[0]), K2 - N2 * expit(a[1])])

    x_hat = logit(np.array([K1 / N1, K2 / N2]))
    check_against_slsqp(
        interval, nll, jac, lambda a, c: a[0] - a[1] - c, lambda a, c: [1.0, -1.0], x_hat
    )
    # Fisher's conditional interval is another interval: near, not equal.
    table = np.array([[K1, N1 - K1], [K2, N2 - K2]])
    exact = stats.contingency.odds_ratio(table).confidence_interval(0.95)
    conditional = np.log([exact.low, exact.high])
    assert np.allclose(conditional, [interval.lower, interval.upper], atol=0.25)
    assert not np.allclose(conditional, [interval.lower, interval.upper], atol=1e-3)


# -- the coefficient of variation -------------------------------------------------------------


def _normal_cv_model(y, square=False):
    with pm.Model() as model:
        mu = pm.Normal("mu", 0.0, 100.0)
        sigma = pm.HalfNormal("sigma", 10.0)
        pm.Deterministic("cv", sigma / mu)
        if square:
            pm.Deterministic("sq", (mu - MU0) ** 2)
        pm.Normal("y", mu, sigma, observed=y)
    return ppl_mle.fit_mle(model, on_failure="raise")


def _normal_nll(y):
    def nll(x):  # on (mu, log sigma)
        r = y - x[0]
        return y.size * x[1] + 0.5 * np.exp(-2 * x[1]) * (r @ r)

    def jac(x):
        r = y - x[0]
        w = np.exp(-2 * x[1])
        return np.array([-w * r.sum(), y.size - w * (r @ r)])

    return nll, jac, np.array([y.mean(), math.log(y.std())])


def _cv_constraint(x, c):  # sigma − c·mu = 0: sigma/mu = c, smooth through mu = 0
    return np.exp(x[1]) - c * x[0]


def _cv_constraint_jac(x, c):
    return [-c, np.exp(x[1])]


MU0 = float(Y.mean()) + 0.2  # inside mu's interval: (mu − MU0)² = 0 is in the profile's


@pytest.fixture(scope="module")
def cv_fit():
    return _normal_cv_model(Y, square=True)


def test_cv_against_slsqp(cv_fit):
    interval = cv_fit.profile_interval("cv")
    assert interval.estimate == pytest.approx(Y.std() / Y.mean(), rel=1e-12)
    assert interval.note == ""
    nll, jac, x_hat = _normal_nll(Y)
    check_against_slsqp(interval, nll, jac, _cv_constraint, _cv_constraint_jac, x_hat)
    # Asymmetric, as the likelihood of a ratio: longer towards larger cv.
    assert interval.upper - interval.estimate > interval.estimate - interval.lower


def test_the_edge_of_a_range_inside_the_interval_is_not_vouched_for(cv_fit):
    # (mu − MU0)² ≥ 0, and 0 is inside the interval: below 0 there is no constrained
    # maximum, and the search cannot tell the edge of the range from a failure: NaN, and why.
    interval = cv_fit.profile_interval("sq")
    assert math.isnan(interval.lower)
    assert "lower: no constrained maximum beyond" in interval.note
    assert "the edge of its range?" in interval.note
    # Upwards, mu = MU0 − √c moves away from ȳ = MU0 − 0.2 and leaves mu's interval
    # ȳ ± h, h = sigma-hat·sqrt(exp(q/n) − 1), where √c = 0.2 + h.
    h = Y.std() * math.sqrt(math.expm1(Q95 / Y.size))
    assert interval.upper == pytest.approx((0.2 + h) ** 2, rel=1e-9)


def test_cv_is_unbounded_where_the_mean_may_be_0():
    result = _normal_cv_model(Y_NEAR_0)
    mu = result.profile_interval("mu")
    assert mu.lower < 0.0 < mu.upper  # mu = 0 is inside its interval: cv has a pole there
    interval = result.profile_interval("cv")
    assert interval.estimate > 0.0  # mu-hat > 0
    # Towards +∞ (mu → 0⁺) the profile settles at the deviance of mu = 0, below q: the
    # interval reaches +∞. Independently: that deviance is n·log(Σy²/Σ(y − ȳ)²).
    y = Y_NEAR_0
    at_pole = y.size * math.log((y**2).sum() / ((y - y.mean()) ** 2).sum())
    assert at_pole < Q95
    assert interval.upper == math.inf
    assert "unbounded" in interval.note and f"{at_pole:.6g}" in interval.note
    # The other bound is finite, SLSQP's.
    nll, jac, x_hat = _normal_nll(y)
    outside = interval.lower - 0.5 * (interval.estimate - interval.lower)
    reference = slsqp_bound(
        nll, jac, _cv_constraint, _cv_constraint_jac, x_hat, interval.estimate, outside
    )
    assert interval.lower == pytest.approx(reference, rel=RTOL)
    confint = result.conf_int().loc["cv"]
    assert confint["lower"] == interval.lower and confint["upper"] == math.inf


# -- a predicted probability near 0 -----------------------------------------------------------


@pytest.fixture(scope="module")
def logistic():
    with pm.Model() as model:
        a = pm.Normal("a", 0.0, 10.0)
        b = pm.Normal("b", 0.0, 10.0)
        pm.Deterministic("p_new", pm.math.invlogit(a + b * X_NEW[0]))
        pm.Deterministic("p", pm.math.invlogit(a + b * X_NEW))
        pm.Bernoulli("y", logit_p=a + b * X, observed=B)
    return ppl_mle.fit_mle(model, on_failure="raise")


def test_predicted_probability_near_0_against_slsqp(logistic):
    interval = logistic.profile_interval("p_new")
    assert interval.estimate < 0.01
    assert 0.0 < interval.lower < interval.estimate < interval.upper < 1.0
    # Asymmetric: the Wald interval leaves (0, 1), the profile interval is skewed up.
    assert interval.upper - interval.estimate > 2.0 * (interval.estimate - interval.lower)
    assert logistic.conf_int(method="wald").loc["p_new", "lower"] < 0.0

    def nll(x):
        eta = x[0] + x[1] * X
        return float(np.logaddexp(0, eta).sum() - B @ eta)

    def jac(x):
        r = expit(x[0] + x[1] * X) - B
        return np.array([r.sum(), r @ X])

    x_hat = optimize.minimize(nll, np.zeros(2), jac=jac, method="BFGS", options={"gtol": 1e-12}).x
    check_against_slsqp(
        interval,
        nll,
        jac,
        lambda x, c: x[0] + x[1] * X_NEW[0] - logit(c),
        lambda x, c: [1.0, X_NEW[0]],
        x_hat,
        factor=1.02,  # a probability: stay inside (0, 1)
    )


def test_an_element_of_a_vector_deterministic_by_its_label(logistic):
    scalar = logistic.profile_interval("p_new")
    element = logistic.profile_interval("p[2]")
    assert element.parameter == "p[2]"
    assert element.lower == pytest.approx(scalar.lower, rel=1e-10)
    assert element.upper == pytest.approx(scalar.upper, rel=1e-10)
    table = logistic.summary()
    assert list(table.index) == ["a", "b", "p_new", "p[0]", "p[1]", "p[2]"]
    assert table.loc["p[2]", "profile_lower"] == pytest.approx(scalar.lower, rel=1e-10)
    assert table[["profile_lower", "profile_upper"]].notna().all(axis=None)
    # profile_loglik reads a Deterministic's label too: q/2 below ℓ̂ at the bounds.
    found = ppl_mle.profile_loglik(logistic, "p_new", [element.lower, element.upper])
    np.testing.assert_allclose(logistic.loglik - found, Q95 / 2, rtol=1e-7)


def test_unknown_label_lists_the_deterministics(logistic):
    with pytest.raises(ppl_mle.ModelError, match=r"'p\[2\]'"):
        logistic.profile_interval("q")


# -- where the profile of a Deterministic is not computed -------------------------------------


def test_beside_an_estimate_on_a_bound_the_bounds_are_nan_with_a_note():
    y = np.random.default_rng(7).normal(-1.0, 2.0, 40)
    with pm.Model() as model:
        mu = pm.HalfNormal("mu", 5.0)
        sigma = pm.HalfNormal("sigma", 5.0)
        pm.Deterministic("s", 3.0 * sigma + mu)
        pm.Normal("y", mu, sigma, observed=y)
    with pytest.warns(ppl_mle.BoundaryWarning):
        result = ppl_mle.fit_mle(model)
    interval = result.profile_interval("s")
    assert math.isnan(interval.lower) and math.isnan(interval.upper)
    assert "on the boundary" in interval.note
    row = result.summary().loc["s"]
    assert np.isnan(row["profile_lower"]) and "on the boundary" in row["note"]
    with pytest.raises(ppl_mle.ModelError, match="on the boundary"):
        ppl_mle.profile_loglik(result, "s", [1.0])


def test_the_derivatives_are_compiled_on_first_use_once_per_structure():
    def fit(y):
        with pm.Model() as model:
            observed = pm.Data("observed", y)
            mu = pm.Normal("mu", 0.0, 100.0)
            sigma = pm.HalfNormal("sigma", 10.0)
            pm.Deterministic("g", sigma / mu**3)  # a graph no other test has
            pm.Normal("y", mu, sigma, observed=observed)
        return ppl_mle.fit_mle(model, on_failure="raise")

    first, second = fit(Y), fit(2.0 * Y)
    before = compilations()
    lower = first.profile_interval("g").lower
    assert compilations() > before
    before = compilations()
    interval = second.profile_interval("g")  # an equal graph: what was compiled serves
    assert compilations() == before
    # sigma/mu³ of 2Y is a quarter of that of Y: from the second model's own data.
    assert interval.lower == pytest.approx(lower / 4.0, rel=1e-9)


def test_many_deterministic_values_are_profiled_on_request_only(cv_fit):
    # Thirteen values: by default the table leaves their profile bounds NaN, and says so.
    with pm.Model() as model:
        mu = pm.Normal("mu", 0.0, 100.0)
        sigma = pm.HalfNormal("sigma", 10.0)
        pm.Deterministic("shifted", mu + np.arange(13.0))
        pm.Normal("y", mu, sigma, observed=Y)
    result = ppl_mle.fit_mle(model, on_failure="raise")
    table = result.summary()
    rows = table.loc[[f"shifted[{i}]" for i in range(13)]]
    assert rows[["profile_lower", "profile_upper"]].isna().all(axis=None)
    assert "profile intervals not computed for 13 values" in rows["note"].iloc[0]
    assert table.loc["mu", ["profile_lower", "profile_upper"]].notna().all()
    # On request: shifted[i] = mu + i, so its interval is mu's, moved by i.
    mu_interval = cv_fit.profile_interval("mu")
    moved = result.profile_interval("shifted[12]")
    assert moved.lower == pytest.approx(mu_interval.lower + 12.0, rel=1e-9)


def test_the_profile_picture_draws_the_free_parameters(logistic):
    fig = logistic.plot()
    assert sorted(ax.get_title() for ax in fig.axes if ax.get_visible()) == ["a", "b"]
