"""The public entry point.

The public entry: :func:`fit_mle` runs the fit and returns an :class:`MLEResult`, a fit
record whose methods reach the inference layer.

"""
