"""For teaching: the ideas behind maximum likelihood, computed.

- why the log-likelihood: :func:`product_underflow_n`, the sample size from which the
  product of densities underflows float64 while their sum of logs does not;
- maximising likelihood is minimising KL(empirical ‖ model): :func:`divergence`,
  :func:`kl_divergence`, :func:`kl_normal`, :func:`total_variation`;
- SymPy derivations of the closed forms (:func:`normal_derivation`,
  :func:`categorical_derivation`; SymPy is imported when one is called);
- :mod:`ppl_mle.teaching.demo`, the demo on built-in data.
"""

from importlib import import_module
from typing import Any

from ppl_mle.core.closed_form import product_underflow_n
from ppl_mle.core.divergence import (
    DivergenceReport,
    divergence,
    kl_divergence,
    kl_normal,
    total_variation,
)

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


def __getattr__(name: str) -> Any:
    """The derivations, from :mod:`ppl_mle.teaching.symbolic` on first use (PEP 562).

    That module needs SymPy (the ``symbolic`` extra); the rest of the package does not.
    """
    if name in ("categorical_derivation", "normal_derivation"):
        return getattr(import_module("ppl_mle.teaching.symbolic"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
