"""The ``ppl-mle`` command line.

``ppl-mle demo`` runs the built-in examples; ``ppl-mle fit normal|categorical FILE`` fits a
column of a file and prints the summary table; ``ppl-mle compare normal|categorical FILE``
puts the MLE beside the NUTS posterior of the same model.

Exit status (:data:`EXIT_STATUS`, also in ``--help``): bad input, whether an argument or
the data, exits with status 2 and one line on stderr starting ``error:``; a fit that cannot
be verified, or disagrees with its closed form, or a posterior whose sampling diagnostics
fail, exits with status 1. An unexpected failure (a bug) exits with status 3 and one line;
``--debug`` shows its traceback. A bad option value, a column that is not in the file, and
data read whole that cannot be fitted (a constant or non-numeric column, labels outside
``--categories``) are said before PyMC is imported; the contents of a folder of shards or
of a big file (read in batches) and a model script are read after it.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import difflib
import json
import logging
import math
import os
import runpy
import sys
import traceback
import warnings
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NoReturn, cast

# Only what parsing the arguments and checking the input need: the fitting stack (PyMC,
# pandas, ArviZ) is imported by the commands that use it, so that `--help`, bad arguments
# and missing files answer at once.
from ppl_mle.core.errors import DataError, PplMleError, PplMleWarning
from ppl_mle.core.methods import METHODS, check_method

if TYPE_CHECKING:
    import pandas as pd
    import pymc as pm

__all__ = ["main"]

EXIT_OK, EXIT_UNVERIFIED, EXIT_BAD_INPUT, EXIT_INTERNAL = 0, 1, 2, 3
#: The shell's status for a process ended by a closed pipe (128 + SIGPIPE).
EXIT_BROKEN_PIPE = 141
#: What each exit status means, as ``--help`` says it.
EXIT_STATUS = (
    f"exit status: {EXIT_OK} verified; {EXIT_UNVERIFIED} not verified (or the posterior's "
    f"diagnostics failed); {EXIT_BAD_INPUT} bad input (an argument or the data, said in one "
    f"line before any fitting); {EXIT_INTERNAL} internal error (--debug shows it); "
    f"{EXIT_BROKEN_PIPE} output pipe closed."
)

#: Fewer NUTS draws per chain than this cannot estimate ess and r_hat reliably.
MIN_DRAWS = 100
#: Largest seed numpy's generators take.
_MAX_SEED = 2**32 - 1


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, like every other error of the CLI."""

    def error(self, message: str) -> NoReturn:
        raise _UsageError(message)


_OUTPUT_HELP = "also write the summary table to a .csv or .parquet file"
_TABLE_SUFFIXES = (".csv", ".parquet")
_VERBOSE_HELP = "also print the fit's evidence in full: its message and the closed-form table"


_NO_CACHE_HELP = "keep no compiled objective on disk (as PPL_MLE_CACHE_DIR=off)"


def _version() -> str:
    """The installed distribution's version."""
    from importlib.metadata import version

    return version("ppl_mle")


