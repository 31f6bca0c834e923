"""The ppl-mle command line: output shape, exit status, one-line errors."""

import json
import re
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import LABELS
from scipy import stats

from ppl_mle.cli import main


def run(argv, capsys):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def files(tmp_path):
    x = np.random.default_rng(3).normal(10.0, 2.0, 40)
    paths = {}
    paths["txt"] = tmp_path / "x.txt"
    paths["txt"].write_text("\n".join(map(repr, x.tolist())) + "\n")
    paths["npy"] = tmp_path / "x.npy"
    np.save(paths["npy"], x)
    paths["csv"] = tmp_path / "x.csv"
    pd.DataFrame({"height": x, "other": np.arange(40)}).to_csv(paths["csv"], index=False)
    paths["parquet"] = tmp_path / "x.parquet"
    pd.DataFrame({"height": x}).to_parquet(paths["parquet"])
    paths["labels"] = tmp_path / "labels.csv"
    pd.DataFrame({"label": [str(v) for v in LABELS]}).to_csv(paths["labels"], index=False)
    return x, paths


@pytest.mark.parametrize("kind", ["txt", "npy", "csv", "parquet"])
def test_fit_normal_json_from_each_format(kind, files, capsys):
    x, paths = files
    argv = ["fit", "normal", str(paths[kind]), "--json"]
    if kind == "csv":
        argv += ["--column", "height"]
    code, out, err = run(argv, capsys)
    assert code == 0, err
    payload = json.loads(out)
    assert {
        "model",
        "estimates",
        "loglik",
        "n",
        "converged",
        "method",
        "analytic",
        "max_rel_diff",
    } <= set(payload)
    assert payload["model"] == "normal" and payload["n"] == 40 and payload["converged"]
    assert payload["estimates"]["mu"] == pytest.approx(x.mean(), rel=1e-12)
    assert payload["estimates"]["sigma"] == pytest.approx(x.std(), rel=1e-12)
    assert payload["analytic"]["sigma"] == pytest.approx(x.std(), rel=1e-13)
    assert payload["max_rel_diff"] <= 1e-10


def test_fit_normal_sigma_known_and_method(files, capsys):
    x, paths = files
    code, out, _ = run(
        ["fit", "normal", str(paths["txt"]), "--sigma", "2", "--method", "Powell", "--json"], capsys
    )
    payload = json.loads(out)
    assert code == 0 and payload["method"] == "Powell"
    assert set(payload["estimates"]) == {"mu"}
    assert payload["estimates"]["mu"] == pytest.approx(x.mean(), rel=1e-12)


def test_fit_categorical_table_and_json(files, capsys):
    _, paths = files
    code, out, _ = run(
        ["fit", "categorical", str(paths["labels"]), "--categories", "1,2,3,4,5"], capsys
    )
    assert code == 0
    assert "theta[5]" in out and "PASS" in out
    code, out, _ = run(
        ["fit", "categorical", str(paths["labels"]), "--categories", "1,2,3,4,5", "--json"], capsys
    )
    payload = json.loads(out)
    assert payload["categories"] == ["1", "2", "3", "4", "5"]
    np.testing.assert_allclose(
        payload["estimates"]["theta"], [0.4, 0.25, 0.2, 0.15, 0.0], rtol=1e-12
    )
    assert payload["estimates"]["theta"][4] == 0.0


def test_fit_prints_the_summary_and_json_carries_uncertainty(files, capsys):
    x, paths = files
    n, sd = x.size, x.std()
    code, out, _ = run(["fit", "normal", str(paths["txt"])], capsys)
    assert code == 0
    assert "AIC" in out and "BIC" in out and "profile 95% lo" in out and "wald 95% lo" in out
    code, out, _ = run(["fit", "normal", str(paths["txt"]), "--json", "--level", "0.9"], capsys)
    payload = json.loads(out)
    assert payload["level"] == 0.9
    assert payload["se"]["mu"] == pytest.approx(sd / np.sqrt(n), rel=1e-8)
    assert payload["se"]["sigma"] == pytest.approx(sd / np.sqrt(2 * n), rel=1e-8)
    z = stats.norm.ppf(0.95)
    lo, hi = payload["wald_ci"]["mu"]
    assert (lo, hi) == pytest.approx(
        (x.mean() - z * sd / np.sqrt(n), x.mean() + z * sd / np.sqrt(n))
    )
    half = sd * np.sqrt(np.expm1(stats.chi2.ppf(0.9, 1) / n))
    assert payload["profile_ci"]["mu"] == pytest.approx([x.mean() - half, x.mean() + half])
    loglik = stats.norm.logpdf(x, x.mean(), sd).sum()
    assert payload["aic"] == pytest.approx(4 - 2 * loglik, rel=1e-12)
    assert payload["bic"] == pytest.approx(2 * np.log(n) - 2 * loglik, rel=1e-12)
    assert [row["parameter"] for row in payload["summary"]] == ["mu", "sigma"]


