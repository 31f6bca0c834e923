"""Exact posteriors of the flat-prior models (numpy/scipy only).

With ``mu ~ Flat`` and ``sigma ~ HalfFlat`` (flat in sigma itself) and n normal observations
with mean x̄ and SS = Σ(x − x̄)², the joint posterior is ∝ σ⁻ⁿ exp(−(SS + n(μ − x̄)²)/(2σ²)):

- the marginal of μ is Student-t with n − 2 degrees of freedom, location x̄ and scale
  sqrt(SS / (n(n − 2)));
- the marginal of σ² is inverse-gamma with shape (n − 2)/2 and scale SS/2 (equivalently
  SS/σ² ~ χ²ₙ₋₂), so E[σ] = sqrt(SS/2)·Γ((n − 3)/2)/Γ((n − 2)/2) > σ̂;
- the joint mode is (x̄, sqrt(SS/n)), the MLE; the marginal mode of σ is sqrt(SS/(n − 1)).

The posterior is proper only for n ≥ 3. With σ known, μ | x ~ Normal(x̄, σ/√n). For the
categorical model with a flat Dirichlet prior, θ | x ~ Dirichlet(1 + counts), whose marginals
are Beta(1 + cⱼ, n + k − 1 − cⱼ) and whose mode is counts/n, the MLE.

Each family holds its own formulas (``Family.exact_posterior``, ``Family.check_proper``);
this module asks them, and says so where a family has no exact posterior.
"""

from __future__ import annotations

from typing import Any

from ppl_mle.core.distributions import SqrtInvGamma
from ppl_mle.core.errors import ModelError
from ppl_mle.core.families import Family

__all__ = ["SqrtInvGamma", "analytic_posterior", "check_proper"]


def check_proper(family: Family) -> None:
    """Raise if the flat-prior posterior of ``family`` is improper.

    Raises
    ------
    ModelError
        The normal model with sigma unknown and fewer than 3 observations.
    """
    family.check_proper()


def analytic_posterior(family: Family) -> dict[str, Any]:
    """Exact marginal posterior of each scalar parameter under the flat priors.

    Parameters
    ----------
    family : Family
        The normal or categorical family (the others have no exact posterior).

    Returns
    -------
    dict
        Label → frozen distribution with ``cdf``, ``ppf``, ``mean`` (scipy's, or
        :class:`SqrtInvGamma` for σ). Labels as in :meth:`MLEResult.to_dataframe`.

    Raises
    ------
    ModelError
        An improper posterior (:func:`check_proper`), or a family without an exact
        posterior (softmax regression).
    """
    exact = family.exact_posterior()
    if exact is None:
        raise ModelError(
            f"the {family.name} model has no exact posterior under flat priors (only the "
            "normal and categorical models do): sample it with compare_bayes instead."
        )
    return exact
