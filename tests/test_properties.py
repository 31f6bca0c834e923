"""Property tests: equivariance of the normal fit, invariances of the categorical fit."""

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import ppl_mle

# Each example compiles PyMC models: few examples, no deadline. Derandomized so CI is
# repeatable; hunt with more examples locally (HYPOTHESIS_EXAMPLES=200 below).
SETTINGS = settings(
    max_examples=int(os.environ.get("HYPOTHESIS_EXAMPLES", "4")),
    deadline=None,
    derandomize="HYPOTHESIS_EXAMPLES" not in os.environ,
    suppress_health_check=[HealthCheck.too_slow],
)

# The normal examples share one model, given each sample by ``replace_data`` (validated as
# ``normal`` validates it): PyTensor compiles it once, not twice an example. (The categorical
# test keeps fresh models: it checks relabelled categories, which replace_data refuses.)
_NORMAL: list[ppl_mle.MLEModel] = []


def fit_normal(x):
    """The MLE of the normal model of ``x``, by the one shared model."""
    if not _NORMAL:
        _NORMAL.append(ppl_mle.normal(x))
    else:
        _NORMAL[0].replace_data(x)
    return ppl_mle.fit_mle(_NORMAL[0])


samples = st.lists(
    st.floats(min_value=-1e3, max_value=1e3, allow_nan=False, allow_infinity=False),
    min_size=3,
    max_size=40,
).filter(lambda xs: np.ptp(xs) > 1e-3 * (1 + max(abs(v) for v in xs)))


@SETTINGS
@given(
    xs=samples,
    a=st.floats(min_value=-1e4, max_value=1e4),
    b=st.floats(min_value=1e-2, max_value=1e2) | st.floats(min_value=-1e2, max_value=-1e-2),
)
# Found by hypothesis: ties at the median made the MAD ~1e-165 beside a value of 840, and the
# log-likelihood at that start overflowed.
@example(
    xs=[0.0, -1.0186337574800256e-164, 1.259958449693284e-253, 840.9594775105732], a=800.0, b=1 / 3
)
@example(xs=[0.0, 1.0, 4.9231630359915596e-145], a=0.0, b=1.0)
def test_normal_fit_is_affine_equivariant(xs, a, b):
    x = np.asarray(xs)
    base = fit_normal(x)
    moved = fit_normal(a + b * x)
    assert base.converged and moved.converged
    mu, sigma = float(base.estimates["mu"]), float(base.estimates["sigma"])
    scale = abs(a) + abs(b) * (abs(mu) + sigma)
    assert float(moved.estimates["mu"]) == pytest.approx(a + b * mu, abs=1e-9 * scale)
    assert float(moved.estimates["sigma"]) == pytest.approx(abs(b) * sigma, rel=1e-9)
    # ℓ shifts by −n·log|b| under the change of variables.
    assert moved.loglik == pytest.approx(base.loglik - x.size * np.log(abs(b)), abs=1e-8)


labels = st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=2, max_size=60).filter(
    lambda ls: len(set(ls)) >= 2
)


@SETTINGS
@given(ls=labels, seed=st.integers(0, 2**32 - 1))
def test_categorical_fit_is_permutation_invariant_and_follows_relabelling(ls, seed):
    rng = np.random.default_rng(seed)
    cats = ["a", "b", "c", "d"]
    base = ppl_mle.fit_mle(ppl_mle.categorical(ls, categories=cats))
    shuffled = ppl_mle.fit_mle(ppl_mle.categorical(list(rng.permutation(ls)), categories=cats))
    np.testing.assert_allclose(
        shuffled.estimates["theta"], base.estimates["theta"], rtol=1e-12, atol=0
    )
    assert shuffled.loglik == pytest.approx(base.loglik, abs=1e-10)
    # Relabel a→w, b→x, c→y, d→z and list the new categories in a permuted order.
    rename = dict(zip(cats, ["w", "x", "y", "z"], strict=True))
    order = list(rng.permutation(["w", "x", "y", "z"]))
    relabelled = ppl_mle.fit_mle(ppl_mle.categorical([rename[v] for v in ls], categories=order))
    theta_new = dict(zip(order, relabelled.estimates["theta"], strict=True))
    for c, p in zip(cats, base.estimates["theta"], strict=True):
        assert theta_new[rename[c]] == pytest.approx(p, rel=1e-12, abs=0)
    counts = np.array([ls.count(c) for c in cats])
    np.testing.assert_allclose(base.estimates["theta"], counts / len(ls), rtol=1e-12, atol=0)
