"""The command line refuses bad arguments and bad columns before it imports PyMC.

Each case runs ``main`` in a fresh interpreter (this one has PyMC loaded), which prints
whether PyMC was imported; the one-line message must name the option or the column at fault.
No case fits anything.
"""

import subprocess
import sys

import pandas as pd
import pytest

from ppl_mle.cli import EXIT_BAD_INPUT, main

#: A table with a numeric, a text and a constant column.
PEOPLE = "height,sex,c\n1.5,m,2\n2.5,f,2\n3.0,m,2\n"


@pytest.fixture
def folder(tmp_path):
    """people.csv, the same as people.parquet, and a model script."""
    (tmp_path / "people.csv").write_text(PEOPLE)
    pd.read_csv(tmp_path / "people.csv").to_parquet(tmp_path / "people.parquet")
    (tmp_path / "model.py").write_text("raise RuntimeError('never run')\n")
    return tmp_path


def run_without_pymc(argv, cwd):
    """Run ``main(argv)`` in a fresh interpreter: its exit status, stderr, and whether
    it imported PyMC."""
    code = (
        f"import sys; from ppl_mle.cli import main; code = main({argv!r}); "
        "print('pymc' in sys.modules); sys.exit(code)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=cwd
    )
    return proc.returncode, proc.stderr, proc.stdout.strip()


COLUMNS = "its columns are ['height', 'sex', 'c']"


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        # misspelt columns: the option, the column, a suggestion and the columns there are
        (
            ["fit", "normal", "people.csv", "--column", "hieght"],
            ["--column 'hieght'", "(did you mean 'height'?)", COLUMNS],
        ),
        (
            ["compare", "normal", "people.parquet", "--column", "hieght"],
            ["--column 'hieght'", "people.parquet (did you mean 'height'?)", COLUMNS],
        ),
        (
            ["fit", "normal", "people.csv", "--column", "height", "--by", "sexx"],
            ["--by 'sexx'", "(did you mean 'sex'?)", COLUMNS],
        ),
        (
            ["fit", "softmax", "people.csv", "--target", "sex", "--features", "height,weight"],
            ["--features 'weight'", COLUMNS],
        ),
        # unknown methods
        (
            ["fit", "normal", "people.csv", "--column", "height", "--method", "LBFGS"],
            ["--method 'LBFGS' is not a method (did you mean 'L-BFGS-B'?)", "Nelder-Mead"],
        ),
        # option values
        (
            ["fit", "normal", "people.csv", "--column", "height", "--level", "95"],
            ["--level must lie strictly between 0 and 1; got '95'"],
        ),
        (
            ["fit", "normal", "people.csv", "--column", "height", "--sigma", "-1"],
            ["--sigma must be a positive finite number; got '-1'"],
        ),
        (
            ["compare", "normal", "people.csv", "--column", "height", "--draws", "0"],
            ["--draws must be an integer >= 1; got 0"],
        ),
        (["fit", "pymc", "model.py", "--estimate", "mlee"], ["argument --estimate", "'mlee'"]),
        (
            ["fit", "categorical", "people.csv", "--column", "sex", "--categories", "m,x"],
            ["column sex has labels ['f'] that are not in --categories ['m', 'x']"],
        ),
        (["fit", "normal", "people.csv", "--column", "height", "--common-sigma"], ["--by"]),
        # the data of a column: constant, or not numbers
        (
            ["fit", "normal", "people.csv", "--column", "c"],
            ["`column c` is constant", "--sigma"],
        ),
        (["fit", "normal", "people.csv", "--column", "sex"], ["`column sex` must be numeric"]),
    ],
)
def test_bad_arguments_are_refused_before_pymc_is_imported(argv, named, folder):
    code, err, pymc_imported = run_without_pymc(argv, folder)
    assert code == EXIT_BAD_INPUT, err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    for text in named:
        assert text in err, err
    assert pymc_imported == "False", err


def test_help_says_what_each_exit_status_means(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--help"])
    assert stop.value.code == 0
    said = " ".join(capsys.readouterr().out.split())
    assert "exit status: 0 verified; 1 not verified" in said
    assert "2 bad input (an argument or the data" in said and "3 internal error" in said