class _Version(argparse.Action):
    """``--version``: the version, and where compiled objectives are kept on disk."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> NoReturn:
        from ppl_mle.fit.disk_cache import cache_dir

        folder = cache_dir()
        store = "off (PPL_MLE_CACHE_DIR=off)" if folder is None else str(folder)
        print(f"{parser.prog} {_version()}\ncompiled objectives on disk: {store}")
        parser.exit()


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="ppl-mle",
        description=(
            "Maximum-likelihood estimates of PyMC models through pymc.find_MAP, verified "
            "(gradient, Hessian, a second look) and checked against closed forms."
        ),
        epilog=EXIT_STATUS,
    )
    parser.add_argument(
        "--debug", action="store_true", help="show the traceback of an unexpected error"
    )
    parser.add_argument("--version", action=_Version, help="show the version and exit")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    sub.add_parser("demo", help="fit the built-in examples and check them against closed forms")
    fit = sub.add_parser("fit", help="fit a model to a column of a file")
    compare = sub.add_parser("compare", help="MLE beside the NUTS posterior of the same model")
    for command, parent in (("fit", fit), ("compare", compare)):
        models = parent.add_subparsers(dest="model", required=True, parser_class=_Parser)
        anym = models.add_parser(
            "pymc",
            help="any PyMC model declared in a Python script (the script is executed)",
            description=(
                "Any PyMC model declared in a Python script. The script is EXECUTED (as by "
                "`python SCRIPT`), with the rights of the user: run only scripts you trust. "
                "It must declare the model at its top level and must not call sys.exit()."
            ),
        )
        anym.add_argument("file", help="a .py script that declares a pymc.Model (executed)")
        anym.add_argument("--variable", help="name of the model in the script")
        if command == "fit":
            anym.add_argument(
                "--estimate",
                default="mle",
                choices=("mle", "map"),
                help="mle (priors made flat) or map (own priors)",
            )
        anym.add_argument("--method", help=f"one of {', '.join(METHODS)} (default: {_DEFAULT})")
        soft = models.add_parser("softmax", help="softmax (multinomial logistic) regression")
        soft.add_argument("file", help=".csv (with header) or .parquet")
        soft.add_argument("--target", required=True, help="column of the class labels")
        soft.add_argument("--features", required=True, help="feature columns: a,b,c")
        soft.add_argument("--reference", help="reference class (default: the first)")
        soft.add_argument("--no-intercept", action="store_true", help="no intercept")
        soft.add_argument(
            "--method", default="Newton", help=f"one of {', '.join(METHODS)} (default: Newton)"
        )
        norm = models.add_parser("normal", help="normal model: mu and sigma (or sigma known)")
        norm.add_argument(
            "file", help=".csv (with header), .txt (one value a line), .npy, .parquet"
        )
        norm.add_argument("--sigma", help="known standard deviation (only mu is estimated)")
        cat = models.add_parser("categorical", help="categorical model: probabilities of k labels")
        cat.add_argument(
            "file",
            help=".csv (header), .txt (a label a line), .npy, .parquet, or a folder of shards",
        )
        cat.add_argument("--categories", help="all categories in order, comma-separated: a,b,c")
        for p in (norm, cat):
            p.add_argument("--column", help="column of a .csv or .parquet file")
            p.add_argument("--method", help=f"one of {', '.join(METHODS)} (default: {_DEFAULT})")
            if command == "fit":
                p.add_argument(
                    "--by",
                    help="column of group labels: one model per group (.csv, .parquet, folder)",
                )
        if command == "fit":
            norm.add_argument(
                "--common-sigma", action="store_true", help="with --by: one sigma for all groups"
            )
        for p in (anym, soft, norm, cat):
            p.add_argument(
                "--level",
                default="0.95",
                help="level of the intervals"
                + (" and of the HDI" if command == "compare" else "")
                + " (default: 0.95)",
            )
            p.add_argument("--json", action="store_true", help="print one JSON object")
            if command == "fit":
                p.add_argument("--output", help=_OUTPUT_HELP)
                p.add_argument("--verbose", action="store_true", help=_VERBOSE_HELP)
                p.add_argument("--no-cache", action="store_true", help=_NO_CACHE_HELP)
                if p is soft:
                    p.add_argument("--profile", action="store_true", help="profile intervals too")
            else:
                p.add_argument("--draws", type=int, default=1000, help="NUTS draws per chain")
                p.add_argument("--tune", type=int, default=1000, help="NUTS tuning steps")
                p.add_argument("--chains", type=int, default=4, help="number of chains")
                p.add_argument("--seed", type=int, default=None, help="random seed")
                p.add_argument("--plot", help="write a PNG of posteriors, intervals and traces")
                p.add_argument(
                    "--profile", action="store_true", help="profile-likelihood intervals too"
                )
    return parser


_DEFAULT = "Newton where the Hessian is known in closed form, else L-BFGS-B"


def run_demo() -> bool:
    """Run the built-in examples: :func:`ppl_mle.teaching.demo.run_demo`, imported on use."""
    from ppl_mle.teaching.demo import run_demo as demo

    return demo()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status.

    ``--debug`` (anywhere on the line) shows the traceback of an unexpected error, which
    otherwise is one line ``error: internal error (...)`` and exit status 3.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    as_json = "--json" in argv
    try:
        args = _parser().parse_args([a for a in argv if a != "--debug"])
        if args.command == "demo":
            return EXIT_OK if run_demo() else EXIT_UNVERIFIED
        _check_arguments(args)  # before the fitting stack (PyMC) is imported
        if args.command == "compare":
            return _compare(args)
        return _fit(args)
    except (_UsageError, PplMleError) as exc:
        _say_error(str(exc), type(exc).__name__, as_json)
        return EXIT_BAD_INPUT
    except BrokenPipeError:
        # The reader closed the pipe (`| head`): nothing more to say, as `cat` would not.
        sys.stderr.close()
        return EXIT_BROKEN_PIPE
    except Exception as exc:  # the last line of defence: a bug, said in one line
        if debug:
            traceback.print_exc()
        _say_error(
            f"internal error ({type(exc).__name__}: {exc}); run with --debug for the traceback",
            "InternalError",
            as_json,
        )
        return EXIT_INTERNAL


def _say_error(message: str, kind: str, as_json: bool) -> None:
    """One line on stderr: ``error: …``, or with ``--json`` a JSON object.

    The JSON form is ``{"error": message, "type": kind}``, so a program reading the
    output parses failures as it parses results.
    """
    if as_json:
        print(json.dumps({"error": message, "type": kind}), file=sys.stderr)
    else:
        print(f"error: {message}", file=sys.stderr)


def _script_model(path: str, variable: str | None) -> pm.Model:
    """Run a model-declaration script and pick its pymc.Model."""
    script = Path(path)
    if not script.is_file() or script.suffix != ".py":
        raise DataError(f"not a Python script: {path}")
    # isort: off
    # First: imports pymc without its vendor noise.
    from ppl_mle.model._pytensor import quiet_vendor_warnings
    import pymc as pm

    # isort: on
    try:
        with quiet_vendor_warnings():
            namespace = runpy.run_path(str(script), run_name="ppl_mle_model")
    except BrokenPipeError:  # the script printed to a reader that left (`| head`)
        raise
    except SystemExit as exc:  # the script ended the run: not a declaration of a model
        raise DataError(
            f"{script.name} called sys.exit({'' if exc.code is None else repr(exc.code)}) "
            "while it was run to declare the model: a model script must not exit."
        ) from None
    except Exception as exc:  # the user's script failed: say where, in one line
        raise DataError(f"{script.name} failed: {type(exc).__name__}: {exc}") from None
    models = {k: v for k, v in namespace.items() if isinstance(v, pm.Model)}
    if variable is not None:
        if variable not in models:
            raise DataError(f"{script.name} has no pymc.Model named {variable!r}: {sorted(models)}")
        return models[variable]
    if len(models) != 1:
        raise DataError(
            f"{script.name} declares {len(models)} pymc.Models {sorted(models)}: choose one "
            "with --variable."
        )
    return next(iter(models.values()))


def _model(args: argparse.Namespace) -> pm.Model:
    """The model the arguments declare.

    Data read whole are read and checked before the declarations (and PyMC) are imported;
    a folder of shards or a big file is read in batches by the declaration itself.
    """
    if args.model == "pymc":
        return _script_model(args.file, args.variable)
    if args.model == "softmax":
        return _softmax_model(args)
    if getattr(args, "by", None) is not None:
        return _grouped_model(args)
    if _stream(args.file):
        return _streamed_model(args)
    if args.model == "normal":
        return _normal_model(args)
    return _categorical_model(args)


def _source_name(args: argparse.Namespace) -> str:
    """The data's name in messages: the column, or the file when it has one column."""
    return f"column {args.column}" if args.column else Path(args.file).name


