"""Hostile inputs: never fit numbers the user did not mean, never a traceback, never a hang.

One class of input per section. Every error is checked by its message; the CLI
by its exit status (2 for bad input) and its one ``error:`` line, never the internal-error
line (exit 3) that catches bugs. Fits, where the answer is a fit, use tiny data and are
checked against the closed form (the mean; counts / n).
"""

from __future__ import annotations

import http.server
import json
import logging
import os
import pickle
import subprocess
import sys
import threading
from argparse import Namespace

import numpy as np
import pandas as pd
import pymc as pm
import pytest

import ppl_mle
from ppl_mle import DataError, ModelError
from ppl_mle.cli import main
from ppl_mle.data.io import read_column
from ppl_mle.data.validation import check_start_shapes


def run(argv, capsys):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def assert_bad_input(code, out, err, message):
    """Exit 2, nothing on stdout, and one ``error:`` line that starts with ``message``."""
    assert code == 2, err
    assert out == ""
    assert "internal error" not in err and "Traceback" not in err
    lines = err.strip().splitlines()
    assert lines[-1].startswith(f"error: {message}"), err


@pytest.fixture
def csv_files(tmp_path):
    files = {
        "decimal_comma": "x\n1,5\n2,5\n4,25\n",
        "later_extra": "x,y\n1,2\n3,4,5\n",
        "short_row": "x,y\n1,2\n3\n",
        "no_header": "1.5\n2.5\n4.0\n",
        "no_header_2": "1.5,2\n2.5,3\n",
        "ints_then_floats": "x\n1\n2\n3\n4.5\n5.25\n",
        "labels_then_text": "y\n1\n2\n1\nb\n",
        "null_label": "y,z\na,1\n,2\nb,3\n",
        "good": "x\n1.5\n2.5\n4.0\n",
    }
    paths = {}
    for name, text in files.items():
        paths[name] = tmp_path / f"{name}.csv"
        paths[name].write_text(text)
    return paths


# -- CSV rows that do not match the header: a value lost or moved is an error ------------------
@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("decimal_comma", "decimal_comma.csv line 2 has 2 fields but the header has 1: '1,5'"),
        ("later_extra", "later_extra.csv line 3 has 3 fields but the header has 2: '3,4,5'"),
        ("short_row", "short_row.csv line 3 has 1 fields but the header has 2: '3'"),
    ],
)
def test_csv_field_count_differs_from_header(name, message, csv_files, capsys):
    with pytest.raises(DataError, match=message):
        read_column(csv_files[name], "x", numeric=True)
    with pytest.raises(DataError, match=message):
        ppl_mle.normal_stats_of(csv_files[name], "x", batch_rows=1)
    assert_bad_input(*run(["fit", "normal", csv_files[name], "--column", "x"], capsys), message)


def test_decimal_comma_says_what_to_do(csv_files):
    with pytest.raises(DataError, match=r"A decimal comma \(1,5 for 1.5\)\?"):
        read_column(csv_files["decimal_comma"], numeric=True)


@pytest.mark.parametrize("name", ["no_header", "no_header_2"])
def test_csv_without_header_is_refused_not_truncated(name, csv_files, capsys):
    message = f"{name}.csv has no header: its first line"
    with pytest.raises(DataError, match=message):
        read_column(csv_files[name], numeric=True)
    with pytest.raises(DataError, match=message):
        ppl_mle.normal_stats_of(csv_files[name])
    with pytest.raises(DataError, match=message):
        ppl_mle.label_counts_of(csv_files[name])
    code, out, err = run(["fit", "categorical", csv_files[name]], capsys)
    assert_bad_input(code, out, err, message)
    assert "would be read as column names and lost" in err


def test_good_csv_still_reads_every_value(csv_files):
    np.testing.assert_array_equal(read_column(csv_files["good"], numeric=True), [1.5, 2.5, 4.0])


