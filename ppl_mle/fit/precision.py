"""Whether float64 holds the data finely enough for their spread."""

from __future__ import annotations

from ppl_mle.core.families import Family

__all__ = ["coarse_data_note"]

#: Below this many digits of their spread held by each value, a fit warns (PrecisionWarning).
_COARSE_DIGITS = 2.0


def coarse_data_note(family: Family | None) -> str | None:
    """A note when float64 holds the data too coarsely for their spread, or None.

    Parameters
    ----------
    family : Family or None
        The model's family; only one that knows its data's resolution can tell.
    """
    d = family.resolution_digits() if family is not None else None
    if d is None or d >= _COARSE_DIGITS:
        return None
    return (
        f"the spread of the data is only {10**d:.3g} times the spacing of float64 numbers "
        f"at their magnitude: each value holds about {max(d, 0.0):.1f} significant digits of "
        "the spread. The estimates are exact for the values as stored, but data rounded to "
        "float64 this coarsely support no more digits than that: subtract a known offset "
        "before passing them (the MLE of mu shifts with it, sigma is unchanged)."
    )
