"""A second look from a saddle: where find_MAP stopped at a point that is not a maximum.

A gradient method started at a stationary point that is not a maximum (``w·z`` with both at
0; a normal model started with σ far below the spread of data near 1e7) stops there at
once and reports success. The exact Hessian shows the way out: along its eigenvector of
largest eigenvalue the log-likelihood curves upward on both sides. :func:`escape_saddle`
walks along it until the objective has clearly risen, and returns that point as a new start
for find_MAP.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ppl_mle.core.tolerances import VALUE_RTOL
from ppl_mle.fit.objective import Objective

__all__ = ["Escape", "escape_saddle"]

#: Step lengths tried along the upward direction: 2^k / sqrt(curvature), k = 0, 1, …
_MAX_DOUBLINGS = 60


@dataclass(frozen=True)
class Escape:
    """Where to restart, and the direction taken (for the message).

    Attributes
    ----------
    z : numpy.ndarray
        The new start, on the objective's unconstrained scale.
    direction : str
        The upward direction, in words.
    rise : float
        How much higher the objective is there.
    """

    z: np.ndarray
    direction: str
    rise: float


def escape_saddle(objective: Objective, z: np.ndarray, hessian: np.ndarray) -> Escape | None:
    """A point along the direction of upward curvature with a clearly higher objective.

    Parameters
    ----------
    objective : Objective
        The objective.
    z : numpy.ndarray
        The point find_MAP returned.
    hessian : numpy.ndarray
        The exact Hessian there, with a positive eigenvalue.

    Returns
    -------
    Escape or None
        None when the Hessian curves upward nowhere, or no point along the direction is
        higher by more than the rounding noise.
    """
    if not np.all(np.isfinite(hessian)):
        return None
    eigval, eigvec = np.linalg.eigh(0.5 * (hessian + hessian.T))
    if eigval[-1] <= 0:
        return None
    direction = eigvec[:, -1]
    base, _ = objective.value_and_grad(z)
    if not math.isfinite(base):
        return None
    noise = VALUE_RTOL * max(1.0, abs(base))
    length = 1.0 / math.sqrt(eigval[-1])
    for _ in range(_MAX_DOUBLINGS):
        best: tuple[float, np.ndarray] | None = None
        for sign in (1.0, -1.0):
            trial = z + sign * length * direction
            value, _ = objective.value_and_grad(trial)
            if math.isfinite(value) and value > base + noise and (best is None or value > best[0]):
                best = (value, trial)
        if best is not None:
            names = objective.coordinate_names()
            order = np.argsort(-np.abs(direction))
            words = " ".join(
                f"{direction[i]:+.3g}·{names[i]}" for i in order[:4] if abs(direction[i]) > 1e-3
            )
            return Escape(best[1], words, best[0] - base)
        length *= 2.0
    return None
