"""Sufficient statistics, streaming and Dask: the same answers as the raw data.

References: exact rational arithmetic on the float64 values (conftest.exact_mean_sd); the
raw-data model's log-likelihood (the statistics model must equal it to relative 1e-12);
the in-memory fit (estimates, SEs and intervals equal to 1e-9).
"""

import numpy as np
import pandas as pd
import pytest
from conftest import HEIGHTS, NIST_DIR, exact_mean_sd, nist_cases, significant_digits

import ppl_mle
from ppl_mle import DataError
from ppl_mle.fit.objective import objective_for


@pytest.fixture(scope="module")
def big():
    return 1e7 + np.random.default_rng(7).normal(0.0, 0.1, 300_001)


def test_chunked_statistics_are_exact_to_the_last_digits(big):
    stats = ppl_mle.closed_form.normal_stats(big)
    mean, sd = exact_mean_sd(big)
    assert significant_digits(stats.mean, mean) >= 15
    assert significant_digits(stats.sd_mle, sd) >= 14


def test_merge_is_the_statistics_of_the_concatenation(big):
    parts = np.array_split(big, 7)
    merged = ppl_mle.closed_form.NormalStats(0, 0.0, 0.0)
    for part in parts:
        merged = ppl_mle.closed_form.merge_normal_stats(
            merged, ppl_mle.closed_form.normal_stats(part)
        )
    whole = ppl_mle.closed_form.normal_stats(big)
    assert merged.n == whole.n
    assert merged.mean == pytest.approx(whole.mean, rel=1e-15)
    # Parts summarised independently at an offset 1e8 times their spread: each part mean
    # carries one rounding (1e-9 here), which the merge term δ²·nₐn_b/n feels at ~1e-11.
    # The streaming readers avoid it by centring every batch on one pivot (next tests).
    assert merged.ss == pytest.approx(whole.ss, rel=1e-10)
    ref = ppl_mle.closed_form.NormalStats(0, 0.0, 0.0)
    for part in np.array_split(np.random.default_rng(0).normal(3.0, 2.0, 10_000), 5):
        ref = ref.merge(ppl_mle.closed_form.normal_stats(part))
    assert ref.ss == pytest.approx(
        ppl_mle.closed_form.normal_stats(
            np.concatenate(np.array_split(np.random.default_rng(0).normal(3.0, 2.0, 10_000), 5))
        ).ss,
        rel=1e-14,
    )


def test_statistics_model_loglik_equals_raw_data_loglik():
    x = np.random.default_rng(1).normal(5.0, 2.0, 5_000)
    raw = objective_for(ppl_mle.normal(x, sufficient=False))
    summary = objective_for(ppl_mle.normal(x, sufficient=True))
    assert "stats" in summary.model.named_vars and "data" not in summary.model.named_vars
    for mu, log_sigma in ((5.0, 0.7), (-3.0, 2.0), (4.9, -1.0), (100.0, 5.0)):
        z = np.array([mu, log_sigma])
        assert summary.loglik(z) == pytest.approx(raw.loglik(z), rel=1e-12)
    counts = np.random.default_rng(2).integers(0, 5, 4_000)
    raw_c = objective_for(ppl_mle.categorical(counts, sufficient=False))
    sum_c = objective_for(ppl_mle.categorical(counts, sufficient=True))
    for z in (np.zeros(4), np.array([0.3, -1.0, 2.0, 0.5])):
        assert sum_c.loglik(z) == pytest.approx(raw_c.loglik(z), rel=1e-12)


def test_large_data_take_the_statistics_path_with_the_same_answers(big):
    model = ppl_mle.normal(big)  # n > 100_000: the statistics path by default
    assert "stats" in model.named_vars
    fast = ppl_mle.fit_mle(model)
    slow = ppl_mle.fit_mle(ppl_mle.normal(big, sufficient=False))
    assert fast.converged and fast.check_analytic().passed
    assert fast.n_obs == big.size
    mean, sd = exact_mean_sd(big)
    assert significant_digits(float(fast.estimates["mu"]), mean) >= 12
    assert significant_digits(float(fast.estimates["sigma"]), sd) >= 12
    a, b = fast.summary(), slow.summary()
    cols = ["estimate", "se", "wald_lower", "wald_upper", "profile_lower", "profile_upper"]
    np.testing.assert_allclose(a[cols], b[cols], rtol=1e-9)
    assert fast.loglik == pytest.approx(slow.loglik, rel=1e-12)


