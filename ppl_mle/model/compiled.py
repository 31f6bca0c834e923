"""A PyMC model whose find_MAP runs on a fit's compiled functions.

``pymc.find_MAP`` compiles ``compile_logp(jacobian=False)`` and ``compile_dlogp(...,
jacobian=False)`` at every call, and ``check_start_vals`` compiles every variable's
log-density: graph rewriting that costs more than the optimisation itself for a model of
a few parameters, and again at every refit. A fit has compiled the same log-density
already (:class:`ppl_mle.fit.objective.Objective`, value and gradient in one pass); a
:class:`CompiledModel` serves find_MAP from it. The models ppl_mle declares
(:class:`~ppl_mle.model.declarations.MLEModel`) are CompiledModels, and so are the flat
copies it makes of a user's model (:func:`compiled_copy`); a user's own model is never
changed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import pymc as pm

__all__ = ["CompiledModel", "StandaloneModel", "compiled_copy"]

#: A compiled function of a point (a dict of value-variable values), such as the
#: ``PointFunc`` that ``pymc.Model.compile_logp`` and ``compile_dlogp`` return.
_PointFunction = Callable[[dict[str, Any]], Any]


class CompiledModel(pm.Model):  # type: ignore[misc]  # pymc ships no py.typed: pm.Model is Any
    """A ``pymc.Model`` that compiles its log-density once and can borrow a fit's.

    Parameters
    ----------
    **kwargs
        Passed to ``pymc.Model``.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._forget_compiled()

    def _forget_compiled(self) -> None:
        """Nothing compiled or shared yet."""
        self._compiled: dict[tuple[Any, ...], _PointFunction] = {}
        self._shared: (
            tuple[tuple[Any, ...], tuple[str, ...], _PointFunction, _PointFunction] | None
        ) = None
        self._shared_values: _PointFunction | None = None

    def share_compiled(
        self,
        value_names: Sequence[str],
        logp: Callable[[dict[str, Any]], Any],
        dlogp: Callable[[dict[str, Any]], Any],
        values: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    ) -> None:
        """Serve ``logp`` and its gradient (without Jacobian terms) from compiled functions.

        ``find_MAP`` compiles ``compile_logp(jacobian=False)`` and ``compile_dlogp(...,
        jacobian=False)`` and calls both at every point. A fit that has compiled the same
        log-density already (:class:`ppl_mle.fit.objective.Objective`, which computes value and
        gradient in one pass) hands its functions over here, so find_MAP costs no second
        compilation and one pass over the data per point. They serve only while the
        model's variables stay as they are now.

        Parameters
        ----------
        value_names : sequence of str
            The value variables the gradient is taken over, in its order.
        logp, dlogp : callable
            Functions of a point (a dict of value-variable values).
        values : callable, optional
            The values of the free variables, natural and transformed, by name, at a point:
            find_MAP compiles a function for them to report its answer
            (:meth:`compile_fn`).
        """
        self._shared = (self._structure_key(), tuple(value_names), logp, dlogp)
        self._shared_values = values

    def compile_fn(self, outs: Any, *, inputs: Any = None, **kwargs: Any) -> Any:
        """``pymc.Model.compile_fn``, served by the shared values where they suffice.

        find_MAP ends by compiling the free variables' natural and transformed values as a
        function of the value variables; with a fit's functions shared that is a
        compilation for values the fit computes already.
        """
        values = self._shared_values
        if (
            values is not None
            and self._shared_functions() is not None
            and not kwargs
            and inputs is not None
            and list(inputs) == list(self.value_vars)
            and isinstance(outs, list | tuple)
        ):
            names = [getattr(v, "name", None) for v in outs]
            served = {rv.name for rv in self.free_RVs} | {v.name for v in self.value_vars}
            if all(name in served for name in names):
                return lambda point: [values(point)[name] for name in names]
        return super().compile_fn(outs, inputs=inputs, **kwargs)

    def shallow_copy(self) -> CompiledModel:
        """The same model (its very variables and data), with nothing compiled or shared.

        ``copy.copy`` of a ``pymc.Model`` clones its graph; this copy shares it. A fit
        serves its functions to find_MAP on such a copy (:meth:`share_compiled`), so they
        serve that run alone and the model itself is left as it was.
        """
        other = object.__new__(type(self))
        other.__dict__.update(self.__getstate__())
        return other

    def __getstate__(self) -> dict[str, Any]:
        """The model's state without its compiled functions, compiled again on demand."""
        state = dict(vars(self))
        state.update(_compiled={}, _shared=None, _shared_values=None)
        return state

    def _shared_functions(self) -> tuple[tuple[str, ...], _PointFunction, _PointFunction] | None:
        if self._shared is None or self._shared[0] != self._structure_key():
            return None
        return self._shared[1:]

    def check_start_vals(self, start: Any, **kwargs: Any) -> None:
        """``pymc.Model.check_start_vals``, by the shared log-density when there is one.

        PyMC compiles every variable's log-density to check that a start is finite; with a
        fit's functions shared (:meth:`share_compiled`) their sum, already compiled, says
        the same. Where it is not finite PyMC's own check runs and names the variables.
        """
        shared = self._shared_functions()
        names = {v.name for v in self.value_vars}
        if shared is None or kwargs or not isinstance(start, dict) or set(start) != names:
            super().check_start_vals(start, **kwargs)
        elif not math.isfinite(float(shared[1](start))):
            super().check_start_vals(start)

    def compile_logp(
        self, vars: Any = None, jacobian: bool = True, sum: bool = True, **kw: Any
    ) -> _PointFunction:
        """``pymc.Model.compile_logp``, compiled once per model structure and reused."""
        key = ("logp", _variables_key(vars), jacobian, sum, self._structure_key())
        shared = self._shared_functions()
        if shared is not None and vars is None and not jacobian and sum and not kw:
            return shared[1]
        if kw:
            logp: _PointFunction = super().compile_logp(vars=vars, jacobian=jacobian, sum=sum, **kw)
            return logp
        if key not in self._compiled:
            self._compiled[key] = super().compile_logp(vars=vars, jacobian=jacobian, sum=sum)
        return self._compiled[key]

    def compile_dlogp(self, vars: Any = None, jacobian: bool = True, **kw: Any) -> _PointFunction:
        """``pymc.Model.compile_dlogp``, compiled once per model structure and reused."""
        key = ("dlogp", _variables_key(vars), jacobian, self._structure_key())
        shared = self._shared_functions()
        if shared is not None and not jacobian and not kw:
            wrt = self.continuous_value_vars if vars is None else _as_tuple(vars)
            names = tuple(self.rvs_to_values.get(v, v).name for v in wrt)
            if names == shared[0]:
                return shared[2]
        if kw:
            dlogp: _PointFunction = super().compile_dlogp(vars=vars, jacobian=jacobian, **kw)
            return dlogp
        if key not in self._compiled:
            self._compiled[key] = super().compile_dlogp(vars=vars, jacobian=jacobian)
        return self._compiled[key]

    def _structure_key(self) -> tuple[Any, ...]:
        return (
            tuple(self.free_RVs),
            tuple(self.observed_RVs),
            tuple(self.potentials),
            tuple(self.deterministics),
        )


