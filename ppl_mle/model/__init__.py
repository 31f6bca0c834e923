"""PyMC declarations.

PyMC declarations: the families' models, flat priors for any model, the PyTensor lock.
"""

# First: imports pymc and arviz without their vendor noise; it must run before any module
# of this package imports them.
from ppl_mle.model import _pytensor  # noqa: F401