# -- missing values: an error that counts them, for values and labels alike -------------------
@pytest.mark.parametrize("missing", [float("nan"), np.nan, None, pd.NA, pd.NaT])
def test_missing_labels_are_counted_not_categories(missing):
    with pytest.raises(
        DataError, match=r"`labels` has 2 missing values \(None or NaN\) at positions \[1, 3\] of 5"
    ):
        ppl_mle.categorical(["a", missing, "b", missing, "b"])


def test_missing_labels_in_a_pandas_series_and_large_data():
    labels = pd.Series(["a", "b", None, "a"], dtype="string")
    with pytest.raises(DataError, match="1 missing values"):
        ppl_mle.categorical(labels)
    big = np.array(["a", "b"] * 60_000, dtype=object)
    big[7] = None
    with pytest.raises(DataError, match=r"1 missing values .* at positions \[7\]"):
        ppl_mle.categorical(big)  # the counting path (sufficient statistics)


def test_missing_categories_and_counts_are_refused():
    with pytest.raises(ModelError, match="`categories` has a missing value nan"):
        ppl_mle.categorical(["a", "b"], categories=["a", "b", float("nan")])
    with pytest.raises(DataError, match="`counts` has 1 missing values"):
        ppl_mle.categorical_from_counts([3, None, 2])


def test_missing_numbers_in_an_object_column_are_counted():
    message = r"`data` has 2 missing values \(None or NaN\) at positions \[1, 3\] of 4"
    with pytest.raises(DataError, match=message):
        ppl_mle.normal(pd.Series([1.0, None, 2.0, pd.NA], dtype=object))
    with pytest.raises(DataError, match=r"`data` has 2 non-finite values of 4 \(2 NaN"):
        ppl_mle.normal(pd.Series([1.0, None, 2.0, pd.NA], dtype="Float64"))


def test_labels_keep_their_type():
    model = ppl_mle.categorical([1, "1", 2, "1"])
    assert model.family.categories == (1, "1", 2)
    np.testing.assert_array_equal(model.family.counts, [1, 2, 1])
    # In a numeric column 1.0 is 1.
    model = ppl_mle.categorical([1, 1.0, 2, 2.0, 2])
    assert model.family.categories == (1.0, 2.0)
    np.testing.assert_array_equal(model.family.counts, [2, 3])
    # Strings are not numbers: '1' is not the category 1.
    with pytest.raises(DataError, match=r"2 values not in `categories` \[1, 2\]"):
        ppl_mle.categorical(["1", "2"], categories=[1, 2])


def test_mixed_labels_fit_counts_over_n():
    result = ppl_mle.fit_mle(ppl_mle.categorical([1, "1", "1", 2]))
    np.testing.assert_allclose(result.estimates["theta"], [0.25, 0.5, 0.25], rtol=1e-7)


# -- masked arrays: the mask is honoured -----------------------------------------------------
def test_masked_entries_are_missing_values():
    x = np.ma.masked_array([1.0, 2.0, 4.0, 1e6], mask=[0, 0, 0, 1])
    message = r"`data` has 1 masked \(missing\) values of 4 at positions \[3\]"
    with pytest.raises(DataError, match=message):
        ppl_mle.normal(x)
    with pytest.raises(DataError, match=message):
        ppl_mle.normal_stats_of(x)
    labels = np.ma.masked_array(["a", "b", "a"], mask=[0, 1, 0])
    with pytest.raises(DataError, match=r"`labels` has 1 masked"):
        ppl_mle.categorical(labels)


def test_masked_array_without_masked_entries_fits_its_values():
    x = np.ma.masked_array([1.0, 2.0, 4.0], mask=[0, 0, 0])
    result = ppl_mle.fit_mle(ppl_mle.normal(x))
    assert float(result.estimates["mu"]) == pytest.approx(7.0 / 3.0, rel=1e-12)


# -- counts beyond int64 ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("counts", "message"),
    [
        ([2**63 + 5, 3], r"`counts` must be at most 9223372036854775807 \(int64\)"),
        (np.array([2**63 + 5, 3], dtype=np.uint64), r"`counts` sum to 9223372036854775816"),
        ([2**62, 2**62, 2**62], r"`counts` sum to 13835058055282163712, more than int64"),
        ([1e19, 3.0], r"`counts` sum to"),
    ],
)
def test_counts_beyond_int64_are_refused_not_wrapped(counts, message):
    with pytest.raises(DataError, match=message):
        ppl_mle.categorical_from_counts(counts)


