"""Numbers only: numpy and scipy.

Numbers only (numpy and scipy): closed forms, the families behind one protocol, Newton's
method, divergences, exact posteriors, the errors and warnings, and the numerical
tolerances shared across the package (:mod:`ppl_mle.core.tolerances`).

"""
