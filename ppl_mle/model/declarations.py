"""PyMC declarations of the models, with flat priors so that MAP = MLE.

Each function returns an :class:`MLEModel`: an ordinary ``pymc.Model`` (``with model:
pm.sample()`` works) that also carries its :mod:`family <ppl_mle.core.families>`, so a fit can be
checked against the closed form. Observations are held in ``pm.Data`` containers, so
``pm.set_data`` works and PyTensor's compiled code is reused across data sets of the same
model.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable, Hashable, Sequence
from typing import Any, overload

import numpy as np
import pymc as pm
import pytensor
import pytensor.tensor as pt

from ppl_mle.core.affine import AffineMap
from ppl_mle.core.closed_form import integer_normal_stats, normal_stats
from ppl_mle.core.errors import DataError, ModelError
from ppl_mle.core.families import CategoricalFamily, Family, NormalFamily, SoftmaxFamily
from ppl_mle.data.streaming import DEFAULT_BATCH_ROWS, label_counts_of, normal_stats_of
from ppl_mle.data.validation import (
    as_design,
    as_float_data,
    as_labels,
    check_counts,
    check_normal_stats,
    check_sigma,
    label_counts,
    raise_non_finite,
)
from ppl_mle.model._pytensor import no_creation_traces, serialised
from ppl_mle.model.compiled import StandaloneModel
from ppl_mle.model.grouped import (
    GroupedModel,
    grouped_categorical,
    grouped_categorical_from_source,
    grouped_normal,
    grouped_normal_from_source,
)
from ppl_mle.model.likelihoods import counts_logp, normal_stats_logp

__all__ = [
    "MLEModel",
    "Working",
    "categorical",
    "family_of",
    "categorical_from_counts",
    "categorical_from_source",
    "model_for",
    "normal",
    "normal_from_source",
    "normal_from_stats",
    "softmax_regression",
]

#: Default reference class of a softmax regression: the first class.
FIRST = "first"


@dataclasses.dataclass(frozen=True)
class Working:
    """A model's fit in working units (:meth:`MLEModel.working`).

    Attributes
    ----------
    model : MLEModel
        The model find_MAP runs on: the model itself, or one declared for the working data.
    values : dict of str to numpy.ndarray or None
        The working data of the model's containers by name, where the model itself serves;
        None where ``model`` holds them.
    hessian : callable or None
        The family's closed-form Hessian on the working data (or None: autodiff).
    affine : AffineMap
        The map from working units back to the user's.
    """

    model: MLEModel
    values: dict[str, np.ndarray] | None
    hessian: Callable[[np.ndarray], np.ndarray] | None
    affine: AffineMap


class MLEModel(StandaloneModel):
    """A ``pymc.Model`` that knows its statistical family.

    A :class:`~ppl_mle.model.compiled.CompiledModel`: find_MAP runs on a fit's compiled
    functions.

    Parameters
    ----------
    family : Family
        The family and validated data the model was declared from.
    **kwargs
        Passed to ``pymc.Model`` (``coords``, ``name``...).
    """

    def __init__(self, family: Family, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.family = family
        self.data_version = 0
        self._working: tuple[int, Working] | None = None
        self.is_working = False

    def working(self) -> Working | None:
        """What a fit optimises, in working units, and the map back to these.

        The normal model is fitted on its data centred on their mean and divided by a
        power of two near their spread (:meth:`NormalFamily.standardized`): its MLE maps
        back exactly, and floating point then gives every digit whether the data are near
        1e-300, 1e300 or 1e12 ± 1. A softmax regression with features near 1e±200 is
        fitted on them divided by powers of two. This model itself stays the ordinary
        PyMC model of the user's data (``pm.sample`` samples it).

        ``None`` where the family needs no working units (its ``standardized()`` is
        None), for a working model itself, and once variables were added to the model
        (its family no longer describes it).
        """
        if self.is_working or not self.intact:
            return None
        key = self.data_version
        if self._working is None or self._working[0] != key:
            standard = self.family.standardized()
            if standard is None:
                return None
            family, affine = standard
            values = _container_values(family)
            if values is not None and _declaration_key(family) == _declaration_key(self.family):
                work = Working(self, values, _hessian_z(family), affine)
            else:
                # A model of its own, where the working data do not fit this model's graph
                # (a known sigma scales with the data; integer data become fractions).
                model = _declare_working(family)
                work = Working(model, None, model.loglik_hessian(), affine)
            self._working = (key, work)
        return self._working[1]

    def loglik_hessian(self) -> Callable[[np.ndarray], np.ndarray] | None:
        """The family's closed-form Hessian of the log-density, as a function of ``z``.

        ``z`` is the flat vector of value variables in ``find_MAP``'s order. Available for
        the categorical model (diagonal plus low rank on the simplex) and for softmax
        regression (``beta`` is unconstrained, so ``z`` is ``beta.ravel()``) while
        the model is as :func:`softmax_regression` declared it; ``None`` otherwise (other
        families, or variables added since), and fits then differentiate automatically.
        """
        if not self.intact:
            return None
        return _hessian_z(self.family)

    def declaration_key(self) -> Hashable | None:
        """What the model's graph is a function of, besides the values of its data.

        Two models declared by ppl_mle with equal keys have equal graphs (their data
        containers aside): the same family, the same branch of its declaration, the same
        constants (a known sigma, the number of categories, the reference class), and data
        of the same dtype and rank. A compiled objective can then be shared without
        building the graph first. None once variables were added to the model.
        """
        if not self.intact:
            return None
        return (type(self.family).__name__, self.check_bounds, _declaration_key(self.family))

    def replace_data(self, data: Any) -> None:
        """Replace the observations in place, keeping the compiled code.

        The new data are validated exactly as by :func:`normal` / :func:`categorical` and
        the model's family follows them, so a refit is checked against the right closed
        form. Use this for repeated fits (simulations, bootstraps): only the first fit of a
        model compiles. ``pm.set_data({"data": ...}, model=model)`` does the same.

        Parameters
        ----------
        data : array_like
            New observations (labels, for the categorical model, from the same categories).
        """
        self.set_data(_data_container(self.family), data)

    def set_data(self, name: str, values: Any, coords: Any = None) -> None:
        """``pymc.Model.set_data``, validating the observations and updating the family.

        For the categorical model the ``"codes"`` container takes new *labels* from the
        declared categories, which are encoded here.

        Every change of data bumps ``data_version``, so results of earlier fits know that
        the model no longer holds their data.
        """
        self.family, values = _with_new_data(self.family, name, values)
        super().set_data(name, values, coords)
        self.data_version += 1


def _declare_working(family: Family) -> MLEModel:
    model = model_for(family)
    model.is_working = True
    return model


def family_of(model: pm.Model) -> Family | None:
    """The family ``model`` was declared with (:func:`normal` and friends), or None.

    Any other PyMC model (the user's own, or a flat copy of it) has none, and its fit is
    verified without a closed form.
    """
    return model.family if isinstance(model, MLEModel) else None


#: From this many observations on, normal() and categorical() write the likelihood in the
#: sufficient statistics (O(1) per evaluation) instead of the data (O(n)).
SUFFICIENT_MIN = 100_000


@overload
def normal(
    data: Any,
    sigma: float | None = None,
    *,
    sufficient: bool | None = None,
    groups: None = None,
    common_sigma: bool = False,
    group_names: Sequence[Hashable] | None = None,
) -> MLEModel: ...


@overload
def normal(
    data: Any,
    sigma: float | None = None,
    *,
    sufficient: bool | None = None,
    groups: Any,
    common_sigma: bool = False,
    group_names: Sequence[Hashable] | None = None,
) -> MLEModel | GroupedModel: ...


def normal(
    data: Any,
    sigma: float | None = None,
    *,
    sufficient: bool | None = None,
    groups: Any = None,
    common_sigma: bool = False,
    group_names: Sequence[Hashable] | None = None,
) -> MLEModel | GroupedModel:
    """Declare the normal model with flat priors, or one normal model per group.

    ``mu ~ Flat``, ``sigma ~ HalfFlat`` (or fixed), ``x ~ Normal(mu, sigma)``. With
    ``groups``: ``mu[group]``, ``sigma[group]`` (or one shared ``sigma``, or a known one),
    ``x ~ Normal(mu[group], sigma[group])``, written in each group's statistics.

    Parameters
    ----------
    data : array_like
        Real-valued observations (list, numpy array, pandas Series).
    sigma : float, optional
        Known standard deviation. When given only ``mu`` is estimated.
    sufficient : bool, optional
        Write the likelihood in the statistics (default: from 100,000 observations on).
    groups : array_like, optional
        The group of each observation (any hashable labels, one per value). The model
        then has ``coords={"group": …}`` and ``mu``/``sigma`` with ``dims="group"``;
        ``pm.sample`` works on it, and :func:`ppl_mle.fit_mle` fits every group at once.
    common_sigma : bool
        With ``groups``: one ``sigma`` shared by all groups.
    group_names : sequence, optional
        With ``groups``: all groups, in order (default: the distinct labels, sorted). A
        label not in it, or a name without rows, is an error.

    Returns
    -------
    MLEModel or GroupedModel
        Free variables ``mu`` and (unless known) ``sigma``; observed ``x``.

    Raises
    ------
    DataError
        Empty, non-numeric or non-finite data; with sigma unknown, a single observation or
        a constant sample (the MLE of sigma would be 0).
    ModelError
        ``sigma`` is not a positive finite number.
    """
    known = None if sigma is None else check_sigma(sigma)
    if groups is not None:
        return grouped_normal(
            data, groups, known, common_sigma=common_sigma, group_names=group_names
        )
    big = _big_integers(data)
    if big is not None:
        return _normal_of_integers(big, known)
    size = np.size(data)
    use_stats = size >= SUFFICIENT_MIN if sufficient is None else bool(sufficient)
    if not use_stats:
        x = as_float_data(data, "data", sigma_known=known is not None)
        return model_for(NormalFamily(x, known))
    # One read of the data: NaN and inf propagate into the statistics, so they are checked
    # there, and the error that locates them is built only when there is one.
    x = as_float_data(data, "data", sigma_known=known is not None, check_finite=False)
    stats = normal_stats(x)
    if not (math.isfinite(stats.mean) and math.isfinite(stats.ss)):
        raise_non_finite(x, "data")
        raise DataError("the sum of squares of `data` overflows float64: rescale the data.")
    return model_for(NormalFamily(x, known, stats))


#: Integers beyond this have no exact float64 value.
_EXACT_INT = 2**53


def _big_integers(data: Any) -> list[int] | None:
    """The data as Python integers when they are integers some of which exceed 2**53."""
    if isinstance(data, np.ma.MaskedArray):
        return None  # the reader reports masked values
    values = data.to_numpy() if hasattr(data, "to_numpy") else data
    if isinstance(values, np.ndarray):
        if values.ndim != 1 or values.dtype.kind not in "iuO" or values.size == 0:
            return None
        exact = values.dtype.kind in "iu" and abs(int(values.min())) <= _EXACT_INT
        if exact and int(values.max()) <= _EXACT_INT:
            return None  # every value exact in float64: no Python integers for big arrays
        items = values.tolist()
    elif isinstance(values, list | tuple):
        items = list(values)
    else:
        return None
    integer = all(isinstance(v, int | np.integer) and not isinstance(v, bool) for v in items)
    if not items or not integer:
        return None
    ints = [int(v) for v in items]
    return ints if max(abs(v) for v in ints) > _EXACT_INT else None


def _normal_of_integers(values: list[int], known: float | None) -> MLEModel:
    """The normal model of integers beyond 2**53, from their exact statistics.

    float64 cannot hold such integers (2**53 + 1 becomes 2**53), so the model is declared
    from their sufficient statistics, computed exactly in integer arithmetic
    (:func:`ppl_mle.core.closed_form.integer_normal_stats`): the fit and its closed form see the
    data as given, not as float64 would round them.
    """
    top = max(abs(v) for v in values)
    if top > _FLOAT_MAX:
        raise DataError(
            f"`data` holds integers of {len(str(top))} digits, beyond the largest float64 "
            f"({_FLOAT_MAX:.4g}): no estimate of them can be represented; rescale them first."
        )
    exact = integer_normal_stats(values)
    checked = check_normal_stats(exact.n, exact.mean, exact.ss, sigma_known=known is not None)
    return model_for(NormalFamily(None, known, dataclasses.replace(checked, scale=exact.scale)))


_FLOAT_MAX = float(np.finfo(np.float64).max)


def normal_from_stats(n: int, mean: float, ss: float, sigma: float | None = None) -> MLEModel:
    """Declare the normal model from its sufficient statistics alone.

    Parameters
    ----------
    n : int
        Number of observations.
    mean : float
        Their mean.
    ss : float
        Their sum of squared deviations from the mean, Σ(x − x̄)² (not the variance).
    sigma : float, optional
        Known standard deviation.

    Returns
    -------
    MLEModel
        The same free variables as :func:`normal`; the observed ``x`` holds (n, mean, SS)
        and its log-likelihood is −n/2·log(2πσ²) − (SS + n(x̄ − μ)²)/(2σ²), equal to that
        of the data.

    Raises
    ------
    DataError
        n not a positive integer, a non-finite mean, a negative SS; with sigma unknown,
        n < 2 or SS = 0 (the MLE of sigma would be 0).
    """
    known = None if sigma is None else check_sigma(sigma)
    stats = check_normal_stats(n, mean, ss, sigma_known=known is not None)
    return model_for(NormalFamily(None, known, stats))


def normal_from_source(
    source: Any,
    column: str | None = None,
    sigma: float | None = None,
    *,
    client: Any = None,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    progress: bool | None = None,
    by: str | None = None,
    common_sigma: bool = False,
) -> MLEModel | GroupedModel:
    """Declare the normal model of a source bigger than memory, from its statistics.

    Parameters
    ----------
    source : str, Path, dask array or dataframe
        A ``.csv``/``.parquet`` file or a folder of ``.parquet`` shards (read in batches),
        or a Dask collection (reduced by Dask; on ``client`` when given).
    column : str, optional
        The column to model.
    sigma : float, optional
        Known standard deviation.
    client : distributed.Client or str, optional
        Dask cluster or scheduler address.
    batch_rows : int
        Rows per batch when reading files.
    progress : bool, optional
        Progress bar over shards (default: when stderr is a terminal).
    by : str, optional
        A column of group labels: one normal model per group, its statistics reduced per
        group in the same pass (as :func:`normal` with ``groups=``).
    common_sigma : bool
        With ``by``: one ``sigma`` shared by all groups.

    Returns
    -------
    MLEModel or GroupedModel
        As :func:`normal_from_stats` (or :func:`normal` with ``groups=``).
    """
    known = None if sigma is None else check_sigma(sigma)
    if by is not None:
        return grouped_normal_from_source(
            source,
            column,
            by,
            known,
            common_sigma=common_sigma,
            client=client,
            batch_rows=batch_rows,
            progress=progress,
        )
    st = normal_stats_of(source, column, batch_rows=batch_rows, client=client, progress=progress)
    stats = check_normal_stats(st.n, st.mean, st.ss, sigma_known=known is not None)
    stats = dataclasses.replace(stats, scale=st.scale)
    return model_for(NormalFamily(None, known, stats))


@overload
def categorical(
    labels: Any,
    categories: Sequence[Hashable] | None = None,
    *,
    sufficient: bool | None = None,
    groups: None = None,
    group_names: Sequence[Hashable] | None = None,
) -> MLEModel: ...


@overload
def categorical(
    labels: Any,
    categories: Sequence[Hashable] | None = None,
    *,
    sufficient: bool | None = None,
    groups: Any,
    group_names: Sequence[Hashable] | None = None,
) -> MLEModel | GroupedModel: ...


def categorical(
    labels: Any,
    categories: Sequence[Hashable] | None = None,
    *,
    sufficient: bool | None = None,
    groups: Any = None,
    group_names: Sequence[Hashable] | None = None,
) -> MLEModel | GroupedModel:
    """Declare the categorical model with a flat prior on the simplex (or one per group).

    ``theta ~ Dirichlet(1, …, 1)`` (the uniform density on the simplex),
    ``label ~ Categorical(theta)``.

    Parameters
    ----------
    labels : array_like
        Observed labels, any hashable values (strings, integers...). Labels of different
        kinds are different categories, and so are groups: ``True``, ``1`` and ``'1'``
        are three, in a list as in an object array or a Series (numbers compare as
        numbers: ``1 == 1.0``). Empty text, like None and NaN, is a missing label.
    categories : sequence, optional
        All categories in the order ``theta`` lists them; categories never observed are
        allowed (their MLE is exactly 0). By default the distinct labels, sorted.

    Returns
    -------
    MLEModel
        Free variable ``theta`` with dimension ``category``; observed ``label``.

    Raises
    ------
    DataError
        Empty labels, missing values, labels not in ``categories``, fewer than two
        categories.
    """
    if groups is not None:
        return grouped_categorical(labels, groups, categories, group_names=group_names)
    use_counts = np.size(labels) >= SUFFICIENT_MIN if sufficient is None else bool(sufficient)
    if use_counts:
        counts, cats = label_counts(labels, categories)
        return model_for(CategoricalFamily(None, cats, counts))
    codes, cats = as_labels(labels, categories)
    return model_for(CategoricalFamily(codes, cats))


def categorical_from_counts(counts: Any, categories: Sequence[Hashable] | None = None) -> MLEModel:
    """Declare the categorical model from the count of each category alone.

    Parameters
    ----------
    counts : array_like or mapping
        Non-negative integer counts, one per category (or a mapping category → count).
    categories : sequence, optional
        Category labels (default ``0 … k−1``, or the mapping's keys).

    Returns
    -------
    MLEModel
        Free ``theta`` as in :func:`categorical`; its log-likelihood Σ cⱼ log θⱼ equals
        that of the labels.
    """
    values, cats = check_counts(counts, categories)
    return model_for(CategoricalFamily(None, cats, values))


def categorical_from_source(
    source: Any,
    column: str | None = None,
    categories: Sequence[Hashable] | None = None,
    *,
    client: Any = None,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    progress: bool | None = None,
    by: str | None = None,
) -> MLEModel | GroupedModel:
    """Declare the categorical model of a source bigger than memory, from its counts.

    Parameters as for :func:`normal_from_source` (``by``: one model per group);
    ``categories`` as for :func:`categorical`.
    """
    if by is not None:
        return grouped_categorical_from_source(
            source,
            column,
            by,
            categories,
            client=client,
            batch_rows=batch_rows,
            progress=progress,
        )
    counts, cats = label_counts_of(
        source,
        column,
        categories=categories,
        batch_rows=batch_rows,
        client=client,
        progress=progress,
    )
    return model_for(CategoricalFamily(None, cats, counts))


def softmax_regression(
    X: Any,
    y: Any,
    reference: Hashable | None = FIRST,
    *,
    intercept: bool = True,
    classes: Sequence[Hashable] | None = None,
) -> MLEModel:
    """Declare softmax (multinomial logistic) regression with flat priors.

    ``beta ~ Flat`` with dims ``(feature, class)``; ``y ~ Categorical(softmax(X @ beta))``,
    the reference class's logit fixed at 0. Its MLE minimises the mean cross-entropy of the
    one-hot labels against the predicted probabilities.

    Parameters
    ----------
    X : array_like or pandas.DataFrame
        Features, one row per observation; DataFrame column names label the coefficients.
    y : array_like
        Class labels, any hashable values.
    reference : hashable or None
        The class whose coefficients are fixed at 0 (default: the first class, as in
        statsmodels' MNLogit). ``None`` leaves all K classes free: the model is then not
        identified, and the fit says so.
    intercept : bool
        Add an intercept column.
    classes : sequence, optional
        All classes in order; by default the distinct labels, sorted.

    Returns
    -------
    MLEModel
        Free variable ``beta`` (features × free classes); observed ``y``.

    Raises
    ------
    DataError
        Bad labels or features (non-finite, wrong length, constant or collinear columns),
        a class never observed, or a reference that is not a class.
    """
    codes, cats = as_labels(y, classes, name="y")
    design, names = as_design(X, codes.size, intercept=intercept)
    counts = np.bincount(codes, minlength=len(cats))
    if np.any(counts == 0):
        missing = [cats[j] for j in np.flatnonzero(counts == 0)]
        raise DataError(
            f"classes {missing!r} never occur in `y`: their coefficients have no finite MLE."
        )
    if reference is None:
        ref = None
    elif isinstance(reference, str) and reference == FIRST and FIRST not in cats:
        ref = 0
    elif reference in cats:
        ref = cats.index(reference)
    else:
        raise DataError(f"`reference` {reference!r} is not one of the classes {list(cats)!r}.")
    return model_for(SoftmaxFamily(design, codes, cats, names, ref))


def _coord(value: Hashable) -> str | int | float:
    return value if isinstance(value, str | int | float) else str(value)


@serialised
def model_for(family: Family) -> MLEModel:
    """Build the flat-prior PyMC model of a family.

    Parameters
    ----------
    family : Family
        A :class:`NormalFamily`, :class:`CategoricalFamily` or :class:`SoftmaxFamily`.

    Returns
    -------
    MLEModel
    """
    # Our declarations' nodes need no creation stacks (PyTensor's error messages would
    # point into this module): recording them is a fifth of the cost of declaring. In
    # float64 whatever the user's floatX (pm.Data would store the data in float32).
    with no_creation_traces(), pytensor.config.change_flags(floatX="float64"):
        model = _declare(family)
    model.mark_declared()
    return model


# -- one registered function per family: its PyMC declaration and its data containers ------


@functools.singledispatch
def _declare(family: Family) -> MLEModel:
    """The flat-prior PyMC model of ``family`` (one registered function per family)."""
    raise TypeError(f"unknown family {family!r}")


@_declare.register(NormalFamily)
def _declare_normal(family: NormalFamily) -> MLEModel:
    # A known sigma goes in as a float64 array: from a Python float PyTensor makes a
    # float32 constant (2.0 fits) and folds log(sigma) in float32, ~2e-9 per point.
    known = None if family.sigma is None else np.asarray(family.sigma, dtype=np.float64)
    values = _normal_values(family)
    if family.given_stats is not None:
        model = MLEModel(family)
        with model:
            # The user's model holds SS itself (it overflows only for data near 1e154 and
            # beyond, which fits handle in working units: see MLEModel.working).
            stats = pm.Data("stats", values["stats"])
            mu = pm.Flat("mu")
            sigma = pm.HalfFlat("sigma") if known is None else known
            pm.CustomDist(
                "x",
                mu,
                sigma,
                np.zeros(3),
                logp=normal_stats_logp,
                observed=stats,
                signature="(),(),(s)->(s)",
            )
        return model
    model = MLEModel(family)
    with model:
        data = pm.Data("data", values["data"])
        mu = pm.Flat("mu")
        sigma = pm.HalfFlat("sigma") if known is None else known
        pm.Normal("x", mu=mu, sigma=sigma, observed=data)
    return model


@functools.singledispatch
def _container_values(family: Family) -> dict[str, np.ndarray] | None:
    """The values of the data containers :func:`_declare` gives ``family``, by name.

    None for a family whose working data this does not describe (they are then held by
    a working model of their own).
    """
    return None


@_container_values.register(NormalFamily)
def _normal_values(family: NormalFamily) -> dict[str, np.ndarray]:
    if family.given_stats is not None or family.data is None:
        return {"stats": family.stats.vector()}
    return {"data": family.data}


@_container_values.register(SoftmaxFamily)
def _softmax_values(family: SoftmaxFamily) -> dict[str, np.ndarray]:
    return {"X": family.design, "codes": family.codes}


@_declare.register(CategoricalFamily)
def _declare_categorical(family: CategoricalFamily) -> MLEModel:
    coords = {"category": [_coord(c) for c in family.categories]}
    model = MLEModel(family, coords=coords)
    with model:
        if family.given_counts is not None:
            counts = pm.Data("counts", family.counts.astype(np.float64), dims="category")
            theta = pm.Dirichlet("theta", a=np.ones(family.k), dims="category")
            pm.CustomDist("label", theta, logp=counts_logp, observed=counts, signature="(k)->(k)")
        else:
            codes = pm.Data("codes", family.codes)
            theta = pm.Dirichlet("theta", a=np.ones(family.k), dims="category")
            pm.Categorical("label", p=theta, observed=codes)
    return model


@_declare.register(SoftmaxFamily)
def _declare_softmax(family: SoftmaxFamily) -> MLEModel:
    coords = {
        "feature": list(family.features),
        "class": [_coord(c) for c in family.free_classes],
    }
    # Softmax probabilities are valid by construction: PyMC's check of them (a second
    # softmax over the data at every evaluation) is dropped.
    model = MLEModel(family, coords=coords, check_bounds=False)
    with model:
        # pm.Data copies the arrays (to floatX); borrow=True spares PyTensor a second copy.
        values = _softmax_values(family)
        design = pm.Data("X", values["X"], borrow=True)
        codes = pm.Data("codes", values["codes"], borrow=True)
        beta = pm.Flat("beta", dims=("feature", "class"))
        eta = pt.dot(design, beta)
        if family.reference is not None:
            ref = family.reference
            zeros = pt.zeros((eta.shape[0], 1), dtype=eta.dtype)
            eta = pt.concatenate([eta[:, :ref], zeros, eta[:, ref:]], axis=1)
        pm.Categorical("y", logit_p=eta, observed=codes)
    return model


@functools.singledispatch
def _declaration_key(family: Family) -> Hashable:
    """The constants and data types :func:`_declare` builds ``family``'s graph from."""
    raise TypeError(f"unknown family {family!r}")


def _array_kind(values: Any) -> tuple[str, int]:
    array = np.asarray(values)
    return array.dtype.str, array.ndim


@_declaration_key.register(NormalFamily)
def _normal_key(family: NormalFamily) -> Hashable:
    known = None if family.sigma is None else np.float64(family.sigma).tobytes()
    if family.given_stats is not None:
        return ("stats", known, _array_kind(family.stats.vector()))
    return ("data", known, _array_kind(family.data))


@_declaration_key.register(CategoricalFamily)
def _categorical_key(family: CategoricalFamily) -> Hashable:
    if family.given_counts is not None:
        return ("counts", family.k)
    return ("codes", family.k, _array_kind(family.codes))


@_declaration_key.register(SoftmaxFamily)
def _softmax_key(family: SoftmaxFamily) -> Hashable:
    return (
        len(family.features),
        len(family.free_classes),
        family.reference,
        _array_kind(family.design),
        _array_kind(family.codes),
    )


@functools.singledispatch
def _hessian_z(family: Family) -> Callable[[np.ndarray], np.ndarray] | None:
    """The family's closed-form Hessian in ``find_MAP``'s ``z``, or None (autodiff)."""
    return None


@_hessian_z.register(CategoricalFamily)
def _categorical_hessian_z(family: CategoricalFamily) -> Callable[[np.ndarray], np.ndarray]:
    return family.hessian_z


@_hessian_z.register(SoftmaxFamily)
def _softmax_hessian_z(family: SoftmaxFamily) -> Callable[[np.ndarray], np.ndarray]:
    # beta is unconstrained, so z is beta.ravel().
    shape = (len(family.features), len(family.free_classes))
    return lambda z: family.hessian(np.reshape(z, shape))


_SOFTMAX_DATA = (
    "the data of a softmax regression cannot be replaced piecemeal (features and "
    "labels go together): declare a new model with softmax_regression(X, y)."
)


@functools.singledispatch
def _data_container(family: Family) -> str:
    """The container :meth:`MLEModel.replace_data` writes new observations to."""
    raise TypeError(f"unknown family {family!r}")


@_data_container.register(NormalFamily)
def _normal_container(family: NormalFamily) -> str:
    return "stats" if family.given_stats is not None else "data"


@_data_container.register(CategoricalFamily)
def _categorical_container(family: CategoricalFamily) -> str:
    return "counts" if family.given_counts is not None else "codes"


@_data_container.register(SoftmaxFamily)
def _softmax_container(family: SoftmaxFamily) -> str:
    raise ModelError(_SOFTMAX_DATA)


@functools.singledispatch
def _with_new_data(family: Family, name: str, values: Any) -> tuple[Family, Any]:
    """The family of new observations set into container ``name``, and the values to set.

    The new data are validated as the declaration validates them. Containers that hold
    no observations leave the family as it is.
    """
    return family, values


@_with_new_data.register(NormalFamily)
def _normal_new_data(family: NormalFamily, name: str, values: Any) -> tuple[Family, Any]:
    if name == "stats":
        # New *data*, summarised here: the model holds only their statistics.
        x = as_float_data(values, "data", sigma_known=family.sigma is not None)
        st = normal_stats(x)
        return NormalFamily(x, family.sigma, st), st.vector()
    if name == "data":
        x = as_float_data(values, "data", sigma_known=family.sigma is not None)
        return NormalFamily(x, family.sigma), x
    return family, values


@_with_new_data.register(CategoricalFamily)
def _categorical_new_data(family: CategoricalFamily, name: str, values: Any) -> tuple[Family, Any]:
    if name == "counts":
        # New *labels*, counted here.
        counts, cats = label_counts(values, family.categories)
        return CategoricalFamily(None, cats, counts), counts.astype(np.float64)
    if name == "codes":
        # New *labels* (not codes), from the declared categories.
        codes, cats = as_labels(values, family.categories)
        return CategoricalFamily(codes, cats), codes
    return family, values


@_with_new_data.register(SoftmaxFamily)
def _softmax_new_data(family: SoftmaxFamily, name: str, values: Any) -> tuple[Family, Any]:
    raise ModelError(_SOFTMAX_DATA)
