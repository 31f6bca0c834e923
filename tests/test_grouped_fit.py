"""Per-group MLE: every group's estimate, SE, interval and test against independent answers."""

from __future__ import annotations

import math
import warnings
from decimal import Decimal, localcontext
from fractions import Fraction

import numpy as np
import pandas as pd
import pymc as pm
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import optimize
from scipy import stats as sps

import ppl_mle
from ppl_mle.core.grouped import BlockLayout, BlockMatrix, group_stats, merge_group_stats

RTOL = 1e-12


def _data(seed: int = 0, g: int = 7, n: int = 400) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, g, n)
    x = rng.normal(10.0 + codes, 1.0 + 0.3 * codes, n)
    labels = np.array([f"store{c}" for c in codes])
    return x, labels


@pytest.fixture(scope="module")
def normal_fit() -> tuple[ppl_mle.GroupedResult, pd.DataFrame]:
    x, g = _data()
    result = ppl_mle.fit_mle(ppl_mle.normal(x, groups=g))
    frame = pd.DataFrame({"g": g, "x": x})
    return result, frame


def test_every_group_is_its_closed_form_with_exact_ses(normal_fit) -> None:
    result, frame = normal_fit
    agg = frame.groupby("g")["x"].agg(["mean", "count", lambda v: v.std(ddof=0)])
    agg.columns = ["mean", "n", "sd"]
    table = result.by_group()
    assert result.status is ppl_mle.FitStatus.VERIFIED
    assert list(table.index) == list(agg.index)
    assert (table["verdict"] == "verified").all()
    np.testing.assert_allclose(table["mu"], agg["mean"], rtol=RTOL)
    np.testing.assert_allclose(table["sigma"], agg["sd"], rtol=RTOL)
    np.testing.assert_array_equal(table["n"], agg["n"])
    # Observed information at the MLE: SE(mu) = sigma/sqrt(n), SE(sigma) = sigma/sqrt(2n).
    np.testing.assert_allclose(table["mu_se"], agg["sd"] / np.sqrt(agg["n"]), rtol=1e-12)
    np.testing.assert_allclose(table["sigma_se"], agg["sd"] / np.sqrt(2 * agg["n"]), rtol=1e-12)
    assert np.all(result.newton_step_se <= 1e-4)
    with pytest.raises(ValueError, match="read-only"):
        result.estimates["mu"][0] = 0.0
    with pytest.raises(TypeError, match="read-only"):
        result.estimates["mu"] = np.zeros(7)


def test_profile_intervals_equal_single_group_fits(normal_fit) -> None:
    """The closed-form profile intervals per group against ppl_mle's numerical profile."""
    result, frame = normal_fit
    table = result.by_group(alpha=0.1)
    for label in ("store0", "store4"):
        single = ppl_mle.fit_mle(ppl_mle.normal(frame.loc[frame.g == label, "x"].to_numpy()))
        for name in ("mu", "sigma"):
            interval = single.profile_interval(name, alpha=0.1)
            lo, hi = (
                table.loc[label, f"{name}_profile_lower"],
                table.loc[label, f"{name}_profile_upper"],
            )
            assert lo == pytest.approx(interval.lower, rel=1e-9)
            assert hi == pytest.approx(interval.upper, rel=1e-9)