def compiled_copy(model: pm.Model) -> CompiledModel:
    """A :class:`CompiledModel` holding the variables of a model ppl_mle built itself.

    PyMC builds a model from a graph (a flat copy) as a plain ``pymc.Model``; the new
    model takes over its variables, data and coordinates. Never call it on a user's
    model: the two would share them.

    Parameters
    ----------
    model : pymc.Model
        A model made by ppl_mle, referenced by no one else.
    """
    if isinstance(model, CompiledModel):
        return model
    compiled = CompiledModel(model=None)
    # Everything but the methods PyMC binds to the model object itself (its printing).
    bound = {k for k, v in vars(compiled).items() if getattr(v, "__self__", None) is compiled}
    compiled.__dict__.update({k: v for k, v in vars(model).items() if k not in bound})
    compiled._forget_compiled()
    return compiled


def _variables_key(variables: Any) -> tuple[Any, ...] | None:
    if variables is None:
        return None
    return _as_tuple(variables)


def _as_tuple(variables: Any) -> tuple[Any, ...]:
    if isinstance(variables, list | tuple):
        return tuple(variables)
    return (variables,)


class StandaloneModel(CompiledModel):
    """A CompiledModel of its own: never a sub-model of a ``with pm.Model():`` around it.

    The models ppl_mle declares (the families', the per-group ones, and the working models
    a fit declares inside a user's ``with`` block) stand alone. PyMC resolves a model's
    parent in ``__init__`` (5.2x) or, before, in ``__new__`` (5.16): ``model=None`` is
    passed to whichever does.

    Parameters
    ----------
    **kwargs
        Passed to ``pymc.Model``.
    """

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        """Create the model; before PyMC 5.2x, with no parent (``model=None``) here."""
        if "__new__" in vars(pm.Model):  # PyMC before 5.2x: the parent is set here
            kwargs.setdefault("model", None)
            return super().__new__(cls, *args, **kwargs)
        return super().__new__(cls)

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("model", None)
        super().__init__(**kwargs)
        self._declared: tuple[Any, ...] | None = None

    def mark_declared(self) -> None:
        """Record the model's variables as declared (called once the declaration ends)."""
        self._declared = self._structure_key()

    @property
    def intact(self) -> bool:
        """Whether the model is still as declared (no variables added since)."""
        return self._declared is not None and self._declared == self._structure_key()
