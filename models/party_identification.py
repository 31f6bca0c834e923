"""Party identification (ANES 1996, shipped with statsmodels): softmax regression.

Seven classes of PID on population, self-placement, age, education and income; the first
class (strong Democrat) is the reference. The MLE minimises the mean cross-entropy.

Run: python models/party_identification.py
(the data and the comparison come from statsmodels: pip install -e ".[test]")
"""

import statsmodels.api as sm

import ppl_mle

data = sm.datasets.anes96.load_pandas().data
features = data[["logpopul", "selfLR", "age", "educ", "income"]]
party = data["PID"].astype(int)

model = ppl_mle.softmax_regression(features, party)  # beta ~ Flat, y ~ Categorical(softmax)
result = ppl_mle.fit_mle(model)  # Newton: the Hessian is known in closed form
print(result.message)
print(ppl_mle.format_summary(result.summary()))

beta = result.estimates["beta"]
print(f"\nmean cross-entropy {model.family.cross_entropy(beta):.12f}")
print(f"-loglik / n        {-result.loglik / result.n_obs:.12f}")

# The same model in statsmodels, for comparison.
reference = sm.MNLogit(party, sm.add_constant(features)).fit(disp=0, method="newton")
print(f"statsmodels MNLogit log-likelihood {reference.llf:.10f}, ours {result.loglik:.10f}")