def test_lr_tests_against_independent_likelihoods(normal_fit) -> None:
    result, frame = normal_fit
    groups = [frame.loc[frame.g == k, "x"].to_numpy() for k in sorted(set(frame.g))]
    full = sum(float(np.sum(sps.norm.logpdf(x, x.mean(), x.std()))) for x in groups)
    allx = np.concatenate(groups)
    pooled = math.sqrt(sum(float(np.sum((x - x.mean()) ** 2)) for x in groups) / allx.size)
    shared_sigma = sum(float(np.sum(sps.norm.logpdf(x, x.mean(), pooled))) for x in groups)
    test = result.lr_test("sigma")
    assert test.statistic == pytest.approx(2 * (full - shared_sigma), rel=1e-10)
    assert test.df == len(groups) - 1
    one = float(np.sum(sps.norm.logpdf(allx, allx.mean(), allx.std())))
    assert result.lr_test("mu and sigma").statistic == pytest.approx(2 * (full - one), rel=1e-10)

    # Common mu, sigma free per group: maximised numerically over (mu, log sigma_g).
    def negative(theta: np.ndarray) -> float:
        mu, logs = theta[0], theta[1:]
        pairs = zip(groups, logs, strict=True)
        return -sum(float(np.sum(sps.norm.logpdf(x, mu, math.exp(s)))) for x, s in pairs)

    start = np.r_[allx.mean(), [math.log(x.std()) for x in groups]]
    best = optimize.minimize(negative, start, method="BFGS", options={"gtol": 1e-9})
    assert result.lr_test("mu").statistic == pytest.approx(2 * (full + best.fun), rel=1e-7)


def test_common_sigma_is_one_way_anova() -> None:
    x, g = _data(seed=3)
    result = ppl_mle.fit_mle(ppl_mle.normal(x, groups=g, common_sigma=True))
    groups = [x[g == k] for k in sorted(set(g))]
    within = sum(float(np.sum((v - v.mean()) ** 2)) for v in groups)
    sigma = math.sqrt(within / x.size)
    assert float(result.estimates["sigma"]) == pytest.approx(sigma, rel=RTOL)
    assert float(result.standard_errors["sigma"]) == pytest.approx(
        sigma / math.sqrt(2 * x.size), rel=1e-12
    )
    n = np.array([v.size for v in groups])
    np.testing.assert_allclose(result.standard_errors["mu"], sigma / np.sqrt(n), rtol=1e-12)
    f = sps.f_oneway(*groups)
    k, big_n = len(groups), x.size
    expected = big_n * math.log1p(f.statistic * (k - 1) / (big_n - k))
    test = result.lr_test("mu")
    assert test.statistic == pytest.approx(expected, rel=1e-12)
    # Its profile interval of mu_g maximises over the shared sigma too (brentq on ℓ).
    table = result.by_group()
    v = groups[2]
    q = sps.chi2.ppf(0.95, 1)

    def deviance(m: float) -> float:
        return big_n * math.log1p(v.size * (v.mean() - m) ** 2 / within) - q

    upper = optimize.brentq(deviance, v.mean(), v.mean() + 10, xtol=1e-14)
    assert table["mu_profile_upper"].iloc[2] == pytest.approx(upper, rel=1e-12)


def test_known_sigma() -> None:
    x, g = _data(seed=4)
    result = ppl_mle.fit_mle(ppl_mle.normal(x, sigma=2.0, groups=g))
    groups = [x[g == k] for k in sorted(set(g))]
    np.testing.assert_allclose(result.estimates["mu"], [v.mean() for v in groups], rtol=RTOL)
    np.testing.assert_allclose(
        result.standard_errors["mu"], [2.0 / math.sqrt(v.size) for v in groups], rtol=1e-12
    )
    grand = x.mean()
    expected = sum(v.size * (v.mean() - grand) ** 2 for v in groups) / 4.0
    assert result.lr_test("mu").statistic == pytest.approx(expected, rel=1e-12)
    with pytest.raises(ppl_mle.ModelError, match="only 'mu'"):
        result.lr_test("sigma")