def _normal_model(args: argparse.Namespace) -> pm.Model:
    """The normal model of a column read whole: constant or text columns refused by name."""
    from ppl_mle.data.io import read_column
    from ppl_mle.data.validation import as_float_data

    values = read_column(args.file, args.column, numeric=True)
    values = as_float_data(values, _source_name(args), sigma_known=args.sigma is not None)
    from ppl_mle.model.declarations import normal

    return normal(values, sigma=args.sigma)


def _categorical_model(args: argparse.Namespace) -> pm.Model:
    """The categorical model of a column of labels read whole, as text."""
    from ppl_mle.data.io import read_column
    from ppl_mle.data.validation import as_array, missing_mask

    labels = as_array(read_column(args.file, args.column, numeric=False), "labels")
    missing = missing_mask(labels)
    if missing.any():
        raise DataError(
            f"{Path(args.file).name} has {int(missing.sum())} missing labels (empty or null): "
            "remove them, or give them a category name of their own."
        )
    text = [str(v) for v in labels.tolist()]
    _check_labels(text, args.categories, _source_name(args))
    from ppl_mle.model.declarations import categorical

    return categorical(text, categories=args.categories)


def _check_labels(found: Iterable[str], categories: list[str] | None, where: str) -> None:
    """Refuse labels that ``--categories`` does not name, and a single category.

    Raises
    ------
    DataError
        A label not among ``categories``; or, without them, one label only.
    """
    labels = sorted(set(found))
    if categories is None and len(labels) < 2:
        raise DataError(
            f"{where} holds the single label {labels}: the categorical model needs two "
            "categories at least; name them all with --categories a,b."
        )
    unknown = sorted(set(labels) - set(categories or labels))
    if unknown:
        raise DataError(f"{where} has labels {unknown} that are not in --categories {categories}.")


