"""Sufficient statistics of every group in one pass over the rows.

For the normal model each group needs (n, mean, SS), SS = Σ(x − x̄)². They are computed by
the corrected two-pass algorithm (Björck; Chan, Golub & LeVeque 1983), vectorised over the
groups with ``numpy.bincount``:

1. n and Σx per group give a first mean m;
2. the deviations d = x − m (one gather) give Σd and Σd², and then
   ``mean = m + Σd/n`` and ``SS = Σd² − (Σd)²/n``.

The correction Σd/n removes the rounding of the first mean, so data 1e9 ± 1 keep every
digit of their spread. Groups where float64 cannot hold the sums (values near 1e300 whose
sums or squared deviations overflow, values near 1e-300 whose squares underflow) are
recomputed on their own rows, divided by a power of two near their magnitude (exact), and
their SS is kept in units of that power (:attr:`GroupStats.scale`), as
:class:`ppl_mle.core.closed_form.NormalStats` does for one sample.

Statistics of shards combine exactly by Chan's formula (:func:`merge_group_stats`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["GroupStats", "group_counts", "group_stats", "merge_group_stats", "powers_of_two"]

#: A sum of squared deviations below this (in the units of its scale) may have lost digits
#: to underflow: the group is recomputed at its own scale.
_UNDERFLOW_SS = 2.0**-900


@dataclass(frozen=True, eq=False)
class GroupStats:
    """Normal sufficient statistics of G groups.

    Attributes
    ----------
    n : numpy.ndarray
        Observations per group (int64, shape (G,)).
    mean : numpy.ndarray
        Mean per group (float64).
    ss : numpy.ndarray
        Sum of squared deviations from the group mean, in units of ``scale**2``.
    scale : numpy.ndarray
        Power of two per group (1.0 unless the spread is near the edges of float64): the
        group's SS is ``ss * scale**2``, which need not be representable itself.
    """

    n: np.ndarray
    mean: np.ndarray
    ss: np.ndarray
    scale: np.ndarray

    @property
    def n_groups(self) -> int:
        """Number of groups G."""
        return int(self.n.size)

    @property
    def sd_mle(self) -> np.ndarray:
        """σ̂ per group, sqrt(SS/n) (divides by n, not n − 1); 0 for a constant group."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.asarray(self.scale * np.sqrt(self.ss / self.n), dtype=np.float64)

    def take(self, index: np.ndarray) -> GroupStats:
        """The statistics of the groups ``index`` (an integer or boolean array)."""
        return GroupStats(self.n[index], self.mean[index], self.ss[index], self.scale[index])

    def table(self) -> np.ndarray:
        """(G, 3) array of (n, mean, SS/scale²·…) as float64: SS in units of ``scale**2``."""
        return np.column_stack([self.n.astype(np.float64), self.mean, self.ss])


def group_stats(x: np.ndarray, codes: np.ndarray, n_groups: int) -> GroupStats:
    """(n, mean, SS) of ``x`` per group.

    Parameters
    ----------
    x : numpy.ndarray
        Finite float64 values (validated by the caller).
    codes : numpy.ndarray
        Group of each value, integers in ``[0, n_groups)``.
    n_groups : int
        Number of groups G (groups without values get n = 0, mean NaN).

    Returns
    -------
    GroupStats
    """
    x = np.asarray(x, dtype=np.float64)
    codes = np.asarray(codes, dtype=np.intp)
    n = np.bincount(codes, minlength=n_groups).astype(np.int64)
    with np.errstate(all="ignore"):
        first = np.bincount(codes, weights=x, minlength=n_groups) / n
        d = x - first[codes]
        s1 = np.bincount(codes, weights=d, minlength=n_groups)
        d *= d
        s2 = np.bincount(codes, weights=d, minlength=n_groups)
        del d
        mean = first + s1 / n
        ss = np.maximum(s2 - s1 * s1 / n, 0.0)
    scale = np.ones(n_groups)
    redo = (n > 0) & ~(np.isfinite(mean) & np.isfinite(ss) & (ss >= _UNDERFLOW_SS))
    # Constant groups land here too (SS = 0): their rescaled statistics are the same.
    redo &= n > 1
    if np.any(redo):
        rows = redo[codes]
        fixed = _scaled(x[rows], codes[rows], np.flatnonzero(redo))
        mean[redo], ss[redo], scale[redo] = fixed
    return GroupStats(n, mean, ss, scale)


