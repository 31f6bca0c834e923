"""For teaching: the ideas behind maximum likelihood, computed.

- why the log-likelihood: :func:`product_underflow_n`, the sample size from which the
  product of densities underflows float64 while their sum of logs does not;
- maximising likelihood is minimising KL(empirical ‖ model): :func:`divergence`,
  :func:`kl_divergence`, :func:`kl_normal`, :func:`total_variation`;
- SymPy derivations of the closed forms (:func:`normal_derivation`,
  :func:`categorical_derivation`; SymPy is imported when one is called);
- :mod:`ppl_mle.teaching.demo`, the demo on built-in data.
"""

from ppl_mle.core.closed_form import product_underflow_n
from ppl_mle.core.divergence import (
    DivergenceReport,
    divergence,
    kl_divergence,
    kl_normal,
    total_variation,
)
from ppl_mle.teaching.symbolic import categorical_derivation, normal_derivation

__all__ = [
    "DivergenceReport",
    "categorical_derivation",
    "divergence",
    "kl_divergence",
    "kl_normal",
    "normal_derivation",
    "product_underflow_n",
    "total_variation",
]
