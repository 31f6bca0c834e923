"""The data layer of per-group fits: labels to codes, per-group statistics, big sources.

References: pandas groupby and crosstab on ordinary data; exact rational arithmetic
(fractions.Fraction) per group on hostile data (offsets far above the spread, magnitudes
near the edges of float64). Files, shard folders and Dask dataframes must give the
statistics of the in-memory function.
"""

import math
import os
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from exact import exact_normal_mle
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ppl_mle.core.errors import DataError, ModelError
from ppl_mle.data.grouped import (
    group_codes,
    grouped_label_counts,
    grouped_label_counts_of,
    grouped_normal_stats,
    grouped_normal_stats_of,
)

SETTINGS = settings(
    max_examples=int(os.environ.get("HYPOTHESIS_EXAMPLES", "40")),
    deadline=None,
    derandomize="HYPOTHESIS_EXAMPLES" not in os.environ,
    suppress_health_check=[HealthCheck.too_slow],
)


def _rel(found, exact):
    return np.abs(np.asarray(found) / np.asarray(exact) - 1.0)


def _exact_ss(values):
    f = [Fraction(float(v)) for v in values]
    mean = sum(f) / len(f)
    return mean, sum((v - mean) ** 2 for v in f)


def _assert_group_exact(stats, j, values, digits=12):
    """Group j of ``stats`` holds the exact mean, SS and sd of ``values`` (to ``digits``)."""
    mean, ss = _exact_ss(values)
    mu, sd = exact_normal_mle(np.asarray(values, dtype=np.float64))
    assert stats.n[j] == len(values)
    assert abs(Fraction(float(stats.mean[j])) - mean) <= Fraction(10) ** -digits * Fraction(
        max(abs(mu), sd)
    )
    if ss == 0:
        assert stats.ss[j] == 0
        assert stats.sd_mle[j] == 0
        return
    found = Fraction(float(stats.ss[j])) * Fraction(float(stats.scale[j])) ** 2
    assert abs(found / ss - 1) <= Fraction(10) ** -digits
    assert math.isclose(float(stats.sd_mle[j]), sd, rel_tol=10**-digits)


# -- in memory: against pandas ----------------------------------------------------------
@pytest.fixture(scope="module")
def frame():
    rng = np.random.default_rng(20240611)
    n, g = 20_000, 400
    groups = rng.integers(0, g, n)
    x = rng.normal(3.0, 2.0, n) + 0.01 * groups
    return pd.DataFrame({"g": groups, "x": x, "y": rng.choice(["a", "b", "c", "d"], n)})


def test_normal_stats_match_pandas_groupby(frame):
    stats, labels = grouped_normal_stats(frame["x"], frame["g"])
    ref = frame.groupby("g")["x"].agg(["count", "mean", lambda v: v.var(ddof=0)])
    assert labels == tuple(ref.index.tolist())
    assert stats.n_groups == len(ref) > 300
    np.testing.assert_array_equal(stats.n, ref["count"].to_numpy())
    assert _rel(stats.mean, ref["mean"]).max() < 1e-12
    assert _rel(stats.sd_mle**2, ref.iloc[:, 2]).max() < 1e-12
    np.testing.assert_array_equal(stats.scale, 1.0)
    assert _rel(stats.ss / stats.n, ref.iloc[:, 2]).max() < 1e-12


def test_string_labels_and_the_order_of_group_names(frame):
    names = frame["g"].map(lambda v: f"g{v:03d}")
    stats, labels = grouped_normal_stats(frame["x"].to_numpy(), names)
    assert labels == tuple(sorted(set(names)))
    order = list(reversed(labels))
    rev, rev_labels = grouped_normal_stats(frame["x"].to_numpy(), names.tolist(), order)
    assert rev_labels == tuple(order)
    np.testing.assert_array_equal(rev.n, stats.n[::-1])
    np.testing.assert_array_equal(rev.mean, stats.mean[::-1])
    np.testing.assert_array_equal(rev.ss, stats.ss[::-1])


