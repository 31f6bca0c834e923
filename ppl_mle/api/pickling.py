"""How a result pickles: its numbers and its models, never a compiled function.

``pickle``, ``multiprocessing``, joblib and Dask need a result to pickle. A PyMC model
pickles with ``cloudpickle`` only (its variables hold bound partial functions that print
them), so a result is pickled as one ``cloudpickle`` payload of its fields, which plain
``pickle`` then carries as bytes. Its models leave their compiled functions behind
(:meth:`ppl_mle.model.compiled.CompiledModel.__getstate__`), and so does its objective:
what is pickled in its place is how to build it again (:class:`ObjectiveRecipe`), which
:func:`rebuilt_objective` does on first use, with the compilation caches of a fit.

One payload keeps shared objects shared: the ``pm.Data`` containers of the models and the
arrays the fit saw are unpickled together, so a result whose data were replaced before it
was pickled still refuses what it can no longer compute
(:meth:`~ppl_mle.fit.record.FitRecord.check_data_current`).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, fields
from typing import Any

import cloudpickle
import numpy as np

from ppl_mle.core.errors import ModelError
from ppl_mle.fit.held import HeldObjective
from ppl_mle.fit.objective import Objective, objective_for
from ppl_mle.fit.record import FitRecord, frozen, read_only

__all__ = ["ObjectiveRecipe", "rebuilt_objective", "reduce_result", "restore_result"]

#: Where the objective of an unpickled result is kept once rebuilt (an attribute of the
#: result itself, which owns it) and how to rebuild it.
_OBJECTIVE, _RECIPE = "objective", "_objective_recipe"
_REBUILD_LOCK = threading.Lock()


@dataclass(frozen=True)
class ObjectiveRecipe:
    """How to build a fit's objective again: the objective of a model, maybe with holds.

    Attributes
    ----------
    model : pymc.Model
        The model whose :func:`~ppl_mle.fit.objective.objective_for` is the objective (or,
        with ``held``, its base).
    held : numpy.ndarray or None
        Mask of the coordinates held on bounds of their supports
        (:class:`~ppl_mle.fit.held.HeldObjective`), or None.
    fixed : numpy.ndarray or None
        The values of all coordinates, of which the held ones are used.
    size : int
        The number of free coordinates of the objective, checked when it is built.
    """

    model: Any
    held: np.ndarray | None
    fixed: np.ndarray | None
    size: int

    @classmethod
    def of(cls, result: FitRecord) -> ObjectiveRecipe:
        """The recipe of a result's objective."""
        recipe = vars(result).get(_RECIPE)
        if _OBJECTIVE not in vars(result) and isinstance(recipe, ObjectiveRecipe):
            return recipe  # unpickled and not rebuilt: pickled again as it came
        objective = result.objective
        base = objective.base if isinstance(objective, HeldObjective) else objective
        # The objective of the fitted model itself, also where it works in other units (on
        # its working data, or those of a working model); otherwise that of another model (the
        # categories observed, beside a category never seen).
        own = base.model is result.model or not base.affine.identity
        model = result.model if own else base.model
        if isinstance(objective, HeldObjective):
            return cls(model, objective.held.copy(), objective.fixed.copy(), objective.size)
        return cls(model, None, None, objective.size)

    def build(self) -> Objective:
        """The objective, compiled (or found compiled) for the recipe's model.

        Raises
        ------
        ModelError
            The objective built has another number of coordinates than the fit's (the
            model was changed before it was pickled).
        """
        objective = objective_for(self.model)
        if self.held is not None and self.fixed is not None:
            objective = HeldObjective(objective, self.held, self.fixed)
        if objective.size != self.size:
            raise ModelError(
                f"the unpickled model's objective has {objective.size} coordinates where the "
                f"fit had {self.size}: the model was changed after the fit. Refit it."
            )
        return objective


def reduce_result(result: Any) -> tuple[Any, tuple[type, bytes]]:
    """``__reduce__`` of a result: rebuilt from one cloudpickle payload of its fields.

    Parameters
    ----------
    result : MLEResult or GroupedResult
        A frozen dataclass; an ``objective`` field is replaced by its recipe.

    Returns
    -------
    tuple
        The function :func:`restore_result` and its arguments.
    """
    state = {f.name: getattr(result, f.name) for f in fields(result) if f.name != _OBJECTIVE}
    if isinstance(result, FitRecord):
        state[_RECIPE] = ObjectiveRecipe.of(result)
    return restore_result, (type(result), cloudpickle.dumps(state))


def restore_result(cls: type, payload: bytes) -> Any:
    """A result of class ``cls`` from :func:`reduce_result`'s payload, frozen again.

    Mappings become read-only dictionaries and arrays read-only copies, as when the result
    was made (unpickled arrays are writeable).
    """
    state = cloudpickle.loads(payload)
    result: Any = object.__new__(cls)
    for name, value in state.items():
        if isinstance(value, dict):
            value = frozen(value)
        elif isinstance(value, np.ndarray):
            value = read_only(value)
        object.__setattr__(result, name, value)
    return result


def rebuilt_objective(result: FitRecord) -> Objective:
    """The objective of an unpickled result, built on first use and kept by the result.

    Raises
    ------
    AttributeError
        The result has no recipe (it was not unpickled).
    """
    with _REBUILD_LOCK:
        built: Objective | None = vars(result).get(_OBJECTIVE)
        if built is None:
            recipe = vars(result).get(_RECIPE)
            if not isinstance(recipe, ObjectiveRecipe):
                raise AttributeError(
                    f"{type(result).__name__!r} object has no attribute {_OBJECTIVE!r}"
                )
            built = recipe.build()
            object.__setattr__(result, _OBJECTIVE, built)
        return built
