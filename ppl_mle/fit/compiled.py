"""Compiled objectives shared by every model with the same graph, whatever its data.

Compiling a log-density with its derivatives (building gradient graphs, rewriting them,
generating C code) costs about a second; evaluating it on a thousand rows, microseconds.
Two normal models that differ only in their data — or two flat copies of models declared
alike — have the same graph, with different data containers (``pm.Data``: shared
variables). :func:`abstract_data` replaces every shared variable of a graph by an input,
so that what is compiled from it depends on the structure alone; :class:`StructureCache`
keeps what was compiled for each structure, and a later graph equal to it reuses it, called
with the data its own model holds.

The key is exact. Candidates are found by a cheap signature (the operations of the graph in
order, the types of its inputs and outputs, PyMC's bounds-check flag, and whatever else the
caller adds); a candidate is reused only if :func:`pytensor.graph.basic.equal_computations`
finds the two graphs equal — the same operations on the same inputs, constants equal in
value. A graph that differs anywhere is compiled anew.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Hashable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pymc as pm
import pytensor
import pytensor.scalar as ps
import pytensor.scalar.math as psm
import pytensor.tensor as pt
from pytensor.compile.mode import optdb
from pytensor.compile.sharedvalue import SharedVariable
from pytensor.graph.basic import Apply, Constant, equal_computations
from pytensor.graph.fg import FunctionGraph
from pytensor.graph.op import Op
from pytensor.graph.rewriting.basic import in2out, node_rewriter
from pytensor.graph.rewriting.utils import rewrite_graph
from pytensor.tensor.elemwise import Elemwise

from ppl_mle.fit.cache import SerialFunction, count_compilation
from ppl_mle.model._compat import CANONICAL_GRADIENTS, graph_inputs, io_toposort, pymc_compile
from ppl_mle.model._pytensor import PYTENSOR_LOCK, quiet_vendor_warnings

__all__ = [
    "AbstractGraph",
    "PER_ELEMENT_MAX",
    "SMALL_DATA",
    "STRUCTURES",
    "StructureCache",
    "abstract_data",
    "compile_function",
    "compile_settings",
    "data_size",
    "declaration_key_of",
    "pregrad",
    "python_linker_for_small_data",
    "uses_python_linker",
]


@dataclass(frozen=True)
class AbstractGraph:
    """A graph whose data containers were replaced by inputs.

    Attributes
    ----------
    inputs : tuple
        The graph's own inputs (``z``…) followed by one stand-in per data container.
    outputs : tuple
        The outputs, in terms of ``inputs``.
    data : tuple of SharedVariable
        The model's data containers, in the order of their stand-ins.
    """

    inputs: tuple[Any, ...]
    outputs: tuple[Any, ...]
    data: tuple[SharedVariable, ...]

    @property
    def standins(self) -> tuple[Any, ...]:
        """The inputs that stand for the data containers."""
        return self.inputs[len(self.inputs) - len(self.data) :]


def abstract_data(inputs: Sequence[Any], outputs: Sequence[Any]) -> AbstractGraph:
    """Replace every shared variable that ``outputs`` depend on by a new input."""
    data = tuple(v for v in graph_inputs(list(outputs)) if isinstance(v, SharedVariable))
    standins = [d.type() for d in data]
    replaced = pytensor.graph_replace(
        list(outputs), list(zip(data, standins, strict=True)), strict=False
    )
    return AbstractGraph((*inputs, *standins), tuple(replaced), data)


def pregrad(graph: AbstractGraph) -> list[Any]:
    """The graph's outputs in PyTensor's canonical form, to be differentiated.

    As PyMC simplifies a log-density before it takes its gradient
    (``pymc.pytensorf.rewrite_pregrad``), here on a copy of the graph with the same inputs,
    so that no graph of the user's model is rewritten in place. Derivatives built from the
    simplified graph leave less for the rewrites at compilation: the Hessian-vector product
    of a categorical model with a Dirichlet prior compiles in a fifth of the time. PyMC's
    stabilising rewrites are left to the compilation: applied here as well, they made the
    objective's compilation three times as long. With a PyTensor that cannot differentiate
    every canonical graph (:data:`~ppl_mle.model._compat.CANONICAL_GRADIENTS`), the outputs
    as they are.
    """
    if not CANONICAL_GRADIENTS:
        return list(graph.outputs)
    fgraph = FunctionGraph(list(graph.inputs), list(graph.outputs), copy_inputs=False)
    rewrite_graph(fgraph, include=("canonicalize",))
    return list(fgraph.outputs)


def compile_function(model: pm.Model, inputs: Sequence[Any], outputs: Any) -> Any:
    """Compile in the model's context (PyMC's compile honours its ``check_bounds`` flag).

    ``outputs`` is a list (the function returns a list) or one variable (one array).
    With PyTensor's Python linker where :func:`uses_python_linker` says so, else with
    the mode in force. Compiled holding :data:`~ppl_mle.model._pytensor.PYTENSOR_LOCK`,
    counted (:func:`ppl_mle.fit.cache.compilations`), and callable from any thread.
    """
    python = uses_python_linker(model)
    with PYTENSOR_LOCK, quiet_vendor_warnings(), model:
        count_compilation()
        compiled = pymc_compile(
            list(inputs), outputs, on_unused_input="ignore", mode=_python_mode() if python else None
        )
        if python and _per_element(compiled) and data_size(model) > PER_ELEMENT_MAX:
            # An operation with no numpy ufunc is left: C, rather than ~1 µs a value.
            count_compilation()
            c_mode = pytensor.compile.mode.get_mode("FAST_RUN").clone(linker="cvm")
            compiled = pymc_compile(list(inputs), outputs, on_unused_input="ignore", mode=c_mode)
    return SerialFunction(compiled)


#: Up to this many data values an elementwise operation with no numpy ufunc is
#: evaluated per element by the Python linker (:func:`compile_function`).
PER_ELEMENT_MAX = 1_000


def _per_element(function: Any) -> bool:
    """Whether the Python linker would run a node of a compiled function per element."""
    for node in function.maker.fgraph.apply_nodes:
        op = node.op
        if isinstance(op, Elemwise):
            spec = getattr(op, "nfunc_spec", None)
            if spec is None or spec[1] != len(node.inputs):
                return True
    return False


def _python_mode() -> Any:
    """The default rewrites, evaluated by PyTensor's Python linker, one numpy call a node.

    The Python linker runs an elementwise node as one numpy ufunc only where its scalar
    operation has one of the node's arity; otherwise it calls the scalar operation once
    per element (~1 µs a value). So fusion is left out, and :func:`_vectorised` rewrites
    what remains of that kind into operations that have one.
    """
    mode = pytensor.compile.mode.Mode(linker="py", optimizer=pytensor.config.optimizer)
    return mode.excluding(*_NOT_FOR_PYTHON).including(_VECTORISED)


#: Rewrites the Python linker has no use for: fusion (see :func:`_python_mode`); in-place
#: operations (the data are small: they would save little memory, and their validation is a
#: third of a compilation's rewriting); and those that put C BLAS operations in the graph,
#: whose first use makes PyTensor probe the system's BLAS with a C compiler (0.15 s in a
#: fresh process).
_NOT_FOR_PYTHON = ("fusion", "inplace", "c_blas", "cxx_only", "BlasOpt")


_VECTORISED = "ppl_mle_vectorised"


@node_rewriter([Elemwise])  # type: ignore[untyped-decorator]
def _vectorised(fgraph: Any, node: Any) -> list[Any] | None:
    """An elementwise node the Python linker would run per element, as numpy ufuncs.

    Sums and products of more than two terms (which the canonical rewrites build) become
    chains of binary ones; a ``Composite`` (an elementwise graph in one node, which
    rewrites of powers build even without fusion) becomes its graph of elementwise
    nodes; ``softplus`` becomes PyTensor's own four-branch formula on whole arrays; a
    cast becomes numpy's ``astype`` (:class:`_AsType`) and ``clip`` a maximum and a
    minimum.
    """
    op = node.op.scalar_op
    if not isinstance(op, (ps.Add, ps.Mul, ps.Composite, psm.Softplus, ps.Cast, ps.Clip)):
        return None
    if isinstance(op, (ps.Add, ps.Mul)) and len(node.inputs) <= 2:
        return None
    if isinstance(op, psm.Softplus) and node.inputs[0].dtype not in ("float32", "float64"):
        return None
    outs = _elementwise(op, list(node.inputs))
    same = all(new.type == old.type for new, old in zip(outs, node.outputs, strict=True))
    return outs if same else None


def _elementwise(op: Any, inputs: list[Any]) -> list[Any]:
    """The outputs of the scalar operation ``op`` applied elementwise to ``inputs``."""
    if isinstance(op, ps.Composite):
        values: dict[Any, Any] = dict(zip(op.fgraph.inputs, inputs, strict=True))

        def tensor(v: Any) -> Any:
            return pt.constant(v.data, dtype=v.type.dtype) if isinstance(v, Constant) else values[v]

        for inner in op.fgraph.toposort():
            outs = _elementwise(inner.op, [tensor(v) for v in inner.inputs])
            values.update(zip(inner.outputs, outs, strict=True))
        return [tensor(v) for v in op.fgraph.outputs]
    if isinstance(op, (ps.Add, ps.Mul)) and len(inputs) > 2:
        return [functools.reduce(pt.add if isinstance(op, ps.Add) else pt.mul, inputs)]
    if isinstance(op, ps.Cast):
        return [_AsType(op.o_type.dtype)(inputs[0])]
    if isinstance(op, ps.Clip):
        x, low, high = inputs
        return [pt.minimum(pt.maximum(x, low), high)]
    if isinstance(op, psm.Softplus):
        (x,) = inputs
        return [
            pt.switch(
                x < -37.0,
                pt.exp(x),
                pt.switch(x < 18.0, pt.log1p(pt.exp(x)), pt.switch(x < 33.3, x + pt.exp(-x), x)),
            )
        ]
    out = Elemwise(op)(*inputs)
    return list(out) if isinstance(out, (list, tuple)) else [out]


class _AsType(Op):
    """``x.astype(dtype)`` in one numpy call: a cast the Python linker runs per element."""

    __props__ = ("dtype",)

    def __init__(self, dtype: str) -> None:
        self.dtype = dtype

    def make_node(self, *inputs: Any) -> Apply[Any]:
        x = pt.as_tensor_variable(inputs[0])
        return Apply(self, [x], [x.type.clone(dtype=self.dtype)()])

    def perform(self, node: Any, inputs: Sequence[Any], outputs: Any) -> None:
        outputs[0][0] = np.asarray(inputs[0]).astype(self.dtype)

    def infer_shape(self, fgraph: Any, node: Any, shapes: Sequence[Any]) -> Sequence[Any]:
        return shapes


if _VECTORISED not in optdb:
    # Inert unless a mode asks for it by name (only :func:`_python_mode` does): after
    # the canonical rewrites, before the in-place ones.
    optdb.register(_VECTORISED, in2out(_vectorised), position=49.2)


def uses_python_linker(model: pm.Model) -> bool:
    """Whether the model's functions are compiled for PyTensor's Python linker.

    With the C linker a fresh process spends seconds before its first evaluation:
    PyTensor reads the key of every module in its on-disk cache (about 2 s with a few
    hundred there) and compiles the C of every new operation (seconds more on a new
    machine). The Python linker runs the same rewritten graph with numpy (one call per
    node: ~0.3 ms per evaluation of a linear regression's objective, C: 0.03 ms), with no
    C at all. So it serves

    - a model of the user's own with at most :data:`SMALL_DATA` data values
      (:func:`data_size`), under PyTensor's default mode and linker: fitted once or a few
      times in a process, where compilation is the cost;
    - any model while the linker in force is ``"py"``
      (:func:`python_linker_for_small_data`).

    A model marked ``evaluated_many_times`` (the working copy a bootstrap refits hundreds
    of times, :mod:`ppl_mle.inference.bootstrap`) compiles C, like the declared ones.

    Models ppl_mle declares (:func:`ppl_mle.normal`…) compile C otherwise: what is
    compiled for one serves every model declared alike (thousands of fits in a
    simulation). A user who sets PyTensor's mode or linker (``PYTENSOR_FLAGS``) keeps it.
    """
    config = pytensor.config
    if config.linker == "py":
        return True
    if not _default_settings() or getattr(model, "declaration_key", lambda: None)() is not None:
        return False
    if getattr(model, "evaluated_many_times", False):
        return False
    return data_size(model) <= SMALL_DATA


def _default_settings() -> bool:
    """Whether PyTensor's mode and linker are the defaults of its version.

    PyTensor 2.38's default linker is ``"auto"``, 2.25's ``"cvm"``: compared with the
    default each version declares, not with a name.
    """
    config = pytensor.config
    declared = getattr(type(config).__dict__.get("linker"), "default", "auto")
    return str(config.mode) in ("Mode", "FAST_RUN") and config.linker == declared


def compile_settings(model: pm.Model) -> Hashable:
    """The PyTensor settings a model's compiled functions depend on besides its graph.

    The mode, linker, optimizer and float type in force, and whether the model compiles
    for the Python linker (:func:`uses_python_linker`): part of every key under which a
    compiled function is kept, so a function compiled for one linker is never served
    for the other.
    """
    config = pytensor.config
    return (
        str(config.mode),
        str(config.linker),
        str(config.optimizer),
        str(config.floatX),
        uses_python_linker(model),
    )


def declaration_key_of(model: pm.Model) -> Hashable | None:
    """A declared model's key (:meth:`ppl_mle.MLEModel.declaration_key`) with the settings.

    Models ppl_mle declares with equal keys have equal graphs, their data aside, so what
    is compiled for one serves the others without building their graphs. None for any
    other model, and once variables were added to a declared one.
    """
    declared = getattr(model, "declaration_key", None)
    key = declared() if declared is not None else None
    return None if key is None else (key, compile_settings(model))


#: A model of the user's own with at most this many data values compiles for the Python
#: linker (:func:`uses_python_linker`); so does a declared one on the command line
#: (:func:`python_linker_for_small_data`).
SMALL_DATA = 10_000


def data_size(model: pm.Model) -> int:
    """The number of values the model's graph holds: data containers and constants.

    Every shared variable and constant its variables, potentials and observations depend
    on: ``pm.Data`` containers, observations given as arrays, a design matrix written into
    the graph.
    """
    roots = [
        *model.basic_RVs,
        *model.potentials,
        *model.deterministics,
        *model.rvs_to_values.values(),
    ]
    total = 0
    for v in graph_inputs(roots):
        if isinstance(v, SharedVariable):
            total += int(np.size(v.get_value(borrow=True)))
        elif isinstance(v, Constant):
            total += int(np.size(v.data))
    return total


@contextlib.contextmanager
def python_linker_for_small_data(model: pm.Model) -> Iterator[bool]:
    """Compile every model for PyTensor's Python linker while ``model``'s data are small.

    For a process that fits one small declared model (the command line): declared models
    otherwise compile C (:func:`uses_python_linker`). Beyond :data:`SMALL_DATA` values,
    or if the user chose a mode or linker other than PyTensor's default, nothing changes.

    Yields
    ------
    bool
        Whether the Python linker is in force.
    """
    if not _default_settings() or data_size(model) > SMALL_DATA:
        yield False
        return
    with pytensor.config.change_flags(linker="py"):
        yield True


@dataclass(frozen=True)
class _Entry:
    graph: AbstractGraph
    state: Any


class StructureCache:
    """What was compiled for each graph structure, found again for an equal graph.

    Parameters
    ----------
    max_entries : int
        Distinct structures kept; beyond that new ones are compiled but not kept.
    """

    def __init__(self, max_entries: int = 256) -> None:
        self._entries: dict[Hashable, list[_Entry]] = {}
        self._lock = threading.Lock()
        self.max_entries = max_entries

    def find(self, model: pm.Model, graph: AbstractGraph, extra: Hashable = ()) -> Any:
        """The state kept for a graph equal to ``graph``, or None.

        Parameters
        ----------
        model : pymc.Model
            The model of ``graph``.
        graph : AbstractGraph
        extra : hashable
            More that the state depends on besides the graph.
        """
        key = _signature(model, graph, extra)
        with self._lock:
            candidates = list(self._entries.get(key, ()))
        for entry in candidates:
            if len(entry.graph.inputs) == len(graph.inputs) and equal_computations(
                list(graph.outputs),
                list(entry.graph.outputs),
                in_xs=list(graph.inputs),
                in_ys=list(entry.graph.inputs),
            ):
                return entry.state
        return None

    def keep(self, model: pm.Model, graph: AbstractGraph, state: Any, extra: Hashable = ()) -> None:
        """Keep ``state`` for ``graph``'s structure."""
        key = _signature(model, graph, extra)
        with self._lock:
            if len(self) < self.max_entries:
                self._entries.setdefault(key, []).append(_Entry(graph, state))

    def __len__(self) -> int:
        """The number of structures kept."""
        return sum(len(v) for v in self._entries.values())


#: Compiled functions by graph structure, whatever the data: the objectives
#: (:mod:`ppl_mle.fit.objective`) and the starting-point transforms (:mod:`ppl_mle.fit.start`),
#: their kind part of each key. 256 structures are kept; more are compiled, not kept.
STRUCTURES = StructureCache()


def _signature(model: pm.Model, graph: AbstractGraph, extra: Hashable) -> Hashable:
    """A cheap necessary condition for two graphs to be equal."""
    nodes = io_toposort(list(graph.inputs), list(graph.outputs))
    return (
        bool(getattr(model, "check_bounds", True)),
        tuple(str(i.type) for i in graph.inputs),
        tuple(str(o.type) for o in graph.outputs),
        tuple(str(node.op) for node in nodes),
        compile_settings(model),
        extra,
    )
