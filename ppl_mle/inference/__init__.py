"""What is computed from a fit.

Computed from a fit: uncertainty, profile likelihood, the summary table, likelihood-ratio
tests, ArviZ data, pictures of the likelihood.

"""
