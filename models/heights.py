"""Heights of ten people: the normal model with mean and sd unknown, fitted and checked.

Run: python models/heights.py
"""

import ppl_mle

heights = [160, 162, 165, 167, 170, 172, 175, 177, 180, 182]

model = ppl_mle.normal(heights)  # mu ~ Flat, sigma ~ HalfFlat, x ~ Normal(mu, sigma)
result = ppl_mle.fit_mle(model, method="L-BFGS-B")
print(result)
print()
print(result.check_analytic())

# The same data with the sd known: only mu is estimated, by a derivative-free method.
known = ppl_mle.fit_mle(ppl_mle.normal(heights, sigma=7.0), method="Nelder-Mead")
print()
print(known)
