"""PyMC declarations of per-group models: ``mu[group]``, ``sigma[group]``, ``theta[group, …]``.

A grouped model is an ordinary ``pymc.Model`` with ``coords={"group": …}`` and dims, so
``pm.sample`` works on it, written in the sufficient statistics of each group: its
log-density costs O(groups) per evaluation, whatever the number of rows. It carries its
grouped family (:mod:`ppl_mle.core.grouped.families`), against whose closed form every
group of a fit is checked.

The entry points are :func:`ppl_mle.normal` and :func:`ppl_mle.categorical` with
``groups=``, and their ``from_source(…, by=…)``.
"""

from __future__ import annotations

import functools
from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
import pymc as pm
import pytensor

from ppl_mle.core.errors import DataError
from ppl_mle.core.grouped.families import GroupedCategoricalFamily, GroupedNormalFamily
from ppl_mle.data.grouped import (
    grouped_label_counts,
    grouped_label_counts_of,
    grouped_normal_stats,
    grouped_normal_stats_of,
)
from ppl_mle.data.streaming import DEFAULT_BATCH_ROWS
from ppl_mle.model._pytensor import serialised
from ppl_mle.model.compiled import StandaloneModel
from ppl_mle.model.likelihoods import counts_logp, scaled_normal_stats_logp

__all__ = [
    "GroupedFamily",
    "GroupedModel",
    "grouped_categorical",
    "grouped_categorical_from_source",
    "grouped_model_for",
    "grouped_normal",
    "grouped_normal_from_source",
]

GroupedFamily = GroupedNormalFamily | GroupedCategoricalFamily


class GroupedModel(StandaloneModel):
    """A ``pymc.Model`` of one model per group, that knows its grouped family.

    Parameters
    ----------
    family : GroupedNormalFamily or GroupedCategoricalFamily
        The statistics of every group.
    **kwargs
        Passed to ``pymc.Model``.
    """

    def __init__(self, family: GroupedFamily, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.family = family


def _coord(value: Hashable) -> str | int | float:
    return value if isinstance(value, str | int | float) else str(value)


def _check_groups(groups: Sequence[Hashable]) -> None:
    if len(groups) == 1:
        raise DataError(
            f"there is one group only ({groups[0]!r}): that is an ordinary fit; declare it "
            "without `groups=` (ppl_mle.normal(data) or ppl_mle.categorical(labels))."
        )


def grouped_normal(
    data: Any,
    groups: Any,
    sigma: float | None = None,
    *,
    common_sigma: bool = False,
    group_names: Sequence[Hashable] | None = None,
) -> GroupedModel:
    """Declare ``x ~ Normal(mu[group], sigma[group])`` with flat priors, from the statistics.

    See :func:`ppl_mle.normal` (``groups=``).
    """
    stats, labels = grouped_normal_stats(data, groups, group_names)
    _check_groups(labels)
    return grouped_model_for(GroupedNormalFamily(labels, stats, sigma, common_sigma))


def grouped_normal_from_source(
    source: Any,
    column: str | None,
    by: str,
    sigma: float | None = None,
    *,
    common_sigma: bool = False,
    client: Any = None,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    progress: bool | None = None,
) -> GroupedModel:
    """The grouped normal model of a file, a folder of shards or a Dask DataFrame."""
    stats, labels = grouped_normal_stats_of(
        source, column, by, client=client, batch_rows=batch_rows, progress=progress
    )
    _check_groups(labels)
    return grouped_model_for(GroupedNormalFamily(labels, stats, sigma, common_sigma))


def grouped_categorical(
    labels: Any,
    groups: Any,
    categories: Sequence[Hashable] | None = None,
    *,
    group_names: Sequence[Hashable] | None = None,
) -> GroupedModel:
    """Declare ``label ~ Categorical(theta[group])`` with a flat prior on each simplex.

    See :func:`ppl_mle.categorical` (``groups=``).
    """
    counts, names, cats = grouped_label_counts(labels, groups, categories, group_names)
    _check_groups(names)
    return grouped_model_for(GroupedCategoricalFamily(names, cats, counts))


def grouped_categorical_from_source(
    source: Any,
    column: str | None,
    by: str,
    categories: Sequence[Hashable] | None = None,
    *,
    client: Any = None,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    progress: bool | None = None,
) -> GroupedModel:
    """The grouped categorical model of a file, a folder of shards or a Dask DataFrame."""
    counts, names, cats = grouped_label_counts_of(
        source, column, by, categories, client=client, batch_rows=batch_rows, progress=progress
    )
    _check_groups(names)
    return grouped_model_for(GroupedCategoricalFamily(names, cats, counts))


@serialised
def grouped_model_for(family: GroupedFamily) -> GroupedModel:
    """The flat-prior PyMC model of a grouped family (in float64 whatever floatX is)."""
    with pytensor.config.change_flags(floatX="float64"):
        model = _declare(family)
    model.mark_declared()
    return model


@functools.singledispatch
def _declare(family: Any) -> GroupedModel:
    raise TypeError(f"unknown grouped family {family!r}")


@_declare.register(GroupedNormalFamily)
def _declare_normal(family: GroupedNormalFamily) -> GroupedModel:
    st = family.stats
    table = np.column_stack([st.n.astype(np.float64), st.mean, st.ss, st.scale])
    model = GroupedModel(family, coords={"group": [_coord(g) for g in family.groups]})
    with model:
        stats = pm.Data("stats", table)
        mu = pm.Flat("mu", dims="group")
        if family.sigma is not None:
            sigma: Any = np.asarray(family.sigma, dtype=np.float64)
        elif family.common_sigma:
            sigma = pm.HalfFlat("sigma")
        else:
            sigma = pm.HalfFlat("sigma", dims="group")
        pm.CustomDist(
            "x",
            mu,
            sigma,
            np.zeros(4),
            logp=scaled_normal_stats_logp,
            observed=stats,
            signature="(),(),(s)->(s)",
        )
    return model


@_declare.register(GroupedCategoricalFamily)
def _declare_categorical(family: GroupedCategoricalFamily) -> GroupedModel:
    coords = {
        "group": [_coord(g) for g in family.groups],
        "category": [_coord(c) for c in family.categories],
    }
    model = GroupedModel(family, coords=coords)
    with model:
        counts = pm.Data("counts", family.counts.astype(np.float64), dims=("group", "category"))
        theta = pm.Dirichlet(
            "theta", a=np.ones((family.n_groups, family.k)), dims=("group", "category")
        )
        pm.CustomDist("label", theta, logp=counts_logp, observed=counts, signature="(k)->(k)")
    return model