def _streamed_model(args: argparse.Namespace) -> pm.Model:
    """The normal or categorical model of a folder of shards or a big file, read in batches."""
    from ppl_mle.core.families import CategoricalFamily
    from ppl_mle.model.declarations import (
        categorical_from_counts,
        categorical_from_source,
        normal_from_source,
    )

    if args.model == "normal":
        return normal_from_source(args.file, args.column, args.sigma)
    model = categorical_from_source(args.file, args.column)
    family = model.family
    if not isinstance(family, CategoricalFamily):
        raise RuntimeError("internal error: categorical_from_source gave no categorical family")
    found = [str(c) for c in family.categories]
    cats = args.categories
    if cats is None or found == cats:
        return model
    _check_labels(found, cats, _source_name(args))
    counts = dict(zip(found, family.counts.tolist(), strict=True))
    return categorical_from_counts([counts.get(c, 0) for c in cats], cats)


def _softmax_model(args: argparse.Namespace) -> pm.Model:
    """Softmax regression of ``--target`` on ``--features``, the table checked first."""
    from ppl_mle.data.io import read_table
    from ppl_mle.data.validation import as_design, raise_missing_labels

    # Class labels are identifiers: read as text from a .csv ('007' is not '7').
    table = read_table(args.file, [args.target, *args.features], text=[args.target])
    labels = table[args.target].to_numpy()
    raise_missing_labels(labels, args.target)  # empty fields, nulls: counted, by row
    reference = _reference(args.reference, labels, args.target)
    features = table[args.features]
    intercept = not args.no_intercept
    as_design(features, intercept=intercept, name="--features")  # text, NaN, constant, collinear
    from ppl_mle.model.declarations import FIRST, softmax_regression

    first = FIRST if reference is None else reference
    return softmax_regression(features, labels, first, intercept=intercept)


def _reference(text: str | None, labels: Any, target: str) -> Any:
    """The class ``--reference`` names, matched by its text (Parquet labels may be numbers)."""
    if text is None:
        return None
    matches = [c for c in dict.fromkeys(labels.tolist()) if str(c) == text]
    if not matches:
        raise DataError(
            f"--reference {text!r} is not one of the classes in {target!r}: "
            f"{sorted(map(str, set(labels.tolist())))}."
        )
    return matches[0]


def _grouped_model(args: argparse.Namespace) -> Any:
    """The per-group model of ``--by``: statistics per group, read in one pass."""
    from ppl_mle.model.declarations import categorical_from_source, normal_from_source

    if args.model == "normal":
        return normal_from_source(
            args.file, args.column, args.sigma, by=args.by, common_sigma=args.common_sigma
        )
    return categorical_from_source(args.file, args.column, args.categories, by=args.by)


@contextlib.contextmanager
def _light_compilation(model: Any, *, cache: bool) -> Iterator[None]:
    """One small fit in a fresh process: no C, and the rewritten graphs of earlier runs.

    With few data values the fit compiles with PyTensor's Python linker
    (:func:`ppl_mle.fit.compiled.python_linker_for_small_data`) and reuses the objectives
    that earlier processes compiled for models declared alike
    (:mod:`ppl_mle.fit.disk_cache`, in ``$PPL_MLE_CACHE_DIR`` or ``~/.cache/ppl_mle``)
    unless ``cache`` is False (``--no-cache``).
    """
    from ppl_mle.fit.compiled import python_linker_for_small_data
    from ppl_mle.fit.disk_cache import objectives_on_disk

    with python_linker_for_small_data(model) as light:
        if not light:
            yield
            return
        with objectives_on_disk() if cache else contextlib.nullcontext():
            yield


def _fit_groups(args: argparse.Namespace, model: Any, level: float, output: str | None) -> int:
    """``fit … --by``: every group's MLE, its table, and the tests that groups differ."""
    from ppl_mle.api.fit_mle import fit_mle
    from ppl_mle.core.jsonable import json_value

    with (
        warnings.catch_warnings(record=True) as caught,
        _light_compilation(model, cache=not args.no_cache),
    ):
        warnings.simplefilter("always", PplMleWarning)
        result = fit_mle(model, method=args.method)
        table = result.by_group(alpha=1.0 - level)
        tests = []
        for share in _group_parameters(model.family):
            try:
                tests.append(result.lr_test(share))
            except PplMleError as err:  # e.g. groups of one row: no finite statistic
                print(f"note: no test that groups share {share}: {err}", file=sys.stderr)
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)
    if output is not None:
        _write_table(table, output)
    if args.json:
        out = {
            "model": result.family.name,
            "status": result.status.value,
            "converged": result.converged,
            "n_groups": result.family.n_groups,
            "n_obs": result.family.n_obs,
            "loglik": result.loglik,
            "message": result.message,
            "level": level,
            "tests": [
                {"null": t.null, "statistic": t.statistic, "df": t.df, "pvalue": t.pvalue}
                for t in tests
            ],
            "groups": json_value(table.reset_index().to_dict(orient="records")),
        }
        print(json.dumps(out, allow_nan=False))
    else:
        import pandas as pd

        # Every estimate shown (a column per category), wrapped rather than elided.
        with pd.option_context("display.max_columns", None):
            print(result)
        for t in tests:
            print(t)
    return EXIT_OK if result.converged else EXIT_UNVERIFIED


