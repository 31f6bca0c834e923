"""Estimates on the boundary of the parameter space, and the problem left in the interior.

Where the family knows an MLE is on the boundary (a category never observed has probability
exactly 0), that estimate is set exactly and the rest is fitted and verified in the interior;
where every observation is in one category, the MLE is a vertex of the simplex and nothing is
left to optimise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pymc as pm
from pymc.initial_point import make_initial_point_fn

from ppl_mle.core.families import CategoricalFamily, Family
from ppl_mle.fit.objective import Objective, objective_for
from ppl_mle.fit.optimize import OptimizerRun
from ppl_mle.fit.start import start_vector
from ppl_mle.model._pytensor import quiet_vendor_warnings
from ppl_mle.model.declarations import model_for

__all__ = [
    "Boundary",
    "boundary_shift_se",
    "embedded_unconstrained",
    "find_boundary",
    "interior_problem",
    "vertex_estimates",
]


@dataclass(frozen=True)
class Boundary:
    """Which estimates lie on the boundary, and the family of the interior problem.

    Attributes
    ----------
    mask : dict of str to numpy.ndarray
        Boolean mask per variable of the estimates on the boundary; empty when none is.
    simplex : CategoricalFamily or None
        The family, where its parameters are on a simplex (the only ones with a boundary).
    interior : CategoricalFamily or None
        The family restricted to the interior parameters (the observed categories), or
        None when nothing is on the boundary.
    note : str
        For estimates on a bound of their support in any other model
        (:mod:`ppl_mle.fit.support_bound`): which, and the KKT conditions verified there.
    data_note : str
        For estimates on a bound set by the data (:mod:`ppl_mle.fit.data_bound`): which.
    """

    mask: dict[str, np.ndarray]
    simplex: CategoricalFamily | None = None
    interior: CategoricalFamily | None = None
    note: str = ""
    data_note: str = ""

    @property
    def at_vertex(self) -> bool:
        """Whether no interior parameter is left (every observation in one category)."""
        return self.interior is not None and self.interior.k == 1


def find_boundary(family: Family | None) -> Boundary:
    """The estimates the family puts on the boundary, and the interior problem."""
    simplex = family.simplex() if family is not None else None
    if simplex is None:
        return Boundary({})
    mask = simplex.boundary()
    return Boundary(mask, simplex, simplex.interior() if mask else None)


def interior_problem(
    boundary: Boundary, objective: Objective, run: OptimizerRun
) -> tuple[Objective, np.ndarray]:
    """The objective of the interior parameters, and find_MAP's point in its coordinates.

    Without boundary estimates, ``objective`` and find_MAP's own point.
    """
    if boundary.interior is None:
        return objective, run.z
    inner = objective_for(model_for(boundary.interior))
    theta = np.asarray(run.natural["theta"])[~boundary.mask["theta"]]
    return inner, start_vector(inner.model, inner, None, {"theta": theta / theta.sum()})


def vertex_estimates(family: CategoricalFamily) -> tuple[dict[str, np.ndarray], float]:
    """Every observation in one category: the MLE is that vertex of the simplex, exactly.

    Nothing is left to optimise or verify: θⱼ = 1 for the observed category maximises
    Σ cᵢ log θᵢ = n log θⱼ on the simplex. The log-likelihood is PyMC's own Categorical
    log-probability of the data at that vertex (0).

    Returns
    -------
    estimates : dict of str to numpy.ndarray
    loglik : float
    """
    estimates = family.embed({"theta": np.ones(1)})
    theta = estimates["theta"]
    if family.codes is None:
        loglik = family.loglik(estimates)
    else:
        with quiet_vendor_warnings():
            loglik = float(pm.logp(pm.Categorical.dist(p=theta), family.codes).sum().eval())
    return estimates, loglik


def embedded_unconstrained(
    model: pm.Model, objective: Objective, estimates: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """The estimate in the model's unconstrained coordinates (NaN/inf on a boundary)."""
    with quiet_vendor_warnings(), np.errstate(all="ignore"):
        point = make_initial_point_fn(
            model=model, overrides=estimates, jitter_rvs=set(), return_transformed=True
        )(None)
    return {s.name: np.asarray(point[s.name]) for s in objective.slots}


def boundary_shift_se(family: CategoricalFamily, natural: dict[str, np.ndarray]) -> float:
    """How far find_MAP left the boundary categories from 0, in their own standard errors.

    For a category with count 0 the natural yardstick is the binomial SE of a probability
    of 1/n, about 1/n; a find_MAP value of 1e-9 is then ~1e-9·n SE from the boundary.
    """
    theta = np.asarray(natural["theta"])[family.counts == 0]
    return float(np.max(theta) * family.n_obs) if theta.size else 0.0
