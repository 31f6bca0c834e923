"""The Laplace approximation at the MLE, with the exact Hessian.

A multivariate normal in the unconstrained coordinates ``z`` — mean ẑ, covariance the
inverse observed information −∇²ℓ(ẑ)⁻¹ (PyTensor autodiff) — pushed through the model's
transforms into the natural parameters: log-normal for σ, logistic-normal for θ. This is
the approximation pymc-extras' ``fit_laplace`` makes, but with the exact Hessian instead of
the optimizer's quasi-Newton one. Estimates on the boundary stay exactly there.
"""

from __future__ import annotations

import numpy as np

from ppl_mle.api.result import MLEResult
from ppl_mle.core.errors import ModelError
from ppl_mle.fit.record import at_vertex
from ppl_mle.inference.uncertainty import natural_labels

__all__ = ["laplace_draws"]


def laplace_draws(
    result: MLEResult, size: int = 4000, random_seed: int | None = None
) -> dict[str, np.ndarray]:
    """Draws from the Laplace approximation, by parameter label.

    Parameters
    ----------
    result : MLEResult
        A verified fit.
    size : int
        Number of draws.
    random_seed : int, optional
        Seed.

    Returns
    -------
    dict of str to numpy.ndarray
        One array of ``size`` draws per scalar natural parameter; NaN when the information
        matrix is singular or nothing is left in the interior (a single category).
    """
    labels = list(result.to_dataframe().index)
    unc = result.uncertainty()
    if at_vertex(result) or not unc.identified:
        return {label: np.full(size, np.nan) for label in labels}
    if unc.working_estimate is None or unc.working_cov is None:
        # The O(k) uncertainty of a categorical fit with very many categories forms no
        # covariance in the unconstrained coordinates.
        raise ModelError(
            "the Laplace approximation needs the covariance of the unconstrained "
            "coordinates, which this fit's uncertainty does not form (a categorical model "
            "with very many categories has closed-form standard errors only)."
        )
    rng = np.random.default_rng(random_seed)
    # Drawn in the units the fit worked in (finite whatever the scale of the data).
    z = rng.multivariate_normal(unc.working_estimate, unc.working_cov, size=size)
    objective = result.objective
    inner = natural_labels(result)
    values = np.empty((size, len(inner)))
    for i in range(size):
        natural = objective.natural(z[i])
        values[i] = np.concatenate([np.ravel(v) for v in natural.values()])
    out = {label: np.zeros(size) for label in labels}  # boundary estimates stay at 0
    for j, label in enumerate(inner):
        out[label] = values[:, j]
    return out