def _group_parameters(family: Any) -> tuple[str, ...]:
    """The parameters each group has its own of: ``fit … --by`` tests that groups share them.

    A known σ, or one σ for all groups (``--common-sigma``), belongs to no group.
    """
    from ppl_mle.core.grouped.families import GroupedNormalFamily

    if isinstance(family, GroupedNormalFamily) and not family.per_group_sigma:
        return ("mu",)
    return tuple(family.param_names)


def _check_arguments(args: argparse.Namespace) -> None:
    """Refuse what the command line and the input's header decide, before PyMC is imported.

    The options' values first (each checked once, and kept in ``args`` in their checked
    form: ``--level`` and ``--sigma`` as numbers, ``--categories`` and ``--features`` as
    lists), then the input: that it exists and has the columns the options name.

    Raises
    ------
    DataError, ModelError
        The first bad option or column, in the command line's own terms (exit status 2).
    """
    _check_options(args)
    _check_input(args)


def _check_options(args: argparse.Namespace) -> None:
    """Check every option's value; see :func:`_check_arguments`."""
    from ppl_mle.data.validation import check_level, check_sigma

    args.level = check_level(args.level, "--level")
    if args.method is not None:
        check_method(args.method, "--method")
    if getattr(args, "sigma", None) is not None:
        args.sigma = check_sigma(args.sigma, "--sigma")
    if getattr(args, "categories", None) is not None:
        args.categories = _name_list(args.categories, "--categories", least=2)
    if args.model == "softmax":
        args.features = _features(args.features, args.target)
    by = getattr(args, "by", None)
    if getattr(args, "common_sigma", False) and by is None:
        raise DataError("--common-sigma needs --by (a column of group labels).")
    if by is not None and by == args.column:
        raise DataError(f"--column and --by both name {by!r}: give the values and the labels.")
    if args.command == "compare":
        _check_sampler_args(args)
    elif args.output is not None:  # said before the data are read and fitted
        _check_writable(args.output, "--output", "table.csv", _TABLE_SUFFIXES)


def _name_list(text: str, option: str, least: int = 1) -> list[str]:
    """The names an option lists as ``a,b,c``: at least ``least`` of them, each once."""
    names = [c.strip() for c in text.split(",") if c.strip()]
    if len(names) < least:
        raise DataError(f"{option} must name at least {least}, as a,b,c; got {text!r}.")
    repeated = sorted({c for c in names if names.count(c) > 1})
    if repeated:
        raise DataError(f"{option} names {repeated} more than once.")
    return names


def _features(text: str, target: str) -> list[str]:
    """The feature columns of ``--features``: distinct, and not the target."""
    features = _name_list(text, "--features")
    if target in features:
        raise DataError(
            f"--target column {target!r} is also among --features {features}: a class "
            "cannot predict itself. Remove it from --features."
        )
    return features


