"""The same data through every door give the same groups, categories and estimates.

A table of group labels, values and category labels (spellings such as ``'007'``, ``'7'``,
``'07'``, ``'7.0'``, ``'NA'`` and ``'True'`` among them) is fitted through every way in:
a numpy array, a list, a pandas Series, a pandas DataFrame as a source, a ``.csv`` file, a
``.parquet`` file, a folder of ``.parquet`` shards, a Dask DataFrame, and the command line
(``ppl-mle fit … --by … --json``) on the CSV and the Parquet file. Every door must give
pandas' groups and categories, and pandas' estimates: per group the mean and the standard
deviation by n (``groupby``), and the share of each category (``crosstab``), to 1e-12.
"""

import contextlib
import io
import json
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ppl_mle
from ppl_mle.cli import main

RTOL = 1e-12
#: Labels that numbers, booleans or missing-value markers could swallow if read as such.
SPELLINGS = ["007", "7", "07", "7.0", "8", "a", "A", "NA", "True", "1"]

DOORS = settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@st.composite
def tables(draw):
    """A table of groups ``g``, values ``x`` and categories ``y``, rows in random order.

    Every group shows every category (so every estimate is interior), and has at least two
    distinct values.
    """
    groups = draw(st.lists(st.sampled_from(SPELLINGS), min_size=2, max_size=4, unique=True))
    cats = draw(st.lists(st.sampled_from(SPELLINGS), min_size=2, max_size=3, unique=True))
    extra = draw(
        st.lists(
            st.integers(0, 3), min_size=len(groups) * len(cats), max_size=len(groups) * len(cats)
        )
    )
    seed = draw(st.integers(0, 2**32 - 1))
    pairs = [
        (g, c)
        for k, (g, c) in enumerate((g, c) for g in groups for c in cats)
        for _ in range(1 + extra[k])
    ]
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(pairs))
    return pd.DataFrame(
        {
            "g": [pairs[i][0] for i in order],
            "x": rng.normal(50.0, 10.0, len(pairs)),
            "y": [pairs[i][1] for i in order],
        }
    )


def _cli(argv):
    """``ppl-mle`` in-process: the JSON object it prints (the exit status must be 0)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    assert code == 0, err.getvalue()
    return json.loads(out.getvalue())


def _files(frame, root):
    """The table as a CSV file, a Parquet file and a folder of two Parquet shards."""
    frame.to_csv(root / "t.csv", index=False)
    frame.to_parquet(root / "t.parquet")
    (root / "shards").mkdir()
    half = len(frame) // 2
    frame.iloc[:half].to_parquet(root / "shards" / "0.parquet")
    frame.iloc[half:].to_parquet(root / "shards" / "1.parquet")
    return root / "t.csv", root / "t.parquet", root / "shards"


def _dask(frame):
    import dask.dataframe as dd

    return dd.from_pandas(frame, npartitions=3)


def _every_door(declare, source, column, frame, files, fitted, cli):
    """``fitted`` of the model ``declare`` (or ``source``, from files) builds from each door,
    and ``cli`` of each file."""
    csv, parquet, shards = files
    values, g = frame[column], frame["g"]
    return {
        "array": fitted(declare(np.array(values.tolist()), groups=np.array(g.tolist()))),
        "list": fitted(declare(values.tolist(), groups=g.tolist())),
        "series": fitted(declare(values, groups=g)),
        "dataframe": fitted(source(frame, column=column, by="g")),
        "csv": fitted(source(str(csv), column=column, by="g")),
        "parquet": fitted(source(str(parquet), column=column, by="g")),
        "shards": fitted(source(str(shards), column=column, by="g", batch_rows=3)),
        "dask": fitted(source(_dask(frame), column=column, by="g")),
        "cli csv": cli(csv),
        "cli parquet": cli(parquet),
    }


def _normal_doors(frame, csv, parquet, shards):
    """Each door's (groups, mu, sigma)."""

    def fitted(model):
        result = ppl_mle.fit_mle(model)
        est = result.estimates
        return result.family.groups, np.asarray(est["mu"]), np.asarray(est["sigma"])

    def cli(path):
        rows = _cli(["fit", "normal", path, "--column", "x", "--by", "g", "--json"])["groups"]
        return (
            tuple(r["group"] for r in rows),
            np.array([r["mu"] for r in rows]),
            np.array([r["sigma"] for r in rows]),
        )

    return _every_door(
        ppl_mle.normal, ppl_mle.normal_from_source, "x", frame, (csv, parquet, shards), fitted, cli
    )


def _categorical_doors(frame, csv, parquet, shards):
    """Each door's (groups, categories, theta)."""

    def fitted(model):
        result = ppl_mle.fit_mle(model)
        family = result.family
        return family.groups, family.categories, np.asarray(result.estimates["theta"])

    def cli(path):
        payload = _cli(["fit", "categorical", path, "--column", "y", "--by", "g", "--json"])
        rows = payload["groups"]
        cats = tuple(
            k[len("theta[") : -1] for k in rows[0] if k.startswith("theta[") and k[-1] == "]"
        )
        theta = np.array([[r[f"theta[{c}]"] for c in cats] for r in rows])
        return tuple(r["group"] for r in rows), cats, theta

    return _every_door(
        ppl_mle.categorical,
        ppl_mle.categorical_from_source,
        "y",
        frame,
        (csv, parquet, shards),
        fitted,
        cli,
    )


@DOORS
@given(tables())
def test_every_door_gives_pandas_groups_and_estimates(frame):
    by_group = frame.groupby("g")["x"]
    mean, sd = by_group.mean(), by_group.std(ddof=0)
    share = pd.crosstab(frame["g"], frame["y"], normalize="index")
    groups, cats = tuple(mean.index), tuple(share.columns)
    # The reference keeps every spelling: as many groups and categories as were drawn.
    assert len(groups) == frame["g"].nunique() and len(cats) == frame["y"].nunique()
    with tempfile.TemporaryDirectory() as folder:
        files = _files(frame, Path(folder))
        normal = _normal_doors(frame, *files)
        categorical = _categorical_doors(frame, *files)
    for door, (found, mu, sigma) in normal.items():
        assert found == groups, door
        np.testing.assert_allclose(mu, mean.to_numpy(), rtol=RTOL, err_msg=door)
        np.testing.assert_allclose(sigma, sd.to_numpy(), rtol=RTOL, err_msg=door)
    for door, (found, found_cats, theta) in categorical.items():
        assert found == groups and found_cats == cats, door
        np.testing.assert_allclose(theta, share.to_numpy(), rtol=RTOL, err_msg=door)