def test_categorical_per_group_and_g_test_equal_scipy() -> None:
    rng = np.random.default_rng(5)
    groups = rng.choice(["north", "south", "east", "west"], size=600)
    labels = rng.choice(["a", "b", "c"], size=600, p=[0.5, 0.3, 0.2])
    labels[groups == "west"] = np.where(
        labels[groups == "west"] == "c", "a", labels[groups == "west"]
    )
    with pytest.warns(ppl_mle.BoundaryWarning, match="'west'"):
        result = ppl_mle.fit_mle(ppl_mle.categorical(labels, groups=groups))
    table = pd.crosstab(groups, labels)
    theta = table.to_numpy() / table.to_numpy().sum(axis=1, keepdims=True)
    np.testing.assert_allclose(result.estimates["theta"], theta, rtol=RTOL, atol=0)
    west = list(table.index).index("west")
    assert result.estimates["theta"][west, 2] == 0.0
    assert result.group_status[west] is ppl_mle.FitStatus.BOUNDARY
    interior = [i for i in range(4) if i != west]
    n = table.to_numpy().sum(axis=1, keepdims=True)
    np.testing.assert_allclose(
        result.standard_errors["theta"][interior],
        np.sqrt(theta * (1 - theta) / n)[interior],
        rtol=1e-12,
    )
    test = result.lr_test("theta")
    reference = sps.chi2_contingency(table.to_numpy(), correction=False, lambda_="log-likelihood")
    assert test.statistic == pytest.approx(reference.statistic, rel=1e-12)
    assert test.df == reference.dof
    assert test.pvalue == pytest.approx(reference.pvalue, rel=1e-10)
    # theta's profile interval per group: that of a categorical fit of the group alone.
    frame = result.by_group()
    single = ppl_mle.fit_mle(
        ppl_mle.categorical(labels[groups == "north"], categories=["a", "b", "c"])
    )
    interval = single.profile_interval("theta[b]")
    assert frame.loc["north", "theta[b]_profile_lower"] == pytest.approx(interval.lower, rel=1e-9)
    assert frame.loc["north", "theta[b]_profile_upper"] == pytest.approx(interval.upper, rel=1e-9)


def test_groups_without_an_interior_mle_are_reported_per_group() -> None:
    x = np.array([1.0, 2.0, 4.0, 5.0, 5.0, 5.0, 7.0, 3.0, 3.5, 9.0])
    g = np.array(["a", "a", "a", "b", "b", "b", "c", "d", "d", "d"])
    with pytest.warns(ppl_mle.BoundaryWarning, match="2 group"):
        result = ppl_mle.fit_mle(ppl_mle.normal(x, groups=g))
    table = result.by_group()
    assert list(table["verdict"]) == ["verified", "unbounded", "unbounded", "verified"]
    assert table.loc["b", "sigma"] == 0.0 and table.loc["c", "sigma"] == 0.0
    assert table.loc["b", "mu"] == 5.0 and table.loc["c", "mu"] == 7.0
    assert "equal" in table.loc["b", "note"] and "one observation" in table.loc["c", "note"]
    assert np.isnan(table.loc["b", "mu_se"])
    assert table.loc["a", "sigma"] == pytest.approx(np.std([1.0, 2.0, 4.0]), rel=RTOL)
    with pytest.raises(ppl_mle.ModelError, match="unbounded"):
        result.lr_test("sigma")
    # With one sigma shared, equal values are no problem.
    shared = ppl_mle.fit_mle(ppl_mle.normal(x, groups=g, common_sigma=True))
    assert shared.status is ppl_mle.FitStatus.VERIFIED


def test_many_groups_of_one_row_each_answer_at_once() -> None:
    g = np.arange(200_000)
    x = np.random.default_rng(6).normal(size=g.size)
    with pytest.warns(ppl_mle.BoundaryWarning, match="200000 group"):
        result = ppl_mle.fit_mle(ppl_mle.normal(x, groups=g))
    assert np.all(result.group_status == ppl_mle.FitStatus.UNBOUNDED)
    np.testing.assert_array_equal(result.estimates["mu"], x)
    assert np.all(result.estimates["sigma"] == 0.0)


def test_bad_group_labels() -> None:
    with pytest.raises(ppl_mle.DataError, match="one group only"):
        ppl_mle.normal([1.0, 2.0, 3.0], groups=["a", "a", "a"])
    with pytest.raises(ppl_mle.DataError, match="2 missing"):
        ppl_mle.normal([1.0, 2.0, 3.0, 4.0], groups=["a", None, np.nan, "b"])
    with pytest.raises(ppl_mle.DataError):
        ppl_mle.normal([1.0, 2.0, 3.0], groups=["a", "b"])
    with pytest.raises(ppl_mle.DataError, match="'c'"):
        ppl_mle.normal([1.0, 2.0, 3.0, 4.0], groups=list("abca"), group_names=["a", "b"])
    with pytest.raises(ppl_mle.ModelError, match="block-diagonal"):
        ppl_mle.fit_mle(ppl_mle.normal([1.0, 2.0, 3.0, 4.0], groups=list("aabb")), method="BFGS")