def _scaled(
    x: np.ndarray, codes: np.ndarray, groups: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, SS (in units of scale²) and scale of ``groups``, each at its own magnitude.

    Each group is divided by a power of two near its largest magnitude, so its sums do not
    overflow; its deviations by one near their largest magnitude, so their squares neither
    over- nor underflow. Both divisions are exact.
    """
    local = np.searchsorted(groups, codes)
    g = groups.size
    n = np.bincount(local, minlength=g).astype(np.float64)
    top = np.zeros(g)
    np.maximum.at(top, local, np.abs(x))
    a = powers_of_two(top)
    with np.errstate(all="ignore"):
        y = x / a[local]
        first = np.bincount(local, weights=y, minlength=g) / n
        d = y - first[local]
        spread = np.zeros(g)
        np.maximum.at(spread, local, np.abs(d))
        b = powers_of_two(spread)
        e = d / b[local]
        s1 = np.bincount(local, weights=e, minlength=g)
        s2 = np.bincount(local, weights=e * e, minlength=g)
        mean = (first + b * s1 / n) * a
        ss = np.maximum(s2 - s1 * s1 / n, 0.0)
        scale = a * b  # inf only for spreads beyond the largest float64 (not representable)
    return mean, ss, scale


def powers_of_two(values: np.ndarray) -> np.ndarray:
    """A power of two near each value (1.0 for 0): dividing by it is exact."""
    _, exponent = np.frexp(values)
    return np.where(values > 0, np.ldexp(1.0, exponent - 1), 1.0)


def merge_group_stats(a: GroupStats, b: GroupStats) -> GroupStats:
    """The statistics of the union of two samples of the same G groups (Chan et al.).

    ``SS = SS_a + SS_b + δ² n_a n_b / n`` with δ = mean_b − mean_a; groups empty on one side
    take the other's statistics. The SS of both sides are brought to a common scale first.
    """
    n = a.n + b.n
    scale = np.maximum(a.scale, b.scale)
    with np.errstate(all="ignore"):
        ra, rb = a.scale / scale, b.scale / scale
        ss_a = np.where(a.n > 0, a.ss * ra * ra, 0.0)
        ss_b = np.where(b.n > 0, b.ss * rb * rb, 0.0)
        fa = np.where(n > 0, a.n / n, 0.0)
        fb = np.where(n > 0, b.n / n, 0.0)
        mean_a = np.where(a.n > 0, a.mean, 0.0)
        mean_b = np.where(b.n > 0, b.mean, 0.0)
        delta = (mean_b - mean_a) / scale
        mean = np.where(
            a.n == 0, b.mean, np.where(b.n == 0, a.mean, mean_a + fb * (mean_b - mean_a))
        )
        both = (a.n > 0) & (b.n > 0)
        ss = ss_a + ss_b + np.where(both, delta * delta * (a.n * fb), 0.0)
        del fa
    return GroupStats(n, mean, ss, scale)


def group_counts(codes: np.ndarray, categories: np.ndarray, n_groups: int, k: int) -> np.ndarray:
    """The (G, k) table of counts: rows are groups, columns categories.

    Parameters
    ----------
    codes : numpy.ndarray
        Group of each label, in ``[0, n_groups)``.
    categories : numpy.ndarray
        Category code of each label, in ``[0, k)``.
    n_groups, k : int
        Numbers of groups and categories.
    """
    flat = np.asarray(codes, dtype=np.int64) * k + np.asarray(categories, dtype=np.int64)
    return np.bincount(flat, minlength=n_groups * k).astype(np.int64).reshape(n_groups, k)