def test_categorical_json_has_null_for_boundary_se(files, capsys):
    _, paths = files
    code, out, _ = run(
        ["fit", "categorical", str(paths["labels"]), "--categories", "1,2,3,4,5", "--json"], capsys
    )
    assert code == 0
    payload = json.loads(out)  # strict JSON: NaN would not parse in other languages
    assert "NaN" not in out
    assert payload["se"]["theta"][4] is None
    assert payload["wald_ci"]["theta"][4] == [None, None]
    assert payload["profile_ci"]["theta"][4][0] == 0.0
    assert payload["profile_ci"]["theta"][4][1] == pytest.approx(
        -np.expm1(-stats.chi2.ppf(0.95, 1) / 40), rel=1e-10
    )
    assert payload["se"]["theta"][0] == pytest.approx(np.sqrt(0.4 * 0.6 / 20), rel=1e-8)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["fit", "normal", "missing.csv"], "error: file not found: missing.csv"),
        (
            ["fit", "normal", "{csv}", "--column", "weight"],
            "error: --column 'weight' is not a column of x.csv (did you mean 'height'?)",
        ),
        (
            ["fit", "normal", "{csv}"],
            "error: x.csv has 2 columns ['height', 'other']: choose one with --column.",
        ),
        (
            ["fit", "normal", "{txt}", "--sigma", "0"],
            "error: --sigma must be a positive finite number; got '0'.",
        ),
        (
            ["fit", "normal", "{txt}", "--sigma", "-2"],
            "error: --sigma must be a positive finite number",
        ),
        (
            ["fit", "normal", "{txt}", "--method", "Halley"],
            "error: --method 'Halley' is not a method",
        ),
        (["fit", "normal", "{bad_txt}"], "error: bad.txt line 2: 'abc' is not a number"),
        (
            ["fit", "normal", "{nan_csv}"],
            "error: `nan.csv` has 1 non-finite values of 3 (1 NaN at positions [1])",
        ),
        (["fit", "normal", "{empty_txt}"], "error: `empty.txt` is empty"),
        (["fit", "normal", "{const_txt}"], "error: `const.txt` is constant"),
        (["fit", "normal", "{sex_csv}", "--column", "x"], "error: `column x` is constant"),
        (["fit", "normal", "{sex_csv}", "--column", "sex"], "error: `column sex` must be numeric"),
        (["fit", "normal", "{dir}"], "error: {dir} has no .parquet files"),
        (["fit", "normal", "{json}"], "error: cannot read x.json: unsupported file type .json"),
        (
            ["fit", "categorical", "{labels}", "--categories", "1,2,3"],
            "error: labels.csv has labels ['4'] that are not in --categories ['1', '2', '3']",
        ),
        (["fit", "normal", "{txt}", "--level", "1.2"], "error: --level must lie strictly"),
        (["fit", "normal", "{txt}", "--level", "x"], "error: --level must be a number"),
        (["fit", "poisson", "x.csv"], "error: argument model: invalid choice: 'poisson'"),
        (["fit"], "error: the following arguments are required: model"),
    ],
)
def test_bad_input_exits_2_with_one_line(argv, message, files, tmp_path, capsys):
    _, paths = files
    (tmp_path / "bad.txt").write_text("1.5\nabc\n")
    (tmp_path / "nan.csv").write_text("x\n1.0\n\n3.0\n".replace("\n\n", "\nnan\n"))
    (tmp_path / "empty.txt").write_text("\n")
    (tmp_path / "const.txt").write_text("2\n2\n2\n")
    (tmp_path / "sex.csv").write_text("x,sex\n1.0,m\n1.0,f\n1.0,m\n")
    (tmp_path / "x.json").write_text("[]")
    (tmp_path / "emptydir").mkdir()
    names = {
        "csv": paths["csv"],
        "txt": paths["txt"],
        "labels": paths["labels"],
        "bad_txt": tmp_path / "bad.txt",
        "nan_csv": tmp_path / "nan.csv",
        "empty_txt": tmp_path / "empty.txt",
        "const_txt": tmp_path / "const.txt",
        "sex_csv": tmp_path / "sex.csv",
        "dir": tmp_path / "emptydir",
        "json": tmp_path / "x.json",
    }
    argv = [a.format(**{k: str(v) for k, v in names.items()}) for a in argv]
    message = message.format(**{k: str(v) for k, v in names.items()})
    code, out, err = run(argv, capsys)
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(message), lines[0]


