"""Statistical families: what a model is, independent of PyMC (numpy/scipy only).

A family holds the validated data and answers the questions of the :class:`Family`
protocol: the closed-form MLE (or that there is none), the log-likelihood at any parameter
value, sensible starting values, where the MLE sits on the boundary of the parameter
space, the exact posterior under flat priors (or ``None``), and more. The PyMC declarations
in :mod:`ppl_mle.model.declarations` carry their family, so a fit can be checked against
it. Code outside this package asks the protocol and never tests a family's type.
"""

from __future__ import annotations

from ppl_mle.core.families.categorical import STRUCTURED_MIN_K, CategoricalFamily
from ppl_mle.core.families.normal import NormalFamily
from ppl_mle.core.families.protocol import Family
from ppl_mle.core.families.softmax import SoftmaxFamily

__all__ = ["STRUCTURED_MIN_K", "CategoricalFamily", "Family", "NormalFamily", "SoftmaxFamily"]