def test_the_model_is_an_ordinary_pymc_model() -> None:
    """Its statistics log-likelihood equals the rows' at any point, and NUTS samples it."""
    x, g = _data(seed=7, g=3, n=60)
    model = ppl_mle.normal(x, groups=g)
    assert model.coords["group"] == ("store0", "store1", "store2")
    assert model.named_vars_to_dims["mu"] == ("group",)
    point = {"mu": np.array([9.0, 11.0, 12.5]), "sigma_log__": np.log([1.5, 1.0, 2.0])}
    logp = model.compile_logp(jacobian=False, vars=model.observed_RVs)(point)
    codes = np.searchsorted(["store0", "store1", "store2"], g)
    rows = sps.norm.logpdf(x, point["mu"][codes], np.exp(point["sigma_log__"])[codes]).sum()
    assert float(logp) == pytest.approx(float(rows), rel=1e-12)
    with model, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        idata = pm.sample(
            50,
            tune=50,
            chains=1,
            progressbar=False,
            random_seed=1,
            compute_convergence_checks=False,
        )
    assert idata.posterior["mu"].dims == ("chain", "draw", "group")
    mle = ppl_mle.fit_mle(model).to_inference_data()
    assert mle.posterior["sigma"].dims == ("chain", "draw", "group")
    assert list(mle.posterior["mu"].coords["group"].values) == ["store0", "store1", "store2"]


def _exact(values: list[float]) -> tuple[Fraction, Decimal]:
    exact = [Fraction(v) for v in values]
    mean = sum(exact) / len(exact)
    var = sum((v - mean) ** 2 for v in exact) / len(exact)
    with localcontext() as ctx:
        ctx.prec = 40
        ctx.Emin, ctx.Emax = -999_999, 999_999
        sd = (Decimal(var.numerator) / Decimal(var.denominator)).sqrt()
    return mean, sd


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    exponents=st.lists(st.integers(-300, 290), min_size=2, max_size=4),
    offsets=st.lists(st.sampled_from([0.0, 1e9, 1e15]), min_size=4, max_size=4),
    seed=st.integers(0, 2**32 - 1),
)
def test_float64_edges_per_group(exponents: list[int], offsets: list[float], seed: int) -> None:
    """Groups at magnitudes 1e±300 and offsets far above their spread: every digit kept."""
    rng = np.random.default_rng(seed)
    xs, gs = [], []
    for i, e in enumerate(exponents):
        spread = 10.0**e
        values = (offsets[i] + rng.normal(size=5)) * spread
        xs.append(values)
        gs.extend([i] * 5)
    x = np.concatenate(xs)
    result = ppl_mle.fit_mle(ppl_mle.normal(x, groups=np.array(gs)))
    assert result.status is ppl_mle.FitStatus.VERIFIED
    for i, values in enumerate(xs):
        mean, sd = _exact([float(v) for v in values])
        mu, sigma = result.estimates["mu"][i], result.estimates["sigma"][i]
        scale = max(abs(float(mean)), float(sd))
        assert abs(float(Fraction(float(mu)) - mean)) <= 1e-12 * scale
        assert abs(Decimal(float(sigma)) / sd - 1) <= Decimal("1e-12")


def test_merged_shards_equal_the_whole() -> None:
    rng = np.random.default_rng(8)
    codes = rng.integers(0, 50, 3000)
    # Chan's merge at an offset far above the spread loses digits in the difference of
    # the means; the data layer merges shards around a pivot (tests/test_grouped_data.py).
    x = 3.0 + rng.normal(size=3000)
    whole = group_stats(x, codes, 50)
    merged = merge_group_stats(
        group_stats(x[:1000], codes[:1000], 50), group_stats(x[1000:], codes[1000:], 50)
    )
    np.testing.assert_array_equal(merged.n, whole.n)
    np.testing.assert_allclose(merged.mean, whole.mean, rtol=1e-15)
    np.testing.assert_allclose(merged.ss * merged.scale**2, whole.ss * whole.scale**2, rtol=1e-12)