def test_console_script_demo_runs_clean():
    """The installed `ppl-mle demo`: every verdict passes, and no vendor warning on stderr."""
    exe = shutil.which("ppl-mle") or str(
        __import__("pathlib").Path(sys.executable).with_name("ppl-mle")
    )
    proc = subprocess.run([exe, "demo"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert proc.stdout.count("PASS") == 6
    assert "FAIL" not in proc.stdout
    assert "all verdicts: pass" in proc.stdout
    assert "7.14142842854" in proc.stdout  # sqrt(510 / 10), the heights' MLE of sigma


def test_compare_json_shape_and_plot(files, tmp_path, capsys):
    _, paths = files
    png = tmp_path / "cmp.png"
    argv = ["compare", "normal", str(paths["txt"]), "--seed", "7", "--json", "--plot", str(png)]
    code, out, err = run(argv, capsys)
    assert code == 0, err
    payload = json.loads(out)
    assert {"parameters", "divergences", "trustworthy"} <= set(payload)
    assert payload["trustworthy"] is True and payload["divergences"] == 0
    assert set(payload["parameters"]) == {"mu", "sigma"}
    keys = {
        "mle",
        "se",
        "posterior_mean",
        "posterior_sd",
        "posterior_mode",
        "hdi",
        "mcse_mean",
        "ess_bulk",
        "ess_tail",
        "r_hat",
    }
    for figures in payload["parameters"].values():
        assert keys <= set(figures)
        assert len(figures["hdi"]) == 2 and figures["hdi"][0] < figures["hdi"][1]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_compare_untrustworthy_exits_1_and_categorical_table(files, capsys):
    _, paths = files
    argv = ["compare", "categorical", str(paths["labels"]), "--draws", "60", "--tune", "60"]
    code, out, err = run([*argv, "--chains", "2", "--seed", "1"], capsys)
    assert code == 1
    assert "NOT TRUSTWORTHY" in out and "theta[1]" in out
    assert "warning: ess_bulk of theta[" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["compare", "normal", "{two}"], "error: with sigma unknown and only n = 2 observations"),
        (["compare", "normal", "{two}", "--draws", "0"], "error: --draws must be an integer >= 1"),
        (["compare", "normal", "{two}", "--chains", "x"], "error: argument --chains: invalid int"),
    ],
)
def test_compare_bad_input(argv, message, tmp_path, capsys):
    (tmp_path / "two.txt").write_text("1.0\n3.0\n")
    argv = [a.format(two=tmp_path / "two.txt") for a in argv]
    code, out, err = run(argv, capsys)
    assert code == 2 and out == ""
    assert err.strip().startswith(message), err


