"""Standard errors of the MLE from the exact observed information.

The observed information is minus the Hessian of the log-likelihood at the MLE, taken by
PyTensor automatic differentiation in the unconstrained coordinates ``z`` that find_MAP
optimises (``mu``, ``sigma_log__``, ``theta_simplex__``…): never a quasi-Newton
approximation, never finite differences. Its inverse is the covariance of ẑ. The natural
parameters ψ = ψ(z) (``sigma``, ``theta``…) get theirs by the delta method, J C Jᵀ with the
exact Jacobian J = ∂ψ/∂z. At a maximum the gradient is zero, so this is exactly the
inverse observed information in the natural parameters: the covariance does not depend on
the parametrisation the optimizer happened to use.

Estimates on the boundary of the parameter space (a category never observed has
probability exactly 0) have no meaningful standard error; they are reported as NaN and
their uncertainty is left to the one-sided profile interval (:mod:`ppl_mle.inference.profile`).
"""

from __future__ import annotations

import enum
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import linalg, stats

from ppl_mle.core.errors import (
    ConvergenceWarning,
    IdentifiabilityWarning,
    ModelError,
    PplMleWarning,
    find_stack_level,
)
from ppl_mle.core.families import CategoricalFamily
from ppl_mle.data.validation import check_level
from ppl_mle.fit.record import FitRecord, at_vertex, parameter_labels
from ppl_mle.fit.verify import information_verdict

__all__ = ["Identification", "Uncertainty", "natural_labels", "uncertainty", "wald_intervals"]


class Identification(enum.Enum):
    """Whether the observed information gives standard errors, and if not, why.

    Attributes
    ----------
    IDENTIFIED
        Positive definite and well conditioned (or nothing left to estimate: a vertex).
    NOT_IDENTIFIED
        Singular or not positive definite: a direction is flat or curves upward.
    NOT_FINITE
        The Hessian is not finite at the estimate.
    NOT_VERIFIED
        The fit was not verified as a maximum: standard errors there would mean nothing.
    """

    IDENTIFIED = "identified"
    NOT_IDENTIFIED = "not_identified"
    NOT_FINITE = "not_finite"
    NOT_VERIFIED = "not_verified"


@dataclass(frozen=True, eq=False)
class Uncertainty:
    """Covariance of an MLE, in natural and unconstrained coordinates.

    Attributes
    ----------
    labels : tuple of str
        One label per scalar natural parameter (``mu``, ``sigma``, ``theta[a]``…), in the
        order of :meth:`MLEResult.to_dataframe`.
    estimate : numpy.ndarray
        The MLE of each.
    cov : numpy.ndarray
        Covariance of the natural parameters (delta method). Rows and columns of estimates
        on the boundary, and everything when the information is singular, are NaN.
    unconstrained_labels : tuple of str
        One label per unconstrained coordinate (``sigma_log__``…).
    unconstrained_estimate : numpy.ndarray
        ẑ.
    unconstrained_cov : numpy.ndarray
        Inverse observed information in the unconstrained coordinates.
    information : numpy.ndarray
        Observed information −∇²ℓ(ẑ) in the unconstrained coordinates.
    on_boundary : numpy.ndarray
        Boolean mask over ``labels``.
    problem : str
        Empty when the information matrix is positive definite and well conditioned;
        otherwise which direction is not identified (text: decisions read
        ``identification``).
    identification : Identification
        Whether there are standard errors, and if not, why. Keyword-only.
    """

    labels: tuple[str, ...]
    estimate: np.ndarray
    cov: np.ndarray | None
    unconstrained_labels: tuple[str, ...]
    unconstrained_estimate: np.ndarray
    unconstrained_cov: np.ndarray | None
    information: np.ndarray | None
    on_boundary: np.ndarray
    problem: str
    units: np.ndarray | None = field(default=None, repr=False)
    scaled_cov: np.ndarray | None = field(default=None, repr=False)
    working_estimate: np.ndarray | None = field(default=None, repr=False)
    working_cov: np.ndarray | None = field(default=None, repr=False)
    standard_errors: np.ndarray | None = field(default=None, repr=False)
    identification: Identification = field(kw_only=True)

    @property
    def identified(self) -> bool:
        """Whether the information matrix is positive definite (standard errors exist)."""
        return self.identification is Identification.IDENTIFIED

    @property
    def se(self) -> np.ndarray:
        """Standard errors of the natural parameters.

        Computed in the units the fit worked in and scaled back, so they stay finite where
        the variance itself is not (an SE of 1e300 has a variance of 1e600).
        """
        if self.standard_errors is not None:
            return self.standard_errors
        if self.units is None or self.scaled_cov is None:
            _, cov = self._space("natural")
            return np.sqrt(np.diag(cov))
        return self.units * np.sqrt(np.diag(self.scaled_cov))

    @property
    def unconstrained_se(self) -> np.ndarray:
        """Standard errors of the unconstrained coordinates."""
        _, cov = self._space("unconstrained")
        return np.sqrt(np.diag(cov))

    def covariance(self, space: str = "natural") -> pd.DataFrame:
        """Covariance matrix, labelled, in ``"natural"`` or ``"unconstrained"`` space."""
        labels, cov = self._space(space)
        return pd.DataFrame(cov, index=list(labels), columns=list(labels))

    def correlation(self, space: str = "natural") -> pd.DataFrame:
        """Correlation matrix, labelled, in ``"natural"`` or ``"unconstrained"`` space."""
        labels, cov = self._space(space)
        if space == "natural" and self.scaled_cov is not None:
            cov = self.scaled_cov  # the same correlations, without overflow
        sd = np.sqrt(np.diag(cov))
        with np.errstate(divide="ignore", invalid="ignore"):
            corr = cov / np.outer(sd, sd)
        return pd.DataFrame(corr, index=list(labels), columns=list(labels))

    def _space(self, space: str) -> tuple[tuple[str, ...], np.ndarray]:
        if space == "natural" and self.cov is not None:
            return self.labels, self.cov
        if space == "unconstrained" and self.unconstrained_cov is not None:
            return self.unconstrained_labels, self.unconstrained_cov
        if space in ("natural", "unconstrained"):
            raise ModelError(
                f"the {space} covariance of {len(self.labels)} parameters is not formed (it "
                f"would hold {len(self.labels) ** 2:.3g} numbers); use the standard errors, or "
                "the closed form (diag θ − θθᵀ)/n for categorical probabilities."
            )
        raise ModelError(f"`space` must be 'natural' or 'unconstrained'; got {space!r}.")


