"""Fitting a model.

Fitting: the compiled objective, the optimisers, verification and status, the fit record,
and the check against the closed form.

"""