def test_fit_softmax_json_and_table(tmp_path, capsys):
    import statsmodels.api as sm

    data = sm.datasets.anes96.load_pandas().data
    data["PID"] = data["PID"].astype(int)
    path = tmp_path / "anes.csv"
    data.to_csv(path, index=False)
    argv = ["fit", "softmax", str(path), "--target", "PID", "--features", "selfLR,educ"]
    code, out, _ = run([*argv, "--json", "--reference", "3"], capsys)
    assert code == 0
    payload = json.loads(out)
    assert payload["model"] == "softmax regression" and payload["reference"] == "3"
    assert payload["features"] == ["intercept", "selfLR", "educ"]
    beta = np.asarray(payload["estimates"]["beta"])
    assert beta.shape == (3, 6)
    assert np.asarray(payload["se"]["beta"]).shape == (3, 6)
    assert np.asarray(payload["wald_ci"]["beta"]).shape == (3, 6, 2)
    assert payload["cross_entropy"] == pytest.approx(-payload["loglik"] / payload["n"])
    y = data["PID"].replace({3: -1})  # MNLogit takes the smallest label as reference
    ref = sm.MNLogit(y, sm.add_constant(data[["selfLR", "educ"]])).fit(disp=0, method="newton")
    np.testing.assert_allclose(beta, ref.params.to_numpy(), rtol=1e-8)
    code, out, _ = run(argv, capsys)
    assert code == 0 and "beta[selfLR, 6]" in out and "mean cross-entropy" in out
    code, _, err = run([*argv, "--reference", "9"], capsys)
    assert code == 2 and err.startswith("error: --reference '9' is not one of the classes")
    code, _, err = run(["fit", "softmax", str(path), "--target", "PID", "--features", "zz"], capsys)
    assert code == 2 and err.startswith("error: --features 'zz' is not a column of anes.csv")


def test_fit_any_pymc_script_mle_and_map(tmp_path, capsys):
    script = tmp_path / "coin.py"
    script.write_text(
        "import numpy as np\nimport pymc as pm\n\n"
        "flips = np.array([1, 0, 0, 1, 0, 0, 0, 1, 0, 0])\n"
        "with pm.Model() as coin:\n"
        "    p = pm.Beta('p', 2, 2)\n"
        "    pm.Bernoulli('y', p, observed=flips)\n"
    )
    code, out, _ = run(["fit", "pymc", str(script), "--json"], capsys)
    payload = json.loads(out)
    assert code == 0 and payload["estimate_kind"] == "MLE"
    assert payload["estimates"]["p"] == pytest.approx(0.3, rel=1e-12)
    assert payload["se"]["p"] == pytest.approx(np.sqrt(0.3 * 0.7 / 10), rel=1e-8)
    code, out, _ = run(["fit", "pymc", str(script), "--estimate", "map", "--json"], capsys)
    payload = json.loads(out)
    assert payload["estimate_kind"] == "MAP"
    assert payload["estimates"]["p"] == pytest.approx(4 / 12, rel=1e-12)  # (s+1)/(n+2)
    code, _, err = run(["fit", "pymc", str(script), "--variable", "dice"], capsys)
    assert code == 2 and err.startswith("error: coin.py has no pymc.Model named 'dice'")
    broken = tmp_path / "broken.py"
    broken.write_text("raise RuntimeError('boom')\n")
    code, _, err = run(["fit", "pymc", str(broken)], capsys)
    assert code == 2 and err.strip() == "error: broken.py failed: RuntimeError: boom"


def test_fit_reports_kl_divergence(files, capsys):
    _, paths = files
    code, out, _ = run(["fit", "categorical", str(paths["labels"]), "--json"], capsys)
    assert code == 0
    payload = json.loads(out)
    report = payload["divergence"]
    assert report["kl"] == pytest.approx(0.0, abs=1e-15)
    assert report["cross_entropy"] == pytest.approx(-payload["loglik"] / payload["n"])
    assert report["cross_entropy"] == pytest.approx(report["entropy"], rel=1e-12)
    code, out, _ = run(["fit", "categorical", str(paths["labels"])], capsys)
    assert code == 0
    kl = re.search(r"KL\(empirical \|\| model\) = (\S+),", out)
    assert kl is not None and abs(float(kl.group(1))) < 1e-15