def _check_input(args: argparse.Namespace) -> None:
    """The data file exists and has the columns the options name (a header is read, no more)."""
    if args.model == "pymc":
        return  # the script is checked when it is run
    path = Path(args.file)
    if not path.exists():
        raise DataError(f"file not found: {path}")
    if getattr(args, "by", None) is not None and not (
        path.is_dir() or path.suffix.lower() in _TABLE_SUFFIXES
    ):
        raise DataError(
            f"--by needs a table with a column of group labels (.csv, .parquet or a folder "
            f"of .parquet shards); {path.name} is not one."
        )
    named = _named_columns(args)
    names = _column_names(path) if named else None
    if names is None:
        return
    for option, column in named:
        if column not in names:
            close = difflib.get_close_matches(column, names, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise DataError(
                f"{option} {column!r} is not a column of {path.name}{hint}; its columns "
                f"are {names}."
            )


def _named_columns(args: argparse.Namespace) -> list[tuple[str, str]]:
    """The columns the options name, each with its option: ``("--by", "sex")``."""
    if args.model == "softmax":
        return [("--target", args.target), *(("--features", c) for c in args.features)]
    named = (("--column", args.column), ("--by", getattr(args, "by", None)))
    return [(option, column) for option, column in named if column is not None]


def _column_names(path: Path) -> list[str] | None:
    """The columns of a table, from its header alone; None for a file of another kind.

    A ``.csv`` file's header line, a ``.parquet`` file's schema, or the schema of the first
    shard of a folder (None for a folder without shards: its reader says so).
    """
    from ppl_mle.data.io import check_csv_header, named_read_errors

    if path.is_dir():
        first = min((p for p in path.rglob("*.parquet") if p.is_file()), default=None)
        if first is None:
            return None
        path = first
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return check_csv_header(path)
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        with named_read_errors(path):
            return list(pq.read_schema(path).names)
    return None


#: Files larger than this are read in batches, like folders of shards.
_STREAM_BYTES = 256 * 2**20


def _stream(path: str) -> bool:
    """Whether to read ``path`` in batches: a folder of shards, or a big file."""
    p = Path(path)
    return p.is_dir() or (
        p.is_file()
        and p.suffix.lower() in (".csv", ".parquet")
        and p.stat().st_size > _STREAM_BYTES
    )


def _check_sampler_args(args: argparse.Namespace) -> None:
    """Refuse sampler settings and an output path that would fail after the work."""
    for name in ("draws", "tune", "chains"):
        value, low = getattr(args, name), 0 if name == "tune" else 1
        if value < low:
            raise DataError(f"--{name} must be an integer >= {low}; got {value}.")
    if args.seed is not None and not 0 <= args.seed <= _MAX_SEED:
        raise DataError(f"--seed must be an integer from 0 to {_MAX_SEED}; got {args.seed}.")
    if args.plot:
        _check_writable(args.plot, "--plot", "x.png")


def _check_writable(text: str, option: str, example: str, suffixes: tuple[str, ...] = ()) -> None:
    """Raise :class:`DataError` unless a file can be written at ``text``, before any work.

    Parameters
    ----------
    text : str
        The path the user gave.
    option : str
        The option that gave it (``--plot``, ``--output``), named in the message.
    example : str
        A file name for the message when ``text`` names a folder.
    suffixes : tuple of str, optional
        The suffixes the file may have (any, if empty).

    Raises
    ------
    DataError
        ``text`` names a folder or something other than a file, has another suffix than
        ``suffixes``, its folder is missing, or a file cannot be opened for writing there.
        The test opens the file for appending (an existing file is left as it is; a new one
        is removed again).
    """
    path = Path(text)
    folder = path.parent
    if path.is_dir():
        raise DataError(f"{option} {path} is a folder: give a file name such as {path / example}.")
    if suffixes and path.suffix not in suffixes:
        raise DataError(f"{option} must name a {' or '.join(suffixes)} file; got {text!r}.")
    if not folder.exists():
        raise DataError(f"{option} {path}: the folder {folder} does not exist; create it first.")
    if not folder.is_dir():
        raise DataError(f"{option} {path}: {folder} is a file, not a folder.")
    if path.exists() and not path.is_file():
        raise DataError(f"{option} {path} is not a regular file: give a file name.")
    existed = path.exists()
    try:
        with path.open("ab"):
            pass
    except OSError as err:
        raise DataError(f"{option} {path}: cannot write there ({err.strerror or err}).") from None
    if not existed:
        path.unlink(missing_ok=True)


def _available_bytes() -> int | None:
    """Memory available to this process, where the system says."""
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


#: Bytes a stored draw of one scalar costs across the posterior, its statistics and ArviZ.
_BYTES_PER_DRAW = 8 * 4


def _check_memory(model: pm.Model, draws: int, chains: int) -> None:
    """Refuse a sampling run whose draws would not fit in the available memory."""
    import numpy as np

    size = sum(int(np.size(v)) for v in model.initial_point().values()) + 8  # + statistics
    need = draws * chains * size * _BYTES_PER_DRAW
    available = _available_bytes()
    if available is not None and need > available:
        raise DataError(
            f"--draws {draws} × --chains {chains} × {size} stored values needs about "
            f"{need / 2**30:.3g} GiB, but {available / 2**30:.3g} GiB are available: "
            "ask for fewer draws."
        )


@contextlib.contextmanager
def _own_sampling_gates(args: argparse.Namespace) -> Iterator[None]:
    """Our warning about short runs before sampling; PyMC's log of them muted.

    A single chain is warned about by ``compare_bayes`` (r_hat needs two chains).

    ``compare_bayes`` gates on ess, r_hat and divergences itself and says so in its own
    warnings; PyMC's log line about the same (``Only 5 samples per chain``) would only
    repeat them in another voice. ArviZ is not asked for the diagnostics it cannot compute
    (one chain, fewer than 4 draws), so it logs nothing about them
    (:func:`ppl_mle.bayes.sampling.arviz_summary`).
    """
    if args.draws < MIN_DRAWS:
        print(
            f"warning: --draws {args.draws} is fewer than {MIN_DRAWS} draws per chain: ess "
            "and r_hat cannot be estimated reliably, so the comparison will not be trusted.",
            file=sys.stderr,
        )
    logger = logging.getLogger("pymc.sampling.mcmc")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _compare(args: argparse.Namespace) -> int:
    level = args.level
    model = _model(args)
    from ppl_mle.api.fit_mle import fit_mle
    from ppl_mle.bayes.compare import compare_bayes
    from ppl_mle.bayes.plots import plot_comparison
    from ppl_mle.core.jsonable import json_value

    _check_memory(model, args.draws, args.chains)
    # The progress bar only where someone watches, and never into a JSON stream.
    progress = sys.stdout.isatty() and not args.json
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", PplMleWarning)
        result = fit_mle(model, method=args.method)
        with _own_sampling_gates(args):
            comparison = compare_bayes(
                result,
                draws=args.draws,
                tune=args.tune,
                chains=args.chains,
                random_seed=args.seed,
                level=level,
                progressbar=progress,
                profile=args.profile,
            )
        if args.plot:
            plot_comparison(comparison, args.plot)
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)
    if args.json:
        print(json.dumps(json_value(comparison.to_dict()), allow_nan=False))
    else:
        print(comparison)
        if args.plot:
            print(f"picture: {args.plot}")
    return EXIT_OK if (result.converged and comparison.trustworthy) else EXIT_UNVERIFIED