def uncertainty(result: FitRecord, *, warn: bool = True) -> Uncertainty:
    """Observed information, covariance and standard errors of a fitted model.

    Parameters
    ----------
    result : FitRecord
        A fit from :func:`ppl_mle.fit_mle`.
    warn : bool
        Issue an :class:`~ppl_mle.IdentifiabilityWarning` when the information matrix is
        singular or not positive definite.

    Returns
    -------
    Uncertainty
    """
    result.check_data_current()
    objective, z = result.objective, np.asarray(result.z, dtype=np.float64)
    labels = tuple(result.estimates_frame().index)
    estimate = np.concatenate([np.ravel(v) for v in result.estimates.values()]).astype(float)
    on_boundary = result.estimates_frame()["on_boundary"].to_numpy(dtype=bool)
    z_labels = tuple(objective.coordinate_names())
    m, d = len(labels), objective.size
    family = result.family
    simplex = family.simplex() if family is not None else None
    if simplex is not None and simplex.structured and result.converged:
        return _simplex_uncertainty(result, simplex, labels, estimate, z_labels, on_boundary)

    def without_standard_errors(
        information: np.ndarray, problem: str, identification: Identification
    ) -> Uncertainty:
        nan_z = np.full((d, d), np.nan)
        user_z = objective.affine.user_z(z)
        nan_cov = np.full((m, m), np.nan)
        return Uncertainty(
            labels,
            estimate,
            nan_cov,
            z_labels,
            user_z,
            nan_z,
            information,
            on_boundary,
            problem,
            identification=identification,
        )

    if on_boundary.sum() > 0 and at_vertex(result):
        # No interior parameter is left (every observation in one category, every
        # estimate on a bound of its support): nothing to invert.
        return without_standard_errors(np.full((d, d), np.nan), "", Identification.IDENTIFIED)

    h = result.hessian if result.hessian is not None else objective.evaluate(z)[2]
    information = -0.5 * (h + h.T)
    if np.all(np.isfinite(h)):
        singular, problem = information_verdict(list(z_labels), h)
        identification = (
            Identification.IDENTIFIED if singular is None else Identification.NOT_IDENTIFIED
        )
    else:
        identification = Identification.NOT_FINITE
        problem = "the Hessian of the log-likelihood is not finite at the estimate"
    # Where the MLE does not exist (separated classes) the information is singular too, but
    # the reason to give is the fit's, not a redundant parameter.
    warning: PplMleWarning | None = None
    if identification is not Identification.IDENTIFIED and not result.status.no_mle:
        warning = IdentifiabilityWarning(
            f"No standard errors: {problem}. Fix or remove the parameters involved "
            "(e.g. drop a redundant intercept, fix a reference category)."
        )
    elif not result.converged:
        problem = "the fit was not verified as a maximum"
        identification = Identification.NOT_VERIFIED
        warning = ConvergenceWarning(
            f"No standard errors: {problem} ({result.message.split('. find_MAP')[0]}). "
            "Standard errors at a point that is not the MLE would mean nothing."
        )
    if warning is not None:
        if warn:
            warnings.warn(warning, stacklevel=find_stack_level())
        return without_standard_errors(information, problem, identification)

    chol = linalg.cho_factor(information, lower=True)
    z_cov = linalg.cho_solve(chol, np.eye(d))
    z_cov = 0.5 * (z_cov + z_cov.T)
    # The fit may work in other units (the normal model: data centred and scaled): the
    # natural covariance is formed in those units and scaled back only for the user.
    _, jac, _ = objective.natural_derivatives(z)
    inner_units = objective.natural_scales()
    jac_units = jac / inner_units[:, None]
    inner_cov = jac_units @ z_cov @ jac_units.T

    # The objective may be that of the interior model (observed categories only): place its
    # rows among all labels; boundary estimates keep NaN.
    inner_labels = natural_labels(result)
    position = {label: i for i, label in enumerate(labels)}
    idx = np.array([position[label] for label in inner_labels])
    scaled = np.full((m, m), np.nan)
    scaled[np.ix_(idx, idx)] = inner_cov
    # Estimates held on a bound of their support are among the interior problem's natural
    # values but do not move with it: no standard error either.
    scaled[on_boundary, :] = np.nan
    scaled[:, on_boundary] = np.nan
    units = np.ones(m)
    units[idx] = inner_units
    z_units = objective.affine.z_scales(d)
    with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
        cov = scaled * np.outer(units, units)
        user_cov = z_cov * np.outer(z_units, z_units)
        user_information = information / np.outer(z_units, z_units)
    return Uncertainty(
        labels,
        estimate,
        cov,
        z_labels,
        objective.affine.user_z(z),
        user_cov,
        user_information,
        on_boundary,
        problem,
        identification=Identification.IDENTIFIED,
        units=units,
        scaled_cov=scaled,
        working_estimate=z,
        working_cov=z_cov,
    )


