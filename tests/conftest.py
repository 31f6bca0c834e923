"""Shared fixtures and exact reference computations."""

from __future__ import annotations

import json
import math
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

# PyMC raises the recursion limit when it is first imported (pymc.sampling.mcmc), and
# hypothesis fails a test during which the limit changes: import it before any test, as
# ppl_mle imports it only on first use.
import ppl_mle.model._pytensor  # noqa: F401  (pymc without its vendor noise)

NIST_DIR = Path(__file__).resolve().parents[2] / "shared" / "reference" / "nist"

HEIGHTS = [160, 162, 165, 167, 170, 172, 175, 177, 180, 182]
LABELS = [1, 2, 1, 3, 4, 2, 1, 1, 3, 2, 1, 4, 3, 2, 1, 4, 1, 3, 2, 1]


def exact_mean_sd(x: np.ndarray) -> tuple[Fraction, float]:
    """Mean (exact rational) and MLE sd (divide by n) of the float64 values, exactly.

    The sd is sqrt of an exact rational, rounded once at the end.
    """
    values = [Fraction(float(v)) for v in x]
    n = len(values)
    mean = sum(values) / n
    var = sum((v - mean) ** 2 for v in values) / n
    # sqrt of a rational to double precision: scale to integers and use math.isqrt.
    scale = 10**40
    sd = math.isqrt(var.numerator * scale**2 // var.denominator) / scale
    return mean, sd


def significant_digits(found: float, exact: float | Fraction) -> float:
    """Number of agreeing significant digits (the LRE of NIST)."""
    exact_f = Fraction(exact)
    err = abs(Fraction(float(found)) - exact_f)
    if err == 0:
        return 17.0
    return -math.log10(float(err / abs(exact_f)))


def nist_cases() -> list[str]:
    if not (NIST_DIR / "certified.json").exists():
        return []
    return sorted(json.loads((NIST_DIR / "certified.json").read_text()))


@pytest.fixture(scope="session")
def normal_sample() -> np.ndarray:
    return np.random.default_rng(20240531).normal(5.0, 1.0, size=100)


@pytest.fixture(scope="session", autouse=True)
def _private_compile_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Objectives kept on disk by the command line go to a folder of this run only."""
    import os

    os.environ["PPL_MLE_CACHE_DIR"] = str(tmp_path_factory.mktemp("ppl_mle_cache"))