def test_fit_and_compare_accept_a_folder_of_parquet_shards(tmp_path, capsys):
    rng = np.random.default_rng(8)
    parts = [rng.normal(4.0, 1.5, 30_000) for _ in range(3)]
    for i, x in enumerate(parts):
        pd.DataFrame({"v": x, "c": np.where(x > 4, "hi", "lo")}).to_parquet(
            tmp_path / f"part{i}.parquet"
        )
    x = np.concatenate(parts)
    code, out, _ = run(["fit", "normal", str(tmp_path), "--column", "v", "--json"], capsys)
    payload = json.loads(out)
    assert code == 0 and payload["n"] == x.size and payload["check_passed"]
    assert payload["estimates"]["mu"] == pytest.approx(x.mean(), rel=1e-13)
    assert payload["estimates"]["sigma"] == pytest.approx(x.std(), rel=1e-12)
    code, out, _ = run(["fit", "categorical", str(tmp_path), "--column", "c", "--json"], capsys)
    payload = json.loads(out)
    assert payload["categories"] == ["hi", "lo"]
    assert payload["estimates"]["theta"][0] == pytest.approx(np.mean(x > 4), rel=1e-12)
    argv = ["compare", "normal", str(tmp_path), "--column", "v", "--seed", "2", "--json"]
    code, out, _ = run(argv, capsys)
    payload = json.loads(out)
    assert code == 0 and payload["trustworthy"]
    empty = tmp_path / "nothing"
    empty.mkdir()
    code, _, err = run(["fit", "normal", str(empty)], capsys)
    assert code == 2 and err.startswith("error:") and "has no .parquet files" in err


def test_errors_are_json_on_stderr_with_json(capsys):
    code, out, err = run(["fit", "normal", "missing.csv", "--json"], capsys)
    assert code == 2 and out == ""
    assert json.loads(err) == {"error": "file not found: missing.csv", "type": "DataError"}
    code, _, err = run(["fit", "normal", "missing.csv"], capsys)
    assert code == 2 and err.strip() == "error: file not found: missing.csv"


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_fit_writes_the_summary_table(files, capsys, tmp_path, suffix):
    x, paths = files
    target = tmp_path / f"table{suffix}"
    code, _, _ = run(["fit", "normal", str(paths["txt"]), "--output", str(target)], capsys)
    assert code == 0
    table = pd.read_csv(target, index_col=0) if suffix == ".csv" else pd.read_parquet(target)
    assert list(table.index) == ["mu", "sigma"]
    assert table.loc["mu", "estimate"] == pytest.approx(x.mean(), rel=1e-12)
    assert table.loc["sigma", "se"] == pytest.approx(x.std() / np.sqrt(2 * x.size), rel=1e-8)


def test_output_of_another_kind_is_refused_before_fitting(files, capsys):
    _, paths = files
    code, _, err = run(["fit", "normal", str(paths["txt"]), "--output", "t.xlsx"], capsys)
    assert code == 2 and "--output must name a .csv or .parquet file" in err


def test_normal_fit_says_what_the_kl_view_says(files, capsys):
    x, paths = files
    code, out, _ = run(["fit", "normal", str(paths["txt"])], capsys)
    assert code == 0
    line = next(s for s in out.splitlines() if s.startswith("-loglik/n"))
    # At the MLE, −ℓ/n is the entropy of N(x̄, σ̂): ½·log(2πe·σ̂²), with σ̂ the sd by n.
    entropy = 0.5 * np.log(2 * np.pi * np.e * x.var())
    assert f"{entropy:.10g}" in line and "total variation" not in out


def test_default_output_is_one_table_and_one_line_of_evidence(files, capsys):
    _, paths = files
    code, out, _ = run(["fit", "normal", str(paths["txt"])], capsys)
    assert code == 0
    assert out.count("estimate") == 1  # one table, not three
    line = next(s for s in out.splitlines() if s.startswith("verified:"))
    assert "closed form: PASS" in line and "--verbose" in line
    assert "Verified maximum" not in out
    code, verbose, _ = run(["fit", "normal", str(paths["txt"]), "--verbose"], capsys)
    assert code == 0 and "Verified maximum" in verbose and "closed_form" in verbose


def test_fit_and_compare_share_one_json_schema(files, capsys):
    _, paths = files
    code, out, _ = run(["fit", "categorical", str(paths["labels"]), "--json"], capsys)
    assert code == 0
    fit = json.loads(out)
    # 300 draws may leave an ess below 400 (exit 1, untrustworthy): the schema is the point.
    _, out, _ = run(
        ["compare", "categorical", str(paths["labels"]), "--json", "--seed", "1", "--draws", "300"],
        capsys,
    )
    compared = json.loads(out)
    assert list(fit["parameters"]) == list(compared["parameters"])  # theta[1], theta[2]…
    for label, record in fit["parameters"].items():
        other = compared["parameters"][label]
        assert set(record) == {"estimate", "se", "wald_ci", "profile_ci"}
        assert set(record) <= set(other)
        assert other["estimate"] == pytest.approx(record["estimate"], rel=1e-12)
        assert other["se"] == pytest.approx(record["se"], rel=1e-9)
    for key in ("model", "status", "converged", "level"):
        assert fit[key] == compared[key]
    index = list(fit["parameters"]).index("theta[2]")
    assert fit["parameters"]["theta[2]"]["estimate"] == fit["estimates"]["theta"][index]


