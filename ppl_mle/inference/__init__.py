"""What is computed from a fit.

Computed from a fit: uncertainty, profile likelihood, the summary table, likelihood-ratio
tests, ArviZ data, pictures of the likelihood.

"""

# First: imports pymc and arviz without their vendor noise; it must run before any module
# of this package imports them.
from ppl_mle.model import _pytensor  # noqa: F401
