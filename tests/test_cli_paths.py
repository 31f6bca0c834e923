"""The command line end to end on its per-group, output-file and single-chain paths.

``fit normal|categorical … --by`` in every output form, checked against pandas groupby and
scipy; ``--output`` paths that cannot be written, refused before the data are read; and
``compare … --chains 1``, whose output carries no vendor log line.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import arviz as az
import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats
from test_cli import run

import ppl_mle

GROUP_SIZES = {"north": 25, "south": 40, "west": 35}
#: The printed table rounds to 6 decimals, the printed statistics to 6 significant digits.
PRINTED_DECIMALS = 5.0001e-7
PRINTED = 5e-6
FILE_FORMS = ["csv", "parquet"]
FORMS = ["plain", "verbose", "json", *FILE_FORMS]


@pytest.fixture(scope="module")
def grouped(tmp_path_factory):
    """A table of 100 rows in 3 groups of unequal sizes: a number and a label per row."""
    rng = np.random.default_rng(17)
    sex = np.repeat(list(GROUP_SIZES), list(GROUP_SIZES.values()))
    loc = {"north": 4.0, "south": 5.0, "west": 5.5}
    x = np.array([rng.normal(loc[s], 1.5) for s in sex])
    # Every label in every group: interior estimates, no boundary.
    eye = np.concatenate(
        [rng.permutation(np.resize(["a", "b", "c"], n)) for n in GROUP_SIZES.values()]
    )
    frame = pd.DataFrame({"sex": sex, "x": x, "eye": eye}).sample(frac=1.0, random_state=3)
    folder = tmp_path_factory.mktemp("grouped")
    frame.to_csv(folder / "people.csv", index=False)
    frame.to_parquet(folder / "people.parquet", index=False)
    return frame, folder


def expected_normal(frame: pd.DataFrame) -> pd.DataFrame:
    by = frame.groupby("sex")["x"]
    table = pd.DataFrame({"mu": by.mean(), "sigma": by.std(ddof=0), "n": by.size()})
    table["mu_se"] = table["sigma"] / np.sqrt(table["n"])
    table["sigma_se"] = table["sigma"] / np.sqrt(2 * table["n"])
    return table


def expected_categorical(frame: pd.DataFrame) -> pd.DataFrame:
    counts = pd.crosstab(frame["sex"], frame["eye"])
    n = counts.sum(axis=1)
    table = pd.DataFrame({"n": n})
    for c in counts.columns:
        p = counts[c] / n
        table[f"theta[{c}]"] = p
        table[f"theta[{c}]_se"] = np.sqrt(p * (1 - p) / n)
    return table


def expected_tests(frame: pd.DataFrame, model: str) -> dict[str, tuple[float, int]]:
    """Statistic and df of every homogeneity test, from scipy."""
    if model == "categorical":
        res = stats.chi2_contingency(
            pd.crosstab(frame["sex"], frame["eye"]), correction=False, lambda_="log-likelihood"
        )
        return {"theta": (res.statistic, res.dof)}
    t = expected_normal(frame)
    n, mean, var = t["n"].to_numpy(), t["mu"].to_numpy(), t["sigma"].to_numpy() ** 2
    big_n, df = n.sum(), len(n) - 1
    # Common sigma, own mu: the pooled variance by N (Bartlett's statistic uncorrected).
    share_sigma = big_n * np.log((n * var).sum() / big_n) - (n * np.log(var)).sum()

    # Common mu, own sigma: each sigma_g^2(mu) = var_g + (mean_g - mu)^2, mu maximised.
    def deviance(mu: float) -> float:
        return float((n * np.log1p((mean - mu) ** 2 / var)).sum())

    best = optimize.minimize_scalar(
        deviance, bounds=(mean.min(), mean.max()), method="bounded", options={"xatol": 1e-12}
    )
    return {"mu": (best.fun, df), "sigma": (share_sigma, df)}


def printed_table(out: str) -> pd.DataFrame:
    """The table ``fit … --by`` prints (one block: every column fits in the width)."""
    lines = out.splitlines()
    assert lines[0].startswith("MLE of the"), out
    columns = lines[1].split()
    assert lines[2].split() == ["group"], out
    rows = {}
    for line in lines[3:]:
        cells = line.split()
        if not cells or cells[0] not in GROUP_SIZES:
            break
        rows[cells[0]] = dict(zip(columns, cells[1:], strict=True))
    table = pd.DataFrame.from_dict(rows, orient="index")
    return table.drop(columns="verdict").astype(float).assign(verdict=table["verdict"])


@pytest.mark.parametrize("model", ["normal", "categorical"])
@pytest.mark.parametrize("form", FORMS)
def test_fit_by_group_every_form_against_pandas(model, form, grouped, tmp_path, capsys):
    frame, folder = grouped
    column = "x" if model == "normal" else "eye"
    source = folder / ("people.parquet" if form == "parquet" else "people.csv")
    argv = ["fit", model, str(source), "--column", column, "--by", "sex", "--level", "0.9"]
    target = tmp_path / f"groups.{form}"
    if form in FILE_FORMS:
        argv += ["--output", str(target)]
    elif form != "plain":
        argv.append(f"--{form}")
    code, out, err = run(argv, capsys)
    assert code == 0, err
    assert err == ""  # verified, interior: nothing to warn about
    want = (expected_normal if model == "normal" else expected_categorical)(frame)
    tests = expected_tests(frame, model)
    estimates = [c for c in want.columns if c != "n"]

    if form == "json":
        payload = json.loads(out)
        assert set(payload) == {
            "model",
            "status",
            "converged",
            "n_groups",
            "n_obs",
            "loglik",
            "message",
            "level",
            "tests",
            "groups",
        }
        assert payload["model"] == f"{model} per group"
        assert (payload["status"], payload["converged"]) == ("verified", True)
        assert payload["n_groups"] == 3 and payload["n_obs"] == len(frame)
        assert payload["level"] == 0.9
        if model == "normal":
            loglik = sum(
                stats.norm.logpdf(frame.loc[frame["sex"] == g, "x"], r["mu"], r["sigma"]).sum()
                for g, r in want.iterrows()
            )
        else:
            counts = pd.crosstab(frame["sex"], frame["eye"])
            loglik = float((counts * np.log(counts.div(counts.sum(axis=1), axis=0))).sum().sum())
        assert payload["loglik"] == pytest.approx(loglik, rel=1e-12)
        assert [t["null"] for t in payload["tests"]] == [
            f"all 3 groups share {share}" for share in tests
        ]
        for record, (statistic, df) in zip(payload["tests"], tests.values(), strict=True):
            assert set(record) == {"null", "statistic", "df", "pvalue"}
            assert record["statistic"] == pytest.approx(statistic, rel=1e-8)
            assert record["df"] == df
            assert record["pvalue"] == pytest.approx(stats.chi2.sf(statistic, df), rel=1e-6)
        got = pd.DataFrame(payload["groups"]).set_index("group")
        z = stats.norm.ppf(0.95)
        first = estimates[0]
        np.testing.assert_allclose(
            got[f"{first}_wald_lower"], want[first] - z * want[f"{first}_se"], rtol=1e-9
        )
        assert set(got["verdict"]) == {"verified"}
        rtol, atol = 1e-9, 0.0
    elif form in FILE_FORMS:
        got = pd.read_csv(target, index_col=0) if form == "csv" else pd.read_parquet(target)
        assert out.startswith("MLE of the")  # and the table printed as without --output
        rtol, atol = 1e-9, 0.0
    else:
        got = printed_table(out)
        assert set(got["verdict"]) == {"verified"}
        printed = [line for line in out.splitlines() if "(null: all 3 groups share" in line]
        assert len(printed) == len(tests)
        for line, (share, (statistic, df)) in zip(printed, tests.items(), strict=True):
            assert line.endswith(f"(null: all 3 groups share {share})")
            assert f"df = {df}," in line
            found = float(line.split("statistic = ")[1].split(",")[0])
            assert found == pytest.approx(statistic, rel=PRINTED)
        rtol, atol = 0.0, PRINTED_DECIMALS
    got = got.loc[list(GROUP_SIZES)]
    np.testing.assert_array_equal(got["n"], want.loc[list(GROUP_SIZES), "n"])
    for column_name in estimates:
        np.testing.assert_allclose(
            got[column_name].astype(float),
            want.loc[list(GROUP_SIZES), column_name],
            rtol=rtol,
            atol=atol,
        )


@pytest.mark.parametrize(
    "argv",
    [
        ["compare", "normal", "{csv}", "--column", "x", "--by", "sex"],
        ["compare", "categorical", "{csv}", "--column", "eye", "--by", "sex"],
        ["fit", "softmax", "{csv}", "--target", "eye", "--features", "x", "--by", "sex"],
        ["fit", "pymc", "{csv}", "--by", "sex"],
    ],
)
def test_by_is_refused_where_it_is_not_built(argv, grouped, capsys):
    _, folder = grouped
    code, out, err = run([a.format(csv=folder / "people.csv") for a in argv], capsys)
    assert (code, out) == (2, "")
    assert err == "error: unrecognized arguments: --by sex\n"


@pytest.fixture
def no_fit(monkeypatch):
    """Any reading of the data fails the test: the output path is refused before it."""

    def read(args):
        raise AssertionError("the data were read before the output path was checked")

    monkeypatch.setattr("ppl_mle.cli._model", read)


def bad_outputs(tmp_path: Path) -> list[tuple[str, str]]:
    (tmp_path / "d.csv").mkdir()
    (tmp_path / "plain.txt").write_text("a file\n")
    return [
        (str(tmp_path), f"--output {tmp_path} is a folder: give a file name such as "),
        (str(tmp_path / "d.csv"), f"--output {tmp_path / 'd.csv'} is a folder"),
        (
            str(tmp_path / "missing" / "t.csv"),
            f"--output {tmp_path / 'missing' / 't.csv'}: the folder {tmp_path / 'missing'} "
            "does not exist; create it first.",
        ),
        (
            str(tmp_path / "t.xlsx"),
            f"--output must name a .csv or .parquet file; got '{tmp_path / 't.xlsx'}'.",
        ),
        (
            str(tmp_path / "plain.txt" / "t.csv"),
            f"--output {tmp_path / 'plain.txt' / 't.csv'}: {tmp_path / 'plain.txt'} is a file, "
            "not a folder.",
        ),
    ]


@pytest.mark.parametrize("case", range(5))
@pytest.mark.parametrize("model", ["normal", "categorical"])
def test_unwritable_output_is_bad_input_before_any_work(case, model, no_fit, tmp_path, capsys):
    path, message = bad_outputs(tmp_path)[case]
    for extra in ([], ["--by", "sex", "--json"]):
        code, out, err = run(["fit", model, "data.csv", "--output", path, *extra], capsys)
        assert (code, out) == (2, "")
        if extra:
            payload = json.loads(err)
            assert payload["type"] == "DataError" and payload["error"].startswith(message)
        else:
            assert err.startswith(f"error: {message}") and err.count("\n") == 1, err


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc")
def test_output_where_no_file_can_be_made(no_fit, capsys):
    code, out, err = run(["fit", "normal", "data.csv", "--output", "/proc/t.csv"], capsys)
    assert (code, out) == (2, "")
    assert err.startswith("error: --output /proc/t.csv: cannot write there ("), err


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_output_in_a_read_only_folder(no_fit, tmp_path, capsys):
    folder = tmp_path / "ro"
    folder.mkdir(mode=0o555)
    code, _, err = run(["fit", "normal", "data.csv", "--output", str(folder / "t.csv")], capsys)
    assert code == 2
    assert err == f"error: --output {folder / 't.csv'}: cannot write there (Permission denied).\n"


def test_output_checked_then_left_as_it_was_when_the_fit_fails(grouped, tmp_path, capsys):
    _, folder = grouped
    new, kept = tmp_path / "new.csv", tmp_path / "kept.parquet"
    kept.write_bytes(b"earlier table")
    for target in (new, kept):
        argv = ["fit", "normal", str(folder / "people.csv"), "--column", "nope"]
        code, _, err = run([*argv, "--output", str(target)], capsys)
        assert code == 2 and "'nope'" in err
    assert not new.exists()
    assert kept.read_bytes() == b"earlier table"


def ppl_mle_exe() -> str:
    return str(Path(sys.executable).with_name("ppl-mle"))


@pytest.mark.parametrize(
    ("model", "column", "form"), [("normal", "x", "plain"), ("categorical", "eye", "json")]
)
def test_compare_one_chain_says_so_in_its_own_words(model, column, form, grouped):
    """One chain: no r_hat, said by ppl_mle; ArviZ is never asked for it (no vendor log)."""
    frame, folder = grouped
    argv = [ppl_mle_exe(), "compare", model, str(folder / "people.csv"), "--column", column]
    argv += ["--chains", "1", "--draws", "100", "--tune", "100", "--seed", "5"]
    if form == "json":
        argv.append("--json")
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 1, proc.stderr  # not trustworthy: r_hat cannot be assessed
    lines = proc.stderr.splitlines()
    assert (
        lines[0] == "warning: r_hat cannot be assessed with a single chain: run at least 2 chains"
    )
    assert all(line.startswith("warning: ") for line in lines), proc.stderr
    if form == "json":
        payload = json.loads(proc.stdout)
        assert payload["trustworthy"] is False
        assert payload["problems"][0] == lines[0].removeprefix("warning: ")
        share = frame["eye"].value_counts(normalize=True)
        for label, record in payload["parameters"].items():
            assert record["r_hat"] is None
            assert record["ess_bulk"] > 0 and record["ess_tail"] > 0
            assert record["mle"] == pytest.approx(share[label[6:-1]], rel=1e-12)
    else:
        assert "1 chains x 100 draws" in proc.stdout and "NOT TRUSTWORTHY" in proc.stdout
        row = next(line for line in proc.stdout.splitlines() if line.startswith("mu "))
        assert float(row.split()[1]) == pytest.approx(frame["x"].mean(), rel=PRINTED)


def test_one_chain_summary_is_arvizs_without_r_hat():
    from ppl_mle.bayes.sampling import arviz_summary

    rng = np.random.default_rng(2)
    walk = np.cumsum(rng.normal(size=(1, 300)), axis=1) * 0.1 + rng.normal(size=(1, 300))
    idata = az.from_dict(posterior={"mu": walk, "theta": rng.dirichlet([1, 2, 3], (1, 300))})
    got = arviz_summary(idata, 0.9)
    assert got["r_hat"].isna().all()
    labels = ["mu", "theta[0]", "theta[1]", "theta[2]"]
    assert list(got.index) == labels
    draws = [walk[0], *idata.posterior["theta"].values[0].T]
    for label, values in zip(labels, draws, strict=True):
        chain = values[np.newaxis]
        assert got.loc[label, "ess_bulk"] == pytest.approx(az.ess(chain, method="bulk"), rel=1e-12)
        assert got.loc[label, "ess_tail"] == pytest.approx(az.ess(chain, method="tail"), rel=1e-12)
        assert got.loc[label, "mcse_mean"] == pytest.approx(
            float(az.mcse(chain, method="mean").item()), rel=1e-12
        )
        assert got.loc[label, "mean"] == pytest.approx(values.mean(), rel=1e-12)
        assert got.loc[label, "sd"] == pytest.approx(values.std(ddof=1), rel=1e-12)


def test_per_group_posterior_of_too_few_draws_is_not_trusted():
    """Three draws a chain: no r_hat or ess can be computed, so the gate fails, in words."""
    rng = np.random.default_rng(4)
    x, g = rng.normal(5.0, 2.0, 40), np.repeat(["a", "b"], 20)
    with pytest.warns(ppl_mle.SamplingWarning) as record:
        comparison = ppl_mle.compare_bayes(
            ppl_mle.normal(x, groups=g), draws=3, tune=10, chains=2, random_seed=1
        )
    assert not comparison.trustworthy
    assert comparison.table["r_hat"].isna().all() and comparison.table["ess_bulk"].isna().all()
    assert [str(w.message) for w in record] == list(comparison.problems)
    assert comparison.problems[0] == (
        "r_hat > 1.01 for 4 of 4 parameters (worst: ('a', 'mu'), not computable: fewer than 4 "
        "draws per chain, or draws that never move); run longer chains"
    )
