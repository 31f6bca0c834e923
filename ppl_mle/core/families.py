"""Statistical families: what a model is, independent of PyMC (numpy only).

A family holds the validated data and knows the closed-form MLE, the log-likelihood at any
parameter value, sensible starting values, and where the MLE sits on the boundary of the
parameter space. The PyMC declarations in :mod:`ppl_mle.model.declarations` carry their family, so a
fit can be checked against the closed form.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from scipy import special

from ppl_mle.core._threads import map_row_blocks
from ppl_mle.core.affine import AffineMap
from ppl_mle.core.closed_form import (
    NormalStats,
    categorical_counts,
    categorical_loglik,
    categorical_mle,
    normal_loglik,
    normal_stats,
    power_of_two,
)
from ppl_mle.core.errors import ModelError
from ppl_mle.core.newton import newton_minimize

__all__ = ["CategoricalFamily", "Family", "NormalFamily", "SoftmaxFamily"]

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

#: Above this many observations the start comes from the statistics, not the median (a sort).
_ROBUST_START_MAX = 1_000_000

#: From this many categories on, a categorical fit is verified, polished and given its
#: standard errors and profile intervals in O(k) (a k × k matrix at k = 1e4 is 800 MB).
STRUCTURED_MIN_K = 1_000

# Consistency constant of the median absolute deviation for the normal distribution.
_MAD_TO_SD = 1.482602218505602


@dataclass(frozen=True, eq=False)
class NormalFamily:
    """Normal observations with unknown mean and unknown (or known) standard deviation.

    Attributes
    ----------
    data : numpy.ndarray or None
        Validated float64 observations, or None when only their statistics are known.
    sigma : float or None
        Known standard deviation, or None when it is estimated.
    given_stats : NormalStats or None
        The sufficient statistics when the family is declared from them.
    """

    data: np.ndarray | None = field(repr=False)
    sigma: float | None = None
    given_stats: NormalStats | None = None

    has_closed_form = True

    @property
    def name(self) -> str:
        """Short description, e.g. ``"normal"`` or ``"normal (sigma = 1 known)"``."""
        return "normal" if self.sigma is None else f"normal (sigma = {self.sigma:g} known)"

    @property
    def n_obs(self) -> int:
        """Number of observations."""
        return int(self.stats.n)

    @cached_property
    def stats(self) -> NormalStats:
        """Sufficient statistics (n, mean, SS)."""
        if self.given_stats is not None:
            return self.given_stats
        return normal_stats(self.data)

    def closed_form(self) -> dict[str, np.ndarray]:
        """Closed-form MLE: μ̂ = x̄ and, when unknown, σ̂ = sqrt(SS/n)."""
        est = {"mu": np.asarray(self.stats.mean)}
        if self.sigma is None:
            est["sigma"] = np.asarray(self.stats.sd_mle)
        return est

    def loglik(self, params: dict[str, np.ndarray]) -> float:
        """Log-likelihood with all constants at ``params`` (``mu`` and, if free, ``sigma``)."""
        sigma = self.sigma if self.sigma is not None else float(params["sigma"])
        return normal_loglik(self.stats, float(params["mu"]), sigma)

    def start(self) -> dict[str, np.ndarray]:
        """Robust starting values: the median, and the scaled MAD (or IQR) as spread.

        These are deliberately not the closed form, so the optimizer has real work to do,
        but they are on the scale of the data, which is what lets the optimizer succeed on
        data such as 1e7 ± 0.1 where PyMC's default start (mu = 0, sigma = 1) fails. From
        statistics alone: half a standard deviation off the mean, and 1.5 times the sd.
        """
        if self.data is None or self.data.size > _ROBUST_START_MAX:
            sd = self.stats.sd_mle if self.stats.ss > 0 else (self.sigma or 1.0)
            start = {"mu": np.asarray(self.stats.mean + 0.5 * sd)}
            if self.sigma is None:
                start["sigma"] = np.asarray(1.5 * sd)
            return start
        x = self.data
        centre = float(np.median(x))
        start = {"mu": np.asarray(centre)}
        if self.sigma is None:
            # A spread absurdly small against the data (ties at the median and a few far
            # values: MAD 1e-165 beside a value of 840) would overflow the log-likelihood;
            # then fall back to the IQR, then to the half-range.
            far = float(np.max(np.abs(x - centre)))
            floor = 1e-8 * far
            spread = _MAD_TO_SD * float(np.median(np.abs(x - centre)))
            if not spread > floor:
                q75, q25 = np.percentile(x, [75, 25])
                spread = float(q75 - q25) / 1.349
            if not spread > floor:
                spread = far / 2
            start["sigma"] = np.asarray(spread)
        return start

    def boundary(self) -> dict[str, np.ndarray]:
        """Parameters whose MLE is on the boundary: none for the normal model."""
        return {}

    def resolution_digits(self) -> float | None:
        """How many significant digits of its spread each value holds in float64.

        log10(σ̂ / spacing), with the spacing of float64 numbers at the largest magnitude
        of the data; None without a spread, or from statistics alone (they do not say how
        finely the values were held).
        """
        st = self.stats
        if not st.ss > 0 or self.data is None:
            return None
        top = float(np.max(np.abs(self.data)))
        spacing = float(np.spacing(top)) if top > 0 else 0.0
        if not spacing > 0:
            return None
        return (st.log_sd_mle - math.log(spacing)) / math.log(10.0)

    def standardized(self) -> tuple[NormalFamily, AffineMap]:
        """The same model on working data (x − a)/b, and the map back to the user's units.

        ``a`` is the sample mean and ``b`` the power of two nearest the MLE of sigma (the
        known sigma when there is no spread), so the working data have mean ~0 and spread
        ~1 whatever the magnitude and offset of the data: the fit is then affine-invariant
        in floating point too. Dividing by a power of two is exact, and the data are
        computed as x/b − a/b so that nothing overflows on the way.
        """
        st = self.stats
        spread = st.sd_mle if st.ss > 0 else (self.sigma or abs(st.mean) or 1.0)
        b = power_of_two(spread)
        a = st.mean
        sigma = None if self.sigma is None else self.sigma / b
        affine = AffineMap.normal(a, b, st.n, sigma_free=self.sigma is None)
        if self.given_stats is not None or self.data is None:
            working = NormalStats(st.n, 0.0, st.rescaled(b).ss)
            return NormalFamily(None, sigma, working), affine
        with np.errstate(all="ignore"):
            y = self.data / b - a / b
        return NormalFamily(y, sigma), affine


@dataclass(frozen=True, eq=False)
class CategoricalFamily:
    """Categorical observations: k categories, probabilities θ on the simplex.

    Attributes
    ----------
    codes : numpy.ndarray or None
        Integer code of each observation, an index into ``categories``; None when only
        the counts are known.
    categories : tuple
        The category labels, in order.
    given_counts : numpy.ndarray or None
        The counts when the family is declared from them.
    """

    codes: np.ndarray | None = field(repr=False)
    categories: tuple[Hashable, ...]
    given_counts: np.ndarray | None = field(default=None, repr=False)

    has_closed_form = True

    name = "categorical"

    @property
    def n_obs(self) -> int:
        """Number of observations."""
        return int(self.counts.sum())

    @property
    def k(self) -> int:
        """Number of categories."""
        return len(self.categories)

    @cached_property
    def counts(self) -> np.ndarray:
        """Count of each category."""
        if self.given_counts is not None:
            return np.asarray(self.given_counts, dtype=np.int64)
        return categorical_counts(self.codes, self.k)

    def closed_form(self) -> dict[str, np.ndarray]:
        """Closed-form MLE: θ̂ = counts / n."""
        return {"theta": categorical_mle(self.counts)}

    def loglik(self, params: dict[str, np.ndarray]) -> float:
        """Log-likelihood Σ cⱼ log θⱼ at ``params["theta"]``."""
        return categorical_loglik(self.counts, np.asarray(params["theta"]))

    def start(self) -> dict[str, np.ndarray]:
        """Starting values: equal probabilities (the centre of the simplex)."""
        return {"theta": np.full(self.k, 1.0 / self.k)}

    def boundary(self) -> dict[str, np.ndarray]:
        """Categories never observed: their MLE is exactly 0, on the simplex's boundary.

        With cⱼ = 0 the likelihood does not involve θⱼ, so moving its mass to the observed
        categories strictly raises the likelihood: the maximum is at θⱼ = 0.
        """
        zero = self.counts == 0
        return {"theta": zero} if zero.any() else {}

    def interior(self) -> CategoricalFamily:
        """The same data restricted to the observed categories."""
        keep = np.flatnonzero(self.counts > 0)
        categories = tuple(self.categories[i] for i in keep)
        if self.codes is None:
            return CategoricalFamily(None, categories, self.counts[keep])
        recode = np.full(self.k, -1, dtype=np.int64)
        recode[keep] = np.arange(keep.size)
        return CategoricalFamily(recode[self.codes], categories)

    def embed(self, params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Map interior probabilities back to all k categories, with exact zeros."""
        theta = np.zeros(self.k)
        theta[self.counts > 0] = np.asarray(params["theta"])
        return {"theta": theta}

    # -- structure: the information on the simplex is diagonal plus low rank -------------
    @property
    def structured(self) -> bool:
        """Whether fits use the O(k) algebra below instead of dense k × k matrices."""
        return self.k > STRUCTURED_MIN_K

    def hessian_z(self, z: np.ndarray) -> np.ndarray:
        """Hessian of ℓ in PyMC's simplex coordinates ``z`` (dense, O(k²) memory).

        With η = [z, −Σz] and θ = softmax(η), ℓ = cᵀη − n·logsumexp(η), so
        H = −n·Aᵀ(diag θ − θθᵀ)A with A = [I; −1ᵀ]: −n(diag θ' + θₖ11ᵀ − uuᵀ), where θ'
        are the first k − 1 probabilities and u = θ' − θₖ1. Used for small k; large k
        never forms it (:meth:`newton_step`, :meth:`standard_errors`).
        """
        theta = _simplex_theta(z)
        head, last = theta[:-1], theta[-1]
        u = head - last
        h = np.diag(head) + last - np.outer(u, u)
        return -self.n_obs * h

    def newton_step(self, theta: np.ndarray) -> tuple[np.ndarray, float]:
        """One Newton step for ℓ on the simplex in O(k), and the Newton decrement before it.

        On the log-odds η the Newton system n(diag θ − θθᵀ)s = c − nθ is solved by
        s = c/(nθ) − 1 (its θθᵀ term vanishes, as Σ(c/n − θ) = 0), up to the constant
        direction that softmax ignores. The decrement λ² = sᵀ I s, I the information, bounds
        the step along every coordinate in standard errors: |sᵢ|/seᵢ ≤ λ.
        """
        theta = np.asarray(theta, dtype=np.float64)
        n = self.n_obs
        s = self.counts / (n * theta) - 1.0
        weighted = theta * s
        decrement = float(n * (np.dot(weighted, s) - np.sum(weighted) ** 2))
        eta = np.log(theta) + s
        eta -= eta.max()
        new = np.exp(eta)
        return new / new.sum(), math.sqrt(max(decrement, 0.0))

    def standard_errors(self, theta: np.ndarray) -> np.ndarray:
        """sqrt(θ(1 − θ)/n): the diagonal of the inverse information (diag θ − θθᵀ)/n."""
        theta = np.asarray(theta, dtype=np.float64)
        return np.sqrt(theta * (1.0 - theta) / self.n_obs)

    def profile_interval(self, j: int, q: float) -> tuple[float, float]:
        """Profile-likelihood interval of θⱼ in O(1): the binomial likelihood-ratio interval.

        Fixing θⱼ = t, the others are best at cᵢ(1 − t)/(n − cⱼ), so the profile deviance is
        2[cⱼ log(θ̂ⱼ/t) + (n − cⱼ) log((1 − θ̂ⱼ)/(1 − t))]; the ends solve deviance = q
        (an end reaching 0 or 1 is that bound).
        """
        from scipy import optimize

        n, c = self.n_obs, float(self.counts[j])
        hat = c / n

        def excess(t: float) -> float:
            return (
                2.0
                * float(
                    special.xlogy(c, hat)
                    - special.xlogy(c, t)
                    + special.xlogy(n - c, 1 - hat)
                    - special.xlogy(n - c, 1 - t)
                )
                - q
            )

        ends = []
        for bound in (0.0, 1.0):
            if hat == bound or excess(bound) <= 0:
                ends.append(bound)
            else:
                ends.append(
                    float(
                        optimize.brentq(
                            excess, *sorted((hat, bound)), xtol=1e-300, rtol=4 * np.finfo(float).eps
                        )
                    )
                )
        return ends[0], ends[1]


