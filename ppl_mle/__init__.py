"""ppl_mle: maximum-likelihood estimation of PyMC models, verified against closed forms.

Packages by layer; each imports only from the layers below it (a contract checked by
``lint-imports`` in the test command):

- :mod:`ppl_mle.cli` — the ``ppl-mle`` command;
- :mod:`ppl_mle.teaching` — SymPy derivations, the demo on built-in data;
- :mod:`ppl_mle.bayes` — NUTS beside the MLE (``compare_bayes``), Laplace draws, the picture;
- :mod:`ppl_mle.api` — ``fit_mle`` and ``MLEResult``, the public entry;
- :mod:`ppl_mle.inference` — uncertainty, profile likelihood, summary, tests, ArviZ data;
- :mod:`ppl_mle.fit` — objective, optimisers, verification, status, the fit record;
- :mod:`ppl_mle.model` — PyMC declarations, flat priors;
- :mod:`ppl_mle.data` — files, streaming, Dask, input checks;
- :mod:`ppl_mle.core` — numpy and scipy only: closed forms, families, Newton, divergences.
"""

from importlib import import_module
from importlib.metadata import version
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the names as mypy sees them; at run time, __getattr__ loads them
    from ppl_mle.api.fit_mle import fit_mle
    from ppl_mle.api.grouped_result import GroupedResult
    from ppl_mle.api.result import MLEResult
    from ppl_mle.bayes.compare import BayesComparison, compare_bayes
    from ppl_mle.bayes.plots import plot_comparison
    from ppl_mle.core.analytic_posterior import analytic_posterior
    from ppl_mle.core.closed_form import (
        NormalStats,
        categorical_loglik,
        categorical_mle,
        categorical_mle_constrained,
        merge_normal_stats,
        normal_loglik,
        normal_mle,
        normal_stats,
        product_underflow_n,
    )
    from ppl_mle.core.divergence import (
        DivergenceReport,
        divergence,
        kl_divergence,
        kl_normal,
        total_variation,
    )
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
    from ppl_mle.core.families import CategoricalFamily, NormalFamily, SoftmaxFamily
    from ppl_mle.core.grouped import GroupedCategoricalFamily, GroupedNormalFamily, GroupStats
    from ppl_mle.data.streaming import label_counts_of, normal_stats_of
    from ppl_mle.fit.analytic import AnalyticCheck, check_analytic
    from ppl_mle.fit.status import FitStatus
    from ppl_mle.inference.inference_data import mle_inference_data
    from ppl_mle.inference.laplace import laplace_draws
    from ppl_mle.inference.likelihood_ratio import HypothesisTestResult, lr_test, pearson_test
    from ppl_mle.inference.plots import plot_loglik_contour, plot_profiles
    from ppl_mle.inference.profile import ProfileInterval, profile_interval, profile_loglik
    from ppl_mle.inference.summary import format_summary, summarize
    from ppl_mle.inference.uncertainty import Uncertainty, uncertainty
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
    from ppl_mle.teaching.symbolic import categorical_derivation, normal_derivation

#: The installed distribution's version (written once, in pyproject.toml).
__version__ = version("ppl_mle")

__all__ = [
    # models
    "GroupedModel",
    "MLEModel",
    "categorical",
    "categorical_from_counts",
    "categorical_from_source",
    "normal",
    "normal_from_source",
    "normal_from_stats",
    "softmax_regression",
    # sufficient statistics of big data
    "label_counts_of",
    "normal_stats_of",
    # fitting and checking
    "AnalyticCheck",
    "FitStatus",
    "GroupedResult",
    "MLEResult",
    "check_analytic",
    "fit_mle",
    "flat_priors",
    # uncertainty and tests
    "HypothesisTestResult",
    "ProfileInterval",
    "Uncertainty",
    "format_summary",
    "lr_test",
    "pearson_test",
    "profile_interval",
    "profile_loglik",
    "summarize",
    "uncertainty",
    # Bayesian comparison
    "BayesComparison",
    "analytic_posterior",
    "compare_bayes",
    "laplace_draws",
    "mle_inference_data",
    # MLE as KL minimisation (numpy only)
    "DivergenceReport",
    "divergence",
    "kl_divergence",
    "kl_normal",
    "total_variation",
    # closed forms and families (numpy only)
    "CategoricalFamily",
    "GroupStats",
    "GroupedCategoricalFamily",
    "GroupedNormalFamily",
    "NormalFamily",
    "NormalStats",
    "SoftmaxFamily",
    "categorical_loglik",
    "categorical_mle",
    "categorical_mle_constrained",
    "normal_loglik",
    "normal_mle",
    "merge_normal_stats",
    "normal_stats",
    "product_underflow_n",
    # symbolic derivations (SymPy) and pictures
    "categorical_derivation",
    "normal_derivation",
    "plot_comparison",
    "plot_loglik_contour",
    "plot_profiles",
    # errors and warnings
    "BoundaryWarning",
    "ConvergenceError",
    "ConvergenceWarning",
    "PrecisionWarning",
    "DataError",
    "IdentifiabilityWarning",
    "MissingExtraError",
    "ModelError",
    "PplMleError",
    "PplMleWarning",
    "SamplingWarning",
]

