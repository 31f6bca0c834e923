"""For teaching.

For teaching: SymPy derivations of the closed forms and the demo on built-in data.
"""

# First: imports pymc and arviz without their vendor noise; it must run before any module
# of this package imports them.
from ppl_mle.model import _pytensor  # noqa: F401
