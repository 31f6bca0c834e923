"""ppl_mle: maximum-likelihood estimation of PyMC models, verified against closed forms.

Packages by layer; each imports only from the layers below it (a contract checked by
``lint-imports`` in the test command):

- :mod:`ppl_mle.cli` — the ``ppl-mle`` command;
- :mod:`ppl_mle.teaching` — the ideas behind MLE computed (underflow, KL), SymPy
  derivations, the demo on built-in data;
- :mod:`ppl_mle.bayes` — NUTS beside the MLE (``compare_bayes``), Laplace draws, the picture;
- :mod:`ppl_mle.api` — ``fit_mle`` and ``MLEResult``, the public entry;
- :mod:`ppl_mle.inference` — uncertainty, profile likelihood, summary, tests, ArviZ data;
- :mod:`ppl_mle.fit` — objective, optimisers, verification, status, the fit record;
- :mod:`ppl_mle.model` — PyMC declarations, flat priors;
- :mod:`ppl_mle.data` — files, streaming, Dask, input checks;
- :mod:`ppl_mle.core` — numpy and scipy only: closed forms, families, Newton, divergences.

The fit API is at the top level (``__all__``); the closed forms and families every fit is
checked against are in :mod:`ppl_mle.closed_form`.
"""

import warnings
from importlib import import_module
from importlib.metadata import version
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the names as mypy sees them; at run time, __getattr__ loads them
    from ppl_mle.api.find_map import find_MAP
    from ppl_mle.api.fit_mle import fit_mle
    from ppl_mle.api.grouped_result import GroupedResult
    from ppl_mle.api.result import MLEResult
    from ppl_mle.bayes.compare import BayesComparison, compare_bayes
    from ppl_mle.bayes.model_comparison import compare_models
    from ppl_mle.bayes.plots import plot_comparison
    from ppl_mle.core.errors import (
        BoundaryWarning,
        ConvergenceError,
        ConvergenceWarning,
        DataError,
        IdentifiabilityWarning,
        MissingExtraError,
        ModelError,
        PplMleError,
        PplMleWarning,
        PrecisionWarning,
        SamplingWarning,
    )
    from ppl_mle.data.streaming import label_counts_of, normal_stats_of
    from ppl_mle.fit.status import FitStatus
    from ppl_mle.inference.likelihood_ratio import HypothesisTestResult, lr_test, pearson_test
    from ppl_mle.inference.model_comparison import ModelComparison
    from ppl_mle.inference.plots import plot_loglik_contour
    from ppl_mle.inference.profile import ProfileInterval, profile_loglik
    from ppl_mle.inference.summary import format_summary
    from ppl_mle.model.declarations import (
        MLEModel,
        categorical,
        categorical_from_counts,
        categorical_from_source,
        normal,
        normal_from_source,
        normal_from_stats,
        softmax_regression,
    )
    from ppl_mle.model.flat import flat_priors
    from ppl_mle.model.grouped import GroupedModel

#: The installed distribution's version (written once, in pyproject.toml).
__version__ = version("ppl_mle")

__all__ = [
    # models
    "GroupedModel",
    "MLEModel",
    "categorical",
    "categorical_from_counts",
    "categorical_from_source",
    "flat_priors",
    "normal",
    "normal_from_source",
    "normal_from_stats",
    "softmax_regression",
    # sufficient statistics of big data
    "label_counts_of",
    "normal_stats_of",
    # fitting
    "FitStatus",
    "GroupedResult",
    "MLEResult",
    "find_MAP",
    "fit_mle",
    # tests and intervals beyond a result's own methods
    "HypothesisTestResult",
    "ProfileInterval",
    "format_summary",
    "lr_test",
    "pearson_test",
    "profile_loglik",
    "plot_loglik_contour",
    # Bayesian comparison
    "BayesComparison",
    "compare_bayes",
    "plot_comparison",
    # comparing models: information criteria, LR tests, LOO
    "ModelComparison",
    "compare_models",
    # errors and warnings
    "BoundaryWarning",
    "ConvergenceError",
    "ConvergenceWarning",
    "DataError",
    "IdentifiabilityWarning",
    "MissingExtraError",
    "ModelError",
    "PplMleError",
    "PplMleWarning",
    "PrecisionWarning",
    "SamplingWarning",
]