def _random_block_matrix(rng: np.random.Generator, g: int, k: int, s: int) -> BlockMatrix:
    index = np.arange(g * k).reshape(g, k)
    layout = BlockLayout(index, np.arange(g * k, g * k + s), g * k + s)
    a = rng.normal(size=(g, k, k))
    blocks = np.einsum("gij,gkj->gik", a, a) + 3 * np.eye(k)
    border = 0.1 * rng.normal(size=(g, k, s))
    corner = (5 + g) * np.eye(s)
    return BlockMatrix(layout, blocks, border, corner)


@pytest.mark.parametrize("shared", [0, 1, 2])
def test_block_newton_solve_equals_dense(shared: int) -> None:
    rng = np.random.default_rng(shared)
    h = _random_block_matrix(rng, 40, 3, shared)
    dense = np.zeros((h.layout.size, h.layout.size))
    for g in range(40):
        idx = h.layout.index[g]
        dense[np.ix_(idx, idx)] = h.blocks[g]
        dense[np.ix_(idx, h.layout.shared)] = h.border[g]
        dense[np.ix_(h.layout.shared, idx)] = h.border[g].T
    dense[np.ix_(h.layout.shared, h.layout.shared)] = h.corner
    v = rng.normal(size=h.layout.size)
    np.testing.assert_allclose(h.matvec(v), dense @ v, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(h.solve(v), np.linalg.solve(dense, v), rtol=1e-10, atol=1e-12)
    cov_g, cov_s = h.group_covariances()
    inverse = np.linalg.inv(dense)
    np.testing.assert_allclose(
        cov_g[7], inverse[np.ix_(h.layout.index[7], h.layout.index[7])], rtol=1e-10, atol=1e-14
    )
    if shared:
        np.testing.assert_allclose(
            cov_s, inverse[np.ix_(h.layout.shared, h.layout.shared)], rtol=1e-10
        )
    # An indefinite block still gives a descent direction.
    h.blocks[3] = -h.blocks[3]
    step = h.descent_step(v)
    assert float(v @ step) < 0


def test_cli_fit_by_group(tmp_path, capsys) -> None:
    from ppl_mle.cli import main

    x, g = _data(seed=9, g=4, n=200)
    path = tmp_path / "sales.csv"
    pd.DataFrame({"store": g, "x": x}).to_csv(path, index=False)
    out = tmp_path / "groups.parquet"
    assert (
        main(["fit", "normal", str(path), "--column", "x", "--by", "store", "--output", str(out)])
        == 0
    )
    table = pd.read_parquet(out)
    frame = pd.DataFrame({"g": g, "x": x}).groupby("g")["x"]
    np.testing.assert_allclose(table["mu"], frame.mean(), rtol=RTOL)
    np.testing.assert_allclose(table["sigma"], frame.std(ddof=0), rtol=RTOL)
    capsys.readouterr()
    assert main(["fit", "normal", str(path), "--column", "x", "--by", "store", "--json"]) == 0
    import json

    payload = json.loads(capsys.readouterr().out)
    assert payload["n_groups"] == 4 and payload["status"] == "verified"
    assert [t["null"] for t in payload["tests"]] == [
        "all 4 groups share mu",
        "all 4 groups share sigma",
    ]
    assert main(["fit", "normal", str(path), "--column", "x", "--by", "shop"]) == 2
    assert "'shop'" in capsys.readouterr().err


def test_compare_bayes_on_a_per_group_model() -> None:
    """NUTS on the statistics model: posterior moments near the exact t / inverse-gamma ones."""
    x, g = _data(seed=10, g=3, n=150)
    comparison = ppl_mle.compare_bayes(
        ppl_mle.normal(x, groups=g), draws=1000, tune=1000, random_seed=3
    )
    table = comparison.table
    assert comparison.trustworthy
    assert list(table.index.get_level_values("group").unique()) == ["store0", "store1", "store2"]
    mle = table["mle"].to_numpy()
    np.testing.assert_allclose(
        table.xs("mu", level="parameter")["mle"],
        [x[g == k].mean() for k in ("store0", "store1", "store2")],
        rtol=RTOL,
    )
    # Exact flat-prior marginals against scipy's own t and inverse-gamma.
    v = x[g == "store1"]
    t = sps.t(
        df=v.size - 2,
        loc=v.mean(),
        scale=math.sqrt(np.sum((v - v.mean()) ** 2) / (v.size * (v.size - 2))),
    )
    assert table.loc[("store1", "mu"), "exact_sd"] == pytest.approx(t.std(), rel=1e-12)
    draws = np.sqrt(
        sps.invgamma(a=(v.size - 2) / 2, scale=np.sum((v - v.mean()) ** 2) / 2).rvs(
            400_000, random_state=1
        )
    )
    assert table.loc[("store1", "sigma"), "exact_mean"] == pytest.approx(draws.mean(), rel=2e-3)
    # The posterior is within Monte Carlo error of the exact moments.
    error = np.abs(table["posterior_mean"] - table["exact_mean"]) / table["mcse_mean"]
    assert float(error.max()) < 5
    assert np.all(np.isfinite(mle))
    assert comparison.idata.posterior["mu"].dims == ("chain", "draw", "group")
    with pytest.raises(ppl_mle.ModelError, match="improper"):
        ppl_mle.compare_bayes(ppl_mle.normal([1.0, 2.0, 3.0, 4.0, 6.0], groups=list("aabbb")))


def test_a_shared_sigma_without_any_spread_is_unbounded() -> None:
    x = np.array([2.0, 2.0, 5.0, 5.0, 5.0, 9.0])
    g = np.array(["a", "a", "b", "b", "b", "c"])
    with pytest.warns(ppl_mle.BoundaryWarning, match="No group of the 3"):
        result = ppl_mle.fit_mle(ppl_mle.normal(x, groups=g, common_sigma=True))
    assert np.all(result.group_status == ppl_mle.FitStatus.UNBOUNDED)
    assert float(result.estimates["sigma"]) == 0.0
    np.testing.assert_array_equal(result.estimates["mu"], [2.0, 5.0, 9.0])
    assert "shared sigma = 0" in result.by_group()["note"].iloc[0]
    with pytest.raises(ppl_mle.ModelError, match="unbounded"):
        result.lr_test("mu")


def test_groups_with_a_category_never_seen_keep_the_ses_of_their_other_categories():
    # Each group's SEs equal those of the same group fitted alone (its exact Hessian), NaN
    # only where theta sits on the boundary: a category never seen, or a group showing one.
    labels = list("aabbbcaabbcc") + list("aabbaab") + list("cccc")
    groups = ["g1"] * 12 + ["g2"] * 7 + ["g3"] * 4
    with pytest.warns(ppl_mle.BoundaryWarning):
        grouped = ppl_mle.fit_mle(ppl_mle.categorical(labels, groups=groups))
    ses = grouped.standard_errors["theta"]
    for g, name in enumerate(["g1", "g2", "g3"]):
        mine = [lab for lab, grp in zip(labels, groups, strict=True) if grp == name]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ppl_mle.BoundaryWarning)
            alone = ppl_mle.fit_mle(ppl_mle.categorical(mine, categories=list("abc")))
        expected = alone.bse.to_numpy()
        np.testing.assert_allclose(ses[g], expected, rtol=1e-9)
        np.testing.assert_array_equal(np.isnan(ses[g]), np.isnan(expected))
    assert np.isnan(ses[1, 2]) and not np.isnan(ses[1, 0])
    assert np.all(np.isnan(ses[2]))  # one category seen: no interior theta
