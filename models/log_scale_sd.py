"""Invariance of the MLE: fit the sd on the log scale and transform back.

The model below is written by hand, as a PyMC user would: log_sigma has a flat prior on the
real line and sigma = exp(log_sigma). Its MLE of exp(log_sigma) is the MLE of sigma from
ppl_mle.normal, because the MLE is invariant under reparametrisation.

Run: python models/log_scale_sd.py
"""

import numpy as np
import pymc as pm

import ppl_mle

rng = np.random.default_rng(7)
x = rng.normal(10.0, 2.0, size=50)

with pm.Model() as log_model:
    mu = pm.Flat("mu")
    log_sigma = pm.Flat("log_sigma")
    pm.Normal("x", mu=mu, sigma=pm.math.exp(log_sigma), observed=x)

on_log_scale = ppl_mle.fit_mle(log_model)
direct = ppl_mle.fit_mle(ppl_mle.normal(x))
sigma_from_log = float(np.exp(on_log_scale.estimates["log_sigma"]))
print(on_log_scale)
print()
print(f"exp(log_sigma MLE) = {sigma_from_log:.15g}")
print(f"sigma MLE          = {float(direct.estimates['sigma']):.15g}")
print(f"closed form        = {ppl_mle.closed_form.normal_mle(x)['sigma']:.15g}  (sqrt(SS/n))")