def test_label_counts_match_crosstab(frame):
    counts, groups, cats = grouped_label_counts(frame["y"], frame["g"])
    ref = pd.crosstab(frame["g"], frame["y"])
    assert groups == tuple(ref.index.tolist())
    assert cats == ("a", "b", "c", "d")
    assert counts.dtype == np.int64
    np.testing.assert_array_equal(counts, ref.to_numpy())


def test_label_counts_with_categories_and_group_names():
    labels = ["x", "y", "x", "z", "y"]
    groups = [2, 1, 2, 2, 1]
    counts, g, cats = grouped_label_counts(labels, groups, ["z", "y", "x", "w"], [2, 1])
    assert g == (2, 1)
    assert cats == ("z", "y", "x", "w")
    np.testing.assert_array_equal(counts, [[1, 0, 2, 0], [0, 2, 0, 0]])


# -- group codes: the inputs that work ---------------------------------------------------------
@pytest.mark.parametrize(
    "groups",
    [
        ["b", "a", "c", "a", "b"],
        np.array(["b", "a", "c", "a", "b"]),
        pd.Series(["b", "a", "c", "a", "b"]),
        pd.Series(["b", "a", "c", "a", "b"], dtype="category"),
        pd.Categorical(["b", "a", "c", "a", "b"], categories=["z", "c", "b", "a"]),
        pd.Series(["b", "a", "c", "a", "b"], dtype=object),
        pd.DataFrame({"g": ["b", "a", "c", "a", "b"]}),
    ],
    ids=["list", "numpy", "series", "category", "categorical", "object", "frame"],
)
def test_group_codes_of_every_kind_of_input(groups):
    codes, labels = group_codes(groups, 5)
    assert labels == ("a", "b", "c")  # sorted; unused categories dropped
    assert codes.dtype == np.intp
    np.testing.assert_array_equal(codes, [1, 0, 2, 0, 1])


def test_group_codes_keep_the_type_of_mixed_labels():
    # 1, '1', True and 1.0 are four groups (as as_labels counts them), in order of appearance.
    codes, labels = group_codes([1, "1", True, 1.0, "1"], 5)
    assert labels == (1, "1", True, 1.0)
    assert [type(v) for v in labels] == [int, str, bool, float]
    np.testing.assert_array_equal(codes, [0, 1, 2, 3, 1])
    # numbers alone compare as numbers: 1 and 1.0 are one group
    codes, labels = group_codes(np.array([2, 1.0, 1], dtype=object), 3)
    assert labels == (1.0, 2)
    np.testing.assert_array_equal(codes, [1, 0, 0])


def test_group_codes_of_numbers_and_dates():
    codes, labels = group_codes(np.array([3.5, -1.0, 3.5, 0.0]), 4)
    assert labels == (-1.0, 0.0, 3.5)
    np.testing.assert_array_equal(codes, [2, 0, 2, 1])
    days = pd.to_datetime(pd.Series(["2024-01-02", "2024-01-01", "2024-01-02"]))
    codes, labels = group_codes(days, 3)
    assert labels == (pd.Timestamp("2024-01-01"), pd.Timestamp("2024-01-02"))
    np.testing.assert_array_equal(codes, [1, 0, 1])


def test_group_codes_index_the_labels_on_many_groups():
    rng = np.random.default_rng(7)
    groups = rng.integers(-50_000, 50_000, 200_000)
    codes, labels = group_codes(groups, groups.size)
    assert list(labels) == sorted(set(groups.tolist()))
    np.testing.assert_array_equal(np.asarray(labels)[codes], groups)


