"""An objective with some coordinates held fixed: the interior problem beside a boundary.

Where an estimate lies on the bound of its support (a mean bounded below by 0 with data
whose mean is negative; a probability of 1 when every trial succeeded), its unconstrained
coordinate is at ±∞: ``σ(−∞) = 0`` and ``exp(−∞) = 0`` put the natural value exactly on the
bound, and the compiled objective evaluates there. :class:`HeldObjective` holds those
coordinates at ±∞ and presents the others as a smaller objective with the interface of
:class:`~ppl_mle.fit.objective.Objective`, so that the same polish, verification and
uncertainty run on the interior parameters, with the same compiled functions.
"""

from __future__ import annotations

import numpy as np
import pymc as pm

from ppl_mle.core.affine import AffineMap
from ppl_mle.fit.objective import Objective

__all__ = ["HeldObjective", "variable_names"]


class HeldObjective(Objective):
    """``base`` as a function of its free coordinates, the held ones fixed.

    An :class:`~ppl_mle.fit.objective.Objective` to every caller (it compiles nothing: each
    method evaluates ``base`` at the full point and keeps the free coordinates).

    Parameters
    ----------
    base : Objective
        The objective of the whole model, in the user's units.
    held : numpy.ndarray
        Boolean mask over ``base``'s coordinates: which are held. Each must belong to a
        variable with an elementwise transform (one coordinate per natural value).
    values : numpy.ndarray
        The values of all of ``base``'s coordinates; those of the held ones are used
        (±inf: the natural value on a bound).
    """

    def __init__(self, base: Objective, held: np.ndarray, values: np.ndarray) -> None:
        self.base = base
        self.held = np.asarray(held, dtype=bool)
        self.fixed = np.asarray(values, dtype=np.float64).copy()
        self.free = np.flatnonzero(~self.held)
        self.size = int(self.free.size)
        self.model = base.model
        self.affine = AffineMap()
        self.free_names = base.free_names
        self._held_values = _natural_mask(base, self.held)

    def releasing(self, name: str, index: int) -> Objective:
        """The objective with one held estimate free again (``base`` if none is left held).

        Parameters
        ----------
        name : str
            The free variable.
        index : int
            The position of the estimate in the variable, flattened.
        """
        model = self.model
        value = model.rvs_to_values[model[name]].name
        slot = next(s for s in self.base.slots if s.name == value)
        held = self.held.copy()
        held[slot.start + index] = False
        return HeldObjective(self.base, held, self.fixed) if held.any() else self.base

    @property
    def costly_hessian(self) -> bool:
        """Whether ``base``'s Hessian costs one pass over the data per coordinate."""
        return self.base.costly_hessian

    def full(self, u: np.ndarray) -> np.ndarray:
        """The point of ``base`` with free coordinates ``u``."""
        z = self.fixed.copy()
        z[self.free] = np.asarray(u, dtype=np.float64)
        return z

    def restrict(self, z: np.ndarray) -> np.ndarray:
        """The free coordinates of a point of ``base``."""
        return np.asarray(z, dtype=np.float64)[self.free]

    def __call__(self, u: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        """Return the objective, its gradient and its Hessian in the free coordinates."""
        f, g, h, _ = self.evaluate(u)
        return f, g, h

    def evaluate(self, u: np.ndarray) -> tuple[float, np.ndarray, np.ndarray, float]:
        """Objective, gradient, Hessian and log-likelihood in the free coordinates."""
        f, g, h, loglik = self.base.evaluate(self.full(u))
        return f, g[self.free], h[np.ix_(self.free, self.free)], loglik

    def hessian(self, u: np.ndarray) -> np.ndarray:
        """The Hessian in the free coordinates."""
        return self.evaluate(u)[2]

    def value_and_grad(self, u: np.ndarray) -> tuple[float, np.ndarray]:
        """The objective and its gradient in the free coordinates."""
        f, g = self.base.value_and_grad(self.full(u))
        return f, g[self.free]

    def loglik(self, u: np.ndarray) -> float:
        """The log-likelihood at ``u``."""
        return self.base.loglik(self.full(u))

    def natural(self, u: np.ndarray) -> dict[str, np.ndarray]:
        """Every free variable's natural value, held ones on their bounds."""
        return self.base.natural(self.full(u))

    def natural_derivatives(
        self, u: np.ndarray, weights: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Natural values, their Jacobian and a weighted Hessian, in the free coordinates.

        The rows of held values are zero: they do not move with the free coordinates.
        """
        if weights is not None:
            weights = np.where(self._held_natural(), 0.0, weights)
        values, jac, hess = self.base.natural_derivatives(self.full(u), weights)
        jac = jac[:, self.free]
        jac[self._held_natural(), :] = 0.0
        return values, jac, hess[np.ix_(self.free, self.free)]

    def _held_natural(self) -> np.ndarray:
        """Which flat natural values are held."""
        return self._held_values

    def natural_scales(self) -> np.ndarray:
        """Scale of each flat natural value (ones: the base works in the user's units)."""
        return self.base.natural_scales()

    def coordinate_names(self) -> list[str]:
        """Names of the free coordinates."""
        names = self.base.coordinate_names()
        return [names[i] for i in self.free]

    def user_point(self, u: np.ndarray) -> dict[str, np.ndarray]:
        """The point as the model's unconstrained values (±inf where held)."""
        return self.base.user_point(self.full(u))

    def from_point(self, point: dict[str, np.ndarray]) -> np.ndarray:
        """The free coordinates of a point given as value-variable values."""
        return self.restrict(self.base.from_point(point))

    def from_user_point(self, point: dict[str, np.ndarray]) -> np.ndarray:
        """The free coordinates of a point of the user's unconstrained values."""
        return self.restrict(self.base.from_user_point(point))

    def to_point(self, u: np.ndarray) -> dict[str, np.ndarray]:
        """The point as the model's value variables (±inf where held)."""
        return self.base.to_point(self.full(u))

    def mapped(self, affine: AffineMap) -> Objective:
        """Itself: a held objective works in the user's units."""
        return self


def _natural_mask(base: Objective, held: np.ndarray) -> np.ndarray:
    """The mask over the flat natural values (in ``free_names`` order) of held coordinates."""
    value_of = {name: value for value, name in variable_names(base.model).items()}
    slots = {s.name: s for s in base.slots}
    sizes = {name: np.size(v) for name, v in base.natural(np.zeros(base.size)).items()}
    parts = []
    for name in base.free_names:
        slot = slots[value_of[name]]
        if sizes[name] == slot.stop - slot.start:
            parts.append(held[slot.start : slot.stop])
        else:  # not elementwise (a simplex): never held
            parts.append(np.zeros(sizes[name], dtype=bool))
    return np.concatenate(parts) if parts else np.zeros(0, dtype=bool)


def variable_names(model: pm.Model) -> dict[str, str]:
    """The free variable of each value variable, by name (``"mu_interval__"``: ``"mu"``)."""
    return {model.rvs_to_values[rv].name: rv.name for rv in model.free_RVs}
