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

# isort: off
# First: imports pymc and arviz without their vendor noise, before any module imports them.
from ppl_mle.model import _pytensor  # noqa: F401

# isort: on
from importlib.metadata import version

from ppl_mle.api.fit_mle import fit_mle
from ppl_mle.api.result import MLEResult
from ppl_mle.bayes.compare import BayesComparison, compare_bayes
from ppl_mle.bayes.laplace import laplace_draws
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
    ModelError,
    PplMleError,
    PplMleWarning,
    PrecisionWarning,
    SamplingWarning,
)
from ppl_mle.core.families import CategoricalFamily, NormalFamily, SoftmaxFamily
from ppl_mle.data.streaming import label_counts_of, normal_stats_of
from ppl_mle.fit.analytic import AnalyticCheck, check_analytic
from ppl_mle.fit.status import FitStatus
from ppl_mle.inference.inference_data import mle_inference_data
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
from ppl_mle.teaching.symbolic import categorical_derivation, normal_derivation

#: The installed distribution's version (written once, in pyproject.toml).
__version__ = version("ppl_mle")

__all__ = [
    # models
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
    "ModelError",
    "PplMleError",
    "PplMleWarning",
    "SamplingWarning",
]
