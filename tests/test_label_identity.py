"""Labels are identifiers: no two spellings merge, and a missing label is never a label.

- A group or category read from a ``.csv`` file is text: ``'007'`` and ``'7'`` are two
  groups, on every door (files, shards, Dask, the command line). Parquet and dataframes
  keep the column's type.
- An empty or blank class label (a CSV field left empty, ``''``, None, NaN) is refused with
  its count and its positions, by the command line and by Python alike.
- ``True`` and ``1`` are two labels whether given in a list or in an object array.

References: pandas (groupby, crosstab, value_counts) on the columns read as text, and
``collections.Counter`` keyed by each value's kind.
"""

import contextlib
import io
import json
import sys
from collections import Counter

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import ppl_mle
from ppl_mle.cli import main
from ppl_mle.core.errors import DataError
from ppl_mle.data.grouped import grouped_label_counts_of, grouped_normal_stats_of

STORES = ["007", "007", "007", "7", "7", "7", "8", "8"]
X = [1.0, 2.0, 3.5, 10.0, 11.0, 13.0, 5.0, 6.0]
COLOURS = ["red", "blue", "red", "blue", "blue", "red", "red", "blue"]


def run(argv):
    """The command line in-process: (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def stores(tmp_path):
    """The table of three stores '007', '7' and '8', as text, and the CSV file holding it."""
    frame = pd.DataFrame({"store": STORES, "x": X, "colour": COLOURS})
    path = tmp_path / "sales.csv"
    path.write_text(
        "store,x,colour\n"
        + "".join(f"{s},{x!r},{c}\n" for s, x, c in zip(STORES, X, COLOURS, strict=True))
    )
    return frame, path


def _by_store(frame):
    grouped = frame.groupby("store")["x"]
    return grouped.size(), grouped.mean(), grouped.std(ddof=0)


# -- group labels read from files are text ------------------------------------------------------
def test_csv_group_labels_keep_every_spelling(stores):
    frame, path = stores
    n, mean, sd = _by_store(frame)
    assert n.index.tolist() == ["007", "7", "8"]
    stats, labels = grouped_normal_stats_of(path, "x", "store", batch_rows=2)
    assert labels == ("007", "7", "8")
    np.testing.assert_array_equal(stats.n, n.to_numpy())
    np.testing.assert_allclose(stats.mean, mean.to_numpy(), rtol=1e-14)
    result = ppl_mle.fit_mle(ppl_mle.normal_from_source(str(path), column="x", by="store"))
    assert result.family.groups == ("007", "7", "8")
    np.testing.assert_allclose(result.estimates["mu"], mean.to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(result.estimates["sigma"], sd.to_numpy(), rtol=1e-12)


def test_cli_by_keeps_every_spelling(stores):
    frame, path = stores
    _, mean, sd = _by_store(frame)
    code, out, err = run(["fit", "normal", path, "--column", "x", "--by", "store", "--json"])
    assert code == 0, err
    payload = json.loads(out)
    assert payload["n_groups"] == 3 and payload["n_obs"] == len(STORES)
    rows = {r["group"]: r for r in payload["groups"]}
    assert list(rows) == ["007", "7", "8"]
    np.testing.assert_allclose([rows[g]["mu"] for g in rows], mean.to_numpy(), rtol=1e-12)
    np.testing.assert_allclose([rows[g]["sigma"] for g in rows], sd.to_numpy(), rtol=1e-12)


def test_every_file_door_keeps_every_spelling(stores, tmp_path):
    import dask.dataframe as dd

    frame, path = stores
    frame.to_parquet(tmp_path / "sales.parquet")
    (tmp_path / "shards").mkdir()
    frame.iloc[:4].to_parquet(tmp_path / "shards" / "a.parquet")  # '007' and one '7'
    frame.iloc[4:].to_parquet(tmp_path / "shards" / "b.parquet")
    counts = pd.crosstab(frame["store"], frame["colour"])
    n, mean, _ = _by_store(frame)
    sources = {
        "csv": path,
        "parquet": tmp_path / "sales.parquet",
        "shards": tmp_path / "shards",
        "dask": dd.from_pandas(frame, npartitions=3),
        "pandas": frame,
    }
    for name, source in sources.items():
        stats, labels = grouped_normal_stats_of(source, "x", "store", batch_rows=3)
        assert labels == ("007", "7", "8"), name
        np.testing.assert_array_equal(stats.n, n.to_numpy(), err_msg=name)
        np.testing.assert_allclose(stats.mean, mean.to_numpy(), rtol=1e-14, err_msg=name)
        table, groups, cats = grouped_label_counts_of(source, "colour", "store", batch_rows=3)
        assert groups == ("007", "7", "8") and cats == ("blue", "red"), name
        np.testing.assert_array_equal(table, counts.to_numpy(), err_msg=name)


def test_an_integer_parquet_column_stays_integers(tmp_path):
    frame = pd.DataFrame({"store": [7, 7, 8, 8, 10, 10], "x": [1.0, 2.0, 4.0, 7.0, 3.0, 3.5]})
    frame.to_parquet(tmp_path / "ints.parquet")
    stats, labels = grouped_normal_stats_of(tmp_path / "ints.parquet", "x", "store")
    assert labels == (7, 8, 10)  # stored as integers: sorted as numbers
    np.testing.assert_allclose(stats.mean, frame.groupby("store")["x"].mean(), rtol=1e-14)


def test_csv_categories_keep_every_spelling(tmp_path, monkeypatch):
    path = tmp_path / "codes.csv"
    labels = ["007", "7", "7", "8", "007", "7", "07"]
    path.write_text("y\n" + "\n".join(labels) + "\n")
    want = pd.Series(labels).value_counts().sort_index()
    counts, cats = ppl_mle.label_counts_of(path, batch_rows=2)
    assert cats == tuple(want.index) == ("007", "07", "7", "8")
    np.testing.assert_array_equal(counts, want.to_numpy())
    # The command line gives one answer whether it reads the file whole or in batches.
    code, whole, err = run(["fit", "categorical", path, "--json"])
    assert code == 0, err
    monkeypatch.setattr("ppl_mle.cli._STREAM_BYTES", 0)
    code, streamed, err = run(["fit", "categorical", path, "--json"])
    assert code == 0, err
    for payload in (json.loads(whole), json.loads(streamed)):
        assert payload["categories"] == list(want.index)
        np.testing.assert_allclose(
            payload["estimates"]["theta"], (want / want.sum()).to_numpy(), rtol=1e-12
        )


def test_csv_categories_named_as_numbers_are_refused_with_a_hint(tmp_path, stores):
    _, path = stores
    with pytest.raises(DataError, match=r"not in `categories` \[7, 8\].*are text"):
        ppl_mle.label_counts_of(path, "store", categories=[7, 8])
    with pytest.raises(DataError, match=r"not in `categories` \[7, 8\].*are text"):
        grouped_label_counts_of(path, "store", "colour", categories=[7, 8])


# -- missing class labels: refused with their count and positions -------------------------------
def _softmax_table(y):
    rng = np.random.default_rng(5)
    return pd.DataFrame({"y": y, "x1": rng.normal(size=len(y)), "x2": rng.normal(size=len(y))})


def test_cli_softmax_refuses_an_empty_target_field(tmp_path):
    path = tmp_path / "classes.csv"
    y = ["a", "b", "c", "", "a", "b", "c", "a", "b", " "]
    _softmax_table(y).to_csv(path, index=False)
    assert pd.read_csv(path, keep_default_na=False)["y"].tolist() == y  # the file holds them
    code, out, err = run(["fit", "softmax", path, "--target", "y", "--features", "x1,x2"])
    assert code == 2 and out == ""
    assert err.startswith(
        "error: `y` has 2 missing values (None, NaN or empty text) at positions [3, 9] of 10"
    ), err


def test_cli_softmax_refuses_a_null_target_in_parquet(tmp_path):
    path = tmp_path / "classes.parquet"
    _softmax_table(["a", "b", None, "c", "a", "b", "c", "a"]).to_parquet(path)
    code, out, err = run(["fit", "softmax", path, "--target", "y", "--features", "x1,x2"])
    assert code == 2 and out == ""
    assert err.startswith("error: `y` has 1 missing values (None or NaN) at positions [2] of 8")


@pytest.mark.parametrize(
    "y",
    [
        ["a", "b", "c", "", "a", "b", "c", "a"],
        ["a", "b", "c", None, "a", "b", "c", "a"],
        ["a", "b", "c", float("nan"), "a", "b", "c", "a"],
        pd.Series(["a", "b", "c", "", "a", "b", "c", "a"]),
        pd.Series(["a", "b", "c", None, "a", "b", "c", "a"], dtype="string"),
        pd.Series(["a", "b", "c", "  ", "a", "b", "c", "a"], dtype=object),
        np.array(["a", "b", "c", "", "a", "b", "c", "a"]),
    ],
    ids=["list-empty", "list-None", "list-NaN", "series-empty", "string-NA", "blank", "array"],
)
def test_softmax_refuses_missing_class_labels(y):
    frame = _softmax_table(list(y))
    with pytest.raises(DataError, match=r"`y` has 1 missing values .* at positions \[3\] of 8"):
        ppl_mle.softmax_regression(frame[["x1", "x2"]], y)


def test_cli_softmax_classes_keep_every_spelling(tmp_path):
    path = tmp_path / "codes.csv"
    rng = np.random.default_rng(8)
    y = rng.choice(["007", "7", "8"], 90)
    frame = pd.DataFrame({"y": y, "x1": rng.normal(size=90)})
    frame.to_csv(path, index=False)
    code, out, err = run(["fit", "softmax", path, "--target", "y", "--features", "x1", "--json"])
    assert code == 0, err
    payload = json.loads(out)
    assert payload["classes"] == sorted(set(y.tolist())) == ["007", "7", "8"]
    assert payload["n"] == 90


def test_empty_labels_are_missing_on_every_door(tmp_path):
    for labels in (
        ["a", "", "b", "a"],
        np.array(["a", "", "b", "a"]),
        pd.Series(["a", "", "b", "a"]),
    ):
        with pytest.raises(DataError, match=r"`labels` has 1 missing values .* at positions \[1\]"):
            ppl_mle.categorical(labels)
        with pytest.raises(DataError, match=r"`groups` has 1 missing labels \(NaN/None/empty\)"):
            ppl_mle.normal([1.0, 2.0, 3.0, 4.0], groups=labels)
    frame = pd.DataFrame({"g": ["a", " ", "b", "a"], "x": [1.0, 2.0, 3.0, 4.0]})
    frame.to_parquet(tmp_path / "blank.parquet")
    with pytest.raises(DataError, match=r"blank.parquet has 1 missing labels .* column 'g'"):
        grouped_normal_stats_of(tmp_path / "blank.parquet", "x", "g")


# -- True and 1: two labels in a list as in an object array -------------------------------------
MIXED = [True, 1, False, 0, True, 0, 1, 1, 0, False, True, 0]
GROUPS = ["a", "a", "a", "b", "b", "b", "a", "b", "a", "b", "a", "b"]


def _kind_counts(values):
    """Counts keyed by (kind, value): a reference in which True and 1 cannot meet."""
    return Counter(("bool" if isinstance(v, bool) else "number", v) for v in values)


def _keys(categories):
    return [("bool" if isinstance(c, bool) else "number", c) for c in categories]


@pytest.mark.parametrize("form", [list, tuple, lambda v: np.array(v, dtype=object), pd.Series])
def test_true_and_one_are_two_categories(form):
    want = _kind_counts(MIXED)
    family = ppl_mle.categorical(form(MIXED)).family
    assert len(family.categories) == 4
    assert _keys(family.categories) == _keys((False, 0, True, 1))
    np.testing.assert_array_equal(family.counts, [want[k] for k in _keys(family.categories)])
    grouped = ppl_mle.categorical(form(MIXED), groups=form(GROUPS)).family
    assert _keys(grouped.categories) == _keys(family.categories)
    for j, g in enumerate(grouped.groups):
        rows = _kind_counts(v for v, h in zip(MIXED, GROUPS, strict=True) if h == g)
        np.testing.assert_array_equal(
            grouped.counts[j], [rows[k] for k in _keys(grouped.categories)]
        )


@pytest.mark.parametrize("form", [list, lambda v: np.array(v, dtype=object), pd.Series])
def test_true_and_one_are_two_groups(form):
    x = np.arange(1.0, len(MIXED) + 1) ** 1.5
    stats = ppl_mle.normal(x, groups=form(MIXED)).family
    assert _keys(stats.groups) == _keys((False, 0, True, 1))
    for j, g in enumerate(_keys(stats.groups)):
        rows = x[[_keys([v])[0] == g for v in MIXED]]
        assert stats.stats.n[j] == rows.size
        assert stats.stats.mean[j] == pytest.approx(rows.mean(), rel=1e-14)
    fit = ppl_mle.fit_mle(ppl_mle.categorical(form(GROUPS * 2), groups=form(MIXED * 2)))
    for j, g in enumerate(_keys(fit.family.groups)):
        rows = pd.Series(
            [h for v, h in zip(MIXED * 2, GROUPS * 2, strict=True) if _keys([v])[0] == g]
        )
        share = rows.value_counts(normalize=True).reindex(fit.family.categories, fill_value=0)
        np.testing.assert_allclose(fit.estimates["theta"][j], share.to_numpy(), rtol=1e-12)


def test_booleans_in_a_list_are_not_numbers():
    with pytest.raises(DataError, match=r"`data` must be numeric; found True"):
        ppl_mle.normal([True, 2.0, 3.5])
    with pytest.raises(DataError, match=r"`data` must be numeric; got booleans"):
        ppl_mle.normal(np.array([True, False, True]))


@settings(max_examples=30, deadline=None)
@given(st.lists(st.sampled_from([True, False, 0, 1, 2, -1]), min_size=2, max_size=30))
def test_a_list_and_an_object_array_give_the_same_categories(values):
    want = _kind_counts(values)
    assume(len(want) >= 2)
    from_list = ppl_mle.categorical(values).family
    from_array = ppl_mle.categorical(np.array(values, dtype=object)).family
    assert _keys(from_list.categories) == _keys(from_array.categories)
    assert sorted(_keys(from_list.categories), key=repr) == sorted(want, key=repr)
    np.testing.assert_array_equal(from_list.counts, [want[k] for k in _keys(from_list.categories)])
    np.testing.assert_array_equal(from_list.counts, from_array.counts)


def test_blank_labels_in_files_are_those_python_strips():
    # A label of blanks is missing in a file as in memory: the file reader trims exactly
    # the characters str.isspace() names.
    from ppl_mle.data.grouped.sources import WHITESPACE

    every = "".join(c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace())
    assert every == WHITESPACE