# -- integer and unhashable labels ------------------------------------------------------------
def test_int8_labels_at_large_n_are_counted_exactly():
    labels = np.concatenate([np.full(60_000, -100, np.int8), np.full(70_000, 100, np.int8)])
    model = ppl_mle.categorical(labels)
    assert model.family.categories == (-100, 100)
    np.testing.assert_array_equal(model.family.counts, [60_000, 70_000])


def test_unhashable_labels_and_categories():
    with pytest.raises(ModelError, match=r"`categories` must be hashable .* \['a'\] is a list"):
        ppl_mle.categorical(["a", "b"], categories=[["a"], "b"])
    with pytest.raises(DataError, match="`labels` must hold hashable values"):
        ppl_mle.categorical([{"a": 1}, {"b": 2}, "c"])
    with pytest.raises(ModelError, match="must be hashable"):
        ppl_mle.label_counts_of(np.array([1, 2, 1]), categories=[[1], 2])


# -- Parquet shards and Dask ------------------------------------------------------------------
def test_null_label_in_parquet_shards(tmp_path, capsys):
    folder = tmp_path / "shards"
    folder.mkdir()
    pd.DataFrame({"colour": ["red", "blue"]}).to_parquet(folder / "a.parquet")
    pd.DataFrame({"colour": ["red", None, "blue"]}).to_parquet(folder / "b.parquet")
    message = "b.parquet: column 'colour' has 1 missing values"
    with pytest.raises(DataError, match=message):
        ppl_mle.label_counts_of(folder, "colour")
    assert_bad_input(*run(["fit", "categorical", folder, "--column", "colour"], capsys), message)


def test_dask_missing_labels_are_counted():
    da = pytest.importorskip("dask.array")
    dd = pytest.importorskip("dask.dataframe")
    floats = np.array([1.0, np.nan, 2.0, np.nan, 1.0, np.nan] * 2)
    with pytest.raises(DataError, match="the Dask data have 6 missing labels"):
        ppl_mle.label_counts_of(da.from_array(floats, chunks=4))
    with pytest.raises(DataError, match="the Dask data have 6 missing labels"):
        ppl_mle.label_counts_of(dd.from_pandas(pd.DataFrame({"y": floats}), npartitions=3))
    strings = np.array(["a", None, "b", "a"], dtype=object)
    with pytest.raises(DataError, match="the Dask data have 1 missing labels"):
        ppl_mle.label_counts_of(da.from_array(strings, chunks=2))
    frame = pd.DataFrame({"y": pd.Series(["a", None, "b", "a"], dtype=object)})
    with pytest.raises(DataError, match="the Dask data have 1 missing labels"):
        ppl_mle.label_counts_of(dd.from_pandas(frame, npartitions=2), "y")


def test_dask_string_labels_stay_strings():
    dd = pytest.importorskip("dask.dataframe")
    labels = [str(i) for i in range(100)] * 2
    frame = dd.from_pandas(pd.DataFrame({"y": labels}), npartitions=4)
    counts, cats = ppl_mle.label_counts_of(frame, "y")
    assert cats == tuple(sorted(str(i) for i in range(100)))
    assert all(isinstance(c, str) for c in cats) and set(counts.tolist()) == {2}


def test_dask_strings_are_not_numbers_for_the_normal_model():
    dd = pytest.importorskip("dask.dataframe")
    frame = dd.from_pandas(pd.DataFrame({"y": ["1", "2", "3"]}), npartitions=2)
    with pytest.raises(DataError, match="not numbers: the normal model needs numeric data"):
        ppl_mle.normal_stats_of(frame, "y")


