"""The message of a fit, rendered from its status and the numbers behind it.

Nothing reads these texts back: decisions are taken on :class:`~ppl_mle.fit.status.FitStatus`.
"""

from __future__ import annotations

import numpy as np

from ppl_mle.core.families import Family
from ppl_mle.core.tolerances import VERIFY_TOL_SE
from ppl_mle.fit.locate import Maximum
from ppl_mle.fit.optimize import OptimizerRun
from ppl_mle.fit.status import FitStatus

__all__ = ["fit_message"]


def fit_message(
    found: Maximum,
    run: OptimizerRun,
    method: str,
    family: Family | None,
    *,
    priors_replaced: bool,
    estimate_kind: str,
    contradiction: str | None,
    saddle: str | None = None,
) -> str:
    """What was verified, or why the estimate cannot be vouched for.

    Parameters
    ----------
    found : Maximum
        The located maximum and its status.
    run : OptimizerRun
        What find_MAP returned.
    method : str
        The method find_MAP ran.
    family : Family or None
        The model's family (names the categories on the boundary).
    priors_replaced : bool
        The model's priors were replaced by flat ones.
    estimate_kind : str
        ``"MLE"`` or ``"MAP"``.
    contradiction : str or None
        How the estimate differs from the family's closed form, if it does.
    saddle : str or None
        The upward direction along which find_MAP was restarted from a saddle, if it was.
    """
    if found.boundary.at_vertex:
        message = _vertex_message(found, run, method)
    else:
        message = _verdict_message(found, run, method, family)
    if saddle is not None:
        message += (
            " find_MAP had first stopped at a saddle point (the Hessian curved upward along "
            f"{saddle}); this is its second run, started uphill along that direction."
        )
    if priors_replaced:
        message += " Priors replaced by flat ones on the same supports: this is the MLE."
    elif estimate_kind == "MAP":
        message += " With the model's own priors: this is the MAP, not the MLE."
    if contradiction is not None:
        message = f"Cannot vouch for this estimate: {contradiction}. {message}"
    return message


def _verdict_message(found: Maximum, run: OptimizerRun, method: str, family: Family | None) -> str:
    check, parts = found.check, []
    on_bounds = found.boundary.note or found.boundary.data_note
    if found.status.converged and found.objective.size == 0:
        parts.append("Every estimate is on a bound of its support: none is left in the interior.")
    elif found.status.converged:
        interior = " of the interior estimates" if on_bounds else ""
        parts.append(
            f"Verified maximum{interior}: Hessian negative definite, gradient norm "
            f"{check.grad_norm:.2g}, Newton step left {check.step_se:.2g} standard errors."
        )
    elif found.status is FitStatus.NOT_CONVERGED:
        parts.append(
            f"Cannot vouch for this estimate: the maximum is still {check.step_se:.3g} "
            f"standard errors away (tolerance {VERIFY_TOL_SE:g}); try another method, a "
            "larger maxeval or polish=True."
        )
    elif found.status is FitStatus.NOT_IDENTIFIED:
        parts.append(
            f"Cannot vouch for this estimate: {check.problem}. It is one of many points with "
            "the same likelihood; fix or remove a parameter along that direction (a "
            "reference level, a sum-to-zero constraint)."
        )
    else:
        parts.append(f"Cannot vouch for this estimate: {check.problem}.")
    steps = found.polish_steps
    where = (
        f" at {found.shift_se:.2g} standard errors from the returned estimate"
        if np.isfinite(found.shift_se)
        else ""
    )
    polished = f"; {steps} Newton step(s) with the exact Hessian polished it." if steps else "."
    look = found.second_look
    if look is None:
        parts.append(f"find_MAP ({method}) {_claim(run)}{where}{polished}")
    else:
        parts.append(
            f"find_MAP ({method}) {_claim(run)} at a point that could not be vouched for "
            f"({look.first_problem}). The second look, find_MAP from {method}'s end point "
            f"with a Newton-type method ({look.run.method}, the exact Hessian), "
            f"{_claim(look.run)}{where}{polished}"
        )
    simplex = found.boundary.simplex
    if simplex is not None and found.boundary.mask:
        cats = [simplex.categories[i] for i in np.flatnonzero(found.boundary.mask["theta"])]
        parts.append(
            f"Categories {cats!r} were never observed: their MLE is exactly 0, on the "
            "boundary of the simplex."
        )
    if found.boundary.data_note:
        parts.append(found.boundary.data_note)
    if found.boundary.note:
        parts.append(found.boundary.note)
    return " ".join(parts)


def _claim(run: OptimizerRun) -> str:
    """``"succeeded (its message)"`` or ``"did not succeed (its message)"``."""
    claim = "succeeded" if run.success else "did not succeed"
    return f"{claim} ({run.message.strip()})"


def _vertex_message(found: Maximum, run: OptimizerRun, method: str) -> str:
    simplex = found.boundary.simplex
    if simplex is None:  # at_vertex holds only for a simplex
        raise RuntimeError("internal error: a vertex fit without a simplex family")
    (observed,) = [simplex.categories[i] for i in np.flatnonzero(~found.boundary.mask["theta"])]
    return (
        f"Every observation is {observed!r}: the MLE is the vertex theta[{observed!r}] = 1 "
        "exactly, on the boundary of the simplex, with every other category at 0; nothing "
        f"is left to optimise. find_MAP ({method}) stopped at {run.message.strip()!r}."
    )