def test_from_stats_and_from_counts_match_the_data():
    x = np.asarray(HEIGHTS, dtype=float)
    s = ppl_mle.closed_form.normal_stats(x)
    a = ppl_mle.fit_mle(ppl_mle.normal_from_stats(s.n, s.mean, s.ss))
    b = ppl_mle.fit_mle(ppl_mle.normal(x))
    assert a.loglik == pytest.approx(b.loglik, rel=1e-13)
    np.testing.assert_allclose(a.summary()["profile_upper"], b.summary()["profile_upper"], 1e-9)
    c = ppl_mle.fit_mle(ppl_mle.categorical_from_counts({"a": 3, "b": 0, "c": 7}))
    d = ppl_mle.fit_mle(ppl_mle.categorical(list("aaaccccccc"), categories=["a", "b", "c"]))
    np.testing.assert_allclose(c.estimates["theta"], d.estimates["theta"], rtol=1e-12)
    assert c.estimates["theta"][1] == 0.0
    assert c.summary().loc["theta[b]", "profile_upper"] == pytest.approx(
        d.summary().loc["theta[b]", "profile_upper"], rel=1e-10
    )


@pytest.mark.skipif(not nist_cases(), reason="../shared/reference/nist is not beside this clone")
@pytest.mark.parametrize("name", nist_cases() or ["none"])
def test_nist_on_the_statistics_path(name):
    import json

    certified = json.loads((NIST_DIR / "certified.json").read_text())[name]
    x = np.loadtxt(NIST_DIR / certified["data_file"], ndmin=1)
    result = ppl_mle.fit_mle(ppl_mle.normal(x, sufficient=True))
    mean, sd = exact_mean_sd(x)
    assert significant_digits(float(result.estimates["mu"]), mean) >= 12
    assert significant_digits(float(result.estimates["sigma"]), sd) >= 12


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n": 0, "mean": 1.0, "ss": 1.0}, "`n` must be a positive integer"),
        ({"n": 2.5, "mean": 1.0, "ss": 1.0}, "`n` must be a positive integer"),
        ({"n": 5, "mean": float("nan"), "ss": 1.0}, "`mean` must be finite"),
        ({"n": 5, "mean": 1.0, "ss": -1.0}, "must be finite and >= 0"),
        ({"n": 1, "mean": 1.0, "ss": 0.0}, "MLE of sigma would be 0"),
    ],
)
def test_bad_statistics(kwargs, match):
    with pytest.raises(DataError, match=match):
        ppl_mle.normal_from_stats(**kwargs)


def test_bayes_on_statistics_matches_the_exact_posterior():
    x = np.random.default_rng(3).normal(2.0, 1.5, 400)
    s = ppl_mle.closed_form.normal_stats(x)
    c = ppl_mle.compare_bayes(ppl_mle.normal_from_stats(s.n, s.mean, s.ss), random_seed=4)
    assert c.trustworthy
    for label in ("mu", "sigma"):
        row = c.table.loc[label]
        assert abs(row["posterior_mean"] - row["exact_mean"]) <= 4 * row["mcse_mean"]


# -- files, shards, Dask ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    folder = tmp_path_factory.mktemp("shards")
    rng = np.random.default_rng(11)
    values = []
    for i in range(4):
        x = 1e6 + rng.normal(0.0, 0.5, 60_000 + 1_000 * i)
        labels = rng.choice(["red", "green", "blue"], x.size)
        pd.DataFrame({"v": x, "colour": labels}).to_parquet(folder / f"part-{i}.parquet")
        values.append((x, labels))
    x = np.concatenate([v for v, _ in values])
    labels = np.concatenate([lab for _, lab in values])
    return folder, x, labels


