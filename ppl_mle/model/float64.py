"""A log-density graph computed in float64 throughout.

PyTensor stores a Python number as the smallest type that holds it exactly: ``3.0`` and
``0.5`` become float32 constants, ``2`` an int8 one. Its arithmetic then follows NumPy's
rules, so ``log(sigma)`` of the known ``sigma = 3.0`` in ``pm.Normal("y", mu, 3.0,
observed=y)`` is taken in float32, off by 2e-8 per observation (−0.002 in the
log-likelihood of 10⁵ rows) while the estimates are right. The values of such constants
are exact; only the arithmetic on them is short. :func:`in_float64` rebuilds a graph so
that every floating-point value in it is float64:

- a float16/float32 constant becomes the float64 constant of the same value;
- an elementwise operation that would compute in float16/float32 gets its inputs cast to
  float64 first (an explicit cast to a short float becomes a cast to float64);
- a sum (product…) that fixed a short output type when built sums in float64;
- an operation with a graph of its own and fixed input types (``OpFromGraph``: PyMC's
  symbolic random variables, such as the ``LKJCholeskyCov`` prior's) is given inputs of
  the types it was built with; what it computes in short floats is widened after it.

Integer and boolean values elsewhere (shapes, indices, conditions) keep their types.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pytensor.tensor as pt
from pytensor.compile.builders import OpFromGraph
from pytensor.graph.basic import Constant
from pytensor.scalar import Cast
from pytensor.tensor.elemwise import CAReduce, Elemwise
from pytensor.tensor.type import TensorType

from ppl_mle.model._compat import io_toposort

__all__ = ["in_float64"]

_SHORT_FLOATS = frozenset({"float16", "float32"})


def in_float64(outputs: Sequence[Any]) -> list[Any]:
    """``outputs`` rebuilt so that no floating-point value in their graph is shorter than float64.

    Parameters
    ----------
    outputs : sequence of pytensor.tensor.TensorVariable
        The graph's outputs. The graph itself is not modified; a graph computing nothing in
        float16/float32 is returned as it is.

    Returns
    -------
    list of pytensor.tensor.TensorVariable
        The same values, computed in float64 (outputs that were float16/float32 are now
        float64).
    """
    nodes = io_toposort([], list(outputs))
    if not any(_short(v) for node in nodes for v in node.outputs):
        return list(outputs)
    new: dict[Any, Any] = {}
    for node in nodes:
        inputs = [new.get(i, i) for i in node.inputs]
        elemwise_short = isinstance(node.op, Elemwise) and any(_short(o) for o in node.outputs)
        if elemwise_short and isinstance(node.op.scalar_op, Cast):
            # An explicit cast to a short float: to float64 instead.
            new[node.outputs[0]] = pt.cast(inputs[0], "float64")
            continue
        if elemwise_short:
            inputs = [_to_float64(i) for i in inputs]
        elif isinstance(node.op, OpFromGraph):
            inputs = [_as_before(i, old) for i, old in zip(inputs, node.inputs, strict=True)]
        else:
            inputs = [_float64_constant(i) if _short(i) else i for i in inputs]
        if all(a is b for a, b in zip(inputs, node.inputs, strict=True)):
            continue
        rebuilt = node.clone_with_new_inputs(inputs, strict=False)
        if isinstance(node.op, CAReduce) and any(_short(o) for o in rebuilt.outputs):
            # A sum (product…) that fixed its short output type when built.
            wide = node.op.clone(dtype="float64", acc_dtype="float64")
            rebuilt = wide.make_node(*inputs)
        for old, out in zip(node.outputs, rebuilt.outputs, strict=True):
            out.name = old.name
            new[old] = out
    return [new.get(o, o) for o in outputs]


def _short(variable: Any) -> bool:
    """Whether ``variable`` is a tensor of float16 or float32."""
    return isinstance(variable.type, TensorType) and variable.type.dtype in _SHORT_FLOATS


def _as_before(variable: Any, old: Any) -> Any:
    """``variable`` in the type of ``old``, the input it replaces (a cast if they differ)."""
    if variable.type == old.type:
        return variable
    return pt.cast(variable, old.type.dtype) if _short(old) else variable


def _float64_constant(variable: Any) -> Any:
    """A float16/float32 constant as a float64 constant of the same value (else as it is)."""
    if isinstance(variable, Constant) and _short(variable):
        return pt.constant(np.asarray(variable.data, dtype=np.float64), name=variable.name)
    return variable


def _to_float64(variable: Any) -> Any:
    """An input of an elementwise floating-point operation, as float64.

    Booleans (a condition) and float64 or complex values are kept; constants are converted
    here, other values cast in the graph.
    """
    if not isinstance(variable.type, TensorType):
        return variable
    dtype = variable.type.dtype
    if dtype in ("bool", "float64") or dtype.startswith("complex"):
        return variable
    if isinstance(variable, Constant):
        return pt.constant(np.asarray(variable.data, dtype=np.float64), name=variable.name)
    return pt.cast(variable, "float64")
