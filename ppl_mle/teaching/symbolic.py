"""The closed-form MLEs derived symbolically with SymPy (no PyMC).

``normal_derivation()`` writes the normal log-likelihood of n observations, takes the score
equations ∂ℓ/∂μ = 0 and ∂ℓ/∂σ = 0 and solves them: μ̂ = Σxᵢ/n and σ̂ = sqrt(Σ(xᵢ − μ̂)²/n)
— dividing by n. ``categorical_derivation(k)`` maximises Σ cⱼ log θⱼ subject to Σ θⱼ = 1
with a Lagrange multiplier and finds θ̂ⱼ = cⱼ/Σc. Each result can be evaluated on data, so
a test (or a student) can set the derivation beside the numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ppl_mle.core.optional import require

sp = require("sympy", "symbolic", "the symbolic derivations (ppl_mle.teaching.symbolic)")

__all__ = ["Derivation", "categorical_derivation", "normal_derivation"]


@dataclass(frozen=True)
class Derivation:
    """A symbolic MLE derivation.

    Attributes
    ----------
    loglik : sympy.Expr
        The log-likelihood (or the Lagrangian, for a constrained problem).
    score : list of sympy.Eq
        The first-order conditions, each set to 0.
    solution : dict
        Parameter symbol → closed-form expression.
    symbols : dict
        Names of the data and parameter symbols used (``x``, ``n``, ``mu``, ``c``...).
    """

    loglik: Any
    score: list[Any]
    solution: dict[Any, Any]
    symbols: dict[str, Any]

    def evaluate(self, data: Any) -> dict[str, float]:
        """The solution on concrete data (observations, or counts for the categorical)."""
        values = np.asarray(data, dtype=float)
        if "x" in self.symbols:
            x, n, i = self.symbols["x"], self.symbols["n"], self.symbols["i"]
            mu, sigma = self.symbols["mu"], self.symbols["sigma"]
            xi = sp.Dummy("xi")

            def numeric(expr: Any) -> float:
                expr = expr.subs(n, values.size)
                sums = {
                    term: float(
                        np.sum(
                            sp.lambdify(xi, term.function.subs(x[i], xi), "numpy")(values)
                            * np.ones_like(values)
                        )
                    )
                    for term in expr.atoms(sp.Sum)
                }
                return float(expr.subs(sums))

            mu_value = numeric(self.solution[mu])
            return {"mu": mu_value, "sigma": numeric(self.solution[sigma].subs(mu, mu_value))}
        counts = self.symbols["c"]
        return {
            str(t): float(self.solution[t].subs(dict(zip(counts, values, strict=True))))
            for t in self.symbols["theta"]
        }


def normal_derivation() -> Derivation:
    """Score equations of the normal model and their solution (μ̂ = x̄, σ̂ = sqrt(SS/n))."""
    n = sp.Symbol("n", integer=True, positive=True)
    i = sp.Symbol("i", integer=True, positive=True)
    x = sp.IndexedBase("x", real=True)
    mu = sp.Symbol("mu", real=True)
    sigma = sp.Symbol("sigma", positive=True)
    ss = sp.Sum((x[i] - mu) ** 2, (i, 1, n))
    loglik = -n / 2 * sp.log(2 * sp.pi * sigma**2) - ss / (2 * sigma**2)
    d_mu = sp.diff(loglik, mu)
    d_sigma = sp.diff(loglik, sigma)
    (mu_hat,) = sp.solve(sp.expand(sp.expand(d_mu).doit()), mu)
    # Solve for sigma with the sum of squares kept whole (never expanded into Σx² − …).
    s = sp.Symbol("S", positive=True)
    (sigma_hat,) = sp.solve(d_sigma.subs(ss, s), sigma)
    return Derivation(
        loglik=loglik,
        score=[sp.Eq(d_mu, 0), sp.Eq(d_sigma, 0)],
        solution={mu: mu_hat, sigma: sigma_hat.subs(s, ss)},
        symbols={"x": x, "n": n, "i": i, "mu": mu, "sigma": sigma},
    )


def categorical_derivation(k: int) -> Derivation:
    """Lagrange conditions of max Σ cⱼ log θⱼ s.t. Σ θⱼ = 1, solved: θ̂ⱼ = cⱼ / Σc."""
    if not isinstance(k, int) or k < 2:
        raise ValueError(f"`k` must be an integer >= 2; got {k!r}.")
    theta = sp.symbols(f"theta1:{k + 1}", positive=True)
    c = sp.symbols(f"c1:{k + 1}", positive=True)
    lam = sp.Symbol("lambda")
    lagrangian = sum(cj * sp.log(tj) for cj, tj in zip(c, theta, strict=True)) - lam * (
        sum(theta) - 1
    )
    conditions = [sp.diff(lagrangian, t) for t in theta] + [sp.diff(lagrangian, lam)]
    (solution,) = sp.solve(conditions, [*theta, lam], dict=True)
    return Derivation(
        loglik=lagrangian,
        score=[sp.Eq(e, 0) for e in conditions],
        solution={t: sp.simplify(solution[t]) for t in theta},
        symbols={"theta": theta, "c": c, "lambda": lam},
    )
