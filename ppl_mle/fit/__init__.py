"""Fitting a model.

Fitting: the compiled objective, the optimisers, verification and status, the fit record,
and the check against the closed form.

"""

# First: imports pymc and arviz without their vendor noise; it must run before any module
# of this package imports them.
from ppl_mle.model import _pytensor  # noqa: F401
