"""The numerical tolerances that more than one module relies on, each defined once.

A tolerance in "standard errors" (SE) measures a Newton step −H⁻¹g coordinate by
coordinate against sqrt(diag(−H⁻¹)), or as the Newton decrement √(gᵀ(−H)⁻¹g), which bounds
every such coordinate: it says how far the maximum still is compared with the statistical
uncertainty of the estimate, whatever the units of the parameters. Tolerances used by one
function only stay beside it.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "MIN_STEP_FRACTION",
    "NEWTON_DECREMENT_TOL",
    "NOISE_FLOOR_SE",
    "POLISH_FLOOR_SE",
    "QUADRATIC_SE",
    "ROOT_RTOL",
    "VALUE_RTOL",
    "VERIFY_TOL_SE",
]

_EPS = float(np.finfo(np.float64).eps)

#: A fit is verified when the Newton step left is below this many standard errors: the
#: optimisation error is then negligible against the statistical uncertainty. A constrained Newton
#: solve of the profile likelihood whose step stops shrinking below it counts as converged,
#: for the same reason.
VERIFY_TOL_SE = 1e-4

#: Below this Newton step (in standard errors, or Newton decrement) the local quadratic model
#: is exact far below the rounding noise of the objective's value: the step is taken whole,
#: without consulting the objective's value. Below it, a step that no longer halves means
#: quadratic convergence has met the floating-point noise of the gradient (large n, data far
#: from 0): the Newton iteration stops there, and the verification judges the point.
QUADRATIC_SE = 1e-2

#: The Newton optimizer (``method="Newton"``) stops once the Newton decrement is this small:
#: f − f* ≈ decrement²/2 = 5e-21, the maximum to a hundred-millionth of a standard error.
NEWTON_DECREMENT_TOL = 1e-10

#: A Newton step (or decrement) this many standard errors long is at the floating-point noise
#: floor of a log-likelihood summed over many observations: converged (the profile's
#: constrained Newton, the categorical fit's O(k) Newton polish).
NOISE_FLOOR_SE = 1e-13

#: The Newton polish of a fit stops at a step this many standard errors long: at the maximum
#: to the last digits float64 holds (one more step would move the estimate by less than an
#: ulp). Smaller than NOISE_FLOOR_SE: the polish keeps the best point it visits, so an extra
#: step costs nothing but time.
POLISH_FLOOR_SE = 1e-14

#: A backtracking line search halves the step from 1 until it is accepted; past this fraction
#: (about 2⁻⁴⁰, forty halvings) the direction gives no decrease: the search has failed.
MIN_STEP_FRACTION = 1e-12

#: Relative rounding noise of an objective's value (a sum of many log-densities): 8 ulps,
#: times max(1, |value|). Two values closer than that are equal as far as the objective can
#: tell (a line search may accept such a "non-increase"; Nelder-Mead may stop).
VALUE_RTOL = 8 * _EPS

#: The smallest relative tolerance ``scipy.optimize.brentq`` accepts (4 ulps): interval
#: endpoints are found to full double precision.
ROOT_RTOL = 4 * _EPS
