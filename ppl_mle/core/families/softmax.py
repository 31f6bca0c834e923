"""Softmax (multinomial logistic) regression of class labels on features (numpy/scipy only)."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
from scipy import special

from ppl_mle.core._threads import map_row_blocks
from ppl_mle.core.affine import AffineMap
from ppl_mle.core.errors import ModelError
from ppl_mle.core.newton import newton_minimize

__all__ = ["SoftmaxFamily"]

#: A fitted probability of the observed class above 1 − this counts as perfect prediction.
_PERFECT = 1e-10

#: Rows of the design taken at a time by SoftmaxFamily.hessian (a few MB of temporaries).
_HESSIAN_CHUNK = 2_048
#: Rows per thread from which SoftmaxFamily.hessian splits the work across cores.
_PARALLEL_ROWS = 20_000

#: Rows of the subsample whose MLE starts the fit of a large softmax regression (from four
#: times as many rows on), and the most Newton iterations spent on it.
_SUBSAMPLE_ROWS = 20_000
_SUBSAMPLE_MAXITER = 30


@dataclass(frozen=True, eq=False)
class SoftmaxFamily:
    """Softmax (multinomial logistic) regression of class labels on features.

    The probability of class k for features x is softmax(xᵀB)ₖ. With a reference class its
    column of B is fixed at 0 (the model is identified); with ``reference=None`` all K
    columns are free and the model is not identified (adding one vector to every column
    changes nothing).

    Attributes
    ----------
    design : numpy.ndarray
        n × p design matrix (with the intercept column, if any).
    codes : numpy.ndarray
        Class index of each observation.
    classes : tuple
        The class labels, in order.
    features : tuple of str
        Names of the design's columns.
    reference : int or None
        Index of the reference class, or None when all classes are free.
    """

    design: np.ndarray = field(repr=False)
    codes: np.ndarray = field(repr=False)
    classes: tuple[Hashable, ...]
    features: tuple[str, ...]
    reference: int | None = 0

    name = "softmax regression"
    has_closed_form = False

    @property
    def n_obs(self) -> int:
        """Number of observations."""
        return int(self.codes.size)

    @property
    def k(self) -> int:
        """Number of classes."""
        return len(self.classes)

    @property
    def free_classes(self) -> tuple[Hashable, ...]:
        """Classes whose coefficients are estimated."""
        return tuple(c for j, c in enumerate(self.classes) if j != self.reference)

    def logits(self, beta: np.ndarray, design: np.ndarray | None = None) -> np.ndarray:
        """N × K logits, with the reference class's column 0."""
        x = self.design if design is None else design
        eta = x @ np.asarray(beta, dtype=np.float64)
        if self.reference is None:
            return eta
        return np.insert(eta, self.reference, 0.0, axis=1)

    def loglik(self, params: dict[str, np.ndarray]) -> float:
        """Log-likelihood Σᵢ log softmax(xᵢᵀB)_{yᵢ}."""
        logits = self.logits(params["beta"])
        picked = logits[np.arange(self.n_obs), self.codes]
        return float(np.sum(picked - special.logsumexp(logits, axis=1)))

    def predict_proba(self, beta: np.ndarray, design: np.ndarray) -> np.ndarray:
        """Class probabilities for each row of ``design`` (n × K)."""
        return cast(np.ndarray, special.softmax(self.logits(beta, design), axis=1))

    def cross_entropy(self, beta: np.ndarray) -> float:
        """Mean cross-entropy of the one-hot labels against the predicted probabilities.

        Computed directly, −(1/n) Σᵢ Σₖ 1[yᵢ = k] log pᵢₖ, as a check on the likelihood:
        it equals −ℓ/n.
        """
        one_hot = np.zeros((self.n_obs, self.k))
        one_hot[np.arange(self.n_obs), self.codes] = 1.0
        p = special.softmax(self.logits(beta), axis=1)
        return float(-np.mean(np.sum(special.xlogy(one_hot, p), axis=1)))

    def hessian(self, beta: np.ndarray) -> np.ndarray:
        """Exact Hessian of the log-likelihood in the free coefficients, in closed form.

        With pᵢ the fitted probabilities of the free classes,
        ∂²ℓ/∂B_aj ∂B_bk = −Σᵢ x_ia x_ib p_ij (δ_jk − p_ik): the information −H is the
        weighted Gram matrices Xᵀ diag(pⱼ) X on the diagonal blocks, minus GᵀG with
        G = [X∘p₁ … X∘p_K']. This is
        how statsmodels and glm build it, one pass over the data in chunks of rows, where
        automatic differentiation would take one pass per Hessian-vector product.

        Parameters
        ----------
        beta : numpy.ndarray
            Coefficients, features × free classes.

        Returns
        -------
        numpy.ndarray
            d × d matrix, d = features × free classes, in the order of ``beta.ravel()``
            (feature-major, as ``find_MAP`` flattens ``beta``).
        """
        beta = np.asarray(beta, dtype=np.float64)
        p, m = beta.shape
        blocks = map_row_blocks(
            lambda lo, hi: self._hessian_terms(beta, lo, hi), self.n_obs, _PARALLEL_ROWS
        )
        gram = np.sum([b[0] for b in blocks], axis=0)
        weighted = np.sum([b[1] for b in blocks], axis=0)
        hess = gram
        for j in range(m):
            hess[j * p : (j + 1) * p, j * p : (j + 1) * p] -= weighted[j * p : (j + 1) * p]
        # Class-major (j, a) to the feature-major (a, j) order of beta.ravel().
        hess = hess.reshape(m, p, m, p).transpose(1, 0, 3, 2).reshape(m * p, m * p)
        return cast(np.ndarray, 0.5 * (hess + hess.T))

    def _hessian_terms(self, beta: np.ndarray, lo: int, hi: int) -> tuple[np.ndarray, ...]:
        """Σ GᵀG (class-major) and Σ GᵀX over rows lo:hi, in cache-sized chunks.

        Each chunk is transposed first (features × rows), so that every elementwise step runs
        along the long axis.
        """
        p, m = beta.shape
        gram = np.zeros((m * p, m * p))
        weighted = np.zeros((m * p, p))  # its j-th block is Xᵀ diag(pⱼ) X
        buffer = np.empty((m, p, _HESSIAN_CHUNK))
        for start in range(lo, hi, _HESSIAN_CHUNK):
            xt = self.design[start : min(start + _HESSIAN_CHUNK, hi)].T.copy()
            rows = xt.shape[1]
            prob = self._free_probabilities(beta, xt)
            gt: np.ndarray = buffer if rows == _HESSIAN_CHUNK else np.empty((m, p, rows))
            np.multiply(prob[:, None, :], xt[None, :, :], out=gt)
            gt = gt.reshape(m * p, rows)  # Gᵀ
            gram += gt @ gt.T
            weighted += gt @ xt.T
        return gram, weighted

    def _free_probabilities(self, beta: np.ndarray, xt: np.ndarray) -> np.ndarray:
        """Fitted probabilities of the free classes for the columns of ``xt`` (free × rows)."""
        eta = beta.T @ xt
        top = eta.max(axis=0)
        if self.reference is not None:
            np.maximum(top, 0.0, out=top)  # the reference class's logit is 0
        eta -= top
        np.exp(eta, out=eta)
        total = eta.sum(axis=0)
        if self.reference is not None:
            total += np.exp(-top)
        eta /= total
        return cast(np.ndarray, eta)

    def _own_probability(self, beta: np.ndarray) -> np.ndarray:
        """P(yᵢ | xᵢ) for every observation (to ~1e-16 absolute)."""
        prob = self._free_probabilities(np.asarray(beta, dtype=np.float64), self.design.T)
        rows = np.arange(self.n_obs)
        if self.reference is None:
            return cast(np.ndarray, prob[self.codes, rows])
        free = np.cumsum([j != self.reference for j in range(self.k)]) - 1
        own = prob[free[self.codes], rows]  # meaningless where the class is the reference
        return cast(np.ndarray, np.where(self.codes == self.reference, 1.0 - prob.sum(axis=0), own))

    def closed_form(self) -> dict[str, np.ndarray]:
        """There is none: the score equations of softmax regression have no closed form."""
        raise ModelError(
            "softmax regression has no closed-form MLE; check it against an independent "
            "implementation such as statsmodels' MNLogit instead."
        )

    def score(self, beta: np.ndarray) -> np.ndarray:
        """Gradient of the log-likelihood, Xᵀ(Y − P) over the free classes (as ``beta``)."""
        beta = np.asarray(beta, dtype=np.float64)
        free = [j for j in range(self.k) if j != self.reference]
        one_hot = (self.codes[:, None] == np.asarray(free)[None, :]).astype(np.float64)
        return cast(
            np.ndarray,
            self.design.T @ (one_hot - self._free_probabilities(beta, self.design.T).T),
        )

    def start(self) -> dict[str, np.ndarray]:
        """Starting coefficients: the MLE of a random subsample for large data.

        Newton's method converges quadratically only near the maximum; from the log odds
        of the class frequencies it needs six or seven passes over all the data. The MLE
        of a seeded random subsample of ``_SUBSAMPLE_ROWS`` rows (closed-form gradient and
        Hessian, numpy only) lies within a few standard errors of the full MLE, and costs
        about one pass. Where the subsample cannot give one (a class missing from it,
        separation, no convergence) the start is the intercepts at the log odds of the
        class frequencies with the other coefficients 0.
        """
        beta = np.zeros((len(self.features), len(self.free_classes)))
        if "intercept" in self.features:
            freq = np.bincount(self.codes, minlength=self.k) / self.n_obs
            log_freq = np.log(freq)
            base = log_freq[self.reference] if self.reference is not None else log_freq.mean()
            free = [j for j in range(self.k) if j != self.reference]
            beta[self.features.index("intercept")] = log_freq[free] - base
        if self.n_obs >= 4 * _SUBSAMPLE_ROWS and self.reference is not None:
            sub = self._subsample_mle(beta)
            if sub is not None:
                beta = sub
        return {"beta": beta}

    def _subsample_mle(self, beta0: np.ndarray) -> np.ndarray | None:
        """Newton's MLE on a seeded random subsample of rows, or None if it has none."""
        rows = np.sort(np.random.default_rng(0).choice(self.n_obs, _SUBSAMPLE_ROWS, False))
        codes = self.codes[rows]
        if np.bincount(codes, minlength=self.k).min() == 0:
            return None
        sub = SoftmaxFamily(self.design[rows], codes, self.classes, self.features, self.reference)
        shape = beta0.shape
        with np.errstate(all="ignore"):
            fit = newton_minimize(
                lambda b: -sub.loglik({"beta": b.reshape(shape)}),
                beta0.ravel(),
                jac=lambda b: -sub.score(b.reshape(shape)).ravel(),
                hess=lambda b: -sub.hessian(b.reshape(shape)),
                tol=0.1,  # far inside the subsample's own sampling error
                maxiter=_SUBSAMPLE_MAXITER,
            )
        beta = cast(np.ndarray, fit.x).reshape(shape)
        if (
            not (fit.success and np.all(np.isfinite(beta)))
            or sub.diagnose({"beta": beta}) is not None
        ):
            return None
        return beta

    def boundary(self) -> dict[str, np.ndarray]:
        """Parameters whose MLE is on the boundary: none (every class is observed)."""
        return {}

    def standardized(self) -> tuple[SoftmaxFamily, AffineMap] | None:
        """The same regression on features divided by powers of two near their magnitude.

        Features of magnitude 1e-200 or 1e160 make X·B and the Hessian XᵀWX under- or
        overflow. Dividing each column by a power of two (exact) and multiplying its
        coefficients by the same leaves the model unchanged: B = B_w / s row by row. None
        when every column is already of moderate magnitude.
        """
        top = np.max(np.abs(self.design), axis=0)
        if not np.any((top > 0) & ((top < 2.0**-60) | (top > 2.0**60))):
            return None
        _, exponent = np.frexp(np.where(top > 0, top, 1.0))
        s = np.ldexp(1.0, exponent - 1)
        m = len(self.free_classes)
        working = SoftmaxFamily(
            self.design / s, self.codes, self.classes, self.features, self.reference
        )
        inverse = 1.0 / s
        affine = AffineMap(
            {"beta": (0.0, inverse[:, None])}, np.zeros(s.size * m), np.repeat(inverse, m)
        )
        return working, affine

    #: Newton's method with the closed-form Hessian, as statsmodels and R's glm fit it.
    preferred_method = "Newton"

    def simplex(self) -> None:
        """None: the coefficients are unconstrained."""
        return None

    def diagnose(self, params: dict[str, np.ndarray]) -> str | None:
        """Detect (quasi-)separation: observations predicted with probability ~1.

        When a combination of features separates a class from the others, the likelihood
        rises forever as the coefficients grow: the MLE does not exist. An optimizer then
        stops at huge coefficients whose fitted probabilities are numerically 0 or 1 (the
        criterion of R's glm). Returns the problem in words, or None.
        """
        perfect = self._own_probability(params["beta"]) > 1.0 - _PERFECT
        if not perfect.any():
            return None
        classes = sorted({repr(self.classes[c]) for c in self.codes[perfect]})
        return (
            f"the classes are (quasi-)separated by the features: {int(perfect.sum())} of "
            f"{self.n_obs} observations (classes {', '.join(classes)}) are predicted with "
            f"probability above 1 - {_PERFECT:g}, so the likelihood keeps rising as the "
            "coefficients grow and the MLE does not exist; the coefficients reported are "
            "not estimates. Remove the separating features, merge classes, or use a prior"
        )

    # -- the protocol's questions -------------------------------------------------------
    param_names = ("beta",)

    @property
    def known(self) -> dict[str, float]:
        """``{}``: nothing is fixed."""
        return {}

    @property
    def counts(self) -> None:
        """None: the class counts are not sufficient statistics of a regression."""
        return None

    @property
    def categories(self) -> tuple[Hashable, ...] | None:
        """None: a regression's labels are its :attr:`classes`, not category counts."""
        return None

    def at_vertex(self) -> bool:
        """False: every class is observed, so no coefficient is on a boundary."""
        return False

    def resolution_digits(self) -> None:
        """None: not meaningful for a regression."""
        return None

    def check_proper(self) -> None:
        """Nothing is checked before sampling (separation shows in the fit's diagnosis)."""

    def exact_posterior(self) -> None:
        """None: the flat-prior posterior of softmax regression has no closed form."""
        return None

    def divergence(self, params: dict[str, Any]) -> None:
        """None: there is no empirical distribution of labels given features to compare."""
        return None

    def report_fields(self, params: dict[str, Any]) -> dict[str, Any]:
        """Features, classes, the reference class and the mean cross-entropy at ``params``."""
        return {
            "features": list(self.features),
            "classes": [str(c) for c in self.classes],
            "reference": None if self.reference is None else str(self.classes[self.reference]),
            "cross_entropy": self.cross_entropy(params["beta"]),
        }
