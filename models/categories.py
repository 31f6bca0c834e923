"""Twenty labels from four categories (and a fifth never observed): the categorical MLE.

Run: python models/categories.py
"""

import ppl_mle

labels = ["a", "b", "a", "c", "d", "b", "a", "a", "c", "b", "a", "d", "c", "b", "a", "d", "a"]
labels += ["c", "b", "a"]

# theta ~ Dirichlet(1, ..., 1) (flat on the simplex), label ~ Categorical(theta)
model = ppl_mle.categorical(labels, categories=["a", "b", "c", "d", "e"])
result = ppl_mle.fit_mle(model)
print(result)
print()
print(result.check_analytic())
