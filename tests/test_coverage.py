"""Coverage of the 95% Wald and profile intervals for the normal mean and sd at n = 50.

A seeded simulation: R = 400 samples of n = 50 from Normal(mu = 5, sigma = 2), each fitted
with fit_mle (one model, data replaced, so PyTensor compiles once) and summarised. The
Monte Carlo standard error of an estimated coverage near 0.95 is
sqrt(0.95·0.05/400) = 0.0109; the band is 0.95 ± 3 MC SE = [0.917, 0.983].

The exact coverage of each interval is known for the normal model (through the t and χ²
distributions of the pivots), so the simulation is also checked against it, within the
same band: this is what makes the test sharp. It also shows the one honest exception:
the Wald interval of sigma, symmetric where the likelihood is skewed, covers only 92.9%
at n = 50 (exactly), and the simulation agrees; its profile interval covers 94.6%.
"""

import math

import numpy as np
import pytest
from scipy import optimize, stats

import ppl_mle

N, R, MU, SIGMA, SEED = 50, 400, 5.0, 2.0, 20261126
MC_SE = math.sqrt(0.95 * 0.05 / R)
Z = stats.norm.ppf(0.975)
Q = stats.chi2.ppf(0.95, df=1)


def exact_coverages(n: int) -> dict[str, float]:
    """Exact coverage of the four intervals at sample size n.

    With T = (x-bar − mu)/(s/sqrt(n)) ~ t(n−1) and W = sigma-hat²/sigma², nW ~ χ²(n−1):
    - Wald mu, x-bar ± z·sigma-hat/sqrt(n): |T| ≤ z·sqrt((n−1)/n);
    - profile mu, x-bar ± sigma-hat·sqrt(exp(q/n) − 1): |T| ≤ sqrt((n−1)(exp(q/n) − 1));
    - Wald sigma, sigma-hat(1 ± z/sqrt(2n)): 1/(1 + c)² ≤ W ≤ 1/(1 − c)², c = z/sqrt(2n);
    - profile sigma: n(W − 1 − log W) ≤ q.
    """
    t, chi2 = stats.t(n - 1), stats.chi2(n - 1)
    c = Z / math.sqrt(2 * n)

    def deviance(w):
        return n * (w - 1 - math.log(w)) - Q

    w_lo = optimize.brentq(deviance, 1e-6, 1.0)
    w_hi = optimize.brentq(deviance, 1.0, 100.0)
    return {
        "wald mu": 2 * t.cdf(Z * math.sqrt((n - 1) / n)) - 1,
        "profile mu": 2 * t.cdf(math.sqrt((n - 1) * math.expm1(Q / n))) - 1,
        "wald sigma": chi2.cdf(n / (1 - c) ** 2) - chi2.cdf(n / (1 + c) ** 2),
        "profile sigma": chi2.cdf(n * w_hi) - chi2.cdf(n * w_lo),
    }


@pytest.fixture(scope="module")
def simulated() -> dict[str, float]:
    rng = np.random.default_rng(SEED)
    model = ppl_mle.normal(rng.normal(MU, SIGMA, N))
    hits = dict.fromkeys(["wald mu", "profile mu", "wald sigma", "profile sigma"], 0)
    for _ in range(R):
        model.replace_data(rng.normal(MU, SIGMA, N))
        table = ppl_mle.fit_mle(model, on_failure="raise").summary()
        for name, truth in (("mu", MU), ("sigma", SIGMA)):
            row = table.loc[name]
            hits[f"wald {name}"] += row["wald_lower"] <= truth <= row["wald_upper"]
            hits[f"profile {name}"] += row["profile_lower"] <= truth <= row["profile_upper"]
    coverage = {k: v / R for k, v in hits.items()}
    print(f"coverage at n = {N}, R = {R}: {coverage}")
    return coverage


@pytest.mark.parametrize("interval", ["wald mu", "profile mu", "profile sigma"])
def test_coverage_within_monte_carlo_error_of_95_percent(simulated, interval):
    coverage = simulated[interval]
    assert abs(coverage - 0.95) <= 3 * MC_SE, f"{interval}: {coverage:.3f} outside 0.95 ± 0.033"


@pytest.mark.parametrize("interval", ["wald mu", "profile mu", "wald sigma", "profile sigma"])
def test_coverage_within_monte_carlo_error_of_the_exact_coverage(simulated, interval):
    # Wald for sigma included: its coverage is 92.9%, not 95%, and the simulation agrees.
    exact = exact_coverages(N)[interval]
    assert abs(simulated[interval] - exact) <= 3 * math.sqrt(exact * (1 - exact) / R)


def test_exact_coverage_profile_beats_wald_for_sigma():
    exact = exact_coverages(N)
    for name in ("wald mu", "profile mu", "profile sigma"):
        assert abs(exact[name] - 0.95) < 0.01
    assert exact["wald sigma"] == pytest.approx(0.929, abs=0.001)
    assert abs(exact["profile sigma"] - 0.95) < abs(exact["wald sigma"] - 0.95)
