"""The public entry point.

The public entry: :func:`fit_mle` runs the fit and returns an :class:`MLEResult`, a fit
record whose methods reach the inference layer.

"""

# First: imports pymc and arviz without their vendor noise; it must run before any module
# of this package imports them.
from ppl_mle.model import _pytensor  # noqa: F401
