"""Exact references for the normal MLE: rational arithmetic on the float64 values."""

from __future__ import annotations

from decimal import Decimal, localcontext
from fractions import Fraction

import numpy as np


def exact_normal_mle(x: object) -> tuple[float, float]:
    """(mean, sd by n) of the values exactly, each rounded once to float64.

    Floats are taken at their exact binary value, integers as integers, so the reference
    sees exactly what the user passed.
    """
    values = [Fraction(v) if isinstance(v, int) else Fraction(float(v)) for v in _items(x)]
    n = len(values)
    mean = sum(values) / n
    ss = sum((v - mean) ** 2 for v in values)
    with localcontext() as ctx:
        ctx.prec = 50
        ctx.Emin, ctx.Emax = -999999, 999999
        var = Decimal(ss.numerator) / Decimal(ss.denominator) / n
        return float(Decimal(mean.numerator) / Decimal(mean.denominator)), float(var.sqrt())


def _items(x: object) -> list[object]:
    if isinstance(x, np.ndarray):
        return [int(v) if np.issubdtype(x.dtype, np.integer) else float(v) for v in x.ravel()]
    return list(x)  # type: ignore[call-overload]


def digits(estimate: float, exact: float) -> float:
    """Significant digits of agreement, -log10 of the relative error (17 when equal)."""
    if estimate == exact:
        return 17.0
    return float(-np.log10(abs(estimate - exact) / abs(exact)))
