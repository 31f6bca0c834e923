"""The one interface every statistical family implements (numpy only).

Code outside :mod:`ppl_mle.core.families` asks a family through these members and never
tests its type: where a family has no answer (no closed form, no exact posterior, no
divergence from the data) the member says so by returning ``None`` (or ``""``, ``{}``,
``False``), and the caller decides what to do without knowing which family it holds.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

if TYPE_CHECKING:
    from ppl_mle.core.affine import AffineMap
    from ppl_mle.core.divergence import DivergenceReport
    from ppl_mle.core.families.categorical import CategoricalFamily

__all__ = ["Family"]


@runtime_checkable
class Family(Protocol):
    """A statistical model and its validated data, independent of PyMC.

    Implemented by :class:`~ppl_mle.core.families.NormalFamily`,
    :class:`~ppl_mle.core.families.CategoricalFamily` and
    :class:`~ppl_mle.core.families.SoftmaxFamily`; ``isinstance(obj, Family)`` checks
    that ``obj`` has every member (not their signatures).
    """

    @property
    def name(self) -> str:
        """Short description of the model, e.g. ``"normal"`` or ``"categorical"``."""
        ...

    @property
    def n_obs(self) -> int:
        """Number of observations."""
        ...

    @property
    def has_closed_form(self) -> bool:
        """Whether :meth:`closed_form` gives the MLE (else it raises ``ModelError``)."""
        ...

    @property
    def param_names(self) -> tuple[str, ...]:
        """Names of the estimated parameters, as the PyMC model declares them."""
        ...

    @property
    def known(self) -> dict[str, float]:
        """Parameters held fixed at known values (the normal model's known sigma), or ``{}``."""
        ...

    @property
    def counts(self) -> np.ndarray | None:
        """Count of each category where the counts are the data's sufficient statistics.

        The categorical model's; ``None`` for the other families.
        """
        ...

    @property
    def categories(self) -> tuple[Hashable, ...] | None:
        """The labels the :attr:`counts` belong to, in order, or ``None``."""
        ...

    def closed_form(self) -> dict[str, np.ndarray]:
        """The closed-form MLE by parameter name.

        Raises
        ------
        ModelError
            The family has none (:attr:`has_closed_form` is False); the message says what
            to check the fit against instead.
        """
        ...

    def loglik(self, params: dict[str, np.ndarray]) -> float:
        """Log-likelihood of the data, with all constants, at ``params``."""
        ...

    def start(self) -> dict[str, np.ndarray]:
        """Starting values for an optimizer, by parameter name."""
        ...

    def boundary(self) -> dict[str, np.ndarray]:
        """Parameters whose MLE is on the boundary: name → boolean mask; ``{}`` for none."""
        ...

    def at_vertex(self) -> bool:
        """Whether the MLE leaves no parameter in the interior (all mass on one category)."""
        ...

    def standardized(self) -> tuple[Family, AffineMap] | None:
        """The same model in well-scaled working units, and the map back; ``None`` if not needed."""
        ...

    @property
    def preferred_method(self) -> str:
        """The optimizer ``fit_mle`` runs by default while the model keeps its closed-form Hessian.

        ``"Newton"`` where the Hessian is cheap and worth it (softmax regression),
        ``"L-BFGS-B"`` otherwise.
        """
        ...

    def simplex(self) -> CategoricalFamily | None:
        """The family itself where its parameters are probabilities on the simplex, or ``None``.

        The categorical model: its MLE may lie on the boundary (a category never observed) or
        at a vertex, and with many categories (``structured``) it is verified, polished and
        given standard errors and profile intervals in O(k).
        """
        ...

    def diagnose(self, params: dict[str, np.ndarray]) -> str | None:
        """Why the MLE does not exist at a fitted ``params`` (separation), or ``None``."""
        ...

    def resolution_digits(self) -> float | None:
        """Digits of their spread the data hold in float64; ``None`` where not meaningful."""
        ...

    def check_proper(self) -> None:
        """Raise ``ModelError`` if the posterior under flat priors is known to be improper."""
        ...

    def exact_posterior(self) -> dict[str, Any] | None:
        """Exact marginal posterior of each scalar parameter under flat priors, or ``None``.

        Label (as in :meth:`MLEResult.to_dataframe`) → frozen distribution with ``cdf``,
        ``ppf``, ``mean`` and ``std``. Raises ``ModelError`` where :meth:`check_proper` does.
        """
        ...

    def divergence(self, params: dict[str, Any]) -> DivergenceReport | None:
        """Divergences between the empirical distribution and the model at ``params``.

        ``None`` where the family does not define them (softmax regression).
        """
        ...

    def report_fields(self, params: dict[str, Any]) -> dict[str, Any]:
        """JSON-ready facts a report adds for this family at ``params`` (labels, checks)."""
        ...
