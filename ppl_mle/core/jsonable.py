"""Numbers for JSON: strict JSON has no NaN or infinity, so those become null."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["json_number", "json_value"]


def json_number(value: Any) -> float | None:
    """A float, or None where it is NaN or infinite."""
    number = float(value)
    return number if math.isfinite(number) else None


def json_value(value: Any) -> Any:
    """Arrays to (nested) lists and non-finite floats to None, anywhere in a structure."""
    if isinstance(value, dict):
        return {k: json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    if isinstance(value, np.ndarray):
        return json_value(value.tolist())
    if isinstance(value, float | np.floating):
        return json_number(value)
    if isinstance(value, np.integer):
        return int(value)
    return value


def parameter_record(
    estimate: Any, se: Any, wald: tuple[Any, Any], profile: tuple[Any, Any]
) -> dict[str, Any]:
    """One parameter in the JSON schema ``fit`` and ``compare`` share (NaN → None).

    ``{"estimate": …, "se": …, "wald_ci": [lower, upper], "profile_ci": [lower, upper]}``;
    ``compare`` adds the posterior's figures to the same record.
    """
    return {
        "estimate": json_number(estimate),
        "se": json_number(se),
        "wald_ci": [json_number(wald[0]), json_number(wald[1])],
        "profile_ci": [json_number(profile[0]), json_number(profile[1])],
    }