# -- hostile data: exact per group ------------------------------------------------------------
HOSTILE = {
    "offset 1e9": [1e9 + 0.1, 1e9 + 0.2, 1e9 + 0.3, 1e9 + 0.7],
    "1e15 ± 1": [1e15 + 1, 1e15 - 1, 1e15, 1e15 + 1],
    "big": [1e300, -2e299, 3e299],
    "tiny": [1e-300, 3e-300, 2.5e-300, 7e-301],
    "wide": [1e-300, 1e300, 5.0],
    "near underflow": [2.5e-308, 3e-308, 1e-307],
    "constant": [7.25, 7.25, 7.25],
    "single": [-3.5],
    "cancel": [1e16, 1.0, -1e16],
}


def _interleaved(groups, seed=0):
    """Rows of ``groups`` (label -> values) in a shuffled order: (labels, values)."""
    labels = np.concatenate([[k] * len(v) for k, v in groups.items()])
    values = np.concatenate([np.asarray(v, dtype=np.float64) for v in groups.values()])
    order = np.random.default_rng(seed).permutation(values.size)
    return labels[order], values[order]


def test_hostile_groups_are_exact():
    labels, values = _interleaved(HOSTILE)
    stats, names = grouped_normal_stats(values, labels)
    assert names == tuple(sorted(HOSTILE))
    for j, name in enumerate(names):
        _assert_group_exact(stats, j, HOSTILE[name])


def _group(draw):
    kind = draw(st.sampled_from(["offset", "magnitude", "plain"]))
    size = draw(st.integers(1, 12))
    if kind == "offset":
        offset = draw(st.sampled_from([1e9, -1e9, 1e12, 1e15, -1e15]))
        noise = draw(st.lists(st.floats(-1, 1), min_size=size, max_size=size))
        spread = draw(st.sampled_from([1.0, 1e-3, 0.25]))
        return [offset + spread * e for e in noise]
    if kind == "magnitude":
        exponent = draw(st.integers(-300, 300))
        mantissas = draw(st.lists(st.floats(1, 2), min_size=size, max_size=size))
        signs = draw(st.lists(st.sampled_from([1.0, -1.0]), min_size=size, max_size=size))
        return [s * m * 10.0**exponent for s, m in zip(signs, mantissas, strict=True)]
    return draw(st.lists(st.floats(-1e3, 1e3), min_size=size, max_size=size))


@st.composite
def grouped_samples(draw):
    k = draw(st.integers(1, 6))
    return {f"g{j}": _group(draw) for j in range(k)}, draw(st.integers(0, 2**31))


@SETTINGS
@given(sample=grouped_samples())
def test_every_group_is_exact_whatever_its_magnitude(sample):
    groups, seed = sample
    labels, values = _interleaved(groups, seed)
    stats, names = grouped_normal_stats(values, labels)
    assert names == tuple(sorted(groups))
    for j, name in enumerate(names):
        _assert_group_exact(stats, j, groups[name])


# -- bad input: a DataError that names the problem --------------------------------------------
@pytest.mark.parametrize(
    ("groups", "count"),
    [
        (["a", None, "b", np.nan, pd.NA], 3),
        (np.array([1.0, np.nan, 2.0, np.nan, 3.0]), 2),
        (pd.Series(["a", None, "b", "b", "a"], dtype="string"), 1),
        (pd.Categorical(["a", None, "b", None, "a"]), 2),
        (pd.Series(pd.to_datetime(["2024-01-01", None, None, None, "2024-01-02"])), 3),
        (pd.Series([1, None, 2, 2, 1], dtype="Int64"), 1),
    ],
    ids=["list", "float", "string", "categorical", "datetime", "Int64"],
)
def test_missing_group_labels_are_counted(groups, count):
    with pytest.raises(DataError, match=rf"`groups` has {count} missing labels \(NaN/None\)"):
        grouped_normal_stats([1.0, 2.0, 3.0, 4.0, 5.0], groups)
    with pytest.raises(DataError, match=rf"{count} missing labels"):
        group_codes(groups, 5)