def test_folder_of_parquet_shards_read_in_batches(shards):
    folder, x, labels = shards
    stats = ppl_mle.normal_stats_of(folder, "v", batch_rows=10_000)
    whole = ppl_mle.closed_form.normal_stats(x)
    assert stats.n == x.size
    assert stats.mean == pytest.approx(whole.mean, rel=1e-15)
    assert stats.ss == pytest.approx(whole.ss, rel=1e-11)
    counts, cats = ppl_mle.label_counts_of(folder, "colour", batch_rows=7_000)
    assert cats == ("blue", "green", "red")
    np.testing.assert_array_equal(counts, [np.sum(labels == c) for c in cats])
    result = ppl_mle.fit_mle(ppl_mle.normal_from_source(folder, "v"))
    assert result.check_analytic().passed and result.n_obs == x.size


def test_csv_file_streamed(tmp_path):
    x = np.random.default_rng(5).normal(size=5_000)
    pd.DataFrame({"v": x}).to_csv(tmp_path / "x.csv", index=False)
    stats = ppl_mle.normal_stats_of(tmp_path / "x.csv", batch_rows=500)
    assert stats.n == 5_000
    assert stats.mean == pytest.approx(x.mean(), rel=1e-12, abs=1e-15)


def test_bad_shards(tmp_path):
    good = pd.DataFrame({"v": [1.0, 2.0, 3.0]})
    (tmp_path / "nan").mkdir()
    good.to_parquet(tmp_path / "nan" / "a.parquet")
    pd.DataFrame({"v": [1.0, np.nan, np.nan]}).to_parquet(tmp_path / "nan" / "b.parquet")
    with pytest.raises(DataError, match=r"b.parquet has 2 non-finite values \(2 NaN, 0 infinite\)"):
        ppl_mle.normal_stats_of(tmp_path / "nan", "v")
    (tmp_path / "empty").mkdir()
    good.to_parquet(tmp_path / "empty" / "a.parquet")
    good.iloc[:0].to_parquet(tmp_path / "empty" / "b.parquet")
    with pytest.raises(DataError, match=r"b.parquet is empty"):
        ppl_mle.normal_stats_of(tmp_path / "empty", "v")
    (tmp_path / "types").mkdir()
    good.to_parquet(tmp_path / "types" / "a.parquet")
    pd.DataFrame({"v": ["x", "y"]}).to_parquet(tmp_path / "types" / "b.parquet")
    with pytest.raises(
        DataError,
        match=r"b.parquet: column 'v' has type \w*string, but the earlier shards have double",
    ):
        ppl_mle.normal_stats_of(tmp_path / "types", "v")
    (tmp_path / "none").mkdir()
    with pytest.raises(DataError, match=r"has no \.parquet files"):
        ppl_mle.normal_stats_of(tmp_path / "none")
    with pytest.raises(DataError, match=r"column 'w' is not in a\.parquet"):
        ppl_mle.normal_stats_of(tmp_path / "nan", "w")


def test_dask_local_scheduler_and_local_cluster(shards):
    import dask.array as da
    import dask.dataframe as dd
    from distributed import Client, LocalCluster

    folder, x, labels = shards
    whole = ppl_mle.closed_form.normal_stats(x)
    arr = da.from_array(x, chunks=50_000)
    for stats in (
        ppl_mle.normal_stats_of(arr),
        ppl_mle.normal_stats_of(dd.read_parquet(str(folder)), "v"),
    ):
        assert stats.n == x.size
        assert stats.mean == pytest.approx(whole.mean, rel=1e-15)
        assert stats.ss == pytest.approx(whole.ss, rel=1e-10)
    with (
        LocalCluster(
            n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        stats = ppl_mle.normal_stats_of(arr, client=client)
        counts, cats = ppl_mle.label_counts_of(
            dd.read_parquet(str(folder)), "colour", client=client
        )
    assert stats.n == x.size and stats.mean == pytest.approx(whole.mean, rel=1e-15)
    np.testing.assert_array_equal(counts, [np.sum(labels == c) for c in cats])
    bad = da.from_array(np.array([1.0, np.nan, 3.0]), chunks=2)
    with pytest.raises(DataError, match="1 non-finite values"):
        ppl_mle.normal_stats_of(bad)


def test_unreachable_scheduler_is_a_clear_error_not_a_hang():
    import dask.array as da

    with pytest.raises(
        DataError, match=r"cannot reach the Dask scheduler at 'tcp://127\.0\.0\.1:9'"
    ):
        ppl_mle.normal_stats_of(da.ones(10, chunks=5), client="tcp://127.0.0.1:9")
