"""The Bayesian side.

The Bayesian side: NUTS on the same model beside the MLE, Laplace draws, the picture.
"""

# First: imports pymc and arviz without their vendor noise; it must run before any module
# of this package imports them.
from ppl_mle.model import _pytensor  # noqa: F401
