"""The Bayesian side.

The Bayesian side: NUTS on the same model beside the MLE, Laplace draws, the picture.
"""
