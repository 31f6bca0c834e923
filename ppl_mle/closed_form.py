"""The closed forms every fit is checked against, and the families that hold them.

numpy and scipy only (no PyMC): the MLEs and log-likelihoods of the normal and categorical
models, their sufficient statistics, the conjugate posteriors, and the families
(:class:`NormalFamily`, :class:`CategoricalFamily`, :class:`SoftmaxFamily` and their
per-group forms) behind ``ppl_mle.normal`` and friends. A fitted model's family is
``model.family``; ``result.check_analytic()`` compares a fit with its closed form.
"""

from __future__ import annotations

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
)
from ppl_mle.core.families import CategoricalFamily, NormalFamily, SoftmaxFamily
from ppl_mle.core.grouped import GroupedCategoricalFamily, GroupedNormalFamily, GroupStats

__all__ = [
    "CategoricalFamily",
    "GroupStats",
    "GroupedCategoricalFamily",
    "GroupedNormalFamily",
    "NormalFamily",
    "NormalStats",
    "SoftmaxFamily",
    "analytic_posterior",
    "categorical_loglik",
    "categorical_mle",
    "categorical_mle_constrained",
    "merge_normal_stats",
    "normal_loglik",
    "normal_mle",
    "normal_stats",
]
