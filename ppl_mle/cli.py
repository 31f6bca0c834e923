"""The ``ppl-mle`` command line.

``ppl-mle demo`` runs the built-in examples; ``ppl-mle fit normal|categorical FILE`` fits a
column of a file. Bad input exits with status 2 and one line on stderr starting ``error:``;
a fit that cannot be verified, or disagrees with its closed form, exits with status 1.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from collections.abc import Sequence
from typing import Any, NoReturn

import numpy as np
import pandas as pd

from ppl_mle.analytic import check_analytic
from ppl_mle.demo import run_demo
from ppl_mle.errors import PplMleError, PplMleWarning
from ppl_mle.fit import DERIVATIVE_FREE_METHODS, GRADIENT_METHODS, fit_mle
from ppl_mle.io import read_column
from ppl_mle.models import categorical, normal
from ppl_mle.summary import format_summary
from ppl_mle.validation import check_level, check_sigma

__all__ = ["main"]

EXIT_OK, EXIT_UNVERIFIED, EXIT_BAD_INPUT = 0, 1, 2


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, like every other error of the CLI."""

    def error(self, message: str) -> NoReturn:
        raise _UsageError(message)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="ppl-mle", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    sub.add_parser("demo", help="fit the built-in examples and check them against closed forms")
    fit = sub.add_parser("fit", help="fit a model to a column of a file")
    models = fit.add_subparsers(dest="model", required=True, parser_class=_Parser)
    methods = GRADIENT_METHODS + DERIVATIVE_FREE_METHODS

    norm = models.add_parser("normal", help="normal model: mu and sigma (or sigma known)")
    norm.add_argument("file", help=".csv (with header), .txt (one value a line), .npy, .parquet")
    norm.add_argument("--column", help="column of a .csv or .parquet file")
    norm.add_argument("--sigma", help="known standard deviation (only mu is estimated)")
    norm.add_argument("--method", default="L-BFGS-B", help=f"one of {', '.join(methods)}")
    norm.add_argument("--level", default="0.95", help="confidence level of the intervals")
    norm.add_argument("--json", action="store_true", help="print one JSON object")

    cat = models.add_parser("categorical", help="categorical model: probabilities of k labels")
    cat.add_argument("file", help=".csv (with header), .txt (one label a line), .npy, .parquet")
    cat.add_argument("--column", help="column of a .csv or .parquet file")
    cat.add_argument("--categories", help="all categories in order, comma-separated: a,b,c")
    cat.add_argument("--method", default="L-BFGS-B", help=f"one of {', '.join(methods)}")
    cat.add_argument("--level", default="0.95", help="confidence level of the intervals")
    cat.add_argument("--json", action="store_true", help="print one JSON object")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    try:
        args = _parser().parse_args(argv)
        if args.command == "demo":
            return EXIT_OK if run_demo() else EXIT_UNVERIFIED
        return _fit(args)
    except (_UsageError, PplMleError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT


def _fit(args: argparse.Namespace) -> int:
    level = check_level(args.level)
    if args.model == "normal":
        sigma = None if args.sigma is None else check_sigma(args.sigma)
        model = normal(read_column(args.file, args.column, numeric=True), sigma=sigma)
    else:
        cats = None if args.categories is None else [c.strip() for c in args.categories.split(",")]
        labels = read_column(args.file, args.column, numeric=False)
        model = categorical([str(v) for v in labels], categories=cats)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", PplMleWarning)
        result = fit_mle(model, method=args.method)
        check = check_analytic(result)
        table = result.summary(level)
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)
    if args.json:
        print(json.dumps(_json(result, check, table), allow_nan=False))
    else:
        print(result)
        print()
        print(format_summary(table))
        print()
        print(check)
    return EXIT_OK if (result.converged and check.passed) else EXIT_UNVERIFIED


def _json(result: Any, check: Any, table: pd.DataFrame) -> dict[str, Any]:
    """The fit as one JSON object; NaN (no SE on a boundary) becomes null."""
    out = result.to_dict()
    out["analytic"] = {
        name: (float(v) if np.ndim(v) == 0 else np.asarray(v, dtype=float).tolist())
        for name, v in result.family.closed_form().items()
    }
    out["max_rel_diff"] = check.max_rel_diff
    out["loglik_diff"] = check.loglik_diff
    out["check_passed"] = check.passed
    if hasattr(result.family, "categories"):
        out["categories"] = [str(c) for c in result.family.categories]
    out["level"] = table.attrs["level"]
    out["aic"] = table.attrs["aic"]
    out["bic"] = table.attrs["bic"]
    # Per variable, shaped like "estimates": a number for mu, a list for theta.
    out["se"] = _by_variable(result, table, lambda row: _num(row["se"]))
    out["wald_ci"] = _by_variable(
        result, table, lambda row: [_num(row["wald_lower"]), _num(row["wald_upper"])]
    )
    out["profile_ci"] = _by_variable(
        result, table, lambda row: [_num(row["profile_lower"]), _num(row["profile_upper"])]
    )
    out["summary"] = [
        {"parameter": label, **{k: (_num(v) if k != "note" else v) for k, v in row.items()}}
        for label, row in table.iterrows()
    ]
    return _clean(out)


def _num(value: Any) -> float | None:
    value = float(value)
    return value if np.isfinite(value) else None


def _clean(value: Any) -> Any:
    """Replace non-finite floats anywhere in a JSON-ready structure by None."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def _by_variable(result: Any, table: pd.DataFrame, cell: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    rows = iter(table.iterrows())
    for name, value in result.estimates.items():
        if np.ndim(value) == 0:
            out[name] = cell(next(rows)[1])
        else:
            out[name] = [cell(next(rows)[1]) for _ in range(np.size(value))]
    return out


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
