"""Heights again: the MLE with its uncertainty, beside the full posterior of the same model.

Run: python models/heights_bayes.py [picture.png]
"""

import sys

import ppl_mle

heights = [160, 162, 165, 167, 170, 172, 175, 177, 180, 182]

model = ppl_mle.normal(heights)  # mu ~ Flat, sigma ~ HalfFlat, x ~ Normal(mu, sigma)
result = ppl_mle.fit_mle(model)
print(ppl_mle.format_summary(result.summary()))
print()

comparison = ppl_mle.compare_bayes(
    result, draws=1000, tune=1000, chains=4, random_seed=1, profile=True
)
print(comparison)
# Under flat priors the posterior mode is the MLE; the posterior mean of sigma is larger.
print()
print(comparison.table[["mle", "posterior_mode", "posterior_mean", "exact_mean"]])

if len(sys.argv) > 1:
    from ppl_mle.bayes.plots import plot_comparison

    plot_comparison(comparison, sys.argv[1])
