"""The parametric bootstrap of an MLE: data drawn from the fitted model, each refit verified.

:func:`parametric_bootstrap` (``result.bootstrap(n)``) draws ``n`` data sets from the fitted
model with its free parameters fixed at the MLE, refits each, and keeps the estimates of the
refits that are verified maxima. The steps:

1. **A working model of the bootstrap's own.** The refits never touch the user's model or the
   fitted one (whose result keeps answering ``bse`` and ``summary()``): a model declared by
   :func:`ppl_mle.normal` or :func:`ppl_mle.categorical` is declared again from its family
   (:func:`~ppl_mle.model.declarations.model_for`: the compiled objective is shared by the
   declaration), and any other model is copied through PyMC's graph representation
   (``fgraph_from_model``), its observations given as arrays turned into data containers of
   the copy, so that one compiled objective serves every refit
   (:func:`~ppl_mle.fit.objective.objective_for` reads the containers).
2. **Forward sampling by PyMC.** The observed variables' graph, with the free variables
   replaced by inputs, is compiled once by PyMC's ``compile`` (the random generators of the
   working model updated at every call, seeded by ``reseed_rngs``) and called once per data
   set with the MLE: the draws are PyMC's own (``pm.draw`` of the observed variables at the
   MLE). A model with Potentials, or a distribution without a random generator (a
   ``CustomDist`` given only its ``logp``, the models written in sufficient statistics) has
   no forward sampler: :class:`~ppl_mle.ModelError`.
3. **The refit, verified.** From the original MLE (a start within a few standard errors of
   each refit's maximum), Newton steps with the exact Hessian
   (:func:`ppl_mle.core.newton.newton_minimize`, which ``fit_mle(method="Newton")`` hands
   ``find_MAP``), then the package's polish and verification
   (:func:`~ppl_mle.fit.locate.locate_maximum`: boundary estimates, existence, bounds of
   supports) and the closed-form check where the family has one. A refit that is not
   verified there gets a second, full fit: ``find_MAP`` from the family's start or the
   model's initial point (its default method, then a Newton-type second look). Each refit's
   :class:`~ppl_mle.FitStatus` is kept; refits that are not verified maxima (``converged``
   false: not converged, not a maximum, not identified, no MLE…) are counted by status and
   left out of every interval, never averaged; boundary estimates (a category never drawn
   has probability exactly 0) are verified MLEs and stay in.

   ``pymc.find_MAP`` is not called for the first attempt: it compiles an initial-point
   function at every call (5-20 ms, more than the whole refit of a small model) and
   L-BFGS-B's crawl to the verification's tolerance takes more evaluations than three
   Newton steps from a start this close. The working copy of a user's model compiles C
   (``evaluated_many_times``: a fit of a small model of the user's own otherwise runs on
   PyTensor's Python linker, 8 times slower per refit here), and BLAS runs one thread
   during the refits (:func:`~ppl_mle.core._threads.single_threaded_blas`: OpenBLAS's two
   threads took 3-7 ms for each of L-BFGS-B's 2 × 2 updates on this busy machine).
   Measured (``benchmarks/bench_bootstrap.py``, 2 cores shared with other work, two runs):
   999 refits of a normal model of 100 rows in 1.2-2.6 s (``fit_mle`` after
   ``replace_data``: 11-36 s), of a 5-coefficient Poisson regression of 500 rows in
   2.0-2.8 s (``fit_mle`` after ``pm.set_data``: 17-25 s; statsmodels' unverified
   ``GLM.fit``: 1.1-1.4 s).
4. **Intervals.** ``percentile``: the ``alpha/2`` and ``1 − alpha/2`` quantiles of the
   verified draws (``numpy.quantile``, linear interpolation, as ``scipy.stats.bootstrap``).
   ``bca``: Efron's bias-corrected and accelerated interval, the quantiles at
   Φ(z0 + (z0 + z)/(1 − a(z0 + z))) for z = Φ⁻¹(alpha/2), Φ⁻¹(1 − alpha/2), with
   z0 = Φ⁻¹(share of draws below the MLE, ties counted half) and the acceleration a from
   the empirical influence of each observation: U_i = J·(−H⁻¹ s_i), s_i the score of
   observation i, H the Hessian of the log-likelihood and J the derivative of the
   estimate, all at the MLE, and
   a = Σ U³ / (6 (Σ U²)^{3/2}). That is the infinitesimal jackknife, the limit of the
   jackknife ``scipy.stats.bootstrap(method="BCa")`` computes by n refits; for the MLE it
   needs none (one compiled function of the per-observation log-likelihoods). An
   "observation" is one element of the observed variables' elementwise log-likelihood (a row
   of a regression, one label). Where the Hessian is singular or an estimate is on the
   boundary the acceleration, and the BCa interval, is NaN; so is the interval where every
   draw lies on one side of the MLE.

The refits run one after another in the calling thread. Threads do not pay: PyTensor's
compiled functions and the Python around them hold the GIL for most of a small refit (two
bootstraps of 500 refits of the normal model in two threads took 1.06-1.5 times as long
as one after the other), and processes would each compile the objective and the forward
sampler again (about a second each) for work of a few seconds. ``progressbar`` shows a
bar (rich, as PyMC's) where someone watches (:func:`ppl_mle.core.progress.watched`), none
in logs, pipes or tests.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import pandas as pd
import pymc as pm
import pytensor
import pytensor.tensor as pt
from pymc.model.fgraph import ModelObservedRV, fgraph_from_model, model_from_fgraph
from pymc.pytensorf import reseed_rngs
from pytensor.compile.sharedvalue import SharedVariable
from pytensor.gradient import jacobian
from pytensor.graph.basic import Constant
from scipy import stats

from ppl_mle.core._threads import single_threaded_blas
from ppl_mle.core.errors import ConvergenceError, ConvergenceWarning, ModelError, find_stack_level
from ppl_mle.core.families import CategoricalFamily, NormalFamily
from ppl_mle.core.newton import newton_minimize
from ppl_mle.core.progress import watched
from ppl_mle.data.validation import check_alpha
from ppl_mle.fit.analytic import closed_form_contradiction
from ppl_mle.fit.compiled import STRUCTURES, AbstractGraph, abstract_data, compile_function
from ppl_mle.fit.locate import Maximum, locate_maximum
from ppl_mle.fit.objective import Objective, objective_for
from ppl_mle.fit.optimize import NEWTON_MAXITER, OptimizerRun, default_method, run_find_map
from ppl_mle.fit.record import FitRecord, parameter_labels, read_only
from ppl_mle.fit.start import start_vector
from ppl_mle.fit.status import FitStatus
from ppl_mle.inference.derived import declared_deterministics
from ppl_mle.model._compat import pymc_compile
from ppl_mle.model._pytensor import PYTENSOR_LOCK, no_creation_traces, quiet_vendor_warnings
from ppl_mle.model.compiled import compiled_copy
from ppl_mle.model.declarations import MLEModel, family_of, model_for
from ppl_mle.model.float64 import in_float64

__all__ = ["BOOTSTRAP_METHODS", "MAX_EXCLUDED_SHARE", "BootstrapResult", "parametric_bootstrap"]

#: The intervals a bootstrap computes.
BOOTSTRAP_METHODS = ("percentile", "bca")

#: A bootstrap whose share of refits that are not verified exceeds this raises
#: :class:`~ppl_mle.ConvergenceError`: its intervals would describe the refits that happened
#: to succeed, not the estimator.
MAX_EXCLUDED_SHARE = 0.5

#: Most evaluations of the full fit a refit falls back to (that of ``fit_mle``).
_FALLBACK_MAXEVAL = 20_000


@dataclass(frozen=True, eq=False, repr=False)
class BootstrapResult:
    """The parametric bootstrap of an MLE: the verified refits' estimates and intervals.

    Frozen: the arrays are read-only; the tables are built from them on each call.

    Attributes
    ----------
    labels : tuple of str
        The parameters, labelled as in ``result.params`` (the free parameters', then each
        Deterministic's scalar elements).
    estimate : numpy.ndarray
        The MLE of each labelled parameter (the original fit's).
    values : numpy.ndarray
        The estimates of the verified refits, one row per refit, one column per label.
    statuses : tuple of FitStatus
        The status of every refit, in the order drawn (``n_requested`` of them).
    random_seed : int
        The seed of the draws: ``bootstrap(n, random_seed=...)`` with it draws the same
        data sets (a fresh one was chosen where none was given).
    method : str
        The interval :meth:`conf_int` computes by default: ``"percentile"`` or ``"bca"``.
    alpha : float
        One minus the default confidence level of :meth:`conf_int`.
    acceleration : numpy.ndarray or None
        BCa's acceleration per label (from the empirical influence of the observations),
        computed for ``method="bca"``; NaN where it does not exist.
    """

    labels: tuple[str, ...]
    estimate: np.ndarray
    values: np.ndarray
    statuses: tuple[FitStatus, ...]
    random_seed: int
    method: str
    alpha: float
    acceleration: np.ndarray | None = field(default=None)

    def __post_init__(self) -> None:
        """Freeze the arrays."""
        for name in ("estimate", "values", "acceleration"):
            object.__setattr__(self, name, read_only(getattr(self, name)))

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle by the fields, so that the unpickled arrays are read-only again."""
        return (type(self), tuple(getattr(self, f.name) for f in fields(self)))

    # -- counts -------------------------------------------------------------------------
    @property
    def n_requested(self) -> int:
        """The number of data sets drawn and refitted."""
        return len(self.statuses)

    @property
    def n_verified(self) -> int:
        """The number of refits verified as maxima (those in :attr:`draws`)."""
        return int(self.values.shape[0])

    @property
    def n_excluded(self) -> int:
        """The number of refits left out: not verified as maxima."""
        return self.n_requested - self.n_verified

    @property
    def status_counts(self) -> dict[str, int]:
        """How many refits ended with each status (``FitStatus`` value), all refits."""
        counts: dict[str, int] = {}
        for status in self.statuses:
            counts[status.value] = counts.get(status.value, 0) + 1
        return counts

    @property
    def excluded(self) -> dict[str, int]:
        """How many refits were left out, by status (empty when every refit was verified)."""
        counts: dict[str, int] = {}
        for status in self.statuses:
            if not status.converged:
                counts[status.value] = counts.get(status.value, 0) + 1
        return counts

    # -- tables -------------------------------------------------------------------------
    @property
    def draws(self) -> pd.DataFrame:
        """The verified refits' estimates: one row per refit, one column per label."""
        return pd.DataFrame(
            np.array(self.values), columns=pd.Index(self.labels, name="parameter")
        ).rename_axis("draw")

    @property
    def params(self) -> pd.Series:
        """The MLE by label (as ``result.params``)."""
        return self._series(self.estimate, "estimate")

    @property
    def se(self) -> pd.Series:
        """Bootstrap standard errors: the standard deviation of the draws (ddof = 1)."""
        return self._series(np.std(self.values, axis=0, ddof=1), "se")

    @property
    def bias(self) -> pd.Series:
        """Bootstrap estimate of the bias: the mean of the draws minus the MLE."""
        return self._series(np.mean(self.values, axis=0) - self.estimate, "bias")

    def conf_int(self, alpha: float | None = None, method: str | None = None) -> pd.DataFrame:
        """Bootstrap confidence intervals at level ``1 − alpha``.

        Parameters
        ----------
        alpha : float, optional
            One minus the confidence level, in (0, 1); by default the bootstrap's own.
        method : {"percentile", "bca"}, optional
            By default the bootstrap's own. ``"bca"`` needs the acceleration, computed by
            ``bootstrap(method="bca")``.

        Returns
        -------
        pandas.DataFrame
            Columns ``lower`` and ``upper``, one row per label (as ``result.conf_int``); NaN
            where the interval does not exist (BCa with every draw on one side of the MLE,
            or no acceleration).

        Raises
        ------
        ModelError
            ``alpha`` not strictly between 0 and 1, an unknown ``method``, or ``"bca"`` of
            a bootstrap run with ``method="percentile"``.
        """
        level_alpha = self.alpha if alpha is None else check_alpha(alpha)
        chosen = self.method if method is None else check_method(method)
        if chosen == "percentile":
            low, high = level_alpha / 2.0, 1.0 - level_alpha / 2.0
            lower = np.quantile(self.values, low, axis=0)
            upper = np.quantile(self.values, high, axis=0)
        else:
            if self.acceleration is None:
                raise ModelError(
                    "this bootstrap computed no BCa acceleration; run "
                    "result.bootstrap(n, method='bca')."
                )
            lower, upper = bca_bounds(self.values, self.estimate, self.acceleration, level_alpha)
        return pd.DataFrame(
            {"lower": lower, "upper": upper}, index=pd.Index(self.labels, name="parameter")
        )

    def to_dataframe(self) -> pd.DataFrame:
        """One row per label: ``estimate``, ``bias``, ``se``, ``lower``, ``upper``.

        The interval is the bootstrap's own method and level (``attrs`` say which, with the
        counts of refits).
        """
        table = pd.concat([self.params, self.bias, self.se, self.conf_int()], axis=1)
        table.attrs = {
            "method": self.method,
            "level": 1.0 - self.alpha,
            "n_requested": self.n_requested,
            "n_verified": self.n_verified,
            "excluded": self.excluded,
            "random_seed": self.random_seed,
        }
        return table

    def _series(self, values: np.ndarray, name: str) -> pd.Series:
        return pd.Series(
            np.asarray(values, dtype=np.float64),
            index=pd.Index(self.labels, name="parameter"),
            name=name,
        )

    def __repr__(self) -> str:
        excluded = ", ".join(f"{k}: {v}" for k, v in self.excluded.items()) or "none"
        head = (
            f"BootstrapResult(parametric, {self.n_verified} of {self.n_requested} refits "
            f"verified; excluded: {excluded}; method={self.method!r}, "
            f"level={1.0 - self.alpha:g}, random_seed={self.random_seed})"
        )
        table = self.to_dataframe().to_string(float_format=lambda v: f"{v:.6g}")
        return f"{head}\n{table}"


# -- checks of the arguments ------------------------------------------------------------------
def check_method(method: Any) -> str:
    """``method`` if it is one of :data:`BOOTSTRAP_METHODS`, or ``ModelError``."""
    if not isinstance(method, str) or method not in BOOTSTRAP_METHODS:
        raise ModelError(f"`method` must be 'percentile' or 'bca'; got {method!r}.")
    return method


def _check_n(n: Any) -> int:
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise ModelError(f"`n` (the number of bootstrap data sets) must be an int; got {n!r}.")
    if n < 2:
        raise ModelError(f"`n` (the number of bootstrap data sets) must be at least 2; got {n}.")
    return int(n)


def _check_seed(random_seed: Any) -> int:
    if random_seed is None:
        return int(np.random.SeedSequence().entropy % (2**63))  # type: ignore[operator]
    if isinstance(random_seed, bool) or not isinstance(random_seed, numbers.Integral):
        raise ModelError(f"`random_seed` must be an int or None; got {random_seed!r}.")
    if random_seed < 0:
        raise ModelError(f"`random_seed` must be non-negative; got {random_seed}.")
    return int(random_seed)


# -- BCa --------------------------------------------------------------------------------------
def bca_bounds(
    values: np.ndarray, estimate: np.ndarray, acceleration: np.ndarray, alpha: float
) -> tuple[np.ndarray, np.ndarray]:
    """Efron's BCa bounds of each column of ``values`` at level ``1 − alpha``.

    Parameters
    ----------
    values : numpy.ndarray
        Bootstrap draws, one row per draw.
    estimate : numpy.ndarray
        The estimate from the data, one per column.
    acceleration : numpy.ndarray
        The acceleration, one per column.
    alpha : float
        One minus the confidence level.

    Returns
    -------
    lower, upper : numpy.ndarray
        The quantiles of the draws at Φ(z0 + (z0 + z)/(1 − a(z0 + z))), with
        z0 = Φ⁻¹(share of draws below the estimate, ties counted half) and
        z = Φ⁻¹(alpha/2), Φ⁻¹(1 − alpha/2); NaN where z0 or the acceleration is not
        finite.
    """
    m = values.shape[1]
    lower, upper = np.full(m, np.nan), np.full(m, np.nan)
    z_low, z_high = stats.norm.ppf(alpha / 2.0), stats.norm.ppf(1.0 - alpha / 2.0)
    for k in range(m):
        column = values[:, k]
        # Ties count half (as scipy.stats.bootstrap): a parameter every draw puts on
        # the MLE (a probability held at 0) has z0 = 0.
        below = (np.sum(column < estimate[k]) + np.sum(column <= estimate[k])) / (2.0 * len(column))
        with np.errstate(all="ignore"):
            z0 = stats.norm.ppf(below)
        a = float(acceleration[k])
        if not (math.isfinite(z0) and math.isfinite(a)):
            continue
        levels = []
        for z in (z_low, z_high):
            levels.append(float(stats.norm.cdf(z0 + (z0 + z) / (1.0 - a * (z0 + z)))))
        lower[k] = np.quantile(column, levels[0])
        upper[k] = np.quantile(column, levels[1])
    return lower, upper


def influence_acceleration(influence: np.ndarray) -> np.ndarray:
    """The acceleration Σ U³ / (6 (Σ U²)^{3/2}) of each row of empirical influences ``U``."""
    with np.errstate(all="ignore"):
        num = np.sum(influence**3, axis=1)
        den = 6.0 * np.sum(influence**2, axis=1) ** 1.5
        out: np.ndarray = np.where(den > 0, num / den, np.nan)
    return out


# -- the bootstrap ----------------------------------------------------------------------------
def parametric_bootstrap(
    result: FitRecord,
    n: int = 999,
    *,
    random_seed: int | None = None,
    method: str = "percentile",
    alpha: float = 0.05,
    progressbar: bool | None = None,
) -> BootstrapResult:
    """Draw ``n`` data sets from the fitted model at the MLE, refit and verify each.

    See the module's description (:mod:`ppl_mle.inference.bootstrap`) for the working model,
    the forward sampling, the refits and the intervals.

    Parameters
    ----------
    result : FitRecord
        A verified fit from :func:`ppl_mle.fit_mle` whose model's data are current.
    n : int
        Number of data sets, at least 2.
    random_seed : int, optional
        Seed of the draws: the same seed draws the same data sets. By default a fresh one
        (kept in the result).
    method : {"percentile", "bca"}
        The interval of :meth:`BootstrapResult.conf_int` by default.
    alpha : float
        One minus the confidence level, in (0, 1).
    progressbar : bool, optional
        Show a progress bar; by default where someone watches (a terminal or a notebook).

    Returns
    -------
    BootstrapResult

    Raises
    ------
    ModelError
        Bad arguments; a fit that is not verified, or whose model's data were replaced;
        a model that cannot be sampled forward (Potentials, a distribution without a random
        generator).
    ConvergenceError
        More than :data:`MAX_EXCLUDED_SHARE` of the refits, or all but one, not verified.

    Warns
    -----
    ConvergenceWarning
        Some refits were not verified (they are left out of the intervals, counted by
        status).
    """
    n = _check_n(n)
    method = check_method(method)
    alpha = check_alpha(alpha)
    seed = _check_seed(random_seed)
    show = watched() if progressbar is None else bool(progressbar)
    if not result.converged:
        raise ModelError(
            f"the fit is not verified ({result.status.value}): there is no MLE to draw data "
            "sets from. Fix the fit first."
        )
    result.check_data_current()
    plan = _BootstrapPlan.build(result)
    acceleration = plan.acceleration(result) if method == "bca" else None
    plan.reseed(seed)
    rows: list[np.ndarray] = []
    statuses: list[FitStatus] = []
    # Many small refits: a BLAS that wakes its threads for every tiny product waits for
    # them far longer than the product takes on a busy machine (L-BFGS-B's 2 × 2 updates
    # took 3-7 ms each with OpenBLAS's two threads here, µs with one).
    with _progress(show, n) as advance, single_threaded_blas():
        for _ in range(n):
            plan.set_data(plan.draw())
            status, row = plan.refit()
            statuses.append(status)
            if status.converged:
                rows.append(row)
            advance()
    values = np.array(rows, dtype=np.float64).reshape(len(rows), len(plan.labels))
    boot = BootstrapResult(
        labels=plan.labels,
        estimate=plan.estimate,
        values=values,
        statuses=tuple(statuses),
        random_seed=seed,
        method=method,
        alpha=alpha,
        acceleration=acceleration,
    )
    _report_exclusions(boot)
    return boot


def _report_exclusions(boot: BootstrapResult) -> None:
    """Raise where too few refits were verified, warn where any was left out."""
    if boot.n_excluded == 0:
        return
    counts = ", ".join(f"{v} {k}" for k, v in boot.excluded.items())
    what = f"{boot.n_excluded} of {boot.n_requested} bootstrap refits were not verified ({counts})"
    if boot.n_excluded > MAX_EXCLUDED_SHARE * boot.n_requested:
        raise ConvergenceError(
            f"{what}: more than {MAX_EXCLUDED_SHARE:.0%} of them; the refits that succeeded "
            "do not describe the estimator (an MLE that often does not exist for data sets "
            "like these: separated classes, too few observations)."
        )
    if boot.n_verified < 2:
        raise ConvergenceError(f"{what}: fewer than 2 verified refits give no interval.")
    warnings.warn(
        f"{what}; they are left out of the intervals, the bias and the standard errors "
        "(BootstrapResult.excluded counts them by status).",
        ConvergenceWarning,
        stacklevel=find_stack_level(),
    )


@contextmanager
def _progress(show: bool, total: int) -> Iterator[Callable[[], None]]:
    """A function advancing a progress bar of ``total`` steps (doing nothing if not shown)."""
    if not show:
        yield lambda: None
        return
    from rich.progress import Progress  # PyMC's own progress bars are rich's

    with Progress(transient=False) as bar:
        task = bar.add_task("bootstrap refits", total=total)
        yield lambda: bar.advance(task)


# -- the plan: a working model, its forward sampler and its refit -----------------------------
class _BootstrapPlan:
    """The working model of a bootstrap, its compiled forward sampler and its refit.

    Built by :meth:`build`; the model is the bootstrap's own (never the user's nor the
    fitted one), so that setting its data changes nothing else.
    """

    def __init__(
        self,
        result: FitRecord,
        work: pm.Model,
        set_values: Callable[[list[np.ndarray]], None],
    ) -> None:
        self.work = work
        self._set_values = set_values
        self.start_point = {k: np.asarray(v) for k, v in result.unconstrained.items()}
        # Labelled in the order of the fit's estimates (that of ``result.params``).
        self.free_names = [name for name in result.estimates]
        self.deterministics = declared_deterministics(result, work)
        self._forward, self._rngs = _forward_sampler(work)
        self._mle = [
            np.asarray(result.estimates[rv.name], dtype=rv.type.dtype) for rv in work.free_RVs
        ]
        self._derived = _derived_function(work, self.deterministics)
        self.labels, self.estimate = self._labelled(result)

    @classmethod
    def build(cls, result: FitRecord) -> _BootstrapPlan:
        """The plan of ``result``: a redeclared family model, or a copy of the model's graph."""
        fitted = result.model
        family = _rows_family(fitted)
        if family is not None:
            with no_creation_traces():
                work = model_for(family)
            return cls(result, work, _family_setter(work))
        work = _copy_with_containers(fitted)
        return cls(result, work, _container_setter(work))

    def _labelled(self, result: FitRecord) -> tuple[tuple[str, ...], np.ndarray]:
        """The labels of ``result.params`` and the MLE under them (from the fitted model)."""
        labels: list[str] = []
        values: list[np.ndarray] = []
        for name in self.free_names:
            value = np.asarray(result.estimates[name], dtype=np.float64)
            labels.extend(parameter_labels(name, value.shape, result.model))
            values.append(value.ravel())
        for det, value in zip(self.deterministics, self._derived(self._mle), strict=True):
            labels.extend(parameter_labels(det.name, value.shape, result.model))
            values.append(value.ravel())
        return tuple(labels), np.concatenate(values) if values else np.zeros(0)

    def reseed(self, seed: int) -> None:
        """Seed the forward sampler's random generators."""
        reseed_rngs(self._rngs, seed)

    def draw(self) -> list[np.ndarray]:
        """One data set: a value of every observed variable, drawn at the MLE."""
        try:
            return [np.asarray(v) for v in self._forward(*self._mle)]
        except NotImplementedError as err:  # raised by the draw itself
            raise ModelError(_NO_FORWARD + str(err)) from err

    def set_data(self, values: list[np.ndarray]) -> None:
        """Give the working model a data set."""
        self._set_values(values)

    def refit(self) -> tuple[FitStatus, np.ndarray]:
        """Fit the working model on its data: the status and the labelled estimates."""
        work = self.work
        family = family_of(work)
        objective = objective_for(work)
        found: Maximum | None
        try:
            found = _newton_fit(work, objective, family, self.start_point)
        except _NUMERICAL_FAILURES:  # a Hessian not finite along the way
            found = None
        if found is None or not (found.status.converged or found.status.no_mle):
            # Not verified, but not shown to have no MLE either: the fit of fit_mle.
            found = _full_fit(work, objective, family, found)
        if found is None:  # neither fit got anywhere: counted, never averaged
            return FitStatus.NOT_FINITE, np.full(len(self.labels), np.nan)
        status = found.status
        if status.converged and closed_form_contradiction(
            family, found.estimates, found.loglik, work
        ):
            status = FitStatus.CONTRADICTS_CLOSED_FORM
        natural = [np.asarray(found.estimates[name], dtype=np.float64) for name in self.free_names]
        derived = self._derived([found.estimates[rv.name] for rv in work.free_RVs])
        row = np.concatenate([v.ravel() for v in (*natural, *derived)])
        return status, row

    def acceleration(self, result: FitRecord) -> np.ndarray:
        """BCa's acceleration of every label from the observations' empirical influence.

        U = J·(−H⁻¹ S) at the MLE, S the per-observation scores, H the Hessian of the
        log-likelihood, J the Jacobian of the labelled values, all in the working model's
        unconstrained coordinates (the working model holds the fit's data now).
        """
        point = self.start_point
        value_vars = list(self.work.value_vars)
        if not all(np.all(np.isfinite(point[v.name])) for v in value_vars):
            return np.full(len(self.labels), np.nan)  # an estimate on the boundary
        free = [self.work[name] for name in self.free_names]  # in the order of the labels
        fn = _influence_function(self.work, [*free, *self.deterministics], point)
        z = np.concatenate(
            [np.asarray(point[v.name], dtype=np.float64).ravel() for v in value_vars]
        )
        with np.errstate(all="ignore"):
            scores, hessian, jac = (np.asarray(out, dtype=np.float64) for out in fn(z))
        try:
            step = -np.linalg.solve(hessian, scores)
        except np.linalg.LinAlgError:
            return np.full(len(self.labels), np.nan)
        return influence_acceleration(jac @ step)


def _rows_family(model: pm.Model) -> NormalFamily | CategoricalFamily | None:
    """The family of a normal or categorical model declared by ppl_mle, with its rows.

    A normal model of many rows is written in their statistics, which PyMC cannot draw:
    its bootstrap is declared on the rows (kept by the family). None for any other model
    (and for one given only statistics or counts, or with variables added since).
    """
    family = family_of(model)
    if not (isinstance(model, MLEModel) and model.intact):
        return None
    if isinstance(family, NormalFamily) and family.data is not None:
        if family.given_stats is None:
            return family
        return NormalFamily(family.data, family.sigma)
    if isinstance(family, CategoricalFamily) and family.given_counts is None:
        return family
    return None


def _family_setter(work: MLEModel) -> Callable[[list[np.ndarray]], None]:
    """Set a drawn data set into a declared family model (labels for a categorical one)."""

    def set_values(values: list[np.ndarray]) -> None:
        (drawn,) = values
        family = work.family
        if isinstance(family, CategoricalFamily):
            categories = np.empty(family.k, dtype=object)
            categories[:] = list(family.categories)
            work.replace_data(categories[np.asarray(drawn, dtype=np.int64)])
        else:
            work.replace_data(drawn)

    return set_values


def _container_setter(work: pm.Model) -> Callable[[list[np.ndarray]], None]:
    """Set a drawn data set into the working copy's observed containers."""
    containers = [work.rvs_to_values[rv] for rv in work.observed_RVs]

    def set_values(values: list[np.ndarray]) -> None:
        for container, value in zip(containers, values, strict=True):
            container.set_value(np.asarray(value, dtype=container.type.dtype), borrow=True)

    return set_values


def _copy_with_containers(model: pm.Model) -> pm.Model:
    """A copy of ``model`` whose observations are data containers of its own.

    PyMC's graph representation copies the model's data containers and random generators;
    observations given as arrays (constants of the graph) become shared variables of the
    same type, so that one compiled objective serves every data set.
    """
    # PyMC converts no model with initial values (a flat copy starts where the user's
    # model starts): a shallow view of the model without them is converted, and they are
    # given back to the copy.
    view = object.__new__(type(model))
    view.__dict__.update(vars(model))
    view.rvs_to_initial_values = dict.fromkeys(model.rvs_to_initial_values)
    with PYTENSOR_LOCK, quiet_vendor_warnings():
        fgraph, _ = fgraph_from_model(view)
        for node in list(fgraph.toposort()):
            if not isinstance(node.op, ModelObservedRV):
                continue
            value = node.inputs[1]
            if isinstance(value, SharedVariable):
                continue
            # An array, or an expression of one (PyMC casts labels held as int32): a
            # container of its own, holding the value of the same type.
            held = value.data if isinstance(value, Constant) else value.eval()
            container = pytensor.shared(
                np.array(held, dtype=value.type.dtype),
                name=f"{node.outputs[0].name}_observed",
                shape=value.type.shape,
            )
            fgraph.change_node_input(
                node, 1, container, reason="bootstrap data", import_missing=True
            )
        copy = compiled_copy(model_from_fgraph(fgraph, mutate_fgraph=True))
        # Refitted hundreds of times: compiled C (ppl_mle.fit.compiled.uses_python_linker).
        copy.evaluated_many_times = True
        for rv, value in model.rvs_to_initial_values.items():
            if isinstance(value, np.ndarray | numbers.Number) and rv.name in copy.named_vars:
                copy.set_initval(copy[rv.name], value)
    return copy


def _forward_sampler(work: pm.Model) -> tuple[Any, list[Any]]:
    """The observed variables drawn as a function of the free variables, compiled once.

    Returns the function (free variables' natural values → one value per observed variable)
    and the random generators it updates.

    Raises
    ------
    ModelError
        The model has Potentials or an observed variable without a random generator.
    """
    if work.potentials:
        raise ModelError(
            "the model has Potentials, which have no distribution to draw data from: a "
            "parametric bootstrap needs every likelihood term an observed variable."
        )
    free = list(work.free_RVs)
    observed = list(work.observed_RVs)
    try:
        with PYTENSOR_LOCK, quiet_vendor_warnings():
            inputs = [rv.type() for rv in free]
            outputs = pytensor.graph_replace(
                observed, dict(zip(free, inputs, strict=True)), strict=False
            )
            fn = pymc_compile(inputs, outputs, random_seed=0, on_unused_input="ignore")
    except NotImplementedError as err:
        raise ModelError(_NO_FORWARD + str(err)) from err
    rngs = [s.variable for s in fn.maker.inputs if _is_rng(s.variable)]
    return fn, rngs


_NO_FORWARD = (
    "the model cannot be sampled forward (an observed distribution without a random "
    "generator, such as a CustomDist given only its logp, or a likelihood written in "
    "sufficient statistics: ppl_mle.normal_from_stats, categorical_from_counts): "
)


def _is_rng(variable: Any) -> bool:
    return isinstance(variable, SharedVariable) and isinstance(
        variable.get_value(borrow=True), np.random.Generator
    )


def _derived_function(
    work: pm.Model, deterministics: list[Any]
) -> Callable[[list[np.ndarray]], list[np.ndarray]]:
    """The deterministics as a function of the free variables' natural values (float64)."""
    if not deterministics:
        return lambda values: []
    free = list(work.free_RVs)
    with PYTENSOR_LOCK:
        inputs = [rv.type() for rv in free]
        outputs = pytensor.graph_replace(
            deterministics, dict(zip(free, inputs, strict=True)), strict=False
        )
        outputs = [pt.cast(o, "float64") for o in in_float64(outputs)]
        graph = abstract_data(inputs, outputs)
    fn, data = _compiled_once(work, graph, "bootstrap deterministics")

    def derived(values: list[np.ndarray]) -> list[np.ndarray]:
        cast = [np.asarray(v, dtype=rv.type.dtype) for v, rv in zip(values, free, strict=True)]
        with np.errstate(all="ignore"):
            return [np.asarray(out, dtype=np.float64) for out in fn(*cast, *data)]

    return derived


def _influence_function(
    work: pm.Model, labelled: list[Any], point: Mapping[str, np.ndarray]
) -> Any:
    """Per-observation scores S (d × N), Hessian H (d × d), Jacobian J (m × d) of ``z``.

    ``z`` is the working model's value variables, flat, in their order; N counts the
    elements of the observed variables' elementwise log-likelihood; the m values are those
    of the variables ``labelled`` (free variables and deterministics), flat, in order.
    """
    value_vars = list(work.value_vars)
    z = pt.vector("z", dtype="float64")
    w = pt.vector("w", dtype="float64")
    replace, start = {}, 0
    for v in value_vars:
        shape = np.shape(point[v.name])
        size = int(np.prod(shape, dtype=np.int64))
        replace[v] = z[start : start + size].reshape(shape).astype(v.dtype)
        start += size
    with PYTENSOR_LOCK, quiet_vendor_warnings(), no_creation_traces():
        terms = work.logp(vars=list(work.observed_RVs), jacobian=False, sum=False)
        values = work.replace_rvs_by_values(labelled)
        graphs = in_float64(pytensor.graph_replace([*terms, *values], replace, strict=False))
        terms, values = graphs[: len(terms)], graphs[len(terms) :]
        elements = pt.concatenate([pt.cast(t, "float64").ravel() for t in terms])
        grad: Any = pt.grad(pt.sum(w * elements), z)
        scores = pt.stack([_grad(grad[j], w) for j in range(start)])
        hessian = pt.stack([_grad(grad[j], z) for j in range(start)])
        theta = pt.concatenate([pt.cast(v, "float64").ravel() for v in values])
        jac = jacobian(theta, z, disconnected_inputs="ignore")
        graph = abstract_data([z, w], [scores, hessian, jac])
        size_graph = abstract_data([z], [elements.shape[0]])
    fn, data = _compiled_once(work, graph, "bootstrap influence")
    size, size_data = _compiled_once(work, size_graph, "bootstrap observations")

    def evaluate(at: np.ndarray) -> Any:
        n = int(np.asarray(size(at, *size_data)[0]))
        return fn(at, np.ones(n), *data)

    return evaluate


def _compiled_once(work: pm.Model, graph: AbstractGraph, kind: str) -> tuple[Any, list[Any]]:
    """``graph`` compiled, kept with the compiled structures; and its data's current values.

    A bootstrap of another fit of a model of the same structure (a coverage study, a
    bootstrap after each refit) reuses the function (:data:`~ppl_mle.fit.compiled.STRUCTURES`).
    """
    fn = STRUCTURES.find(work, graph, kind)
    if fn is None:
        fn = compile_function(work, graph.inputs, list(graph.outputs))
        STRUCTURES.keep(work, graph, fn, kind)
    return fn, [d.get_value(borrow=True) for d in graph.data]


def _grad(cost: Any, wrt: Any) -> Any:
    """``pt.grad`` of ``cost`` with respect to the one variable ``wrt``."""
    return pt.grad(cost, wrt)


# -- the refit --------------------------------------------------------------------------------
def _newton_fit(
    work: pm.Model, objective: Objective, family: Any, start: Mapping[str, np.ndarray]
) -> Maximum:
    """Newton steps with the exact Hessian from ``start`` (the MLE), polished and verified."""
    z0 = objective.from_user_point(dict(start))
    if not np.all(np.isfinite(z0)):  # an MLE on the boundary: the family's start
        z0 = start_vector(work, objective, family, None)
    with np.errstate(all="ignore"):
        opt = newton_minimize(
            lambda z: -objective.value_and_grad(z)[0],
            z0,
            jac=lambda z: -objective.value_and_grad(z)[1],
            hess=lambda z: -objective.hessian(z),
            maxiter=NEWTON_MAXITER,
        )
        z = np.asarray(opt.x, dtype=np.float64)
        run = OptimizerRun(
            z=z,
            natural=objective.natural(z),
            success=bool(opt.success),
            message=str(opt.message),
            nit=int(opt.nit),
            nfev=int(opt.nfev),
            method="Newton",
        )
        return locate_maximum(work, objective, family, run, polish=True)


#: Errors of a fit that stopped on numbers (a Hessian not finite, a start outside the
#: support): the refit is counted as not verified.
_NUMERICAL_FAILURES = (ValueError, ArithmeticError, np.linalg.LinAlgError)


def _full_fit(
    work: pm.Model, objective: Objective, family: Any, first: Maximum | None
) -> Maximum | None:
    """The fit of ``fit_mle``: find_MAP from the family's start, its second look; the better."""
    try:
        z0 = start_vector(work, objective, family, None)
        run = run_find_map(objective, default_method(work), z0, _FALLBACK_MAXEVAL, False)
        with np.errstate(all="ignore"):
            found = locate_maximum(work, objective, family, run, polish=True)
    except _NUMERICAL_FAILURES:  # ModelError (a start not finite) is a ValueError
        return first
    if first is None or found.status.converged or found.check.value > first.check.value:
        return found
    return first
