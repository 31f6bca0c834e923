"""Names that moved between the PyMC and PyTensor versions ppl_mle supports.

- PyTensor 2.3x moved the graph walkers from ``pytensor.graph.basic`` to
  ``pytensor.graph.traversal``; older releases (with PyMC 5.16) have them in the former.
- PyMC renamed ``pymc.pytensorf.compile_pymc`` to ``compile``.
- PyTensor before 2.26 could not differentiate every graph in canonical form (its
  ``DimShuffle`` refused to drop a dimension not known to have length 1 when building a
  gradient: pymc-devs/pytensor#979).
"""

from __future__ import annotations

from typing import Any

import pymc as pm
from pytensor.tensor.elemwise import DimShuffle

try:
    from pytensor.graph.traversal import ancestors, graph_inputs, io_toposort
except ImportError:  # PyTensor before the move
    from pytensor.graph.basic import (  # type: ignore[no-redef]
        ancestors,
        graph_inputs,
        io_toposort,
    )

__all__ = ["CANONICAL_GRADIENTS", "ancestors", "graph_inputs", "io_toposort", "pymc_compile"]

#: Whether gradients may be built from a graph in canonical form (the DimShuffle that came
#: with that fix takes its input's number of dimensions alone).
CANONICAL_GRADIENTS: bool = "input_ndim" in DimShuffle.__props__


def pymc_compile(inputs: Any, outputs: Any, **kwargs: Any) -> Any:
    """``pymc.pytensorf.compile`` (``compile_pymc`` before PyMC renamed it)."""
    compile_ = getattr(pm.pytensorf, "compile", None) or pm.pytensorf.compile_pymc
    return compile_(inputs, outputs, **kwargs)
