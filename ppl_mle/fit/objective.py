"""The function a fit maximises, with its exact gradient and Hessian.

``find_MAP`` maximises ``model.logp(jacobian=False)`` over the unconstrained value
variables (``sigma_log__``, ``theta_simplex__``…). Without the Jacobian term the maximiser
maps back to the MLE in the natural parameters: the MLE is invariant under
reparametrisation. :class:`Objective` compiles that same function, with its gradient and
Hessian by PyTensor automatic differentiation, over one flat vector ``z`` in the order
``find_MAP`` uses, so that a fit can check the optimizer's claim at the point it returns.
Where the model knows its Hessian in closed form (softmax regression) that replaces the
automatic second derivatives; value and gradient are always PyTensor's.

A model declared by ppl_mle hands find_MAP this compiled function
(:meth:`ppl_mle.MLEModel.share_compiled`): one compilation per model, and one pass over
the data per point for value and gradient together.
"""

from __future__ import annotations

import contextlib
import copy
import functools
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass
from typing import Any, Literal, Protocol, cast

import numpy as np
import pymc as pm
import pytensor
import pytensor.tensor as pt
from pytensor.gradient import jacobian
from pytensor.link.basic import PerformLinker

from ppl_mle.core.affine import AffineMap
from ppl_mle.core.errors import ModelError
from ppl_mle.fit.cache import DECLARED, keep_model_entry, model_entry
from ppl_mle.fit.compiled import (
    STRUCTURES,
    AbstractGraph,
    abstract_data,
    compile_function,
    compile_settings,
    declaration_key_of,
    pregrad,
)
from ppl_mle.model._pytensor import PYTENSOR_LOCK
from ppl_mle.model.float64 import in_float64

__all__ = ["Objective", "objective_for"]


#: Up to this many coordinates, a Hessian of d Hessian-vector products is cheap enough to
#: evaluate afresh at every step of a polish, and the natural values' derivatives are
#: compiled unrolled, one gradient per row.
_CHEAP_HESSIAN = 8


@dataclass(frozen=True)
class _Slot:
    name: str
    shape: tuple[int, ...]
    start: int
    stop: int