def _simplex_theta(z: np.ndarray) -> np.ndarray:
    """θ = softmax([z, −Σz]): PyMC's simplex transform, backwards."""
    eta = np.append(np.asarray(z, dtype=np.float64), -np.sum(z))
    eta -= eta.max()
    theta = np.exp(eta)
    return theta / theta.sum()


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
        return special.softmax(self.logits(beta, design), axis=1)

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
        return 0.5 * (hess + hess.T)

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
            gt = buffer if rows == _HESSIAN_CHUNK else np.empty((m, p, rows))
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
        return eta

    def _own_probability(self, beta: np.ndarray) -> np.ndarray:
        """P(yᵢ | xᵢ) for every observation (to ~1e-16 absolute)."""
        prob = self._free_probabilities(np.asarray(beta, dtype=np.float64), self.design.T)
        rows = np.arange(self.n_obs)
        if self.reference is None:
            return prob[self.codes, rows]
        free = np.cumsum([j != self.reference for j in range(self.k)]) - 1
        own = prob[free[self.codes], rows]  # meaningless where the class is the reference
        return np.where(self.codes == self.reference, 1.0 - prob.sum(axis=0), own)

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
        return self.design.T @ (one_hot - self._free_probabilities(beta, self.design.T).T)

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
        beta = fit.x.reshape(shape)
        if not (fit.success and np.all(np.isfinite(beta))) or sub.diagnose({"beta": beta}):
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

    def diagnose(self, params: dict[str, np.ndarray]) -> str:
        """Detect (quasi-)separation: observations predicted with probability ~1.

        When a combination of features separates a class from the others, the likelihood
        rises forever as the coefficients grow: the MLE does not exist. An optimizer then
        stops at huge coefficients whose fitted probabilities are numerically 0 or 1 (the
        criterion of R's glm). Returns ``""`` or the problem in words.
        """
        perfect = self._own_probability(params["beta"]) > 1.0 - _PERFECT
        if not perfect.any():
            return ""
        classes = sorted({repr(self.classes[c]) for c in self.codes[perfect]})
        return (
            f"the classes are (quasi-)separated by the features: {int(perfect.sum())} of "
            f"{self.n_obs} observations (classes {', '.join(classes)}) are predicted with "
            f"probability above 1 - {_PERFECT:g}, so the likelihood keeps rising as the "
            "coefficients grow and the MLE does not exist; the coefficients reported are "
            "not estimates. Remove the separating features, merge classes, or use a prior"
        )


Family = NormalFamily | CategoricalFamily | SoftmaxFamily
