"""Block-diagonal Hessians: one small block per group, plus a few shared coordinates.

The log-likelihood of a per-group model is a sum over groups, each term a function of its
group's parameters (and of parameters all groups share, such as a common σ). Its Hessian is
block-diagonal with a border: G blocks of k × k, the border between each block and the s
shared coordinates, and an s × s corner. :class:`BlockLayout` says which coordinates of the
flat parameter vector belong to which group; its :meth:`~BlockLayout.probes` are the k + s
vectors whose Hessian-vector products give every block at once (the group coordinates of
the same local index are "coloured" alike: no two of them meet in any block).

:class:`BlockMatrix` solves with such a matrix through the Schur complement of the corner,
in O(G k³ + s³): a Newton step on a million groups costs a few passes over G small blocks,
not a dense factorisation of a 2-million-square matrix.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["BlockLayout", "BlockMatrix"]


@dataclass(frozen=True, eq=False)
class BlockLayout:
    """Where each group's coordinates sit in the flat vector.

    Attributes
    ----------
    index : numpy.ndarray
        (G, k) integer array: ``index[g, j]`` is the position of group g's j-th coordinate.
    shared : numpy.ndarray
        (s,) positions of the coordinates all groups share.
    size : int
        Length of the flat vector (G·k + s).
    """

    index: np.ndarray
    shared: np.ndarray
    size: int

    @property
    def n_groups(self) -> int:
        """Number of groups G."""
        return int(self.index.shape[0])

    @property
    def k(self) -> int:
        """Coordinates per group."""
        return int(self.index.shape[1])

    def probes(self) -> np.ndarray:
        """The k + s vectors whose Hessian products give the whole block structure.

        Row j < k has ones at every group's j-th coordinate; row k + i is the unit vector
        of the i-th shared coordinate.
        """
        out = np.zeros((self.k + self.shared.size, self.size))
        for j in range(self.k):
            out[j, self.index[:, j]] = 1.0
        for i, pos in enumerate(self.shared):
            out[self.k + i, pos] = 1.0
        return out

    def assemble(self, products: np.ndarray) -> BlockMatrix:
        """The block matrix H from the products H·p of :meth:`probes` (rows of ``products``).

        For a block-diagonal H, (H·p_j) at group g's coordinates is column j of g's block:
        the other groups' coordinates of p_j meet only zeros.
        """
        k, s = self.k, self.shared.size
        blocks = np.stack([products[j][self.index] for j in range(k)], axis=-1)
        border = np.zeros((self.n_groups, k, s))
        for i in range(s):
            border[:, :, i] = products[k + i][self.index]
        corner = products[k:, self.shared] if s else np.zeros((0, 0))
        blocks = 0.5 * (blocks + np.swapaxes(blocks, 1, 2))
        return BlockMatrix(self, blocks, border, 0.5 * (corner + corner.T))

    def split(self, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """A flat vector as (G, k) group parts and (s,) shared part."""
        return v[self.index], v[self.shared]

    def join(self, groups: np.ndarray, shared: np.ndarray) -> np.ndarray:
        """The flat vector from its (G, k) group parts and (s,) shared part."""
        out = np.empty(self.size)
        out[self.index] = groups
        out[self.shared] = shared
        return out


@dataclass(frozen=True, eq=False)
class BlockMatrix:
    """A symmetric matrix with diagonal blocks, a border and a corner.

    Attributes
    ----------
    layout : BlockLayout
    blocks : numpy.ndarray
        (G, k, k) diagonal blocks.
    border : numpy.ndarray
        (G, k, s) entries between each group's coordinates and the shared ones.
    corner : numpy.ndarray
        (s, s) entries among the shared coordinates.
    """

    layout: BlockLayout
    blocks: np.ndarray
    border: np.ndarray
    corner: np.ndarray

    def __neg__(self) -> BlockMatrix:
        return BlockMatrix(self.layout, -self.blocks, -self.border, -self.corner)

    def matvec(self, v: np.ndarray) -> np.ndarray:
        """H·v in O(G k² + G k s)."""
        vg, vs = self.layout.split(v)
        out_g = np.einsum("gij,gj->gi", self.blocks, vg) + self.border @ vs
        out_s = self.corner @ vs + np.einsum("gis,gi->s", self.border, vg)
        return self.layout.join(out_g, out_s)

    def group_eigenvalues(self) -> np.ndarray:
        """(G, k) eigenvalues of each diagonal block."""
        return np.asarray(np.linalg.eigvalsh(self.blocks))

    def is_finite(self) -> bool:
        """Whether every entry is finite."""
        return bool(
            np.all(np.isfinite(self.blocks))
            and np.all(np.isfinite(self.border))
            and np.all(np.isfinite(self.corner))
        )

    def solve(self, rhs: np.ndarray) -> np.ndarray:
        """H⁻¹·rhs through the Schur complement of the corner (H positive definite).

        Raises
        ------
        numpy.linalg.LinAlgError
            A block or the Schur complement is not positive definite.
        """
        chol = np.linalg.cholesky(self.blocks)  # raises where a block is not PD
        rg, rs = self.layout.split(rhs)
        a_inv_r = _cho_solve(chol, rg)
        if self.layout.shared.size == 0:
            return self.layout.join(a_inv_r, rs)
        a_inv_b = _cho_solve(chol, self.border)  # (G, k, s)
        schur = self.corner - np.einsum("gks,gkt->st", self.border, a_inv_b)
        schur_chol = np.linalg.cholesky(schur)
        rhs_s = rs - np.einsum("gks,gk->s", self.border, a_inv_r)
        xs = np.linalg.solve(schur_chol.T, np.linalg.solve(schur_chol, rhs_s))
        xg = a_inv_r - np.einsum("gks,s->gk", a_inv_b, xs)
        return self.layout.join(xg, xs)

    def descent_step(self, g: np.ndarray) -> np.ndarray:
        """−H⁻¹g for the minimisation whose Hessian this is.

        Where a block is not positive definite its eigenvalues are replaced by their
        absolute values (floored at √ε of the largest), as in
        :func:`ppl_mle.core.newton.newton_minimize`: still a descent direction.
        """
        try:
            return -self.solve(g)
        except np.linalg.LinAlgError:
            return -self._modified().solve(g)

    def _modified(self) -> BlockMatrix:
        eigval, eigvec = np.linalg.eigh(self.blocks)
        top = np.max(np.abs(eigval), axis=1, keepdims=True)
        floor = math.sqrt(np.finfo(float).eps) * np.maximum(top, 1e-300)
        fixed = np.maximum(np.abs(eigval), floor)
        blocks = np.einsum("gij,gj,gkj->gik", eigvec, fixed, eigvec)
        corner = self.corner
        if corner.size:
            w, u = np.linalg.eigh(corner)
            floor_s = math.sqrt(np.finfo(float).eps) * max(float(np.max(np.abs(w))), 1e-300)
            corner = (u * np.maximum(np.abs(w), floor_s)) @ u.T
            # Keep the Schur complement positive: drop the border if it would not be.
            try:
                BlockMatrix(self.layout, blocks, self.border, corner).solve(
                    np.zeros(self.layout.size)
                )
            except np.linalg.LinAlgError:
                return BlockMatrix(self.layout, blocks, np.zeros_like(self.border), corner)
        return BlockMatrix(self.layout, blocks, self.border, corner)

    def group_covariances(self) -> tuple[np.ndarray, np.ndarray]:
        """Diagonal blocks of H⁻¹: (G, k, k) per group and (s, s) for the shared part.

        With a border, each group's block is A_g⁻¹ + A_g⁻¹B_g S⁻¹B_gᵀA_g⁻¹, S the Schur
        complement of the corner.

        Raises
        ------
        numpy.linalg.LinAlgError
            H is not positive definite.
        """
        chol = np.linalg.cholesky(self.blocks)
        eye = np.broadcast_to(np.eye(self.layout.k), self.blocks.shape)
        a_inv = _cho_solve(chol, np.array(eye))
        if self.layout.shared.size == 0:
            return a_inv, np.zeros((0, 0))
        a_inv_b = np.einsum("gij,gjs->gis", a_inv, self.border)
        schur = self.corner - np.einsum("gks,gkt->st", self.border, a_inv_b)
        s_inv = np.linalg.inv(schur)
        cov_g = a_inv + np.einsum("gis,st,gjt->gij", a_inv_b, s_inv, a_inv_b)
        return cov_g, 0.5 * (s_inv + s_inv.T)


def _cho_solve(chol: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Solve L Lᵀ x = rhs for stacked lower Cholesky factors (G, k, k); rhs (G, k[, m])."""
    vector = rhs.ndim == 2
    b = rhs[..., None] if vector else rhs
    y = np.linalg.solve(chol, b)
    x = np.linalg.solve(np.swapaxes(chol, 1, 2), y)
    return x[..., 0] if vector else x