@pytest.fixture
def http_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"tcp://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_another_service_is_not_a_scheduler_and_no_hang(http_server):
    da = pytest.importorskip("dask.array")
    with pytest.raises(DataError, match=r"does not answer like a Dask scheduler .*sent nothing"):
        ppl_mle.normal_stats_of(da.ones(10, chunks=5), client=http_server)
    # The process stays healthy: the same data reduce locally.
    assert ppl_mle.normal_stats_of(da.arange(10.0, chunks=5)).mean == 4.5


def test_scheduler_address_that_is_not_host_port():
    da = pytest.importorskip("dask.array")
    with pytest.raises(DataError, match="is not host:port"):
        ppl_mle.normal_stats_of(da.ones(4, chunks=2), client="tcp://localhost")


def test_a_real_scheduler_address_passes_the_probe():
    da = pytest.importorskip("dask.array")
    distributed = pytest.importorskip("distributed")

    with distributed.LocalCluster(
        n_workers=1,
        threads_per_worker=1,
        processes=False,
        dashboard_address=None,
        protocol="tcp://",
        host="127.0.0.1",
    ) as cluster:
        stats = ppl_mle.normal_stats_of(da.arange(10.0, chunks=5), client=cluster.scheduler_address)
    assert stats.n == 10 and stats.mean == 4.5 and stats.ss == 82.5


def test_scheduler_probe_accepts_a_scheduler_greeting():
    from ppl_mle.data.streaming import _probe_scheduler

    # A stand-in that greets like a scheduler: an 8-byte frame length, then the frame.
    server = _Greeter(b":\x00\x00\x00\x00\x00\x00\x00" + b"\x01" + b"\x00" * 57)
    try:
        _probe_scheduler(f"tcp://127.0.0.1:{server.port}")
    finally:
        server.close()