class Objective:
    """Log-density, gradient, Hessian and log-likelihood of a model on a flat vector.

    Parameters
    ----------
    model : pymc.Model
        A model whose free variables are all continuous.
    hessian : callable, optional
        The exact Hessian of the log-density as a function of ``z``, in closed form (the
        family's, e.g. softmax regression's weighted Gram matrices). When given, PyTensor
        compiles no second derivatives: Hessian-vector products are products with it.

    Raises
    ------
    ModelError
        The model has discrete free variables or no free variables at all. (A model without
        observed variables or Potentials has the log-likelihood 0: :func:`ppl_mle.fit_mle`
        refuses it for an MLE, and fits its priors' mode as a MAP.)
    """

    def __init__(
        self, model: pm.Model, hessian: Callable[[np.ndarray], np.ndarray] | None = None
    ) -> None:
        discrete = [rv.name for rv in model.free_RVs if rv.type.dtype.startswith(("int", "uint"))]
        if discrete:
            raise ModelError(
                f"free variables {discrete} are discrete: a likelihood maximised by "
                "find_MAP needs every free parameter continuous."
            )
        if not model.free_RVs:
            raise ModelError("the model has no free parameters to estimate.")
        self.model = model
        value_vars = model.continuous_value_vars
        shapes = _value_shapes(model, value_vars)
        slots, offset = [], 0
        for v in value_vars:
            shape = shapes[v.name]
            size = int(np.prod(shape, dtype=np.int64))
            slots.append(_Slot(v.name, shape, offset, offset + size))
            offset += size
        self.slots: tuple[_Slot, ...] = tuple(slots)
        self.size = offset

        z = pt.vector("z", dtype="float64")
        replace = {
            v: z[s.start : s.stop].reshape(s.shape).astype(v.dtype)
            for v, s in zip(value_vars, slots, strict=True)
        }
        # One logp graph (PyMC's construction is a large part of a small fit's cost): the
        # objective sums every term, the log-likelihood those of the observed variables (of
        # the Potentials, in a model whose only likelihood terms they are).
        factors = [pt.sum(f) for f in model.logp(jacobian=False, sum=False)]
        n_free, n_observed = len(model.free_RVs), len(model.observed_RVs)
        likelihood = factors[n_free : n_free + n_observed] if n_observed else factors[n_free:]
        # A model of priors alone (a MAP is its mode) has the likelihood of no data: 0.
        total_likelihood = pt.add(*likelihood) if likelihood else pt.constant(0.0)
        logp, loglik = pytensor.graph_replace(
            [pt.add(*factors), total_likelihood],
            replace,
            strict=False,
        )
        free = get_free_outputs(model)
        constrained = pytensor.graph_replace(
            [model.unobserved_value_vars[i] for i in free.indices], replace, strict=False
        )
        # Every log-density and value in float64, whatever the model's constants: PyTensor
        # keeps `3.0` as float32 and would take its log in float32 (2e-8 per observation).
        logp, loglik, *constrained = in_float64([logp, loglik, *constrained])
        self.free_names: tuple[str, ...] = free.names
        self._closed_hessian = hessian
        self.affine = AffineMap()
        self._last_hessian: tuple[Any, np.ndarray] | None = None
        self._recent: list[tuple[Any, list[np.ndarray]]] = []
        # Compiled once per graph structure (:mod:`ppl_mle.fit.compiled`): a model with an
        # equal graph and other data (a new normal model, a flat copy of a model declared
        # alike) reuses the functions, called with its own data containers.
        graph = abstract_data([z], [logp, loglik, *constrained])
        self._data = graph.data
        self._values: tuple[Any, ...] | None = None
        extra = ("objective", hessian is not None)
        compiled = STRUCTURES.find(model, graph, extra)
        if compiled is None:
            compiled = _compile(model, graph)
            STRUCTURES.keep(model, graph, compiled, extra)
        self._compiled: _Compiled = compiled

    def _data_values(self) -> list[Any]:
        """The values the model's data containers hold now, for the compiled functions.

        An objective :meth:`on_data` reads the values it was given instead.
        """
        if self._values is not None:
            return list(self._values)
        return [d.get_value(borrow=True) for d in self._data]

    def on_data(self, values: dict[str, Any]) -> Objective:
        """A copy sharing the compiled functions, evaluated on other values of the data.

        ``values`` gives data containers' values by name; the others (such as the lengths
        of dimensions) keep the model's. The model's own containers are left as they
        are: a normal model is fitted on its data in working units this way, without a
        model of its own for them.
        """
        other = copy.copy(self)
        # In the container's dtype, as pm.Data stored the model's own (labels as int32).
        other._values = tuple(
            np.asarray(values[str(d.name)], dtype=d.type.dtype)
            if str(d.name) in values
            else d.get_value(borrow=True)
            for d in self._data
        )
        other.clear_cache()
        return other

    @property
    def linker(self) -> str:
        """``"python"`` where the objective runs on PyTensor's Python linker, else ``"c"``.

        See :func:`ppl_mle.fit.compiled.uses_python_linker`.
        """
        linker = self._compiled.fn.function.maker.linker
        return "python" if isinstance(linker, PerformLinker) else "c"

    @property
    def costly_hessian(self) -> bool:
        """Whether a Hessian costs many passes over the data (one per coordinate).

        Then a polish reuses a Hessian for the steps near the maximum and evaluates it
        afresh only where the point is verified. Every Hessian but a closed-form one is
        d Hessian-vector products; up to :data:`_CHEAP_HESSIAN` coordinates they cost
        less than the polish steps a chord would save.
        """
        return self._closed_hessian is None and self.size > _CHEAP_HESSIAN

    def _eval(self, z: np.ndarray) -> list[np.ndarray]:
        """logp, gradient, log-likelihood and natural values at ``z``.

        The outputs at the last three points are kept: a fit asks for the value, the
        gradient, the log-likelihood and the natural values at one point from different
        places, and each fresh evaluation is a pass over the data.
        """
        z = np.asarray(z, dtype=np.float64)
        key = self._cache_key(z)
        for cached_key, outputs in self._recent:
            if cached_key == key:
                return outputs
        with np.errstate(all="ignore"):
            outputs = [np.array(out) for out in self._compiled.fn(z, *self._data_values())]
        # Three points: probes elsewhere (a line search, the unboundedness check) do not
        # evict the candidate maximum.
        self._recent = [(key, outputs), *self._recent[:2]]
        return outputs

    def _cache_key(self, z: np.ndarray) -> tuple[bytes, Any]:
        return z.tobytes(), getattr(self.model, "data_version", None)

    def clear_cache(self) -> None:
        """Forget the last points' outputs (done by :func:`objective_for` at each fit).

        Models declared by ppl_mle count their data changes, which invalidate the cache
        on their own; a plain ``pymc.Model`` changed by ``pm.set_data`` does not.
        """
        self._recent = []
        self._last_hessian = None

    def _hessian(self, z: np.ndarray) -> np.ndarray:
        """The exact Hessian at ``z``: closed-form, or column by column from d products.

        Kept for the next call at the same point (a fit verifies a point, then reports its
        standard errors from the same Hessian): hand out copies.
        """
        if self._closed_hessian is not None:
            return self._closed_form_hessian(z)
        z = np.asarray(z, dtype=np.float64)
        key = self._cache_key(z)
        if self._last_hessian is not None and self._last_hessian[0] == key:
            return self._last_hessian[1]
        hvp = self._hvp_function()
        eye = np.eye(self.size)
        data = self._data_values()
        with np.errstate(all="ignore"):
            h = np.array([np.asarray(hvp(z, e, *data), dtype=np.float64) for e in eye])
        symmetric: np.ndarray = 0.5 * (h + h.T)
        self._last_hessian = (key, symmetric)
        return symmetric

    def _closed_form_hessian(self, z: np.ndarray) -> np.ndarray:
        """The closed-form Hessian at ``z``, kept for the next call at the same point.

        Newton-CG asks for many Hessian-vector products at one point; they then cost one
        Hessian, not one pass over the data each.
        """
        z = np.asarray(z, dtype=np.float64)
        closed_hessian = self._closed_hessian
        if closed_hessian is None:
            raise RuntimeError("internal error: an objective without a closed-form Hessian")
        key = self._cache_key(z)
        if self._last_hessian is None or self._last_hessian[0] != key:
            with np.errstate(all="ignore"):
                h = np.asarray(closed_hessian(z.copy()), dtype=np.float64)
            self._last_hessian = (key, h)
        return self._last_hessian[1]

    def __call__(self, z: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        """Return the objective, its gradient and its Hessian at ``z``."""
        f, g, h, _ = self.evaluate(z)
        return f, g, h

    def evaluate(self, z: np.ndarray) -> tuple[float, np.ndarray, np.ndarray, float]:
        """Return the objective, its gradient, its Hessian and the log-likelihood at ``z``."""
        outputs = self._eval(z)  # kept for later calls: hand out copies
        return (
            float(outputs[0]),
            np.array(outputs[1], dtype=np.float64),
            np.array(self._hessian(z), dtype=np.float64),
            float(outputs[2]) + self.affine.loglik_offset,
        )

    def hessian(self, z: np.ndarray) -> np.ndarray:
        """The Hessian of the objective at ``z`` (no value or gradient where avoidable)."""
        return np.array(self._hessian(z))

    def hvp(self, z: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Hessian-vector product ∇²logp(z)·v."""
        if self._closed_hessian is not None:
            return self._closed_form_hessian(z) @ np.asarray(v, dtype=np.float64)
        hvp = self._hvp_function()
        z, v = np.asarray(z, dtype=np.float64), np.asarray(v, dtype=np.float64)
        with np.errstate(all="ignore"):
            out = hvp(z, v, *self._data_values())
        return np.asarray(out, dtype=np.float64)

    def _hvp_function(self) -> Any:
        """The compiled Hessian-vector product ∇(∇ℓ·v), compiled on first use.

        A fit's optimizer needs value and gradient only; the product serves the exact
        Hessian that verifies its answer, Newton methods and the polish. One gradient graph
        more, where d unrolled Hessian rows would be d: compiling d gradients would take
        minutes for many parameters, a scan over them runs slower than a loop of products,
        and vectorising the product over a block of vectors (vectorize_graph) did not finish
        compiling for a GLM with a data matrix and 9 or more coefficients.
        """
        lazy = self._compiled.lazy
        with PYTENSOR_LOCK:  # compiled once, whichever thread asks first
            if "hvp" not in lazy:
                compiled = self._compiled
                z, v = compiled.z, pt.vector("v", dtype="float64")
                product = _grad(pt.dot(compiled.grad, v), z)
                lazy["hvp"] = compile_function(self.model, [z, v, *compiled.standins], product)
        return lazy["hvp"]

    def value_and_grad(self, z: np.ndarray) -> tuple[float, np.ndarray]:
        """Return the objective and its gradient (no Hessian) at ``z``."""
        outputs = self._eval(z)
        return float(outputs[0]), np.array(outputs[1], dtype=np.float64)

    def loglik(self, z: np.ndarray) -> float:
        """Log-likelihood of the observed variables (all constants included) at ``z``.

        In the user's units: a fit on working data adds −n·log b (:attr:`affine`).
        """
        return float(self._eval(z)[2]) + self.affine.loglik_offset

    def natural(self, z: np.ndarray) -> dict[str, np.ndarray]:
        """Values of the free variables in their natural (constrained) space at ``z``.

        In the user's units (:attr:`affine`), whatever units the fit works in.
        """
        values = self._eval(z)[3 : 3 + len(self.free_names)]
        working = {n: np.array(v) for n, v in zip(self.free_names, values, strict=True)}
        return self.affine.values(working) if not self.affine.identity else working

    def natural_derivatives(
        self, z: np.ndarray, weights: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Natural values as one flat vector, their Jacobian, and a weighted Hessian.

        The delta method needs the Jacobian ``J = ∂ψ/∂z`` of the natural parameters ``ψ``
        (``mu``, ``sigma``, ``theta``…, flattened in ``free_names`` order) with respect to
        ``z``; the profile likelihood needs the Hessian of ``weightsᵀψ`` as well. Both come
        from PyTensor automatic differentiation, compiled on first use.

        Parameters
        ----------
        z : numpy.ndarray
            Point in the unconstrained space.
        weights : numpy.ndarray, optional
            One weight per natural value; zeros by default.

        Returns
        -------
        values : numpy.ndarray
            ψ(z), shape (m,).
        jac : numpy.ndarray
            ∂ψ/∂z, shape (m, d).
        hess : numpy.ndarray
            ∇²(weightsᵀψ)(z), shape (d, d).
        """
        lazy = self._compiled.lazy
        with PYTENSOR_LOCK:  # compiled once, whichever thread asks first
            if "natural" not in lazy:
                outputs = self._eval(np.zeros(self.size))[3 : 3 + len(self.free_names)]
                lazy["shapes"] = [np.shape(v) for v in outputs]
                lazy["natural"] = self._compile_natural()
        m = self._natural_size
        w = np.zeros(m) if weights is None else np.asarray(weights, dtype=np.float64)
        scale = self._natural_scales
        with np.errstate(all="ignore"):
            # ψ = offset + scale·ψ_w: the Hessian of wᵀψ is that of (w∘scale)ᵀψ_w.
            values, jac, hess = lazy["natural"](
                np.asarray(z, dtype=np.float64), w * scale, *self._data_values()
            )
            values = np.asarray(values, dtype=np.float64)
            if not self.affine.identity:
                values = np.concatenate(
                    [np.ravel(v) for v in self.affine.values(self._split(values)).values()]
                )
        return (
            values,
            np.asarray(jac, dtype=np.float64).reshape(m, self.size) * scale[:, None],
            np.asarray(hess, dtype=np.float64).reshape(self.size, self.size),
        )

    def natural_jvp(self, z: np.ndarray, v: np.ndarray) -> np.ndarray:
        """(∂ψ/∂z)·v: the derivative of the flat natural values along ``v``, in working units.

        Forward mode, one pass over the graph whatever the number of parameters: a
        per-group fit gets every group's Jacobian from a few such products
        (:meth:`ppl_mle.core.grouped.BlockLayout.probes`). Compiled on first use.
        """
        lazy = self._compiled.lazy
        with PYTENSOR_LOCK:  # compiled once, whichever thread asks first
            self._compile_jvp(lazy)
        z, v = np.asarray(z, dtype=np.float64), np.asarray(v, dtype=np.float64)
        with np.errstate(all="ignore"):
            out = lazy["jvp"](z, v, *self._data_values())
        return np.asarray(out, dtype=np.float64)

    def _compile_jvp(self, lazy: dict[str, Any]) -> None:
        if "jvp" not in lazy:
            compiled = self._compiled
            direction = pt.vector("v", dtype="float64")
            # J·v by two reverse passes: with J^T u = ∇_z(u·ψ), J·v = ∇_u((J^T u)·v), for a
            # stand-in u the result does not depend on (PyTensor's Rop, before 2.3x, needed
            # a forward rule from every operation).
            u = pt.vector("u", dtype="float64")
            pullback = _grad(pt.dot(u, compiled.natural_flat), compiled.z, "ignore")
            # The result is linear in nothing but v; u stays in the graph only formally.
            stand_in: dict[Any, Any] = {u: pt.zeros_like(compiled.natural_flat)}
            pushed = _grad(pt.dot(pullback, direction), u, "ignore")
            pushed_v = pytensor.graph_replace(pushed, stand_in)
            lazy["jvp"] = compile_function(
                self.model, [compiled.z, direction, *compiled.standins], pushed_v
            )

    @property
    def _natural_size(self) -> int:
        shapes = self._compiled.lazy["shapes"]
        return sum(int(np.prod(shape, dtype=np.int64)) for shape in shapes)

    def natural_scales(self) -> np.ndarray:
        """Scale of each flat natural value (ones unless the fit works in other units)."""
        if "shapes" not in self._compiled.lazy:
            self.natural_derivatives(np.zeros(self.size))
        return self._natural_scales

    @property
    def _natural_scales(self) -> np.ndarray:
        if self.affine.identity:
            return np.ones(self._natural_size)
        return self.affine.scales(self._split(np.zeros(self._natural_size)))

    def _split(self, flat: np.ndarray) -> dict[str, np.ndarray]:
        """A flat vector of natural values as a dict by free variable."""
        out, start = {}, 0
        shapes = self._compiled.lazy["shapes"]
        for name, shape in zip(self.free_names, shapes, strict=True):
            size = int(np.prod(shape, dtype=np.int64))
            out[name] = flat[start : start + size].reshape(shape)
            start += size
        return out

    def kept(self, name: str, build: Callable[[Any], Any]) -> Any:
        """``build(compiled)``, made once per graph structure and kept with it.

        For functions compiled from the structure (``compiled.z``, ``compiled.standins``,
        ``compiled.natural_flat``) that the objective itself does not need; they are
        called with :meth:`data_values` after their own inputs.
        """
        lazy = self._compiled.lazy
        with PYTENSOR_LOCK:  # built once, whichever thread asks first
            if name not in lazy:
                lazy[name] = build(self._compiled)
        return lazy[name]

    def data_values(self) -> list[Any]:
        """The values of the model's data, in the order the compiled functions take them."""
        return self._data_values()

    def mapped(self, affine: AffineMap) -> Objective:
        """A copy sharing the compiled functions, reporting in other units.

        Value, gradient and Hessian stay in the working units the fit optimises in;
        natural values, their derivatives and the log-likelihood are in the user's.
        """
        other = copy.copy(self)
        other.affine = affine
        return other

    def user_point(self, z: np.ndarray) -> dict[str, np.ndarray]:
        """The point ``z`` as the user's model's unconstrained values."""
        return self.to_point(self.affine.user_z(z))

    def from_user_point(self, point: dict[str, np.ndarray]) -> np.ndarray:
        """``z`` (working units) of a point of the user's model's unconstrained values."""
        return self.affine.working_z(self.from_point(point))

    def _compile_natural(self) -> Any:
        compiled = self._compiled
        z, psi = compiled.z, compiled.natural_flat
        m = self._natural_size
        w = pt.vector("w", dtype="float64")
        # A natural value linear in z (mu) has a Hessian that does not depend on z at all.
        grad = functools.partial(_grad, wrt=z, disconnected_inputs="ignore")
        jac = (
            pt.stack([grad(psi[i]) for i in range(m)])
            if m <= _CHEAP_HESSIAN
            else (jacobian(psi, z, disconnected_inputs="ignore"))
        )
        weighted_grad = grad(pt.dot(w, psi))
        if self.size <= _CHEAP_HESSIAN:
            hess = pt.stack([grad(weighted_grad[i]) for i in range(self.size)])
        else:
            hess = jacobian(weighted_grad, z, disconnected_inputs="ignore")
        return compile_function(self.model, [z, w, *compiled.standins], [psi, jac, hess])

    def logp_at(self, point: dict[str, np.ndarray]) -> np.ndarray:
        """The objective at a point given as a dict of value-variable values."""
        return self._eval(self.from_point(point))[0]

    def values_at(self, point: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The free variables' values at a point of value variables, by name.

        Natural values in the units the objective works in (those of its model, as
        find_MAP reports them), and the value variables themselves.
        """
        z = self.from_point(point)
        natural = self._eval(z)[3 : 3 + len(self.free_names)]
        out = {n: np.array(v) for n, v in zip(self.free_names, natural, strict=True)}
        out.update(self.to_point(z))
        return out

    def grad_at(self, point: dict[str, np.ndarray]) -> np.ndarray:
        """The gradient at a point given as a dict of value-variable values."""
        return self._eval(self.from_point(point))[1]

    def to_point(self, z: np.ndarray) -> dict[str, np.ndarray]:
        """Split the flat vector into the model's value variables (unconstrained)."""
        return {s.name: np.asarray(z[s.start : s.stop]).reshape(s.shape) for s in self.slots}

    def from_point(self, point: dict[str, np.ndarray]) -> np.ndarray:
        """Flatten a dict of value-variable values into the vector ``z``."""
        return np.concatenate(
            [np.asarray(point[s.name], dtype=np.float64).ravel() for s in self.slots]
        )

    def coordinate_names(self) -> list[str]:
        """One readable name per entry of ``z`` (``theta_simplex__[2]``…)."""
        names = []
        for s in self.slots:
            if s.stop - s.start == 1 and s.shape == ():
                names.append(s.name)
            else:
                names.extend(f"{s.name}[{i}]" for i in range(s.stop - s.start))
        return names


def _value_shapes(model: pm.Model, value_vars: list[Any]) -> dict[str, tuple[int, ...]]:
    """The shape of each value variable: its static type's where fully known.

    Otherwise the model's initial point is evaluated (a compilation: a few milliseconds
    that a new model of a known structure would otherwise spend on nothing else).
    """
    static = {v.name: v.type.shape for v in value_vars}
    if all(None not in shape for shape in static.values()):
        return {name: tuple(int(n) for n in shape) for name, shape in static.items()}
    point = model.initial_point()
    return {v.name: tuple(int(n) for n in np.shape(point[v.name])) for v in value_vars}


@dataclass(frozen=True)
class _Compiled:
    """What is compiled for one graph structure, shared by every model with that graph.

    Each function takes the data containers' values after its own inputs, in the order of
    ``standins``. ``fn`` gives value, gradient, log-likelihood and natural values; ``grad``
    is the gradient's graph, from which the Hessian-vector product is compiled on first
    use into ``lazy`` (as are the natural values' derivatives).
    """

    z: Any
    standins: tuple[Any, ...]
    natural_flat: Any
    fn: Any
    grad: Any
    lazy: dict[str, Any]


def _compile(model: pm.Model, graph: AbstractGraph) -> _Compiled:
    """Compile value, gradient, log-likelihood and natural values of a graph: one function.

    ``graph`` has the outputs logp, loglik and the natural values, in terms of z and the
    stand-ins of the data containers. What the optimizer needs, and no more: the exact
    Hessian that verifies its answer comes from a Hessian-vector product compiled on first
    use (:meth:`Objective.hessian`). One more gradient graph compiles in a fraction of the
    time of d unrolled Hessian rows in this function, and a fit evaluates it d times at a
    few points only. Both are built from the log-density in canonical form
    (:func:`~ppl_mle.fit.compiled.pregrad`).
    """
    z, standins = graph.inputs[0], graph.standins
    logp, loglik, *constrained = pregrad(graph)
    grad = _grad(logp, z)
    outputs = [logp, grad, loglik, *constrained]
    natural_flat = pt.concatenate([pt.cast(c, "float64").ravel() for c in constrained])
    fn = compile_function(model, graph.inputs, outputs)
    return _Compiled(z, standins, natural_flat, fn, grad, {})


def objective_for(model: pm.Model) -> Objective:
    """The model's :class:`Objective`, compiled once and reused.

    The compiled function reads the observations from the model's ``pm.Data`` containers,
    so it stays valid when the data are replaced (``pm.set_data``) and a refit costs no
    compilation. A model whose variables changed since gets a new one. Where the model
    knows its Hessian in closed form (:meth:`ppl_mle.MLEModel.loglik_hessian`) it is used
    instead of automatic second derivatives. A model that fits in other units
    (:meth:`ppl_mle.MLEModel.working`: the normal model, on its data centred and scaled)
    gets an objective evaluated on its working data, reporting in the user's units.
    """
    working = getattr(model, "working", None)
    work = working() if working is not None else None
    if work is None:
        # The family's closed-form Hessian follows the model's current data (replace_data).
        closed_form = getattr(model, "loglik_hessian", None)
        return _objective_of(model, closed_form() if closed_form is not None else None)
    # Fitted in working units (data centred and scaled, exactly), reported in the user's.
    if work.values is None:
        return _objective_of(work.model, work.hessian).mapped(work.affine)
    return _objective_of(model, work.hessian).on_data(work.values).mapped(work.affine)


def _objective_of(model: pm.Model, hessian: Callable[[np.ndarray], np.ndarray] | None) -> Objective:
    """The objective of ``model`` on the data its containers hold.

    ``hessian`` is the closed-form Hessian of the data it is evaluated on (or None).
    """
    key = (
        tuple(model.free_RVs),
        tuple(model.observed_RVs),
        tuple(model.potentials),
        compile_settings(model),
    )
    cached = model_entry(model, "objective")
    if cached is not None and cached[0] == key:
        return _attach(cached[1], model, hessian)
    objective = _declared_like(model, hessian)
    if objective is None:
        with PYTENSOR_LOCK:  # graph building and compilation, one thread at a time
            objective = Objective(model, hessian=hessian)
        _remember_declaration(model, objective)
    # The objective's state without the model (which it would keep alive for ever).
    keep_model_entry(model, "objective", (key, _detach(objective)))
    return objective


class DeclaredStore(Protocol):
    """Where objectives compiled by other processes are found (:mod:`ppl_mle.fit.disk_cache`)."""

    def load(self, key: Hashable) -> tuple[dict[str, Any], tuple[str, ...]] | None:
        """The entry kept under ``key``, or None."""


#: The store consulted when no objective of a declaration key was compiled in the process.
_STORE: list[DeclaredStore] = []


@contextlib.contextmanager
def declared_store(store: DeclaredStore) -> Iterator[None]:
    """Consult ``store`` for declared models' objectives inside the block."""
    _STORE.append(store)
    try:
        yield
    finally:
        _STORE.remove(store)


def declared_entries() -> dict[Hashable, tuple[dict[str, Any], tuple[str, ...]]]:
    """The declared models' objectives known to this process, by key (a snapshot)."""
    entries = DECLARED.snapshot().items()
    return {
        key[1]: entry for key, entry in entries if isinstance(key, tuple) and key[0] == "objective"
    }


def _declared_like(model: pm.Model, hessian: Any) -> Objective | None:
    """The objective of a model declared like one compiled before, or None."""
    key = declaration_key_of(model)
    if key is None:
        return None
    # The objective's state without data, and the names of the data containers in the
    # order its compiled functions take them.
    found = DECLARED.get(("objective", key))
    if found is None and _STORE:
        found = _STORE[-1].load(key)
        if found is not None:
            found = DECLARED.setdefault(("objective", key), found)
    if found is None:
        return None
    state, names = found
    objective = _attach(state, model, hessian)
    objective._data = tuple(model[name] for name in names)
    return objective


def _remember_declaration(model: pm.Model, objective: Objective) -> None:
    """Keep a declared model's compiled objective for the models declared like it."""
    key = declaration_key_of(model)
    names = tuple(str(d.name) for d in objective._data)
    if key is None or any(model.named_vars.get(d.name) is not d for d in objective._data):
        return  # a container the model does not hold by name: not shareable by name
    skip = ("_data", "_values", "_recent")
    state = {k: v for k, v in _detach(objective).items() if k not in skip}
    DECLARED.setdefault(("objective", key), (state, names))


def _detach(objective: Objective) -> dict[str, Any]:
    """The state of ``objective`` without its model: compiled functions, slots, names."""
    return {k: v for k, v in vars(objective).items() if k != "model"}


def _attach(state: dict[str, Any], model: pm.Model, hessian: Any) -> Objective:
    """An objective for ``model`` from a detached state, remembering no points.

    ``hessian`` is the closed-form Hessian of the model's data now (or None).
    """
    objective = Objective.__new__(Objective)
    vars(objective).update(state)
    objective.model = model
    objective._values = None
    objective._closed_hessian = hessian
    objective.clear_cache()
    return objective


@dataclass(frozen=True)
class _FreeOutputs:
    names: tuple[str, ...]
    indices: tuple[int, ...]


def _grad(
    cost: Any,
    wrt: pt.TensorVariable[Any, Any],
    disconnected_inputs: Literal["ignore", "warn", "raise"] = "raise",
) -> pt.TensorVariable[Any, Any]:
    """``pt.grad`` of ``cost`` with respect to the one variable ``wrt``.

    PyTensor annotates ``grad``'s result for every form of ``wrt`` at once (a variable, a
    sequence of them, or None); for one variable it is that variable's gradient.
    """
    return cast(
        "pt.TensorVariable[Any, Any]",
        pt.grad(cost, wrt, disconnected_inputs=disconnected_inputs),
    )


def get_free_outputs(model: pm.Model) -> _FreeOutputs:
    """Pick, among ``model.unobserved_value_vars``, the natural values of the free variables.

    In the order the free variables were declared (``model.free_RVs``); PyMC lists the
    untransformed ones before the others.
    """
    position = {v.name: i for i, v in enumerate(model.unobserved_value_vars)}
    names = tuple(rv.name for rv in model.free_RVs)
    return _FreeOutputs(names, tuple(position[name] for name in names))