@pytest.mark.parametrize(
    ("data", "groups", "message"),
    [
        ([1.0, 2.0, 3.0], ["a", "b"], r"`groups` has 2 labels but the data have 3 rows"),
        ([], [], r"`data` is empty"),
        ([1.0, 2.0], [], r"`groups` is empty"),
        ([1.0, np.nan, np.inf, 2.0], list("abab"), r"`data` has 2 non-finite values"),
        ([1.0, "x", 2.0], list("aab"), r"`data` must be numeric; found 'x'"),
        ([1.0, 2.0], np.array([["a", "b"], ["c", "d"]]), r"`groups` must be one-dimensional"),
        ([1.0, 2.0], pd.DataFrame({"g": [1, 2], "h": [3, 4]}), r"DataFrame of 2 columns"),
        ([1.0, 2.0], [{"a": 1}, {"b": 2}], r"`groups` must hold hashable values"),
    ],
    ids=["length", "empty", "no-groups", "non-finite", "text", "2-D", "frame", "unhashable"],
)
def test_bad_data_or_groups(data, groups, message):
    with pytest.raises(DataError, match=message):
        grouped_normal_stats(data, groups)


def test_labels_outside_group_names_are_named_with_their_rows():
    groups = ["a", "b", "x", "y", "x", "b"]
    with pytest.raises(DataError) as info:
        grouped_normal_stats(np.arange(6.0), groups, ["a", "b"])
    text = str(info.value)
    assert "3 rows whose labels are not in `group_names`" in text
    assert "'x' (2 rows)" in text and "'y' (1 row)" in text


def test_at_most_five_unknown_labels_are_listed():
    with pytest.raises(DataError, match=r"12 rows .* \(12 labels in all\)"):
        group_codes(list(range(12)), 12, [100])


def test_a_group_name_without_rows_is_named():
    with pytest.raises(DataError, match=r"group 'x' of `group_names` has no rows"):
        grouped_normal_stats([1.0, 2.0, 3.0], ["a", "b", "a"], ["a", "x", "b"])
    with pytest.raises(DataError, match=r"group 'x' of `group_names` has no rows"):
        group_codes(["a", "b"], 2, ["a", "b", "x"])


def test_bad_group_names():
    with pytest.raises(ModelError, match=r"`group_names` has duplicates"):
        group_codes(["a", "b"], 2, ["a", "b", "a"])
    with pytest.raises(ModelError, match=r"`group_names` names one label twice"):
        group_codes([1, 2], 2, [1, 2, 1.0])
    with pytest.raises(ModelError, match=r"`group_names` must be a sequence"):
        group_codes(["a", "b"], 2, "ab")


def test_bad_categorical_labels():
    with pytest.raises(DataError, match=r"`labels` has 2 missing labels"):
        grouped_label_counts(["a", None, "b", None], [1, 1, 2, 2])
    with pytest.raises(DataError, match=r"`labels` has 1 row whose labels are not in `categories`"):
        grouped_label_counts(["a", "c", "b"], [1, 1, 2], ["a", "b"])
    with pytest.raises(DataError, match=r"at least two categories"):
        grouped_label_counts(["a", "a"], [1, 2])
    with pytest.raises(DataError, match=r"`groups` has 1 missing labels"):
        grouped_label_counts(["a", "b"], [1, None])
    with pytest.raises(DataError, match=r"`groups` has 3 labels but the data have 2 rows"):
        grouped_label_counts(["a", "b"], [1, 2, 3])


