"""ppl_mle: maximum-likelihood estimation of PyMC models, verified against closed forms.

Layers, imports pointing down:

1. numpy/scipy only — :mod:`ppl_mle.closed_form`, :mod:`ppl_mle.families`,
   :mod:`ppl_mle.analytic_posterior`, :mod:`ppl_mle.divergence`, :mod:`ppl_mle.validation`;
2. PyMC declarations — :mod:`ppl_mle.models`, :mod:`ppl_mle.flat` (any model's priors made
   flat);
3. fitting and verification — :mod:`ppl_mle.objective`, :mod:`ppl_mle.verify`,
   :mod:`ppl_mle.fit`, :mod:`ppl_mle.result`, :mod:`ppl_mle.analytic`; uncertainty on top
   of a fit — :mod:`ppl_mle.uncertainty` (observed information, delta method, Wald),
   :mod:`ppl_mle.profile` (profile likelihood), :mod:`ppl_mle.summary`,
   :mod:`ppl_mle.likelihood_ratio` (tests between models);
4. Bayesian comparison — :mod:`ppl_mle.laplace`, :mod:`ppl_mle.inference_data` (the MLE
   as ArviZ data), :mod:`ppl_mle.bayes` (``compare_bayes``), :mod:`ppl_mle.plots`;
5. command line and examples — :mod:`ppl_mle.io`, :mod:`ppl_mle.demo`, :mod:`ppl_mle.cli`.
"""

from ppl_mle import _pytensor  # noqa: F401  (imports pymc and arviz without vendor noise)
from ppl_mle.analytic import AnalyticCheck, check_analytic
from ppl_mle.analytic_posterior import analytic_posterior
from ppl_mle.bayes import BayesComparison, compare_bayes
from ppl_mle.closed_form import (
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
from ppl_mle.divergence import (
    DivergenceReport,
    divergence,
    kl_divergence,
    kl_normal,
    total_variation,
)
from ppl_mle.errors import (
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
from ppl_mle.families import CategoricalFamily, NormalFamily, SoftmaxFamily
from ppl_mle.fit import fit_mle
from ppl_mle.flat import flat_priors
from ppl_mle.inference_data import mle_inference_data
from ppl_mle.laplace import laplace_draws
from ppl_mle.likelihood_ratio import HypothesisTestResult, lr_test, pearson_test
from ppl_mle.models import (
    MLEModel,
    categorical,
    categorical_from_counts,
    categorical_from_source,
    normal,
    normal_from_source,
    normal_from_stats,
    softmax_regression,
)
from ppl_mle.plots import plot_comparison, plot_loglik_contour, plot_profiles
from ppl_mle.profile import ProfileInterval, profile_interval, profile_loglik
from ppl_mle.result import MLEResult
from ppl_mle.streaming import label_counts_of, normal_stats_of
from ppl_mle.summary import format_summary, summarize
from ppl_mle.symbolic import categorical_derivation, normal_derivation
from ppl_mle.uncertainty import Uncertainty, uncertainty

__version__ = "0.1.0"

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