class _Greeter:
    """A TCP server on loopback that sends ``greeting`` to each connection."""

    def __init__(self, greeting: bytes) -> None:
        import socket

        self._sock = socket.create_server(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        self._greeting = greeting
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        try:
            conn, _ = self._sock.accept()
        except OSError:
            return
        with conn:
            conn.sendall(self._greeting)

    def close(self) -> None:
        self._sock.close()
        self._thread.join(timeout=5)


# -- streams whose types widen ----------------------------------------------------------------
def test_stream_widens_integers_to_floats(csv_files, capsys, monkeypatch):
    stats = ppl_mle.normal_stats_of(csv_files["ints_then_floats"], batch_rows=1)
    x = np.array([1.0, 2.0, 3.0, 4.5, 5.25])
    assert stats.n == 5 and stats.mean == pytest.approx(x.mean(), rel=1e-15)
    assert stats.ss == pytest.approx(np.sum((x - x.mean()) ** 2), rel=1e-14)
    monkeypatch.setattr("ppl_mle.cli._STREAM_BYTES", 0)  # the CLI streams every file
    code, out, err = run(["fit", "normal", csv_files["ints_then_floats"], "--json"], capsys)
    assert code == 0, err
    assert '"mu": 3.15' in out


def test_stream_labels_are_text_as_written(csv_files, tmp_path):
    counts, cats = ppl_mle.label_counts_of(csv_files["labels_then_text"], batch_rows=1)
    assert cats == ("1", "2", "b")
    np.testing.assert_array_equal(counts, [2, 1, 1])
    ints = tmp_path / "ints.csv"
    ints.write_text("y\n3\n1\n3\n03\n")
    counts, cats = ppl_mle.label_counts_of(ints, batch_rows=1)
    assert cats == ("03", "1", "3") and counts.tolist() == [1, 1, 2]  # '03' is not '3'


def test_stream_null_label_in_csv(csv_files):
    with pytest.raises(DataError, match=r"null_label\.csv: column 'y' has 1 missing values"):
        ppl_mle.label_counts_of(csv_files["null_label"], "y", batch_rows=1)


def test_stream_empty_number_in_csv_is_counted(tmp_path):
    path = tmp_path / "gap.csv"
    path.write_text("x,y\n1.0,a\n,b\n3.0,c\n")
    with pytest.raises(DataError, match=r"gap\.csv has 1 non-finite values \(1 NaN, 0 infinite\)"):
        ppl_mle.normal_stats_of(path, "x", batch_rows=1)


def test_cli_null_label_in_csv(csv_files, capsys):
    code, out, err = run(["fit", "categorical", csv_files["null_label"], "--column", "y"], capsys)
    assert_bad_input(code, out, err, "null_label.csv has 1 missing labels")


# -- results are immutable, and know when their data changed ----------------------------------
@pytest.fixture(scope="module")
def small_fit():
    return ppl_mle.fit_mle(ppl_mle.normal([1.0, 2.0, 4.0]))


def test_result_arrays_and_mappings_are_read_only(small_fit):
    with pytest.raises(ValueError, match="read-only"):
        small_fit.estimates["mu"] += 100
    with pytest.raises(TypeError, match="a fit's results are read-only"):
        small_fit.estimates["mu"] = 5.0
    with pytest.raises(TypeError, match="read-only"):
        small_fit.on_boundary.update({})
    with pytest.raises(ValueError, match="read-only"):
        small_fit.z[0] = 0.0
    assert float(small_fit.estimates["mu"]) == pytest.approx(7.0 / 3.0, rel=1e-12)
    assert isinstance(small_fit.estimates, dict)
    copy = pickle.loads(pickle.dumps(dict(small_fit.estimates)))
    assert float(copy["mu"]) == pytest.approx(7.0 / 3.0, rel=1e-12)
    assert pickle.loads(pickle.dumps(small_fit.estimates)).keys() == {"mu", "sigma"}


def test_data_replaced_behind_a_plain_model_is_refused():
    with pm.Model() as model:
        data = pm.Data("d", np.array([1.0, 2.0, 4.0, 3.0]))
        mu = pm.Flat("mu")
        sigma = pm.HalfFlat("sigma")
        pm.Normal("x", mu, sigma, observed=data)
    result = ppl_mle.fit_mle(model)
    pm.set_data({"d": np.array([10.0, 20.0, 40.0, 30.0])}, model=model)
    with pytest.raises(ModelError, match="the model's data were replaced after this fit"):
        result.profile_interval("mu")


def test_data_replaced_behind_an_mle_model_is_refused():
    model = ppl_mle.normal([1.0, 2.0, 4.0, 3.0])
    result = ppl_mle.fit_mle(model)
    pm.set_data({"data": np.array([10.0, 20.0, 40.0, 30.0])}, model=model)
    with pytest.raises(ModelError, match="the model's data were replaced after this fit"):
        result.profile_interval("mu")


# -- start values of the wrong shape ----------------------------------------------------------
def test_check_start_shapes():
    normal = ppl_mle.normal([1.0, 2.0, 4.0])
    check_start_shapes(normal, None)
    check_start_shapes(normal, {"mu": 1.0, "sigma_log__": np.array(0.0)})
    with pytest.raises(
        ModelError, match=r"`start\['mu'\]` has shape \(2,\), but 'mu' has shape \(\) \(a scalar\)"
    ):
        check_start_shapes(normal, {"mu": [1.0, 2.0]})
    cats = ppl_mle.categorical(["a", "b", "c", "a"])
    check_start_shapes(cats, {"theta": [0.2, 0.3, 0.5]})
    with pytest.raises(ModelError, match=r"`start\['theta'\]` has shape \(2,\), but 'theta' has"):
        check_start_shapes(cats, {"theta": [0.5, 0.5]})
    with pytest.raises(ModelError, match="`start` must be a dict"):
        check_start_shapes(normal, [1.0])


# -- sigma ------------------------------------------------------------------------------------
@pytest.mark.parametrize("sigma", [1e-320, 5e-324])
def test_subnormal_sigma(sigma, csv_files, capsys):
    with pytest.raises(ModelError, match="a subnormal number whose square underflows to 0"):
        ppl_mle.normal([1.0, 2.0], sigma=sigma)
    code, out, err = run(["fit", "normal", csv_files["good"], "--sigma", repr(sigma)], capsys)
    assert_bad_input(code, out, err, "--sigma must be a positive number of at least 2.225e-308")
    assert "start" not in err


# -- the command line: every known case is one line, exit 2, before any long work -----------
def test_cli_bad_sampler_arguments_fail_before_work(csv_files, tmp_path, capsys):
    good = csv_files["good"]
    cases = [
        (["--seed", "-1"], "--seed must be an integer from 0 to 4294967295; got -1."),
        (["--seed", str(2**32)], "--seed must be an integer from 0 to 4294967295"),
        (["--draws", "10000000000"], "--draws 10000000000 × --chains 4 × 10 stored values"),
        (["--plot", tmp_path / "missing_dir" / "x.png"], "--plot "),
        (["--plot", tmp_path], "--plot "),
        (["--tune", "-1"], "--tune must be an integer >= 0; got -1."),
        (["--chains", "0"], "--chains must be an integer >= 1; got 0."),
    ]
    for extra, message in cases:
        code, out, err = run(["compare", "normal", good, *extra], capsys)
        assert_bad_input(code, out, err, message)
    code, _, err = run(["compare", "normal", good, "--plot", tmp_path / "no" / "x.png"], capsys)
    assert "does not exist; create it first" in err


def test_cli_softmax_target_among_features(tmp_path, capsys):
    path = tmp_path / "soft.csv"
    path.write_text("y,a,b\n0,1.0,2.0\n1,2.0,1.0\n0,1.5,0.3\n1,3.0,2.2\n")
    argv = ["fit", "softmax", path, "--target", "y"]
    code, out, err = run([*argv, "--features", "y,a"], capsys)
    assert_bad_input(code, out, err, "--target column 'y' is also among --features ['y', 'a']")
    code, out, err = run([*argv, "--features", "a,a"], capsys)
    assert_bad_input(code, out, err, "--features names ['a'] more than once")


@pytest.mark.parametrize(
    ("body", "shown"), [("sys.exit()", "sys.exit()"), ("sys.exit(3)", "sys.exit(3)")]
)
def test_cli_script_that_exits_is_an_error(body, shown, tmp_path, capsys):
    script = tmp_path / "model.py"
    script.write_text(f"import sys\n{body}\n")
    code, out, err = run(["fit", "pymc", script], capsys)
    assert_bad_input(code, out, err, f"model.py called {shown} while it was run")


def test_cli_help_says_a_script_is_executed(capsys):
    with pytest.raises(SystemExit):
        main(["fit", "pymc", "--help"])
    out, _ = capsys.readouterr()
    assert "The script is EXECUTED" in out


def test_cli_unexpected_error_is_one_line_exit_3(monkeypatch, capsys):
    def broken():
        raise RuntimeError("boom")

    monkeypatch.setattr("ppl_mle.cli.run_demo", broken)
    code, out, err = run(["demo"], capsys)
    assert code == 3 and out == ""
    assert err == (
        "error: internal error (RuntimeError: boom); run with --debug for the traceback\n"
    )
    code, _, err = run(["demo", "--debug"], capsys)
    assert code == 3
    assert "Traceback (most recent call last)" in err and "RuntimeError: boom" in err


def test_cli_short_runs_get_our_warning_not_the_vendors(capsys):
    from ppl_mle.cli import _own_sampling_gates

    args = Namespace(draws=5, chains=1)
    with _own_sampling_gates(args):
        assert not logging.getLogger("pymc.sampling.mcmc").isEnabledFor(logging.WARNING)
    assert logging.getLogger("pymc.sampling.mcmc").isEnabledFor(logging.WARNING)
    _, err = capsys.readouterr()
    assert err.startswith("warning: --draws 5 is fewer than 100 draws per chain")


def test_cli_compare_with_five_draws_runs_and_is_not_trusted(csv_files, capsys, tmp_path):
    path = tmp_path / "x.txt"
    path.write_text("\n".join(str(v) for v in [1.0, 2.5, 3.0, 4.5, 2.0, 3.5]) + "\n")
    argv = ["compare", "normal", path, "--draws", "5", "--tune", "10", "--chains", "2"]
    code, _, err = run([*argv, "--seed", "1"], capsys)
    assert code == 1, err  # ran, and its diagnostics gate: not trustworthy
    assert "warning: --draws 5 is fewer than 100 draws per chain" in err
    assert "Only 5 samples" not in err and "internal error" not in err


_THREADS_SCRIPT = """
import sys, threading, warnings
import numpy as np
import ppl_mle

warnings.simplefilter("ignore")
results, errors = {}, []


def work(i):
    try:
        rng = np.random.default_rng(i)
        if i % 2 == 0:
            model = ppl_mle.normal(rng.normal(i, 1 + i, 30 + i))
        else:
            model = ppl_mle.categorical(rng.integers(0, 3 + i, 40))
        result = ppl_mle.fit_mle(model, method="BFGS", on_failure="raise")
        results[i] = result.check_analytic().passed
    except Exception as exc:
        errors.append(f"{type(exc).__name__}: {exc}")


threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(results, errors)
sys.exit(0 if not errors and len(results) == 4 and all(results.values()) else 1)
"""


def test_four_threads_fit_safely_on_a_fresh_compile_directory(tmp_path):
    # Declarations made concurrently once crossed their variables (fits converging on the
    # wrong data, caught only by the closed-form check); first compilations into an empty
    # cache raised PyTensor AssertionErrors. Declarations and compilations hold a lock.
    env = dict(os.environ, PYTENSOR_FLAGS=f"compiledir={tmp_path / 'compiled'}")
    done = subprocess.run(
        [sys.executable, "-c", _THREADS_SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr[-2000:]


def test_nan_in_a_user_models_observed_data_is_named():
    with pm.Model() as model:
        mu = pm.Normal("mu", 0, 10)
        sigma = pm.HalfNormal("sigma", 5)
        with pytest.warns(UserWarning, match="missing values"):  # PyMC's imputation notice
            pm.Normal("y", mu, sigma, observed=np.array([1.0, 2.0, np.nan, 4.0]))
    with pytest.raises(ppl_mle.DataError, match=r"'y' contain 1 missing value\(s\).* of 4"):
        ppl_mle.fit_mle(model)


def test_potential_only_models_are_fitted():
    data = np.array([1.0, 2.0, 4.5])
    with pm.Model() as model:
        mu = pm.Flat("mu")
        pm.Potential("likelihood", pm.logp(pm.Normal.dist(mu, 1.0), data).sum())
    result = ppl_mle.fit_mle(model, on_failure="raise")
    assert float(result.estimates["mu"]) == pytest.approx(data.mean(), rel=1e-12)
    exact = float(np.sum(-0.5 * (data - data.mean()) ** 2 - 0.5 * np.log(2 * np.pi)))
    assert result.loglik == pytest.approx(exact, rel=1e-12)
    assert np.isnan(result.bic)  # no observed variable: n is unknown
    # A model with neither observed data nor a Potential says what is missing.
    with pm.Model() as empty:
        pm.Normal("x", 0, 1)
    with pytest.raises(ppl_mle.ModelError, match="forget `observed=`"):
        ppl_mle.fit_mle(empty)


def test_a_csv_with_a_byte_order_mark_is_read_by_its_first_column(tmp_path, capsys):
    # Spreadsheets write UTF-8 with a byte-order mark before the first column's name.
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeffx,g\n1.0,a\n2.5,a\n4.0,b\n3.0,b\n".encode())
    x = np.array([1.0, 2.5, 4.0, 3.0])
    stats = ppl_mle.normal_stats_of(str(path), column="x")
    assert stats.n == 4 and stats.mean == pytest.approx(x.mean(), rel=1e-15)
    fit = ppl_mle.fit_mle(ppl_mle.normal_from_source(str(path), column="x", by="g"))
    np.testing.assert_allclose(fit.params[["mu[a]", "mu[b]"]], [1.75, 3.5], rtol=1e-14)
    code, out, err = run(["fit", "normal", str(path), "--column", "x", "--json"], capsys)
    assert code == 0, err
    assert json.loads(out)["estimates"]["mu"] == pytest.approx(x.mean(), rel=1e-14)