def _fit(args: argparse.Namespace) -> int:
    level, output = args.level, args.output
    model = _model(args)
    if getattr(args, "by", None) is not None:
        return _fit_groups(args, model, level, output)
    from ppl_mle.api.fit_mle import fit_mle
    from ppl_mle.core.divergence import divergence
    from ppl_mle.fit.analytic import check_analytic
    from ppl_mle.inference.summary import format_summary
    from ppl_mle.model.declarations import MLEModel

    family = model.family if isinstance(model, MLEModel) else None
    no_closed_form = family is None or not family.has_closed_form
    # --estimate is "mle" or "map" (its choices); a model of a file has no such option.
    estimate = cast(Literal["mle", "map"], getattr(args, "estimate", "mle"))
    # One small fit in a fresh process: compiling C would cost more than it saves.
    with (
        warnings.catch_warnings(record=True) as caught,
        _light_compilation(model, cache=not args.no_cache),
    ):
        warnings.simplefilter("always", PplMleWarning)
        result = fit_mle(model, method=args.method, estimate=estimate)
        check = None if no_closed_form else check_analytic(result)
        profile = True if getattr(args, "profile", False) else None
        table = result.table(level, profile=profile)
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)
    if output is not None:
        _write_table(table, output)
    if args.json:
        print(json.dumps(_json(result, check, table), allow_nan=False))
    else:
        verbose = getattr(args, "verbose", False)
        if verbose:
            print(result, end="\n\n")
        print(format_summary(table))
        # One table and one line of evidence; --verbose shows the evidence in full.
        if verbose and check is not None:
            print(f"\n{check}\n")
        else:
            print(_verdict_line(result, check))
        if check is not None:
            print(_kl_line(result, divergence(result)))
        elif family is not None:
            # No closed form (softmax regression): its cross-entropy, computed directly.
            ce = family.report_fields(result.estimates).get("cross_entropy")
            if ce is not None:
                nll = -result.loglik / result.n_obs
                print(f"mean cross-entropy = {ce:.12g}; -loglik/n = {nll:.12g}")
    passed = check.passed if check is not None else True
    return EXIT_OK if (result.converged and passed) else EXIT_UNVERIFIED


def _verdict_line(result: Any, check: Any) -> str:
    """The fit's evidence in one line: its status, the gradient and step left, the check."""
    line = (
        f"{result.status.value}: gradient norm {result.grad_norm:.2g}, Newton step left "
        f"{result.newton_step_se:.2g} SE"
    )
    if check is not None:
        verdict = "PASS" if check.passed else "FAIL"
        line += f"; closed form: {verdict} (max relative difference {check.max_rel_diff:.2g})"
    return line + " (--verbose: the evidence in full)"


