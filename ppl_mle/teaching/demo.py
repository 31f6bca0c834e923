"""The built-in examples of ``ppl-mle demo``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from ppl_mle.api.fit_mle import fit_mle
from ppl_mle.api.result import MLEResult
from ppl_mle.fit.analytic import check_analytic
from ppl_mle.model.declarations import MLEModel, categorical, normal

__all__ = ["HEIGHTS", "LABELS", "DemoCase", "demo_cases", "normal_sample", "run_demo"]

#: Ten heights in cm.
HEIGHTS = (160, 162, 165, 167, 170, 172, 175, 177, 180, 182)
#: Twenty labels from k = 4 categories.
LABELS = (1, 2, 1, 3, 4, 2, 1, 1, 3, 2, 1, 4, 3, 2, 1, 4, 1, 3, 2, 1)
#: Seed of the Normal(5, 1) sample.
SEED = 20240531


def normal_sample(n: int = 100, seed: int = SEED) -> np.ndarray:
    """A seeded sample of ``n`` draws from Normal(5, 1)."""
    return np.random.default_rng(seed).normal(5.0, 1.0, size=n)


@dataclass(frozen=True)
class DemoCase:
    """One demo example: a title, how to build its model, the optimizer to use."""

    title: str
    build: Callable[[], MLEModel]
    method: str


def demo_cases() -> Iterator[DemoCase]:
    """The examples, in the order the demo prints them."""
    yield DemoCase(
        "heights (cm), normal, mu and sigma unknown, L-BFGS-B", lambda: normal(HEIGHTS), "L-BFGS-B"
    )
    yield DemoCase(
        "20 labels, categorical, k = 4, L-BFGS-B", lambda: categorical(LABELS), "L-BFGS-B"
    )
    sample = normal_sample()
    for method in ("Nelder-Mead", "L-BFGS-B"):
        yield DemoCase(
            f"100 draws from Normal(5, 1), sigma known = 1, {method}",
            lambda: normal(sample, sigma=1.0),
            method,
        )
        yield DemoCase(
            f"100 draws from Normal(5, 1), mu and sigma unknown, {method}",
            lambda: normal(sample),
            method,
        )


def run_demo(write: Callable[[str], object] = print) -> bool:
    """Fit every example, print the comparison with the closed form; True if all pass."""
    all_passed = True
    for case in demo_cases():
        result: MLEResult = fit_mle(case.build(), method=case.method)
        check = check_analytic(result)
        all_passed &= check.passed and result.converged
        write(f"== {case.title}")
        write(str(check))
        write(
            f"verified: Newton step left {result.newton_step_se:.1e} standard errors; "
            f"find_MAP's own point was {result.optimizer_shift_se:.1e} standard errors away "
            f"({result.polish_steps} Newton polishing steps)"
        )
        if "sigma_log__" in result.unconstrained:
            log_sigma = float(result.unconstrained["sigma_log__"])
            write(
                f"fitted on the log scale: log sigma = {log_sigma:.12g}, "
                f"exp(log sigma) = {np.exp(log_sigma):.12g} (invariance of the MLE)"
            )
        write("")
    write("all verdicts: " + ("pass" if all_passed else "FAIL"))
    return all_passed
