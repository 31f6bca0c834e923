"""Affine changes of units between a user's parameters and the ones a fit works in (numpy only).

The normal MLE is equivariant under x → a + b·x: fitting the data y = (x − a)/b gives
μ̂ = a + b·μ̂_y and σ̂ = b·σ̂_y exactly, with ℓ_x = ℓ_y − n·log b. Floating point is kind
only where the numbers are near 1: data near 1e300 overflow σ², data near 1e9 with spread
0.01 leave μ eight digits to move in. A fit therefore runs on working data centred on a
pivot a and divided by a power of two b (both exact operations), and an :class:`AffineMap`
carries every quantity back: estimates, the unconstrained point, the log-likelihood, the
Jacobian of the natural parameters.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import cast

import numpy as np

__all__ = ["AffineMap"]


@dataclass(frozen=True)
class AffineMap:
    """User value = offset + scale · working value, per parameter and per coordinate.

    Attributes
    ----------
    natural : mapping of str to (offset, scale)
        For each free variable's natural value (``mu``: (a, b); ``sigma``: (0, b)); a
        scale may be an array broadcast against the value (softmax coefficients, one scale
        per feature).
    z_offset, z_scale : numpy.ndarray
        For each entry of the unconstrained vector ``z`` (``mu``: (a, b);
        ``sigma_log__``: (log b, 1)).
    loglik_offset : float
        Added to the working log-likelihood (−n·log b).
    """

    natural: Mapping[str, tuple[float, float | np.ndarray]] = field(default_factory=dict)
    z_offset: np.ndarray = field(default_factory=lambda: np.zeros(0))
    z_scale: np.ndarray = field(default_factory=lambda: np.ones(0))
    loglik_offset: float = 0.0

    @property
    def identity(self) -> bool:
        """Whether the map changes nothing."""
        return not self.natural and self.loglik_offset == 0.0

    @classmethod
    def normal(cls, offset: float, scale: float, n: int, *, sigma_free: bool) -> AffineMap:
        """The map of the normal model fitted to (x − offset)/scale."""
        natural = {"mu": (offset, scale)}
        z_offset, z_scale = [offset], [scale]
        if sigma_free:
            natural["sigma"] = (0.0, scale)
            z_offset.append(math.log(scale))
            z_scale.append(1.0)
        return cls(natural, np.array(z_offset), np.array(z_scale), -n * math.log(scale))

    def values(self, working: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Natural values in the user's units."""
        out = {}
        for name, value in working.items():
            offset, scale = self.natural.get(name, (0.0, 1.0))
            out[name] = np.asarray(offset + scale * np.asarray(value, dtype=np.float64))
        return out

    def scales(self, working: Mapping[str, np.ndarray]) -> np.ndarray:
        """The scale of every flattened natural value, in the order of ``working``."""
        return np.concatenate(
            [
                np.broadcast_to(self.natural.get(name, (0.0, 1.0))[1], np.shape(value)).ravel()
                for name, value in working.items()
            ]
        )

    def z_scales(self, size: int) -> np.ndarray:
        """The scale of each of the ``size`` entries of ``z``."""
        return self.z_scale.copy() if self.z_scale.size else np.ones(size)

    def user_z(self, z: np.ndarray) -> np.ndarray:
        """Unconstrained point in the user's units."""
        if not self.z_scale.size:
            return np.array(z, dtype=np.float64)
        return cast(np.ndarray, self.z_offset + self.z_scale * np.asarray(z, dtype=np.float64))

    def working_z(self, z: np.ndarray) -> np.ndarray:
        """Unconstrained point in the working units."""
        if not self.z_scale.size:
            return np.array(z, dtype=np.float64)
        return cast(np.ndarray, (np.asarray(z, dtype=np.float64) - self.z_offset) / self.z_scale)