# -- sources: files, shard folders, Dask --------------------------------------------------------
@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    """One table written as a CSV file, a Parquet file, 3 Parquet shards and a Dask frame.

    Group 999 ("solo") has rows in the last shard only; the values sit at an offset of 1e6
    above a spread of ~1, where merging rounded means would lose digits.
    """
    rng = np.random.default_rng(99)
    n = 3000
    df = pd.DataFrame(
        {
            "g": rng.integers(0, 60, n),
            "x": 1e6 + rng.normal(0.0, 1.0, n),
            "y": rng.choice(["lo", "mid", "hi"], n),
        }
    )
    df.loc[n - 7 :, "g"] = 999
    root = tmp_path_factory.mktemp("grouped")
    df.to_csv(root / "data.csv", index=False)
    df.to_parquet(root / "data.parquet")
    (root / "shards").mkdir()
    bounds = (0, 1100, 2100, n)  # shards of unequal sizes; group 999 in the last one only
    for i in range(3):
        df.iloc[bounds[i] : bounds[i + 1]].to_parquet(root / "shards" / f"part-{i}.parquet")
    return df, root


def _dask(df, npartitions=3):
    import dask.dataframe as dd

    return dd.from_pandas(df, npartitions=npartitions)


def _all_sources(df, root):
    return {
        "csv": root / "data.csv",
        "parquet": str(root / "data.parquet"),
        "shards": root / "shards",
        "dask": _dask(df),
    }


def test_every_source_gives_the_in_memory_statistics(sources):
    df, root = sources
    typed = grouped_normal_stats(df["x"], df["g"])
    assert 999 in typed[1]
    # A CSV file's group labels are text ('999'); the other sources keep integers.
    text = grouped_normal_stats(df["x"], df["g"].astype(str))
    for name, source in _all_sources(df, root).items():
        expected, labels = text if name == "csv" else typed
        stats, found = grouped_normal_stats_of(source, "x", "g", batch_rows=500, progress=False)
        assert found == labels, name
        np.testing.assert_array_equal(stats.n, expected.n, err_msg=name)
        assert _rel(stats.mean, expected.mean).max() < 1e-13, name
        np.testing.assert_array_equal(stats.scale, 1.0, err_msg=name)
        assert _rel(stats.ss, expected.ss).max() < 1e-13, name


def test_every_source_gives_the_crosstab(sources):
    df, root = sources
    typed = pd.crosstab(df["g"], df["y"])
    text = pd.crosstab(df["g"].astype(str), df["y"])  # a CSV file's group labels are text
    for name, source in _all_sources(df, root).items():
        ref = text if name == "csv" else typed
        counts, groups, cats = grouped_label_counts_of(source, "y", "g", batch_rows=700)
        assert groups == tuple(ref.index.tolist()), name
        assert cats == tuple(ref.columns.tolist()), name
        np.testing.assert_array_equal(counts, ref.to_numpy(), err_msg=name)
    counts, _, cats = grouped_label_counts_of(root / "shards", "y", "g", ["mid", "lo", "hi", "x"])
    assert cats == ("mid", "lo", "hi", "x")
    np.testing.assert_array_equal(counts, typed[["mid", "lo", "hi"]].assign(x=0).to_numpy())


def test_a_pandas_frame_is_a_source(sources):
    df, _ = sources
    stats, labels = grouped_normal_stats_of(df[["g", "x"]], None, "g")
    expected, expected_labels = grouped_normal_stats(df["x"], df["g"])
    assert labels == expected_labels
    np.testing.assert_array_equal(stats.ss, expected.ss)


def test_hostile_groups_split_across_shards_stay_exact(tmp_path):
    labels, values = _interleaved(HOSTILE, seed=3)
    df = pd.DataFrame({"g": labels, "x": values})
    (tmp_path / "shards").mkdir()
    for i in range(3):  # every third row: most groups have rows in several shards
        df.iloc[i::3].to_parquet(tmp_path / "shards" / f"{i}.parquet")
    for source in (tmp_path / "shards", _dask(df.iloc[np.argsort(np.arange(len(df)) % 3)])):
        stats, names = grouped_normal_stats_of(source, "x", "g", batch_rows=2)
        assert names == tuple(sorted(HOSTILE))
        for j, name in enumerate(names):
            _assert_group_exact(stats, j, HOSTILE[name])


