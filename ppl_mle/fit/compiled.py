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
import threading
from collections.abc import Hashable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pymc as pm
import pytensor
from pytensor.compile.sharedvalue import SharedVariable
from pytensor.graph.basic import Constant, equal_computations

from ppl_mle.fit.cache import SerialFunction, count_compilation
from ppl_mle.model._compat import graph_inputs, io_toposort, pymc_compile
from ppl_mle.model._pytensor import PYTENSOR_LOCK, quiet_vendor_warnings

__all__ = [
    "AbstractGraph",
    "SMALL_DATA",
    "STRUCTURES",
    "StructureCache",
    "abstract_data",
    "compile_function",
    "compile_settings",
    "data_size",
    "declaration_key_of",
    "python_linker_for_small_data",
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


def compile_function(model: pm.Model, inputs: Sequence[Any], outputs: Any) -> Any:
    """Compile in the model's context (PyMC's compile honours its ``check_bounds`` flag).

    ``outputs`` is a list (the function returns a list) or one variable (one array).
    Compiled holding :data:`~ppl_mle.model._pytensor.PYTENSOR_LOCK`, counted
    (:func:`ppl_mle.fit.cache.compilations`), and callable from any thread.
    """
    mode = _python_mode() if pytensor.config.linker == "py" else None
    with PYTENSOR_LOCK, quiet_vendor_warnings(), model:
        count_compilation()
        compiled = pymc_compile(list(inputs), outputs, on_unused_input="ignore", mode=mode)
    return SerialFunction(compiled)


def _python_mode() -> Any:
    """The default mode without elementwise fusion, for the Python linker.

    Fused elementwise operations (``Composite``) have no vectorised Python implementation:
    the Python linker calls them once per element, some 0.1 ms per value of the data
    for a normal log-density with its derivatives. Unfused, each operation is one numpy
    call.
    """
    return pytensor.compile.mode.get_default_mode().excluding("fusion")


def compile_settings() -> Hashable:
    """The PyTensor settings a compiled function depends on besides its graph.

    The mode, linker, optimizer and float type in force: part of every key under which a
    compiled function is kept, so a function compiled under other settings (say, the
    Python linker of :func:`python_linker_for_small_data`) is never served under these.
    """
    config = pytensor.config
    return (str(config.mode), str(config.linker), str(config.optimizer), str(config.floatX))


def declaration_key_of(model: pm.Model) -> Hashable | None:
    """A declared model's key (:meth:`ppl_mle.MLEModel.declaration_key`) with the settings.

    Models ppl_mle declares with equal keys have equal graphs, their data aside, so what
    is compiled for one serves the others without building their graphs. None for any
    other model, and once variables were added to a declared one.
    """
    declared = getattr(model, "declaration_key", None)
    key = declared() if declared is not None else None
    return None if key is None else (key, compile_settings())


#: Up to this many data values, :func:`python_linker_for_small_data` evaluates in Python.
SMALL_DATA = 1_000


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
    """Compile with PyTensor's Python linker while the model's data are small.

    A process that fits one small model (the command line) spends seconds before its first
    evaluation with the C linker: PyTensor reads the key of every module in its on-disk
    cache (seconds once the cache holds hundreds) and loads the modules' shared libraries.
    The Python linker (``linker="py"``) runs the same rewritten graph with numpy, without
    fusion (:func:`_python_mode`): no C at all, at ~1 ms per evaluation of the normal
    objective on 10 values and ~25 ms on 1,000 (C: 0.05–0.07 ms), so it pays only for a
    few hundred values (measured break-even of a whole command-line fit: ~1,500).
    Beyond :data:`SMALL_DATA` values, or if the user chose a mode or linker other than
    PyTensor's default, nothing changes. Functions compiled here are kept under their own
    key (:func:`compile_settings`).

    Yields
    ------
    bool
        Whether the Python linker is in force.
    """
    config = pytensor.config
    defaults = str(config.mode) in ("Mode", "FAST_RUN") and config.linker == "auto"
    if not defaults or data_size(model) > SMALL_DATA:
        yield False
        return
    with config.change_flags(linker="py"):
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
        compile_settings(),
        extra,
    )