#: Where each public name lives: imported on first use (PEP 562), so that ``import ppl_mle``
#: and the command line's ``--help`` do not import PyMC.
_SOURCES: dict[str, str] = {
    "GroupedModel": "ppl_mle.model.grouped",
    "MLEModel": "ppl_mle.model.declarations",
    "categorical": "ppl_mle.model.declarations",
    "categorical_from_counts": "ppl_mle.model.declarations",
    "categorical_from_source": "ppl_mle.model.declarations",
    "flat_priors": "ppl_mle.model.flat",
    "normal": "ppl_mle.model.declarations",
    "normal_from_source": "ppl_mle.model.declarations",
    "normal_from_stats": "ppl_mle.model.declarations",
    "softmax_regression": "ppl_mle.model.declarations",
    "label_counts_of": "ppl_mle.data.streaming",
    "normal_stats_of": "ppl_mle.data.streaming",
    "FitStatus": "ppl_mle.fit.status",
    "GroupedResult": "ppl_mle.api.grouped_result",
    "MLEResult": "ppl_mle.api.result",
    "find_MAP": "ppl_mle.api.find_map",
    "fit_mle": "ppl_mle.api.fit_mle",
    "HypothesisTestResult": "ppl_mle.inference.likelihood_ratio",
    "ProfileInterval": "ppl_mle.inference.profile",
    "format_summary": "ppl_mle.inference.summary",
    "lr_test": "ppl_mle.inference.likelihood_ratio",
    "pearson_test": "ppl_mle.inference.likelihood_ratio",
    "profile_loglik": "ppl_mle.inference.profile",
    "plot_loglik_contour": "ppl_mle.inference.plots",
    "BayesComparison": "ppl_mle.bayes.compare",
    "compare_bayes": "ppl_mle.bayes.compare",
    "plot_comparison": "ppl_mle.bayes.plots",
    "ModelComparison": "ppl_mle.inference.model_comparison",
    "compare_models": "ppl_mle.bayes.model_comparison",
    "BoundaryWarning": "ppl_mle.core.errors",
    "ConvergenceError": "ppl_mle.core.errors",
    "ConvergenceWarning": "ppl_mle.core.errors",
    "DataError": "ppl_mle.core.errors",
    "IdentifiabilityWarning": "ppl_mle.core.errors",
    "MissingExtraError": "ppl_mle.core.errors",
    "ModelError": "ppl_mle.core.errors",
    "PplMleError": "ppl_mle.core.errors",
    "PplMleWarning": "ppl_mle.core.errors",
    "PrecisionWarning": "ppl_mle.core.errors",
    "SamplingWarning": "ppl_mle.core.errors",
}

#: Names that were public here, and their homes now: they still resolve, with a warning.
#: (Those of :mod:`ppl_mle.closed_form` and :mod:`ppl_mle.teaching` are found in their
#: ``__all__``.)
_MOVED: dict[str, str] = {
    "AnalyticCheck": "ppl_mle.fit.analytic",
    "check_analytic": "ppl_mle.fit.analytic",
    "laplace_draws": "ppl_mle.inference.laplace",
    "mle_inference_data": "ppl_mle.inference.inference_data",
    "plot_profiles": "ppl_mle.inference.plots",
    "profile_interval": "ppl_mle.inference.profile",
    "summarize": "ppl_mle.inference.summary",
    "Uncertainty": "ppl_mle.inference.uncertainty",
    "uncertainty": "ppl_mle.inference.uncertainty",
}

#: Public subpackages beside the top-level API (numpy and scipy only).
_SUBPACKAGES = ("closed_form", "teaching")

#: The layers that never import pymc (the contracts of ``lint-imports``).
_LIGHT_PACKAGES = ("ppl_mle.core.", "ppl_mle.data.")


def __getattr__(name: str) -> Any:
    """Import the public name ``name`` on first use (PEP 562) and keep it.

    The PyMC stack is configured first (:mod:`ppl_mle.model._pytensor`) for every name but
    those of the layers that never import pymc. A name that moved to a subpackage resolves
    with a ``FutureWarning`` naming its home.

    Raises
    ------
    AttributeError
        ``name`` is not a public name of the package.
    """
    if name in _SUBPACKAGES:
        return import_module(f"ppl_mle.{name}")
    module = _SOURCES.get(name)
    if module is None:
        moved = _moved_home(name)
        if moved is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        warnings.warn(
            f"ppl_mle.{name} is now {moved}.{name}; the top-level name will go.",
            FutureWarning,
            stacklevel=2,
        )
        return getattr(import_module(moved), name)
    if not module.startswith(_LIGHT_PACKAGES):
        import_module("ppl_mle.model._pytensor")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def _moved_home(name: str) -> str | None:
    """Where a name that was public here lives now, or None."""
    if name in _MOVED:
        return _MOVED[name]
    for sub in _SUBPACKAGES:
        home = f"ppl_mle.{sub}"
        if name in import_module(home).__all__:
            return home
    return None


def __dir__() -> list[str]:
    """The public API: the names of ``__all__``, the public subpackages, ``__version__``."""
    return sorted([*__all__, *_SUBPACKAGES, "__version__"])