def test_csv_labels_are_text_as_written(tmp_path):
    path = tmp_path / "typed.csv"
    path.write_text("g,x\n1,1.0\n01,3.0\n2,5.0\n10,6.0\n1,2.0\n")
    stats, labels = grouped_normal_stats_of(path, "x", "g", batch_rows=1)
    assert labels == ("01", "1", "10", "2")  # '1' and '01' are two groups, sorted as text
    np.testing.assert_array_equal(stats.n, [1, 2, 1, 1])
    np.testing.assert_array_equal(stats.mean, [3.0, 1.5, 6.0, 5.0])
    np.testing.assert_array_equal(stats.ss, [0.0, 0.5, 0.0, 0.0])
    path.write_text("g,x\nb,1.0\na,3.0\n1,5.0\n")
    assert grouped_normal_stats_of(path, "x", "g")[1] == ("1", "a", "b")


def test_missing_columns_are_listed(sources):
    df, root = sources
    for source in (root / "data.csv", root / "shards", _dask(df)):
        with pytest.raises(DataError, match=r"group column 'h' \(`by`\) is not in .*'g', 'x'"):
            grouped_normal_stats_of(source, "x", "h")
        with pytest.raises(DataError, match=r"columns \['g', 'x', 'y'\]: name the column"):
            grouped_normal_stats_of(source, None, "g")
        with pytest.raises(DataError, match=r"column 'z' is not in"):
            grouped_label_counts_of(source, "z", "g")


def test_missing_labels_in_files_are_counted(tmp_path):
    csv = tmp_path / "gaps.csv"
    csv.write_text("g,x\na,1\n,2\nb,3\n,4\n,5\n")
    with pytest.raises(DataError, match=r"gaps.csv has 3 missing labels .* column 'g'"):
        grouped_normal_stats_of(csv, "x", "g", batch_rows=1)
    with pytest.raises(DataError, match=r"gaps.csv has 3 missing labels"):
        grouped_label_counts_of(csv, "g", "x")
    frame = pd.DataFrame({"g": [1.0, np.nan, 2.0, np.nan], "x": [1.0, 2.0, 3.0, 4.0]})
    frame.to_parquet(tmp_path / "gaps.parquet")
    with pytest.raises(DataError, match=r"gaps.parquet has 2 missing labels"):
        grouped_normal_stats_of(tmp_path / "gaps.parquet", "x", "g")
    with pytest.raises(DataError, match=r"the Dask dataframe has 2 missing labels"):
        grouped_normal_stats_of(_dask(frame, 2), "x", "g")


def test_bad_values_in_files(tmp_path):
    csv = tmp_path / "words.csv"
    csv.write_text("g,x\na,1\nb,2\na,abc\n")
    with pytest.raises(DataError, match=r"cannot read words.csv: .*Row #4.*'abc'"):
        grouped_normal_stats_of(csv, "x", "g")
    csv.write_text("g,x\na,1\nb,\na,3\n")
    with pytest.raises(DataError, match=r"words.csv has 1 non-finite values"):
        grouped_normal_stats_of(csv, "x", "g")
    csv.write_text("g,x\na,1\nb,2,7\n")
    with pytest.raises(DataError, match=r"words.csv line 3 has 3 fields"):
        grouped_normal_stats_of(csv, "x", "g")
    frame = pd.DataFrame({"g": [1, 2], "x": ["a", "b"]})
    frame.to_parquet(tmp_path / "text.parquet")
    with pytest.raises(DataError, match=r"column 'x' holds text, not numbers"):
        grouped_normal_stats_of(tmp_path / "text.parquet", "x", "g")
    with pytest.raises(DataError, match=r"not numbers"):
        grouped_normal_stats_of(_dask(frame, 1), "x", "g")
    with pytest.raises(DataError, match=r"file not found"):
        grouped_normal_stats_of(tmp_path / "nothing.parquet", "x", "g")
    with pytest.raises(DataError, match=r"must be a .csv or .parquet file"):
        grouped_normal_stats_of(np.arange(3.0), "x", "g")