#: Up to this many categories the structured path still forms the k × k covariance.
_DENSE_COVARIANCE_MAX_K = 3_000


def _simplex_uncertainty(
    result: FitRecord,
    family: CategoricalFamily,
    labels: tuple[str, ...],
    estimate: np.ndarray,
    z_labels: tuple[str, ...],
    on_boundary: np.ndarray,
) -> Uncertainty:
    """Standard errors of many categories in O(k): sqrt(θ(1 − θ)/n), the closed form.

    The inverse information on the simplex is (diag θ − θθᵀ)/n; its diagonal is all a
    summary needs. The full matrix is formed only up to a few thousand categories.
    """
    theta = np.asarray(result.estimates["theta"], dtype=np.float64)
    se = np.where(on_boundary, np.nan, family.standard_errors(theta))
    cov = None
    if family.k <= _DENSE_COVARIANCE_MAX_K:
        cov = (np.diag(theta) - np.outer(theta, theta)) / family.n_obs
        cov[on_boundary, :] = np.nan
        cov[:, on_boundary] = np.nan
    z = np.asarray(result.z, dtype=np.float64)
    return Uncertainty(
        labels,
        estimate,
        cov,
        z_labels,
        z,
        None,
        None,
        on_boundary,
        "",
        standard_errors=se,
        identification=Identification.IDENTIFIED,
    )


def natural_labels(result: FitRecord) -> list[str]:
    """Labels of the natural values of the result's objective, in its flat order."""
    objective = result.objective
    values = objective.natural(np.asarray(result.z, dtype=np.float64))
    labels: list[str] = []
    for name, value in values.items():
        labels.extend(parameter_labels(name, np.shape(value), objective.model))
    return labels


def z_quantile(level: float) -> float:
    """Two-sided standard-normal quantile for a confidence level."""
    return float(stats.norm.ppf(0.5 + 0.5 * check_level(level)))


def wald_intervals(unc: Uncertainty, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wald intervals estimate ± z·SE of every natural parameter (NaN on the boundary).

    Parameters
    ----------
    unc : Uncertainty
    level : float
        Confidence level in (0, 1).

    Returns
    -------
    lower, upper : numpy.ndarray
    """
    with np.errstate(over="ignore"):  # an SE near the largest float64: the bounds are ±inf
        half = z_quantile(level) * unc.se
        return unc.estimate - half, unc.estimate + half
