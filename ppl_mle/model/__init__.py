"""PyMC declarations.

PyMC declarations: the families' models, flat priors for any model, the PyTensor lock.
"""
