"""The arguments of a fit, checked up front: one place, messages that name the argument."""

from __future__ import annotations

import numpy as np
import pymc as pm

from ppl_mle.core.errors import DataError, ModelError
from ppl_mle.core.methods import check_method
from ppl_mle.fit.optimize import default_method

__all__ = ["check_fit_arguments", "check_no_imputation", "model_in_context"]


def check_fit_arguments(
    model: pm.Model,
    method: str | None,
    *,
    on_failure: str,
    maxeval: int,
    estimate: str,
) -> str:
    """Check the arguments of :func:`ppl_mle.fit_mle` and return the method to run.

    Parameters
    ----------
    model : pymc.Model
        The model to fit.
    method : str or None
        A method name in any case, or None for the model's default.
    on_failure, maxeval, estimate
        As for :func:`ppl_mle.fit_mle`.

    Returns
    -------
    str
        The canonical name of the method.

    Raises
    ------
    ModelError
        Any argument out of its domain.
    DataError
        Observed data with missing values (see :func:`check_no_imputation`).
    """
    if not isinstance(model, pm.Model):
        raise ModelError(f"`model` must be a pymc.Model; got {type(model).__name__}.")
    method = default_method(model) if method is None else check_method(method)
    if on_failure not in ("warn", "raise"):
        raise ModelError(f"`on_failure` must be 'warn' or 'raise'; got {on_failure!r}.")
    if not (isinstance(maxeval, int) and maxeval > 0):
        raise ModelError(f"`maxeval` must be a positive integer; got {maxeval!r}.")
    if estimate not in ("mle", "map"):
        raise ModelError(f"`estimate` must be 'mle' or 'map'; got {estimate!r}.")
    if estimate == "mle" and not model.observed_RVs and not model.potentials:
        raise ModelError(
            "the model has no observed variables and no Potential: there is no likelihood "
            "(did you forget `observed=` on the distribution of the data?). For the mode of "
            "its priors, fit it with estimate='map'."
        )
    check_no_imputation(model)
    return method


def check_no_imputation(model: pm.Model) -> None:
    """Refuse observed data with missing values, which PyMC turns into parameters.

    Given observed data with NaN (or masked entries), PyMC splits the variable into
    ``y_observed`` and a free ``y_unobserved`` whose values it estimates (imputation). The
    MLE of a missing observation is not a question a user asked: name the problem instead.
    """
    for rv in model.free_RVs:
        base = rv.name.removesuffix("_unobserved")
        if base != rv.name and f"{base}_observed" in model.named_vars:
            missing = int(np.prod(model.initial_point()[model.rvs_to_values[rv].name].shape))
            observed = model.named_vars[f"{base}_observed"]
            total = missing + int(np.size(model.rvs_to_values[observed].eval()))
            raise DataError(
                f"the observed data of {base!r} contain {missing} missing value(s) (NaN or "
                f"masked) of {total}: PyMC would impute them as parameters. Remove them first "
                "(e.g. y[~np.isnan(y)])."
            )


def model_in_context(model: pm.Model | None, caller: str) -> pm.Model:
    """The given model or, when None, that of the enclosing ``with pm.Model():`` block.

    Parameters
    ----------
    model : pymc.Model or None
        The model given, if any.
    caller : str
        The function asking (``"fit_mle"``), for the message.

    Raises
    ------
    ModelError
        ``model`` is None and no model is in context.
    """
    if model is not None:
        return model
    try:
        return pm.modelcontext(None)
    except TypeError:  # PyMC's "No model on context stack."
        raise ModelError(
            "no model given and no `with pm.Model():` context: pass the model, "
            f"{caller}(model), or call {caller}() inside `with model:`."
        ) from None