def _kl_line(result: Any, report: Any) -> str:
    """What the KL view of the MLE says for this fit, in one line.

    For labels the empirical distribution and the model share a support: −ℓ/n = H + KL and
    the MLE makes KL and the total variation vanish. For a continuous sample they do not
    (the total variation between a sample and a density is always 1): there the identity is
    −ℓ/n = the entropy of the fitted normal, and what is left to say about the fit is how far
    the sample lies from it (Wasserstein).
    """
    from ppl_mle.core.families import NormalFamily

    if isinstance(result.family, NormalFamily):
        if not math.isfinite(report.entropy):
            return (
                f"-loglik/n = {report.cross_entropy:.10g}; the sample is constant: no normal "
                "stands in for it (its entropy is -inf, its KL to the model +inf)"
            )
        if result.family.sigma is not None:  # sigma known: the sample's sd is not the model's
            return (
                f"-loglik/n = {report.cross_entropy:.10g} = entropy of N(mean, sd by n) "
                f"{report.entropy:.10g} + KL to the fitted normal {report.kl:.6g}; "
                f"Wasserstein distance from the sample to it = {report.wasserstein:.6g}"
            )
        return (
            f"-loglik/n = {report.cross_entropy:.10g} = entropy of the fitted normal "
            f"{report.entropy:.10g} (1/2 log(2 pi e sigma^2)): N(mean, sd by n) is the normal "
            "closest in KL to the sample; Wasserstein distance from the sample to it = "
            f"{report.wasserstein:.6g}"
        )
    return (
        f"KL(empirical || model) = {report.kl:.3g}, total variation = "
        f"{report.total_variation:.3g}, Wasserstein = {report.wasserstein:.6g}, "
        f"-loglik/n = {report.cross_entropy:.10g} = entropy {report.entropy:.10g} + KL"
    )


def _write_table(table: pd.DataFrame, path: str) -> None:
    """Write the summary table (one row per parameter) to a .csv or .parquet file."""
    target = Path(path)
    try:
        if target.suffix == ".csv":
            table.to_csv(target)
        else:  # .parquet: the suffix was checked before the fit
            table.to_parquet(target)
    except OSError as err:  # writable when checked, not now (the disk full, the folder gone)
        raise DataError(f"--output {target}: cannot write there ({err.strerror or err}).") from None


def _json(result: Any, check: Any, table: pd.DataFrame) -> dict[str, Any]:
    """The fit as one JSON object; NaN (no SE on a boundary) becomes null."""
    import numpy as np

    from ppl_mle.core.divergence import divergence
    from ppl_mle.core.jsonable import json_number, json_value, parameter_record

    out = result.to_dict()
    family = result.family
    if family is None or check is None:  # any PyMC model, or no closed form (softmax)
        out["analytic"] = None
        out["max_rel_diff"] = None
    else:
        out["analytic"] = {
            name: (float(v) if np.ndim(v) == 0 else np.asarray(v, dtype=float).tolist())
            for name, v in result.family.closed_form().items()
        }
        out["max_rel_diff"] = check.max_rel_diff
        out["loglik_diff"] = check.loglik_diff
        out["check_passed"] = check.passed
        out["divergence"] = dataclasses.asdict(divergence(result))
    if family is not None:  # the family's own facts: categories, features, classes...
        out.update(family.report_fields(result.estimates))
    out["level"] = table.attrs["level"]
    out["aic"] = table.attrs["aic"]
    out["bic"] = table.attrs["bic"]
    # Per variable, shaped like "estimates": a number for mu, a list for theta.
    out["se"] = _by_variable(result, table, lambda row: json_number(row["se"]))
    out["wald_ci"] = _by_variable(
        result, table, lambda row: [json_number(row["wald_lower"]), json_number(row["wald_upper"])]
    )
    out["profile_ci"] = _by_variable(
        result,
        table,
        lambda row: [json_number(row["profile_lower"]), json_number(row["profile_upper"])],
    )
    out["summary"] = [
        {
            "parameter": label,
            **{k: (v if k in ("verdict", "note") else json_number(v)) for k, v in row.items()},
        }
        for label, row in table.iterrows()
    ]
    # The schema `fit` shares with `compare` (README, "JSON output"): one entry per scalar
    # parameter, by label (theta[a]).
    out["parameters"] = {
        str(label): parameter_record(
            row["estimate"],
            row["se"],
            (row["wald_lower"], row["wald_upper"]),
            (row["profile_lower"], row["profile_upper"]),
        )
        for label, row in table.iterrows()
    }
    return cast(dict[str, Any], json_value(out))


def _by_variable(result: Any, table: pd.DataFrame, cell: Any) -> dict[str, Any]:
    """Per variable, shaped like the variable (nested lists for a matrix such as beta)."""
    import numpy as np

    out: dict[str, Any] = {}
    rows = iter(table.iterrows())
    for name, value in result.estimates.items():
        cells = [cell(next(rows)[1]) for _ in range(max(1, np.size(value)))]
        if np.ndim(value) == 0:
            out[name] = cells[0]
        else:
            out[name] = (
                np.array(cells, dtype=object).reshape(np.shape(value) + np.shape(cells[0])).tolist()
            )
    return out


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
