"""The names of the optimisation methods ``fit_mle`` accepts, grouped by what they use.

Plain constants (no numpy), so that the command line can list them in its help without
importing the fitting stack (:mod:`ppl_mle.fit.optimize` runs them).
"""

from __future__ import annotations

__all__ = ["DERIVATIVE_FREE_METHODS", "GRADIENT_METHODS", "NEWTON_METHODS"]

#: Quasi-Newton and gradient methods, given the exact gradient.
GRADIENT_METHODS = ("L-BFGS-B", "BFGS", "CG", "TNC", "SLSQP")
#: Methods given the exact Hessian (Newton, trust-exact) or Hessian-vector products
#: (Newton-CG): quadratic convergence where quasi-Newton methods crawl (many badly scaled
#: coefficients). "Newton" is :func:`ppl_mle.core.newton.newton_minimize`, handed to find_MAP
#: as a custom scipy method.
NEWTON_METHODS = ("Newton", "trust-exact", "Newton-CG")
#: Methods that use values of the log-likelihood only.
DERIVATIVE_FREE_METHODS = ("Nelder-Mead", "Powell")