#: Where each public name lives: imported on first use (PEP 562), so that ``import ppl_mle``
#: and the command line's ``--help`` do not import PyMC.
_SOURCES: dict[str, str] = {
    "GroupedModel": "ppl_mle.model.grouped",
    "GroupedResult": "ppl_mle.api.grouped_result",
    "GroupStats": "ppl_mle.core.grouped",
    "GroupedCategoricalFamily": "ppl_mle.core.grouped",
    "GroupedNormalFamily": "ppl_mle.core.grouped",
    "MLEModel": "ppl_mle.model.declarations",
    "categorical": "ppl_mle.model.declarations",
    "categorical_from_counts": "ppl_mle.model.declarations",
    "categorical_from_source": "ppl_mle.model.declarations",
    "normal": "ppl_mle.model.declarations",
    "normal_from_source": "ppl_mle.model.declarations",
    "normal_from_stats": "ppl_mle.model.declarations",
    "softmax_regression": "ppl_mle.model.declarations",
    "label_counts_of": "ppl_mle.data.streaming",
    "normal_stats_of": "ppl_mle.data.streaming",
    "AnalyticCheck": "ppl_mle.fit.analytic",
    "FitStatus": "ppl_mle.fit.status",
    "MLEResult": "ppl_mle.api.result",
    "check_analytic": "ppl_mle.fit.analytic",
    "fit_mle": "ppl_mle.api.fit_mle",
    "flat_priors": "ppl_mle.model.flat",
    "HypothesisTestResult": "ppl_mle.inference.likelihood_ratio",
    "ProfileInterval": "ppl_mle.inference.profile",
    "Uncertainty": "ppl_mle.inference.uncertainty",
    "format_summary": "ppl_mle.inference.summary",
    "lr_test": "ppl_mle.inference.likelihood_ratio",
    "pearson_test": "ppl_mle.inference.likelihood_ratio",
    "profile_interval": "ppl_mle.inference.profile",
    "profile_loglik": "ppl_mle.inference.profile",
    "summarize": "ppl_mle.inference.summary",
    "uncertainty": "ppl_mle.inference.uncertainty",
    "BayesComparison": "ppl_mle.bayes.compare",
    "analytic_posterior": "ppl_mle.core.analytic_posterior",
    "compare_bayes": "ppl_mle.bayes.compare",
    "laplace_draws": "ppl_mle.inference.laplace",
    "mle_inference_data": "ppl_mle.inference.inference_data",
    "DivergenceReport": "ppl_mle.core.divergence",
    "divergence": "ppl_mle.core.divergence",
    "kl_divergence": "ppl_mle.core.divergence",
    "kl_normal": "ppl_mle.core.divergence",
    "total_variation": "ppl_mle.core.divergence",
    "CategoricalFamily": "ppl_mle.core.families",
    "NormalFamily": "ppl_mle.core.families",
    "NormalStats": "ppl_mle.core.closed_form",
    "SoftmaxFamily": "ppl_mle.core.families",
    "categorical_loglik": "ppl_mle.core.closed_form",
    "categorical_mle": "ppl_mle.core.closed_form",
    "categorical_mle_constrained": "ppl_mle.core.closed_form",
    "normal_loglik": "ppl_mle.core.closed_form",
    "normal_mle": "ppl_mle.core.closed_form",
    "merge_normal_stats": "ppl_mle.core.closed_form",
    "normal_stats": "ppl_mle.core.closed_form",
    "product_underflow_n": "ppl_mle.core.closed_form",
    "categorical_derivation": "ppl_mle.teaching.symbolic",
    "normal_derivation": "ppl_mle.teaching.symbolic",
    "plot_comparison": "ppl_mle.bayes.plots",
    "plot_loglik_contour": "ppl_mle.inference.plots",
    "plot_profiles": "ppl_mle.inference.plots",
    "BoundaryWarning": "ppl_mle.core.errors",
    "MissingExtraError": "ppl_mle.core.errors",
    "ConvergenceError": "ppl_mle.core.errors",
    "ConvergenceWarning": "ppl_mle.core.errors",
    "PrecisionWarning": "ppl_mle.core.errors",
    "DataError": "ppl_mle.core.errors",
    "IdentifiabilityWarning": "ppl_mle.core.errors",
    "ModelError": "ppl_mle.core.errors",
    "PplMleError": "ppl_mle.core.errors",
    "PplMleWarning": "ppl_mle.core.errors",
    "SamplingWarning": "ppl_mle.core.errors",
}

#: The layers that never import pymc (the contracts of ``lint-imports``).
_LIGHT_PACKAGES = ("ppl_mle.core.", "ppl_mle.data.")


def __getattr__(name: str) -> Any:
    """Import the public name ``name`` on first use (PEP 562) and keep it.

    The PyMC stack is configured first (:mod:`ppl_mle.model._pytensor`) for every name but
    those of the layers that never import pymc.

    Raises
    ------
    AttributeError
        ``name`` is not a public name of the package.
    """
    module = _SOURCES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if not module.startswith(_LIGHT_PACKAGES):
        import_module("ppl_mle.model._pytensor")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The module's names, with the public ones not yet imported."""
    return sorted(set(globals()) | set(__all__))