def test_compare_pymc_script_and_softmax(tmp_path, capsys):
    script = tmp_path / "model.py"
    script.write_text(
        "import pymc as pm\n"
        "with pm.Model() as model:\n"
        "    mu = pm.Normal('mu', 0, 10)\n"
        "    pm.Normal('y', mu, 1.0, observed=[0.5, 1.5, 1.0, 2.0])\n"
    )
    code, out, _ = run(["compare", "pymc", str(script), "--json", "--seed", "2"], capsys)
    payload = json.loads(out)
    assert code == 0 and payload["parameters"]["mu"]["estimate"] == pytest.approx(1.25)
    # Normal(0, 10) prior, known sd 1, n = 4: the posterior is normal, precision 4 + 0.01.
    assert payload["parameters"]["mu"]["posterior_mean"] == pytest.approx(5.0 / 4.01, abs=0.03)
    table = tmp_path / "s.csv"
    rng = np.random.default_rng(4)
    a = rng.normal(size=90)
    y = np.where(a + rng.normal(size=90) > 0.5, "hi", np.where(a > -0.5, "mid", "lo"))
    pd.DataFrame({"y": y, "a": a}).to_csv(table, index=False)
    code, out, _ = run(
        ["compare", "softmax", str(table), "--target", "y", "--features", "a", "--seed", "3"],
        capsys,
    )
    assert "beta[a, mid]" in out and "MLE vs NUTS posterior" in out


def test_a_script_printing_into_a_closed_pipe_ends_quietly(tmp_path):
    """`ppl-mle fit pymc script.py | head -1`: the script's own output meets a closed pipe."""
    script = tmp_path / "chatty.py"
    script.write_text(
        "import pymc as pm\n"
        "for i in range(100_000):\n"
        "    print('line', i)\n"
        "with pm.Model() as model:\n"
        "    mu = pm.Flat('mu')\n"
        "    pm.Normal('y', mu, 1.0, observed=[1.0, 2.0, 4.0])\n"
    )
    exe = __import__("pathlib").Path(sys.executable).with_name("ppl-mle")
    proc = subprocess.Popen(
        [str(exe), "fit", "pymc", str(script)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout.readline() == "line 0\n"
    proc.stdout.close()
    err = proc.stderr.read()
    proc.stderr.close()
    assert proc.wait(timeout=300) == 141, err
    assert "failed" not in err and "Traceback" not in err, err


def test_a_constant_column_is_named_and_the_hint_is_the_option(tmp_path, capsys):
    (tmp_path / "c.csv").write_text("x\n3.5\n3.5\n3.5\n")
    code, _, err = run(["fit", "normal", str(tmp_path / "c.csv"), "--column", "x"], capsys)
    assert code == 2 and "`column x` is constant" in err and "`--sigma`" in err
    code, out, _ = run(["fit", "normal", str(tmp_path / "c.csv"), "--sigma", "1.5"], capsys)
    assert code == 0 and "the sample is constant" in out
    # With sigma known the sample's normal is not the model's: -loglik/n = H + KL, exactly.
    x = np.array([1.0, 2.0, 4.0])
    (tmp_path / "k.csv").write_text("x\n1\n2\n4\n")
    code, out, _ = run(["fit", "normal", str(tmp_path / "k.csv"), "--sigma", "2"], capsys)
    entropy = 0.5 * np.log(2 * np.pi * np.e) + np.log(x.std())
    kl = np.log(2.0 / x.std()) + x.var() / 8.0 - 0.5
    assert code == 0
    assert f"entropy of N(mean, sd by n) {entropy:.10g} + KL to the fitted normal {kl:.6g}" in out
