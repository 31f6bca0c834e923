"""The names of the optimisation methods ``fit_mle`` accepts, grouped by what they use.

Plain constants (no numpy), so that the command line can list them in its help without
importing the fitting stack (:mod:`ppl_mle.fit.optimize` runs them).
"""

from __future__ import annotations

import difflib

from ppl_mle.core.errors import ModelError

__all__ = [
    "DERIVATIVE_FREE_METHODS",
    "GRADIENT_METHODS",
    "METHODS",
    "NEWTON_METHODS",
    "check_method",
]

#: Quasi-Newton and gradient methods, given the exact gradient.
GRADIENT_METHODS = ("L-BFGS-B", "BFGS", "CG", "TNC", "SLSQP")
#: Methods given the exact Hessian (Newton, trust-exact) or Hessian-vector products
#: (Newton-CG): quadratic convergence where quasi-Newton methods crawl (many badly scaled
#: coefficients). "Newton" is :func:`ppl_mle.core.newton.newton_minimize`, handed to find_MAP
#: as a custom scipy method.
NEWTON_METHODS = ("Newton", "trust-exact", "Newton-CG")
#: Methods that use values of the log-likelihood only.
DERIVATIVE_FREE_METHODS = ("Nelder-Mead", "Powell")
#: Every method, in the order the help lists them.
METHODS = GRADIENT_METHODS + NEWTON_METHODS + DERIVATIVE_FREE_METHODS


def check_method(method: object, argument: str = "method") -> str:
    """The canonical spelling of a known method (any letter case), or ``ModelError``.

    Parameters
    ----------
    method : object
        What was asked for.
    argument : str
        How the caller spells the argument in the message (``"--method"`` on the command
        line).

    Raises
    ------
    ModelError
        Not a known method: the message names the nearest one (``LBFGS`` → ``L-BFGS-B``).
    """
    known = {m.lower(): m for m in METHODS}
    if isinstance(method, str) and method.lower() in known:
        return known[method.lower()]
    hint = ""
    if isinstance(method, str):
        # Compared without case and hyphens: LBFGS is nearer L-BFGS-B than BFGS.
        plain = {m.lower().replace("-", ""): m for m in METHODS}
        close = difflib.get_close_matches(method.lower().replace("-", ""), plain, n=1)
        hint = f" (did you mean {plain[close[0]]!r}?)" if close else ""
    raise ModelError(
        f"{argument} {method!r} is not a method{hint}; choose one of {', '.join(METHODS)}."
    )
